"""DINO against the same randomly initialised encoder, on one real set of each modality.

For every modality and seed: `sslctl pretrain recipes/MODALITY/dino.yaml` (digits,
spoken-digits, ArrowHead, digits-superpixels), the same recipe with train.epochs=0 as the
random-init encoder of that seed, then `sslctl probe --json` on the recipe's probe sets
(official or held-out test splits). Prints a markdown table (mean ± std over seeds) and
appends every result to runs/bench-dino/results.jsonl. `--set KEY=VALUE` overrides the recipe
of both runs (a DINO option, say) and `--tag NAME` keeps them apart, in runs/bench-dino/NAME/
and results-NAME.jsonl.

    python benchmarks/dino.py [--modalities image audio timeseries graph] [--seeds 0 1 2]
        [--set method.clip_grad=3.0 ...] [--tag NAME]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from timing import mean_spread, pretrain, sslctl

OUT = Path("runs/bench-dino")
MODALITIES = ["image", "audio", "timeseries", "graph"]


def run_one(modality: str, seed: int, kind: str, overrides: list[str], tag: str) -> dict:
    out = OUT / tag / modality / f"{kind}-s{seed}"
    sets = [f"seed={seed}", *overrides] + (["train.epochs=0"] if kind == "random" else [])
    wall = pretrain(f"recipes/{modality}/dino.yaml", out, sets)
    result = json.loads(sslctl("probe", str(out), "--json"))
    result.update(
        modality=modality, seed=seed, kind=kind, pretrain_s=round(wall, 1), overrides=overrides
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modalities", nargs="+", default=MODALITIES, choices=MODALITIES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--tag", default="", help="runs go to runs/bench-dino/TAG/")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    results = OUT / (f"results-{args.tag}.jsonl" if args.tag else "results.jsonl")
    with open(results, "a") as log:
        for modality in args.modalities:
            for seed in args.seeds:
                for kind in ("random", "dino"):
                    rows.append(run_one(modality, seed, kind, args.overrides, args.tag))
                    log.write(json.dumps(rows[-1]) + "\n")
                    log.flush()
    print("| modality | random kNN | random linear | DINO kNN | DINO linear | DINO pretrain s |")
    print("|---|---|---|---|---|---|")
    for modality in args.modalities:
        cells = []
        for kind in ("random", "dino"):
            mine = [r for r in rows if r["modality"] == modality and r["kind"] == kind]
            cells += [mean_spread([r[k] for r in mine]) for k in ("knn_top1", "linear_top1")]
        wall = statistics.mean(
            r["pretrain_s"] for r in rows if r["modality"] == modality and r["kind"] == "dino"
        )
        print(f"| {modality} | " + " | ".join(cells) + f" | {wall:.0f} |")
    for r in rows:
        print(f"{r['modality']} seed {r['seed']} {r['kind']}: linear {r['linear_top1']:.2f}")


if __name__ == "__main__":
    main()
