"""Distillation on fashion-mnist from every teacher kind, and Random Teachers.

One teacher: `recipes/image/fashion-mnist/simclr.yaml` (resnet18) pretrained for
--teacher-epochs, exported as ONNX and in timm's layout (`sslctl export --format timm`). For
every seed, resnet10t students are distilled with `recipes/image/fashion-mnist/distill.yaml`
(LightlyTrain v3's global loss) from: the run, its timm file, its ONNX file, and a random
resnet10t teacher (Random Teachers) with `student_init: teacher` and `random`. Baselines per
seed: the random-init resnet10t (`train.epochs=0`), and the random teacher itself (a distill
with `train.epochs=0` and `student_init: teacher` writes the teacher's own weights). Every
run is probed (`sslctl probe --json`: kNN, linear, RankMe) on the test split. Prints a
markdown table (mean ± std over seeds) and appends every result to
runs/bench-distill/results.jsonl.

    python benchmarks/distill_teachers.py [--seeds 0 1 2] [--teacher-epochs 1] [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from timing import mean_spread, sslctl

OUT = Path("runs/bench-distill")
RECIPE = "recipes/image/fashion-mnist/distill.yaml"
TEACHER_RECIPE = "recipes/image/fashion-mnist/simclr.yaml"
RANDOM = "teacher={random: {encoder: {name: resnet10t}, student_init: %s}}"


def train(job: str, recipe: str, out: Path, sets: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    sslctl(job, recipe, "--out", str(out), "--quiet", *[a for s in sets for a in ("--set", s)])
    return time.perf_counter() - start


def probe(out: Path, row: str, seed: int, wall: float) -> dict:
    result = json.loads(sslctl("probe", str(out), "--json"))
    result.update(row=row, seed=seed, wall_s=round(wall, 1))
    with (OUT / "results.jsonl").open("a") as fh:
        fh.write(json.dumps(result) + "\n")
    return result


def teacher(epochs: int) -> Path:
    run = OUT / "teacher"
    if not (run / "encoder.onnx").is_file():
        wall = train("pretrain", TEACHER_RECIPE, run, [f"train.epochs={epochs}"])
        sslctl("export", str(run))
        sslctl("export", str(run), "--format", "timm")
        probe(run, "teacher (resnet18, SimCLR)", 0, wall)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--teacher-epochs", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    run = teacher(args.teacher_epochs)
    kinds = {  # slug: (table row, the teacher override)
        "run": ("student of the run", f"teacher={{run: {run}}}"),
        "timm": (
            "student of the timm file",
            f"teacher={{timm: resnet18, weights: {run}/model.safetensors}}",
        ),
        "onnx": ("student of the ONNX file", f"teacher={{onnx: {run}/encoder.onnx}}"),
        "rt-teacher": ("student of a random teacher (init: teacher)", RANDOM % "teacher"),
        "rt-random": ("student of a random teacher (init: random)", RANDOM % "random"),
    }
    rows: dict[str, list[dict]] = {}
    for seed in args.seeds:
        base = [f"seed={seed}", f"train.epochs={args.epochs}"]
        out = OUT / f"random-init-s{seed}"
        wall = train(
            "pretrain",
            TEACHER_RECIPE,
            out,
            [f"seed={seed}", "train.epochs=0", "encoder.name=resnet10t"],
        )
        rows.setdefault("random init (resnet10t)", []).append(probe(out, "random init", seed, wall))
        out = OUT / f"random-teacher-s{seed}"
        wall = train("distill", RECIPE, out, [f"seed={seed}", "train.epochs=0", RANDOM % "teacher"])
        result = probe(out, "random teacher", seed, wall)
        rows.setdefault("random teacher itself", []).append(result)
        for slug, (row, kind) in kinds.items():
            out = OUT / f"{slug}-s{seed}"
            wall = train("distill", RECIPE, out, [*base, kind])
            rows.setdefault(row, []).append(probe(out, row, seed, wall))
    print("| encoder | kNN top-1 | linear top-1 | RankMe | wall (s) |")
    print("|---|---|---|---|---|")
    for row, results in rows.items():
        keys = ("knn_top1", "linear_top1", "rankme")
        cells = [mean_spread([r[k] for r in results]) for k in keys]
        wall = statistics.mean(r["wall_s"] for r in results)
        print(f"| {row} | {' | '.join(cells)} | {wall:.0f} |")


if __name__ == "__main__":
    main()
