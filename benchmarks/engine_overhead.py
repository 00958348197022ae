"""Engine overhead: one full SimCLR training step (augment both views on the device, forward,
NT-Xent, backward, AdamW) against the bare forward+backward of the same encoder on the same
2 x B images. Ratio near 1 means augmentation, heads and loss cost little beside the encoder.

    python benchmarks/engine_overhead.py [--device cpu|cuda] [--batch 256] [--size 32] [--steps 5]
"""

from __future__ import annotations

import argparse

import torch
from timing import seconds_per_call

from sslctl.engine.optim import build_optimizer
from sslctl.methods import build_method
from sslctl.modalities.image import ImageModality
from sslctl.recipe import EncoderSpec, validate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    device = torch.device(args.device)
    spec = {
        "modality": "image",
        "channels": 3,
        "image_size": args.size,
        "mean": [0.5] * 3,
        "std": [0.25] * 3,
    }
    modality = ImageModality(spec)
    recipe = validate(
        {
            "data": {"modality": "image", "train": "builtin:digits"},
            "encoder": {"name": "resnet18"},
            "method": {"name": "simclr"},
        },
        "bench",
    )
    torch.manual_seed(0)
    bf16 = device.type == "cuda"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    images = torch.rand(args.batch, 3, args.size, args.size, device=device)

    encoder = modality.build_encoder(EncoderSpec(name="resnet18")).to(device)
    bare_opt = torch.optim.AdamW(encoder.parameters())
    pair = torch.cat([images, images])

    def bare():
        with autocast:
            loss = encoder(pair).float().mean()
        loss.backward()
        bare_opt.zero_grad(set_to_none=True)

    method = build_method(recipe.method, modality.build_encoder(EncoderSpec(name="resnet18"))).to(
        device
    )
    opt = build_optimizer(method, recipe.optim)

    def full():
        with autocast:
            loss, _ = method(modality.views(images, method.view_plan))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    t_bare = seconds_per_call(bare, args.steps, device)
    t_full = seconds_per_call(full, args.steps, device)
    t_aug = seconds_per_call(lambda: modality.views(images, method.view_plan), args.steps, device)
    print(f"device={device} batch={args.batch} size={args.size} threads={torch.get_num_threads()}")
    print(f"bare encoder fwd+bwd (2x{args.batch}): {t_bare * 1000:.1f} ms")
    rate = 2 * args.batch / t_full
    print(f"full SimCLR step:                 {t_full * 1000:.1f} ms  ({rate:.0f} images/s)")
    print(f"augmentation alone (2 views):     {t_aug * 1000:.1f} ms")
    print(f"overhead ratio: {t_full / t_bare:.2f}x")


if __name__ == "__main__":
    main()
