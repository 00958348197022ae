"""How well the linear probe's penalty choice can discriminate, per run: for every L2 penalty of
the grid, the held-out accuracy on the first fold alone (the single 20% hold-out the probe
used before it cross-validated) and pooled over all five folds (what it chooses on now).

    python benchmarks/probe_penalties.py RUN [RUN ...]
    e.g. on ItalyPowerDemand, after
         sslctl pretrain recipes/timeseries/ts2vec.yaml --out runs/ipd \\
             --set data.train=builtin:ItalyPowerDemand:train \\
             --set probe.train=builtin:ItalyPowerDemand:train \\
             --set probe.test=builtin:ItalyPowerDemand:test
"""

from __future__ import annotations

import argparse

import torch

from sslctl.engine.embedding import embed_samples
from sslctl.eval.linear import FOLDS, WEIGHT_DECAYS, held_out_correct, stratified_folds
from sslctl.rundir import load_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories whose recipe names probe.train")
    args = parser.parse_args()
    print("| run | held out | " + " | ".join(f"{wd:g}" for wd in WEIGHT_DECAYS) + " |")
    print("|---|---|" + "---|" * len(WEIGHT_DECAYS))
    for run in args.runs:
        loaded = load_run(run)
        train = loaded.modality.load(loaded.recipe.probe.train)
        x = embed_samples(loaded.encoder, loaded.modality, train, torch.device("cpu")).x.float()
        fold = stratified_folds(train.y)
        n_classes = int(train.y.max()) + 1
        with torch.enable_grad():
            per_fold = [held_out_correct(x, train.y, fold == f, n_classes) for f in range(FOLDS)]
        first, n_first = per_fold[0], int((fold == 0).sum())
        pooled, n_pooled = [sum(c) for c in zip(*per_fold, strict=True)], int((fold >= 0).sum())
        print(f"| {run} | fold 0: {n_first} | " + " | ".join(map(str, first)) + " |")
        print(f"| {run} | 5 folds: {n_pooled} | " + " | ".join(map(str, pooled)) + " |")


if __name__ == "__main__":
    main()
