"""JEPA against the same randomly initialised encoder and against masked reconstruction on that
encoder, on Fashion-MNIST, spoken digits and two UCR/UEA sets.

For every set and seed: `sslctl pretrain` of the set's JEPA recipe (recipes/image/ijepa.yaml,
recipes/audio/jepa.yaml, recipes/timeseries/jepa.yaml on GunPoint and BasicMotions) under the
set's budget; the same recipe with train.epochs=0 (random init); and the same recipe with only
`method` replaced by masked reconstruction (MAE on the ViTs, PatchTST's masked patch modelling
on series), so encoder, optimiser, data and budget are the same. Then `sslctl probe --json` on
the recipe's probe sets. Prints a markdown table (mean ± std over seeds) and appends every
result to runs/bench-jepa/results.jsonl.

    python benchmarks/jepa.py [--sets fashion-mnist spoken-digits GunPoint BasicMotions]
        [--seeds 0 1 2] [--set KEY=VALUE ...]

`--speed STEPS` instead trains JEPA and MAE on the image recipe's ViT-Tiny for STEPS steps
each, alternating three times, and prints steps per second: the median of the logged
throughputs after the first log line (which holds the start-up).

    python benchmarks/jepa.py --speed 60

`--kinds jepa` reruns one kind only (after a recipe change); `--table` prints the table of
the runs already in results.jsonl (the latest of each set, seed and kind), for a benchmark
run in parts.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from timing import builtin_sets, mean_spread, pretrain, sslctl

OUT = Path("runs/bench-jepa")
MAE = "method={name: mae, mask_ratio: 0.75, decoder_dim: 128, decoder_depth: 2, decoder_heads: 4}"
MASKED_SERIES = "method={name: masked_series, mask_ratio: 0.4}"
# set -> (recipe, its own overrides (data and budget), the masked-reconstruction method)
SETS = {
    # 1200 steps of 128 images (2.6 epochs; about 72 minutes of JEPA on one CPU core): at 200
    # and 600 steps the kept EMA target did not yet beat random init; probed on a fixed
    # stratified subset (PROBE_SUBSETS)
    "fashion-mnist": (
        "recipes/image/ijepa.yaml",
        ["train.steps=1200", "optim.warmup_epochs=0.1"],
        MAE,
    ),
    # the recipe's own budget: 30 epochs of 64 clips (1110 steps)
    "spoken-digits": ("recipes/audio/jepa.yaml", [], MAE),
    "GunPoint": ("recipes/timeseries/jepa.yaml", builtin_sets("GunPoint"), MASKED_SERIES),
    "BasicMotions": ("recipes/timeseries/jepa.yaml", builtin_sets("BasicMotions"), MASKED_SERIES),
}
KINDS = ("random", "jepa", "masked")
# set -> (probe-train, probe-test) sizes: a ViT-Tiny embeds all 70,000 Fashion-MNIST images in
# about 8 minutes on 2 CPU cores, so each of the nine probes runs on a class-stratified subset
PROBE_SUBSETS = {"fashion-mnist": (5000, 2000)}


def probe_subset(name: str) -> list[str]:
    """`--set` values that probe on fixed class-stratified subsets of builtin:NAME's splits,
    written once as .npz files (seed 0, the same for every run)."""
    if name not in PROBE_SUBSETS:
        return []
    import numpy as np
    from sklearn.model_selection import train_test_split

    from sslctl.io.atomic import save_npz
    from sslctl.modalities.image.builtin import load_builtin_images

    sets = []
    for split, size in zip(("train", "test"), PROBE_SUBSETS[name], strict=True):
        path = OUT / f"{name}-probe-{split}-{size}.npz"
        if not path.exists():
            x, y = load_builtin_images(f"builtin:{name}:{split}")
            keep, _ = train_test_split(
                np.arange(len(y)), train_size=size, stratify=y, random_state=0
            )
            keep = np.sort(keep)
            save_npz(path, x=x[keep], y=y[keep])
        sets.append(f"probe.{split}={path}")
    return sets


def run_one(name: str, seed: int, kind: str, overrides: list[str]) -> dict:
    recipe, own, masked = SETS[name]
    out = OUT / name / f"{kind}-s{seed}"
    sets = [f"seed={seed}", *own, *probe_subset(name), *overrides]
    sets += {"random": ["train.epochs=0", "train.steps=0"], "jepa": [], "masked": [masked]}[kind]
    wall = pretrain(recipe, out, sets)
    result = json.loads(sslctl("probe", str(out), "--json"))
    result.update(set=name, seed=seed, kind=kind, pretrain_s=round(wall, 1), overrides=sets)
    return result


def speed(steps: int) -> None:
    recipe, own, masked = SETS["fashion-mnist"]
    rates: dict[str, list[float]] = {"jepa": [], "mae": []}
    for _ in range(3):
        for kind, extra in (("jepa", []), ("mae", [masked])):
            out = OUT / "speed" / kind
            sets = [f"train.steps={steps}", "train.log_every=10", *extra]
            pretrain(recipe, out, sets)
            logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            batch = 128
            rates[kind] += [r["throughput"] / batch for r in logged[1:]]
    for kind, values in rates.items():
        print(f"{kind}: {statistics.median(values):.2f} steps/s (batch 128, {len(values)} logs)")
    print(f"jepa / mae: {statistics.median(rates['jepa']) / statistics.median(rates['mae']):.2f}")


def print_table(rows: list[dict]) -> None:
    """The markdown table (mean ± std over the seeds present) and every run's line."""
    names = list(dict.fromkeys(r["set"] for r in rows))
    print(
        "| set | seeds | random kNN / linear (RankMe) | JEPA kNN / linear (RankMe) | masked kNN / "
        "linear (RankMe) | JEPA / masked pretrain s |"
    )
    print("|---|---|---|---|---|---|")
    for name in names:
        cells, walls = [], []
        for kind in KINDS:
            mine = [r for r in rows if r["set"] == name and r["kind"] == kind]
            if not mine:
                cells.append("-")
                continue
            knn, linear, rankme = (
                mean_spread([r[k] for r in mine]) for k in ("knn_top1", "linear_top1", "rankme")
            )
            cells.append(f"{knn} / {linear} ({rankme})")
            if kind != "random":
                # a run resumed from a checkpoint (pretrain_s null) has no whole wall time
                timed = [r["pretrain_s"] for r in mine if r.get("pretrain_s") is not None]
                walls.append(f"{statistics.mean(timed):.0f}" if timed else "-")
        seeds = sorted({r["seed"] for r in rows if r["set"] == name})
        print(f"| {name} | {len(seeds)} | " + " | ".join(cells) + f" | {' / '.join(walls)} |")
    for r in rows:
        print(
            f"{r['set']} seed {r['seed']} {r['kind']}: kNN {r['knn_top1']:.2f} "
            f"linear {r['linear_top1']:.2f} RankMe {r['rankme']:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--speed", type=int, metavar="STEPS", help="time JEPA vs MAE steps")
    parser.add_argument(
        "--table", action="store_true", help="only print the table of results.jsonl's runs"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.speed:
        speed(args.speed)
        return
    if args.table:  # the latest result of each (set, seed, kind) in the chosen sets
        logged = [json.loads(x) for x in (OUT / "results.jsonl").read_text().splitlines()]
        latest = {(r["set"], r["seed"], r["kind"]): r for r in logged if r["set"] in args.sets}
        print_table(list(latest.values()))
        return
    rows = []
    with open(OUT / "results.jsonl", "a") as log:
        for name in args.sets:
            for seed in args.seeds:
                for kind in args.kinds:
                    rows.append(run_one(name, seed, kind, args.overrides))
                    log.write(json.dumps(rows[-1]) + "\n")
                    log.flush()
    print_table(rows)


if __name__ == "__main__":
    main()
