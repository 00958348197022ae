"""ONNX export of series encoders with dynamic batch and time axes: onnxruntime vs PyTorch.

Exports each run with `sslctl.jobs.export.export` (the code behind `sslctl export`), whose check
feeds lengths other than the traced one (half the training length at batch 1; the training
length + 7 at batch 3, one row NaN-padded after a third of it). Runs: TS2Vec trained on
GunPoint and on JapaneseVowels (12 channels, variable length) by benchmarks/timeseries.py, and
random-init resnet1d / patch_tst on BasicMotions (6 channels).

    python benchmarks/timeseries_onnx.py
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sslctl.jobs.export import export

RUNS = [
    ("dilated_cnn (TS2Vec, trained)", "GunPoint", Path("runs/bench-ts/GunPoint/ts2vec-s0")),
    (
        "dilated_cnn (TS2Vec, trained)",
        "JapaneseVowels",
        Path("runs/bench-ts/JapaneseVowels/ts2vec-s0"),
    ),
]
RANDOM = {  # encoder -> (kwargs, a method it supports; 0 epochs, so only the encoder matters)
    "resnet1d": ("{width: 64}", "{name: ts2vec}"),
    "patch_tst": ("{patch_len: 8, dim: 128, depth: 3}", "{name: masked_series}"),
}


def random_run(encoder: str, kwargs: str, method: str) -> Path:
    out = Path(f"runs/bench-ts-onnx/{encoder}")
    shutil.rmtree(out, ignore_errors=True)
    sets = ["data.train=builtin:BasicMotions:train", "train.epochs=0", f"encoder.name={encoder}"]
    sets += [f"encoder.kwargs={kwargs}", f"method={method}"]
    args = ["sslctl", "pretrain", "recipes/timeseries/ts2vec.yaml", "--out", str(out), "--quiet"]
    subprocess.run(args + [a for s in sets for a in ("--set", s)], check=True, capture_output=True)
    return out


def main() -> None:
    runs = RUNS + [
        (f"{e} (random init)", "BasicMotions", random_run(e, *km)) for e, km in RANDOM.items()
    ]
    print("| encoder | data | max abs diff | after L2 normalisation |")
    print("|---|---|---|---|")
    for label, data, run in runs:
        _, diffs = export(run, "onnx", str(run / "encoder.onnx"), check=True)
        raw, unit = diffs["max_abs_diff"], diffs["max_abs_diff_l2_normalised"]
        print(f"| {label} | {data} | {raw:.1e} | {unit:.1e} |")


if __name__ == "__main__":
    main()
