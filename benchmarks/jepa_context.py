"""Write to OUT a run holding a finished JEPA run's recipe and encoder.json with its trained
CONTEXT encoder as the kept encoder, so that `sslctl probe OUT` judges the context encoder
instead of the EMA target encoder that a JEPA run keeps. Over a short budget the target still
holds much of its random initialisation (the EMA momentum starts at 0.996), and this separates
what the context encoder learned from how far the target has followed it. The context
encoder's weights come from the run's last checkpoint, read with weights_only=True.

    python benchmarks/jepa_context.py RUN OUT && sslctl probe OUT --json
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from safetensors.torch import save_file

from sslctl.io.atomic import atomic_write
from sslctl.io.weights import read_state_dict, safe_torch_load
from sslctl.rundir import RunDir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a finished `sslctl pretrain` run of method jepa")
    parser.add_argument("out", type=Path, help="a new folder (refused if it exists)")
    args = parser.parse_args()
    if args.out.exists():
        parser.error(f"{args.out} exists; name a new folder")
    run = RunDir(args.run)
    method = safe_torch_load(run.checkpoint, "checkpoint")["method"]
    kept, metadata = read_state_dict(run.weights, str(run.weights))
    missing = [k for k in kept if f"encoder.{k}" not in method]
    if missing:
        parser.error(f"{run.checkpoint}: no context encoder weights for {missing[:3]}")
    context = {k: method[f"encoder.{k}"].contiguous() for k in kept}
    out = RunDir(args.out)
    out.path.mkdir(parents=True)
    for name in (run.recipe, run.info):  # what `sslctl probe` reads besides the weights
        shutil.copy2(name, out.path / name.name)
    atomic_write(out.weights, lambda tmp: save_file(context, tmp, metadata=metadata))


if __name__ == "__main__":
    main()
