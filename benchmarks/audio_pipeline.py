"""Audio pipeline throughput: NaN-padded waveforms in memory -> cropped clip batch -> log-mel
front end -> two augmented views, in clips per second, next to one full training step of the
recipe's method and encoder on the same batch. The pipeline is not the bottleneck when its
time is a small share of the step.

    python benchmarks/audio_pipeline.py [--recipe recipes/audio/byol-a.yaml] [--batch 128]
        [--steps 5] [--device cpu|cuda] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse

import torch
from timing import seconds_per_call

from sslctl.engine.optim import build_optimizer
from sslctl.methods import build_method
from sslctl.modalities.audio.modality import AudioModality
from sslctl.recipe import load_recipe


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", default="recipes/audio/byol-a.yaml")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    args = ap.parse_args()
    device = torch.device(args.device)
    recipe = load_recipe(args.recipe, args.overrides)
    samples = AudioModality.load_training_samples(recipe.data)
    modality = AudioModality.for_training(recipe.data, samples)
    method = build_method(recipe.method, modality.build_encoder(recipe.encoder)).to(device)
    opt = build_optimizer(method, recipe.optim)
    index = torch.arange(args.batch)
    plan = method.view_plan

    def pipeline() -> list[torch.Tensor]:
        return modality.views(modality.batch(samples, index, device), plan)

    def step() -> None:
        loss, _ = method(pipeline())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    torch.manual_seed(0)
    t_pipe = seconds_per_call(pipeline, args.steps, device)
    t_step = seconds_per_call(step, args.steps, device)
    n_views = plan.n_global + plan.n_local
    print(f"recipe {args.recipe}  device {device}  batch {args.batch}  views {n_views}")
    print(
        f"pipeline (crop + log-mel + views): {t_pipe * 1e3:8.1f} ms  "
        f"{args.batch / t_pipe:9.0f} clips/s"
    )
    print(
        f"full training step (incl. pipeline): {t_step * 1e3:6.1f} ms  "
        f"{args.batch / t_step:9.0f} clips/s"
    )
    print(f"pipeline share of a step: {t_pipe / t_step:.1%}")


if __name__ == "__main__":
    main()
