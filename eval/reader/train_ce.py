"""Train a cross-encoder reader on the mined FAQ pairs (eval/reader/faq_pairs.jsonl, built by
eval/reader/mine_faq.py), initialised from all-MiniLM-L6-v2, and score the system's real
candidates (.cache/eval/<name>/ranker-features.json, from eval/train_ranker.py).

Loss: listwise, per FAQ question a softmax over its positives (first answer sentences) and
negatives (sentences of other answers in the same FAQ file, plus random ones); the target
spreads evenly over the positives. LAYERS=3 keeps only the first three transformer layers.

    LAYERS=6 EPOCHS=3 PYTHONPATH=. nice .venv/bin/python eval/reader/train_ce.py

Writes the model to .cache/reader/ce-L<LAYERS>/ and the candidates' scores to
.cache/reader/ce-L<LAYERS>/scores.json (id -> logits) for eval/reader/evaluate.py.
"""

import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

os.environ["HF_HUB_OFFLINE"] = "1"
ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from transformers import AutoTokenizer, BertForSequenceClassification  # noqa: E402

from qa.store.embedding import resolve_model_path  # noqa: E402

torch.set_num_threads(2)
LAYERS = int(os.environ.get("LAYERS", 6))
EPOCHS = int(os.environ.get("EPOCHS", 3))
LR = float(os.environ.get("LR", 5e-5))
MAXLEN = int(os.environ.get("MAXLEN", 96))
NHARD, NRAND = int(os.environ.get("NHARD", 8)), int(os.environ.get("NRAND", 4))
BUDGET = float(os.environ.get("BUDGET", 1e9))  # seconds of training, then stop
PAIRS = Path(os.environ.get("PAIRS", ROOT / "eval/reader/faq_pairs.jsonl"))
OUT = ROOT / f".cache/reader/{os.environ.get('NAME', f'ce-L{LAYERS}')}"
NAMES = ["legal", "manuals", "ukraine", "web"]

path = resolve_model_path("all-MiniLM-L6-v2")
tok = AutoTokenizer.from_pretrained(path)
model = BertForSequenceClassification.from_pretrained(path, num_labels=1)
if LAYERS < model.config.num_hidden_layers:
    model.bert.encoder.layer = model.bert.encoder.layer[:LAYERS]
    model.config.num_hidden_layers = LAYERS


def enc(question, texts):
    return tok(
        [question] * len(texts),
        texts,
        truncation=True,
        max_length=MAXLEN,
        padding=True,
        return_tensors="pt",
    )


recs = [json.loads(x) for x in PAIRS.read_text().splitlines() if x.strip()]
# Hold out a few packages to watch over-fitting (reported, not used for selection).
HELD = {"celery-5.4.0", "pylint-4.1.4", "xarray-2026.9.0"}
train = [r for r in recs if r["pkg"] not in HELD]
val = [r for r in recs if r["pkg"] in HELD]
print(len(train), "training questions,", len(val), "held-out", flush=True)


def val_top1():
    model.eval()
    hit = 0
    with torch.no_grad():
        for r in val:
            texts = r["pos"] + r["hard"][:NHARD] + r["rand"][:NRAND]
            s = model(**enc(r["question"], texts)).logits.squeeze(-1)
            hit += int(int(s.argmax()) < len(r["pos"]))
    model.train()
    return hit / max(1, len(val))


torch.manual_seed(0)
rng = random.Random(0)
opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
steps = EPOCHS * len(train)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda k: min(1.0, (k + 1) / (0.1 * steps)) * max(0.0, (steps - k) / steps)
)
print("val top-1 before:", round(val_top1(), 3), flush=True)
t0 = time.time()
model.train()
for ep in range(EPOCHS):
    rng.shuffle(train)
    tot = 0.0
    for k, r in enumerate(train):
        if time.time() - t0 > BUDGET:
            break
        if k % 100 == 0:
            print(f"  epoch {ep + 1} step {k}: {time.time() - t0:.0f}s", flush=True)
        pos = r["pos"][:2]
        negs = r["hard"][:NHARD] + r["rand"][:NRAND]
        texts = pos + negs
        logits = model(**enc(r["question"], texts)).logits.squeeze(-1)
        target = torch.tensor([1.0 / len(pos)] * len(pos) + [0.0] * len(negs))
        loss = -(target * torch.log_softmax(logits, 0)).sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        tot += loss.item()
    print(
        f"epoch {ep + 1}: loss {tot / len(train):.3f}, val top-1 {val_top1():.3f}, "
        f"{time.time() - t0:.0f}s",
        flush=True,
    )
train_s = time.time() - t0
model.eval()
OUT.mkdir(parents=True, exist_ok=True)
model.save_pretrained(OUT)
tok.save_pretrained(OUT)

scores = {}
qs = {}
for n in NAMES:
    for line in (ROOT / f"eval/collections/{n}/tune.jsonl").read_text().splitlines():
        if line.strip():
            q = json.loads(line)
            qs[(n, q["id"])] = q["question"]
with torch.no_grad():
    for n in NAMES:
        data = json.loads((ROOT / f".cache/eval/{n}/ranker-features.json").read_text())
        for q in data:
            if not q["texts"]:
                continue
            s = np.concatenate(
                [
                    model(**enc(qs[(n, q["id"])], q["texts"][i : i + 32]))
                    .logits.reshape(-1)
                    .numpy()
                    for i in range(0, len(q["texts"]), 32)
                ]
            )
            scores[f"{n}/{q['id']}"] = s.tolist()

# Latency: one question against 10 and 30 candidate sentences (typical lengths).
lat = {}
sample = [t for r in recs[:40] for t in r["hard"]][:30]
with torch.no_grad():
    for k in (10, 30):
        for _ in range(3):
            model(**enc("How do I configure the cache timeout?", sample[:k]))
        ts = []
        for _ in range(20):
            t = time.perf_counter()
            model(**enc("How do I configure the cache timeout?", sample[:k]))
            ts.append(time.perf_counter() - t)
        lat[k] = {
            "median_ms": round(1000 * float(np.median(ts)), 1),
            "p95_ms": round(1000 * float(np.percentile(ts, 95)), 1),
        }
meta = {
    "layers": LAYERS,
    "epochs": EPOCHS,
    "lr": LR,
    "train_questions": len(train),
    "train_seconds": round(train_s),
    "val_top1": round(val_top1(), 3),
    "latency": lat,
}
(OUT / "scores.json").write_text(json.dumps({"meta": meta, "scores": scores}))
print(json.dumps(meta), flush=True)
