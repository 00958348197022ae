"""GraphMAE vs the same randomly initialised encoder (and raw node features) on the builtin
graphs (docs/datasets.md): karate (node level), digits- and fashion-mnist-superpixels (graph
level), and the
TU-format folder the tests write (tests/tu_folder.py: ring size of tree-plus-rings graphs).

For every dataset and seed: `sslctl pretrain` with the dataset's recipe, the same recipe with
train.epochs=0 as the random-init baseline, then `sslctl probe --json` (kNN, linear) on the
official split (superpixels), the fixed 80/20 node split (karate) or a stratified 80/20 split
(TU folder). Raw features: the same linear probe on the node features (karate) or on the mean
and sum of each graph's node features. Prints a markdown table and appends every result to
runs/bench-graph/results.jsonl.

    python benchmarks/graph.py [--seeds 0 1 2] [--datasets karate ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
from timing import builtin_sets, mean_spread, pretrain, sslctl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.tu_folder import write_tu_folder  # noqa: E402

OUT = Path("runs/bench-graph")
TU = OUT / "tu" / "RINGS"
# dataset -> (recipe, --set overrides, probe --data or None for the recipe's probe section)
SETUPS = {
    "karate": ("recipes/graph/graphmae-karate.yaml", [], None),
    "digits-superpixels": ("recipes/graph/graphmae.yaml", [], None),
    "fashion-mnist-superpixels": (
        "recipes/graph/graphmae.yaml",
        [*builtin_sets("fashion-mnist-superpixels"), "train.epochs=2", "train.batch_size=128"],
        None,
    ),
    "tu-rings": ("recipes/graph/graphmae.yaml", [f"data.train={TU}", "train.epochs=30"], str(TU)),
}


def run_one(name: str, seed: int, kind: str) -> dict:
    recipe, sets, data = SETUPS[name]
    out = OUT / name / f"{kind}-s{seed}"
    sets = [*sets, f"seed={seed}"] + (["train.epochs=0"] if kind == "random" else [])
    wall = pretrain(recipe, out, sets)
    result = json.loads(sslctl("probe", str(out), "--json", *(["--data", data] if data else [])))
    result.update(dataset=name, seed=seed, kind=kind, pretrain_s=round(wall, 1))
    if name == "karate":
        result["few_label_linear_top1"] = few_label(out)
    return result


def few_label_splits(y: torch.Tensor, per_class: int = 2, n_splits: int = 20):
    """Seeded splits with `per_class` labelled nodes per class, the rest as test nodes."""
    for split in range(n_splits):
        g = torch.Generator().manual_seed(split)
        train = torch.cat([
            (y == c).nonzero()[:, 0][torch.randperm(int((y == c).sum()), generator=g)[:per_class]]
            for c in y.unique()
        ])  # fmt: skip
        test = torch.ones(len(y), dtype=torch.bool)
        test[train] = False
        yield train, test.nonzero()[:, 0]


def few_label(run: Path) -> float:
    """Karate's 80/20 split leaves 7 test nodes, which every encoder gets right; this mean over
    20 splits with 2 labelled nodes per class (30 test nodes) separates encoders."""
    from sslctl.engine.embedding import embed_samples
    from sslctl.eval.linear import linear_top1
    from sslctl.rundir import load_run

    loaded = load_run(run)
    samples = loaded.modality.load("builtin:karate")
    f = embed_samples(loaded.encoder, loaded.modality, samples, torch.device("cpu")).x
    return statistics.mean(
        linear_top1(f[tr], samples.y[tr], f[te], samples.y[te])[0]
        for tr, te in few_label_splits(samples.y)
    )


def pooled(samples) -> torch.Tensor:
    """Per-sample raw features: a node's own features, or a graph's mean and sum."""
    from sslctl.encoders.gnn import readout
    from sslctl.graphs import NodeSet

    if isinstance(samples.x, NodeSet):
        return samples.x.graph.x[samples.x.nodes]
    g = samples.x.union()
    return torch.cat([readout(g.x, g.pick, "mean"), readout(g.x, g.pick, "sum")], 1)


def informative(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop columns constant on the training set (e.g. centroids of 8x8 grids), which the
    probe's standardisation would divide by zero."""
    keep = train.std(0) > 1e-6
    return train[:, keep], test[:, keep]


def raw_features(name: str) -> float:
    """Linear probe on raw features, on the split the encoder probes use (karate: identity
    features, so unseen test nodes fall back to the bias)."""
    from sslctl.eval.linear import linear_top1
    from sslctl.modalities.graph.read import load_graphs
    from sslctl.probing import stratified_split

    if name == "tu-rings":
        train, test = stratified_split(load_graphs(str(TU), True))
    else:
        base = "builtin:" + name
        train, test = (load_graphs(f"{base}:{s}", True) for s in ("train", "test"))
    f_train, f_test = informative(pooled(train), pooled(test))
    return linear_top1(f_train, train.y, f_test, test.y)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(SETUPS))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not TU.is_dir():
        write_tu_folder(TU.parent)
    rows = []
    with open(OUT / "results.jsonl", "a") as log:
        for name in args.datasets:
            raw = raw_features(name)
            for seed in args.seeds:
                for kind in ("random", "graphmae"):
                    result = run_one(name, seed, kind)
                    result["raw_linear_top1"] = raw
                    log.write(json.dumps(result) + "\n")
                    log.flush()
                    rows.append(result)
    print("| dataset | raw features linear | random kNN | random linear | GraphMAE kNN "
          "| GraphMAE linear | GraphMAE pretrain s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name in args.datasets:
        mine = {k: [r for r in rows if r["dataset"] == name and r["kind"] == k]
                for k in ("random", "graphmae")}  # fmt: skip
        cells = [
            mean_spread([r[m] for r in mine[k]]) for k in mine for m in ("knn_top1", "linear_top1")
        ]
        wall = statistics.mean(r["pretrain_s"] for r in mine["graphmae"])
        raw = mine["random"][0]["raw_linear_top1"]
        print(f"| {name} | {raw:.1f} | " + " | ".join(cells) + f" | {wall:.0f} |")


if __name__ == "__main__":
    main()
