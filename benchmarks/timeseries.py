"""TS2Vec vs the same randomly initialised encoder on the five UCR/UEA sets of DATASETS.md.

For every dataset and seed: `sslctl pretrain recipes/timeseries/ts2vec.yaml` on the official
train split with ~200 iterations at batch 8 (TS2Vec's budget for small sets; epochs are derived
from the train size), the same recipe with train.epochs=0 as the random-init baseline, then
`sslctl probe` (kNN, linear) and `sslctl probe --protocol svm` (TS2Vec's own protocol) on the
official test split. Prints a markdown table of means (and spread over seeds) and writes every
probe result to runs/bench-ts/results.jsonl.

    python benchmarks/timeseries.py [--seeds 0 1 2] [--datasets GunPoint ...] [--iters 200]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from timing import builtin_sets, mean_spread, pretrain, sslctl

DATASETS = ["GunPoint", "ArrowHead", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels"]
# TS2Vec paper (Yue et al. 2022), appendix tables of per-dataset accuracy (RBF-SVM protocol).
PUBLISHED = {
    "GunPoint": 98.0,
    "ArrowHead": 85.7,
    "ItalyPowerDemand": 96.1,
    "BasicMotions": 97.5,
    "JapaneseVowels": 98.4,
}
BATCH = 8
OUT = Path("runs/bench-ts")


def n_train(name: str) -> int:
    from sslctl.datasets.series_builtin import load_builtin_series

    return len(load_builtin_series(f"builtin:{name}:train")[0])


def run_one(name: str, seed: int, epochs: int, kind: str) -> dict:
    out = OUT / name / f"{kind}-s{seed}"
    sets = [
        *builtin_sets(name),
        f"seed={seed}",
        f"train.epochs={epochs if kind == 'ts2vec' else 0}",
    ]
    wall = pretrain("recipes/timeseries/ts2vec.yaml", out, sets)
    result = json.loads(sslctl("probe", str(out), "--json"))
    result.update(json.loads(sslctl("probe", str(out), "--protocol", "svm", "--json")))
    result.update(dataset=name, seed=seed, kind=kind, epochs=epochs, pretrain_s=round(wall, 1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--iters", type=int, default=200)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(OUT / "results.jsonl", "a") as log:
        for name in args.datasets:
            epochs = math.ceil(args.iters / (n_train(name) // BATCH))
            for seed in args.seeds:
                for kind in ("random", "ts2vec"):
                    result = run_one(name, seed, epochs, kind)
                    log.write(json.dumps(result) + "\n")
                    log.flush()
                    rows.append(result)
    print(
        "| dataset | epochs | random kNN | random linear | random SVM | TS2Vec kNN "
        "| TS2Vec linear | TS2Vec SVM | published TS2Vec (SVM) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        cells = []
        for kind in ("random", "ts2vec"):
            mine = [r for r in rows if r["dataset"] == name and r["kind"] == kind]
            cells += [
                mean_spread([r[k] for r in mine]) for k in ("knn_top1", "linear_top1", "svm_top1")
            ]
        epochs = next(r["epochs"] for r in rows if r["dataset"] == name)
        print(f"| {name} | {epochs} | " + " | ".join(cells) + f" | {PUBLISHED[name]:.1f} |")


if __name__ == "__main__":
    main()
