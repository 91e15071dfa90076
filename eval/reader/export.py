"""Write the trained reader's adapters and head (eval/reader/train.py's adapters.pt) as the
file that ships: qa/answer/reader.safetensors, half precision, with each adapter's scale.

    PYTHONPATH=. .venv/bin/python eval/reader/export.py .cache/reader/reader/adapters.pt [OUT]

A distilled reader (eval/reader/distill.py's ship.pt) carries its scales and layer count.
OUT (default: the shipped file) lets a candidate be tried with QA_READER=OUT first.
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from eval.reader.train import ALPHA_PER_RANK  # noqa: E402
from qa.answer.reader import ADAPTERS  # noqa: E402

state = torch.load(sys.argv[1], weights_only=True)
target = Path(sys.argv[2]) if len(sys.argv) > 2 else ADAPTERS
out = {k: v if k == "layers" else v.half().contiguous() for k, v in state.items()}
for k in [k for k in state if k.endswith(".a")]:
    scale = k[: -len(".a")] + ".scale"
    out.setdefault(scale, torch.tensor(ALPHA_PER_RANK, dtype=torch.float16))
save_file(out, str(target))
print(f"{target}: {len(out)} tensors, {target.stat().st_size / 1e6:.1f} MB")
