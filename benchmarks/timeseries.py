"""TS2Vec vs the same randomly initialised encoder on the five UCR/UEA sets of docs/datasets.md.

For every dataset and seed: `sslctl pretrain recipes/timeseries/ts2vec.yaml` on the official
train split for exactly TS2Vec's iteration budget at batch 8 (`train.steps`: 200 iterations
when the set holds at most 100,000 values, else 600, as the official `fit`), the same recipe
with train.epochs=0 as the random-init baseline, then
`sslctl probe` (kNN, linear) and `sslctl probe --protocol svm` (TS2Vec's own protocol) on the
official test split. Prints a markdown table of means (and spread over seeds) and writes every
probe result to runs/bench-ts/results.jsonl.

    python benchmarks/timeseries.py [--seeds 0 1 2] [--datasets GunPoint ...] [--tag NAME]
"""

from __future__ import annotations

import argparse
import json
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
OUT = Path("runs/bench-ts")


def official_iters(name: str) -> int:
    """The official `fit`'s default: 200 iterations for at most 100,000 values, else 600."""
    from sslctl.modalities.timeseries.builtin import load_builtin_series

    x = load_builtin_series(f"builtin:{name}:train")[0]
    return 200 if x.size <= 100_000 else 600  # numpy size, padding included, as there


def run_one(name: str, seed: int, iters: int, kind: str, tag: str) -> dict:
    out = OUT / tag / name / f"{kind}-s{seed}"
    budget = f"train.steps={iters}" if kind == "ts2vec" else "train.epochs=0"
    sets = [*builtin_sets(name), f"seed={seed}", budget]
    wall = pretrain("recipes/timeseries/ts2vec.yaml", out, sets)
    result = json.loads(sslctl("probe", str(out), "--json"))
    result.update(json.loads(sslctl("probe", str(out), "--protocol", "svm", "--json")))
    result.update(dataset=name, seed=seed, kind=kind, iters=iters, pretrain_s=round(wall, 1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--tag", default="steps", help="results go to runs/bench-ts/TAG*")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(OUT / f"results-{args.tag}.jsonl", "a") as log:
        for name in args.datasets:
            iters = official_iters(name)
            for seed in args.seeds:
                for kind in ("random", "ts2vec"):
                    result = run_one(name, seed, iters, kind, args.tag)
                    log.write(json.dumps(result) + "\n")
                    log.flush()
                    rows.append(result)
    print(
        "| dataset | iterations | random kNN | random linear | random SVM | TS2Vec kNN "
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
        iters = next(r["iters"] for r in rows if r["dataset"] == name)
        print(f"| {name} | {iters} | " + " | ".join(cells) + f" | {PUBLISHED[name]:.1f} |")


if __name__ == "__main__":
    main()
