"""The cost of train.eval_every's online evaluation (weighted kNN, RankMe and the embedding std
on a fixed sample) on a Fashion-MNIST recipe: the seconds one evaluation takes (its `eval_s`
in metrics.jsonl), the seconds a training step takes (from the logged throughput), and the
evaluation's cost spread over the steps between two evaluations. The same recipe without the
evaluation is timed beside it, alternating, so the wall-time difference checks the figure.

    python benchmarks/online_eval.py [--recipe recipes/image/fashion-mnist/simclr.yaml]
        [--steps 100] [--every 50] [--samples 5000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import yaml
from timing import pretrain

OUT = Path("runs/bench-online-eval")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="recipes/image/fashion-mnist/simclr.yaml")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    common = [f"train.steps={args.steps}", "train.log_every=10"]
    watched = [f"train.eval_every={args.every}", f"train.eval_samples={args.samples}"]
    walls: dict[str, list[float]] = {"with": [], "without": []}
    evals, step_s = [], []
    for _ in range(args.repeats):
        for kind, extra in (("with", watched), ("without", [])):
            out = OUT / kind
            walls[kind].append(pretrain(args.recipe, out, common + extra))
            lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
            evals += [r["eval_s"] for r in lines if "eval_s" in r]
            batch = yaml.safe_load((out / "recipe.yaml").read_text())["train"]["batch_size"]
            # throughput leaves the evaluation out; the first window holds the start-up
            step_s += [batch / r["throughput"] for r in lines[1:]]
    eval_s, per_step = statistics.median(evals), statistics.median(step_s)
    print(f"one evaluation: {eval_s:.2f} s (median of {len(evals)})")
    print(f"one training step: {per_step:.3f} s (median of {len(step_s)} logged windows)")
    print(
        f"amortised at eval_every={args.every}: {eval_s / args.every:.3f} s a step "
        f"(+{100 * eval_s / args.every / per_step:.1f}%)"
    )
    with_s, without_s = statistics.median(walls["with"]), statistics.median(walls["without"])
    print(
        f"wall, {args.steps} steps: {with_s:.1f} s with, {without_s:.1f} s without "
        f"(+{with_s - without_s:.1f} s for {args.steps // args.every} evaluations)"
    )


if __name__ == "__main__":
    main()
