"""Audio methods vs the same randomly initialised encoder on a builtin audio set.

For every seed: `sslctl pretrain recipes/audio/METHOD.yaml` on the set's train split, the
baseline recipe (default byol-a: the CNN every joint-embedding recipe shares) with
train.epochs=0 as the random-init encoder of that seed, then `sslctl probe --json` (kNN,
linear, RankMe) on the test split, whose voices or instruments never occur in training.
Extra --set overrides apply to every run, baseline included; --tag names such a variant's rows.
Prints a markdown table (mean ± std over seeds) and appends every result to
runs/bench-audio/results.jsonl.

    python benchmarks/audio.py DATASET METHOD... [--epochs 10] [--seeds 0 1 2]
        [--baseline byol-a] [--tag NAME] [--set KEY=VALUE ...]
    e.g. python benchmarks/audio.py gm-instruments byol-a simclr
         python benchmarks/audio.py gm-instruments msm-mae --baseline msm-mae --epochs 50
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from timing import builtin_sets, mean_spread, pretrain, sslctl

OUT = Path("runs/bench-audio")


def run_one(dataset: str, recipe: str, row: str, seed: int, epochs: int, sets: list[str]) -> dict:
    """Pretrain one recipe for one seed and probe it; the probe's JSON plus run facts."""
    out = OUT / dataset / f"{row}-s{seed}"
    sets = [*builtin_sets(dataset), *sets, f"seed={seed}", f"train.epochs={epochs}"]
    wall = pretrain(f"recipes/audio/{recipe}.yaml", out, sets)
    result = json.loads(sslctl("probe", str(out), "--json"))
    result.update(dataset=dataset, row=row, seed=seed, epochs=epochs, pretrain_s=round(wall, 1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", help="builtin audio set: spoken-digits or gm-instruments")
    parser.add_argument("methods", nargs="+", help="recipes/audio/METHOD.yaml to pretrain")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--baseline", default="byol-a", help="recipe of the random-init row")
    parser.add_argument("--tag", help="suffix for the method rows of a --set variant")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    random = "random" if args.baseline == "byol-a" else f"random-{args.baseline}"
    plan = [(random, args.baseline, 0)] + [
        (f"{m}+{args.tag}" if args.tag else m, m, args.epochs) for m in args.methods
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(OUT / "results.jsonl", "a") as log:
        for seed in args.seeds:
            for row, recipe, epochs in plan:
                result = run_one(args.dataset, recipe, row, seed, epochs, args.sets)
                result["sets"] = args.sets
                log.write(json.dumps(result) + "\n")
                log.flush()
                rows.append(result)
    print(f"{args.dataset}, seeds {' '.join(map(str, args.seeds))}, --set {args.sets or 'none'}")
    print("| row | epochs | kNN top-1 | linear top-1 | RankMe | pretrain s |")
    print("|---|---|---|---|---|---|")
    for row, _, epochs in plan:
        mine = [r for r in rows if r["row"] == row]
        cells = [mean_spread([r[k] for r in mine]) for k in ("knn_top1", "linear_top1", "rankme")]
        wall = statistics.mean(r["pretrain_s"] for r in mine)
        print(f"| {row} | {epochs} | " + " | ".join(cells) + f" | {wall:.0f} |")


if __name__ == "__main__":
    main()
