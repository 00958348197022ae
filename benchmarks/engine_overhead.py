"""Engine overhead: one full training step of a method (augment the views on the device,
forward, loss, backward, optimizer step, EMA teacher update) against the bare forward+backward
of the same encoder on the same images (for multi-crop: every view at its own size; for MAE:
the whole images, of which MAE encodes a quarter). A ratio near 1 means augmentation, heads,
teacher and loss cost little beside the encoder.

    python benchmarks/engine_overhead.py [--methods simclr dino mae] [--device cpu|cuda]
        [--batch 256] [--size 32] [--steps 5]
"""

from __future__ import annotations

import argparse

import torch
from timing import seconds_per_call

from sslctl.engine.optim import build_optimizer, ema_update
from sslctl.methods import build_method
from sslctl.modalities.image.modality import ImageModality
from sslctl.recipe import validate

ENCODERS = {"simclr": "resnet18", "dino": "resnet18", "mae": "vit_tiny_patch16_224"}
METHODS = {
    "simclr": {"name": "simclr"},
    "dino": {"name": "dino", "out_dim": 1024, "hidden_dim": 512, "bottleneck_dim": 128,
             "local_crops": 4, "local_size_ratio": 0.5},
    "mae": {"name": "mae"},
}  # fmt: skip


def measure(name: str, device: torch.device, batch: int, size: int, steps: int) -> dict:
    spec = {"modality": "image", "channels": 3, "image_size": size, "mean": [0.5] * 3}
    spec["std"] = [0.25] * 3
    modality = ImageModality(spec)
    encoder_spec = {"name": ENCODERS[name]}
    if name == "mae":
        encoder_spec["kwargs"] = {"patch_size": 4}
    tree = {
        "data": {"modality": "image", "train": "builtin:digits", "image_size": size},
        "encoder": encoder_spec,
        "method": METHODS[name],
    }
    recipe = validate(tree, "bench")
    torch.manual_seed(0)
    bf16 = device.type == "cuda"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    images = torch.rand(batch, 3, size, size, device=device)
    method = build_method(recipe.method, modality.build_encoder(recipe.encoder)).to(device)
    views = modality.views(images, method.view_plan)
    shapes = [v.shape for v in views] if name != "mae" else [images.shape]

    encoder = modality.build_encoder(recipe.encoder).to(device)
    bare_opt = torch.optim.AdamW(encoder.parameters())
    inputs = [torch.rand(s, device=device) for s in shapes]

    def bare():
        with autocast:
            loss = sum(encoder(x).float().mean() for x in inputs)
        loss.backward()
        bare_opt.zero_grad(set_to_none=True)

    opt = build_optimizer(method, recipe.optim)

    def full():
        with autocast:
            loss, _ = method(modality.views(images, method.view_plan))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        for student, teacher in method.ema_pairs():
            ema_update(student, teacher, 0.996)

    t_bare = seconds_per_call(bare, steps, device)
    t_full = seconds_per_call(full, steps, device)
    t_aug = seconds_per_call(lambda: modality.views(images, method.view_plan), steps, device)
    return {"bare": t_bare, "full": t_full, "aug": t_aug, "views": len(shapes)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    device = torch.device(args.device)
    print(f"device={device} batch={args.batch} size={args.size} threads={torch.get_num_threads()}")
    print(
        "| method | encoder | views | bare fwd+bwd (ms) | full step (ms) | augment (ms) | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.methods:
        r = measure(name, device, args.batch, args.size, args.steps)
        print(
            f"| {name} | {ENCODERS[name]} | {r['views']} | {r['bare'] * 1000:.1f} | "
            f"{r['full'] * 1000:.1f} | {r['aug'] * 1000:.1f} | {r['full'] / r['bare']:.2f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
