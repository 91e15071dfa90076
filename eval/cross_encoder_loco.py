"""Experiment, leave-one-collection-out: a cross-encoder fine-tuned here from all-MiniLM-L6-v2
on the tuning halves' (question, candidate sentence) pairs, against the hand-weighted score.

Reads the candidates and labels that `eval/train_ranker.py` caches per collection
(.cache/eval/<name>/ranker-features.json: run that first). For each collection, a
BertForSequenceClassification is initialised from the MiniLM weights, trained on the other
three with a listwise loss (softmax over each question's positives and its hardest
negatives by the hand score, MAXC per question, EPOCHS passes), and its top-1 on the held-out
collection's answerable questions is printed beside the hand score's. Measured on
2026-11-29 (docs/quality.md): top-1 .143 / .24 / .214 / .333 against .536 / .52 / .714 / .487
(legal, manuals, ukraine, web) -- 130 tuning questions do not train a reader.

    nice .venv/bin/python eval/cross_encoder_loco.py      # about 10 min on 2 cores
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
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from transformers import AutoTokenizer, BertForSequenceClassification  # noqa: E402

from eval.train_ranker import hand_score  # noqa: E402
from qa.answer.ranker import FEATURES  # noqa: E402
from qa.store.embedding import resolve_model_path  # noqa: E402

torch.set_num_threads(2)
names = ["legal", "manuals", "ukraine", "web"]
D = {}
for n in names:
    qs = {
        json.loads(line)["id"]: json.loads(line)["question"]
        for line in (ROOT / f"eval/collections/{n}/tune.jsonl").read_text().splitlines()
        if line.strip()
    }
    data = json.loads((ROOT / f".cache/eval/{n}/ranker-features.json").read_text())
    for q in data:
        q["question"] = qs[q["id"]]
    D[n] = data
path = resolve_model_path("all-MiniLM-L6-v2")
tok = AutoTokenizer.from_pretrained(path)
F = FEATURES.index


def hand(q):
    return hand_score(q["x"])


def enc(question, texts):
    return tok(
        [question] * len(texts),
        texts,
        truncation=True,
        max_length=96,
        padding=True,
        return_tensors="pt",
    )


MAXC = int(os.environ.get("MAXC", 12))
EPOCHS = int(os.environ.get("EPOCHS", 2))
res = {}
for held in names:
    t0 = time.time()
    torch.manual_seed(0)
    random.seed(0)
    model = BertForSequenceClassification.from_pretrained(path, num_labels=1)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01)
    train = [q for m in names if m != held for q in D[m] if q["texts"] and any(q["y"])]
    for _ in range(EPOCHS):
        random.shuffle(train)
        for q in train:
            h = hand(q)
            y = np.asarray(q["y"])
            pos = [i for i in range(len(y)) if y[i]]
            neg = sorted([i for i in range(len(y)) if not y[i]], key=lambda i: -h[i])[
                : MAXC - min(len(pos), 3)
            ]
            idx = pos[:3] + neg
            b = enc(q["question"], [q["texts"][i] for i in idx])
            logits = model(**b).logits.squeeze(-1)
            target = torch.tensor([float(y[i]) for i in idx])
            target = target / target.sum()
            loss = -(target * torch.log_softmax(logits, 0)).sum()
            loss.backward()
            opt.step()
            opt.zero_grad()
    model.eval()
    hit_ce = hit_hand = tot = 0
    scores = {}
    with torch.no_grad():
        for q in D[held]:
            if not q["answerable"]:
                continue
            tot += 1
            if not q["texts"]:
                continue
            s = np.concatenate(
                [
                    model(**enc(q["question"], q["texts"][i : i + 32]))
                    .logits.squeeze(-1)
                    .numpy()
                    .reshape(-1)
                    for i in range(0, len(q["texts"]), 32)
                ]
            )
            scores[q["id"]] = s.tolist()
            hit_ce += q["y"][int(np.argmax(s))]
            hit_hand += q["y"][int(np.argmax(hand(q)))]
    res[held] = (round(hit_hand / tot, 3), round(hit_ce / tot, 3))
    print(held, "top-1 hand / cross-encoder:", res[held], f"{time.time() - t0:.0f}s", flush=True)
print(res)
