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

from sslctl.eval.linear import FOLDS, WEIGHT_DECAYS, _fit, _folds, _standardise
from sslctl.jobs.embed import embed_samples
from sslctl.rundir import load_run


def held_out_correct(x: torch.Tensor, y: torch.Tensor, fold: torch.Tensor, f: int) -> list[int]:
    """Correct held-out predictions of fold f, for each penalty of the grid."""
    val = fold == f
    fit_x, val_x = _standardise(x[~val], x[val])
    n_classes = int(y.max()) + 1
    with torch.enable_grad():
        models = [_fit(fit_x, y[~val], n_classes, wd, 200) for wd in WEIGHT_DECAYS]
    with torch.no_grad():
        return [int((m(val_x).argmax(1) == y[val]).sum()) for m in models]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories whose recipe names probe.train")
    args = parser.parse_args()
    print("| run | held out | " + " | ".join(f"{wd:g}" for wd in WEIGHT_DECAYS) + " |")
    print("|---|---|" + "---|" * len(WEIGHT_DECAYS))
    for run in args.runs:
        loaded = load_run(run)
        train = loaded.modality.load(loaded.recipe.probe.train)
        x = embed_samples(loaded.encoder, loaded.modality, train, torch.device("cpu")).float()
        fold = _folds(train.y)
        per_fold = [held_out_correct(x, train.y, fold, f) for f in range(FOLDS)]
        first, n_first = per_fold[0], int((fold == 0).sum())
        pooled, n_pooled = [sum(c) for c in zip(*per_fold, strict=True)], int((fold >= 0).sum())
        print(f"| {run} | fold 0: {n_first} | " + " | ".join(map(str, first)) + " |")
        print(f"| {run} | 5 folds: {n_pooled} | " + " | ".join(map(str, pooled)) + " |")


if __name__ == "__main__":
    main()
