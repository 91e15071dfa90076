"""Distil the reader into fewer layers: the same scores at a fraction of the cost.

The student is all-MiniLM-L6-v2 cut to its first LAYERS layers, started from the teacher's
own weights for those layers (base + the teacher's adapters) and trained with new low-rank
adapters to give the teacher's scores: a listwise KL divergence between the teacher's and
the student's softmax over each training question's candidates (the reader's own data,
.cache/reader/<group>/features.json), plus the reader's label loss. What ships stays a
few MB: the teacher's and the student's adapters of a layer are one adapter of their
summed rank (B1 A1 + B2 A2 = [B1 B2] [A1; A2]), written by `export` below.

    PYTHONPATH=. nice .venv/bin/python eval/reader/distill.py TEACHER_ADAPTERS.pt sotu tech-a ...
    PYTHONPATH=. .venv/bin/python eval/reader/evaluate.py .cache/reader/student/scores.json

Env: LAYERS (3), EPOCHS (2), LR (5e-4), RANK (16), NCAND (16), TEMP (1.0), NAME (student).
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

os.environ["HF_HUB_OFFLINE"] = "1"
ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from transformers import BertForSequenceClassification  # noqa: E402

from eval.reader.train import (  # noqa: E402
    ALPHA_PER_RANK,
    LowRank,
    Trainer,
    add_adapters,
    listwise,
    write,
)
from eval.train_ranker import hand_score  # noqa: E402
from qa.answer.reader import load_tokenizer, pairs  # noqa: E402
from qa.store.embedding import resolve_model_path  # noqa: E402

torch.set_num_threads(2)
LAYERS = int(os.environ.get("LAYERS", 3))
EPOCHS = int(os.environ.get("EPOCHS", 2))
LR = float(os.environ.get("LR", 5e-4))
RANK = int(os.environ.get("RANK", 16))
NCAND = int(os.environ.get("NCAND", 16))
TEMP = float(os.environ.get("TEMP", 1.0))
MAXLEN = 96  # as the reader reads at run time
OUT = ROOT / ".cache" / "reader" / os.environ.get("NAME", "student")


def teacher_model(path: Path, adapters: Path, layers: int | None = None):
    """all-MiniLM-L6-v2 with the teacher's adapters merged (and cut to `layers`)."""
    from qa.answer.reader import merged

    kw = {"num_hidden_layers": layers} if layers else {}
    model = BertForSequenceClassification.from_pretrained(path, num_labels=1, **kw)
    state = torch.load(adapters, weights_only=True)
    if layers:
        keep = {f"bert.encoder.layer.{i}." for i in range(layers)}
        state = {
            k: v
            for k, v in state.items()
            if not k.startswith("bert.encoder.layer.") or any(k.startswith(p) for p in keep)
        }
    model.load_state_dict(merged(model.state_dict(), with_scales(state)))
    return model


def with_scales(state: dict) -> dict:
    """train.py's adapters.pt names the factors `<layer>.a` / `.b` under a `.base`-less
    path; merged() wants `<layer>.a`, `<layer>.b`, `<layer>.scale` named by the linear layer."""
    out = {}
    for k, v in state.items():
        out[k] = v.float()
        if k.endswith(".a"):
            out[k[: -len(".a")] + ".scale"] = torch.tensor(ALPHA_PER_RANK)
    return out


def main() -> None:
    teacher_path, groups = Path(sys.argv[1]), sys.argv[2:]
    path = resolve_model_path("all-MiniLM-L6-v2")
    tok = load_tokenizer()
    teacher = teacher_model(path, teacher_path).eval()

    data = []
    for g in groups:
        for q in json.loads((ROOT / ".cache/reader" / g / "features.json").read_text()):
            y = np.asarray(q["y"], bool)
            if not y.any() or y.all():
                continue
            order = np.argsort(-hand_score(q["x"]), kind="stable")
            pos = [i for i in order if y[i]][:2]
            rest = [i for i in order if not y[i]][: NCAND - len(pos)]
            texts = [q["texts"][i] for i in pos + rest]
            data.append((q["question"], texts, len(pos)))
    t0 = time.time()
    with torch.no_grad():
        targets = [
            teacher(**pairs(tok, question, texts, MAXLEN)).logits.reshape(-1)
            for question, texts, _ in data
        ]
    print(f"{len(data)} questions; teacher scores in {time.time() - t0:.0f}s", flush=True)
    del teacher

    torch.manual_seed(0)
    student = teacher_model(path, teacher_path, LAYERS)
    add_adapters(student, RANK)

    def logits(question: str, texts: list[str]) -> torch.Tensor:
        return student(**pairs(tok, question, texts, MAXLEN)).logits.reshape(-1)

    params = [p for p in student.parameters() if p.requires_grad]
    trainer = Trainer(params, LR, EPOCHS * len(data))
    order = list(range(len(data)))
    rng = random.Random(0)
    student.train()
    for ep in range(EPOCHS):
        rng.shuffle(order)
        for k, j in enumerate(order):
            question, texts, npos = data[j]
            out = logits(question, texts)
            teach = torch.softmax(targets[j] / TEMP, 0)
            kl = -(teach * torch.log_softmax(out / TEMP, 0)).sum()
            trainer.step(kl + 0.5 * listwise(out, npos))
            trainer.progress(ep + 1, k, 200)
        trainer.end_epoch(ep + 1, len(data))
    write(
        OUT,
        student,
        logits,
        groups,
        len(data),
        EPOCHS,
        trainer.seconds(),
        lr=LR,
        rank=RANK,
        layers=LAYERS,
        candidates=NCAND,
        temperature=TEMP,
        teacher=str(teacher_path),
    )
    torch.save(export(student, torch.load(teacher_path, weights_only=True)), OUT / "ship.pt")


def export(student, teacher_state: dict) -> dict:
    """The student as the reader loads it: per adapted layer one adapter (a, b, scale=1)
    that holds the teacher's delta and the student's, and the student's head."""
    out = {}
    for name, module in student.named_modules():
        if not isinstance(module, LowRank):
            continue
        a2, b2 = module.a.detach(), module.b.detach() * module.scale
        a1 = teacher_state.get(f"{name}.a")
        if a1 is not None:
            a = torch.cat([a1.float(), a2])
            b = torch.cat([teacher_state[f"{name}.b"].float() * ALPHA_PER_RANK, b2], dim=1)
        else:
            a, b = a2, b2
        out[f"{name}.a"], out[f"{name}.b"], out[f"{name}.scale"] = a, b, torch.tensor(1.0)
    for n, p in student.named_parameters():
        if p.requires_grad and not n.endswith((".a", ".b")):
            out[n] = p.detach()
    out["layers"] = torch.tensor(LAYERS)
    return out


if __name__ == "__main__":
    main()
