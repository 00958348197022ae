"""sslctl distill vs LightlyTrain's `distillation` (v3) on one teacher, student, data, batch
and epochs, on this machine.

Data: the first --images fashion-mnist training images written as RGB PNGs to a folder
(LightlyTrain reads image folders). Teacher: `recipes/image/fashion-mnist/simclr.yaml`
(resnet18) pretrained on 3-channel views for one epoch and exported in timm's layout, then
saved as a plain .pth state dict (LightlyTrain's `teacher_weights` is read by torch.load);
both tools load that one file into timm's resnet18. Student: timm resnet10t. sslctl runs
`recipes/image/fashion-mnist/distill.yaml` with v3's losses ({queue_kl: 1, token_kl: 1},
mixup); LightlyTrain runs `lightly_train.pretrain(method="distillation")` with
`teacher="timm/resnet18"`, the teacher's input statistics and 32 px views. Each student is
probed by `sslctl probe` (LightlyTrain's exported student is loaded through
`encoder.weights` into a run with train.epochs=0). img/s = images x epochs / training wall
time (set-up included for both). Run it with a Python that has lightly-train installed:

    python benchmarks/lightly_train_distill.py [--images 10000] [--epochs 2] [--batch 128]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import torch
from PIL import Image
from safetensors.torch import load_file
from timing import sslctl

OUT = Path("runs/bench-lightly-train")


def write_images(n: int) -> Path:
    from sslctl.modalities.image.builtin import load_builtin_images

    folder = OUT / "images"
    if folder.is_dir() and len(list(folder.iterdir())) == n:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    x, _ = load_builtin_images("builtin:fashion-mnist:train")  # (N, 1, 28, 28) uint8
    x = x[:n]
    for i, img in enumerate(x):
        Image.fromarray(img[0]).convert("RGB").save(folder / f"{i:05d}.png")
    return folder


def teacher(folder: Path) -> tuple[Path, dict]:
    run = OUT / "teacher"
    if not (run / "model.pth").is_file():
        shutil.rmtree(run, ignore_errors=True)
        sslctl(
            "pretrain",
            "recipes/image/fashion-mnist/simclr.yaml",
            "--out",
            str(run),
            "--quiet",
            "--set",
            "train.epochs=1",
            "--set",
            "data.channels=3",
        )
        sslctl("export", str(run), "--format", "timm")
        torch.save(load_file(run / "model.safetensors"), run / "model.pth")
    info = json.loads((run / "encoder.json").read_text())["input"]
    return run / "model.pth", {"mean": info["mean"], "std": info["std"]}


def run_sslctl(folder: Path, weights: Path, stats: dict, epochs: int, batch: int) -> tuple:
    out = OUT / "sslctl"
    shutil.rmtree(out, ignore_errors=True)
    t = f"{{timm: resnet18, weights: {weights}, mean: {stats['mean']}, std: {stats['std']}}}"
    sets = [
        f"data.train={folder}",
        "data.channels=3",
        f"teacher={t}",
        f"train.epochs={epochs}",
        f"train.batch_size={batch}",
        "method.losses={queue_kl: 1.0, token_kl: 1.0}",
        "method.mixup=true",
    ]
    start = time.perf_counter()
    sslctl(
        "distill",
        "recipes/image/fashion-mnist/distill.yaml",
        "--out",
        str(out),
        "--quiet",
        *[a for s in sets for a in ("--set", s)],
    )
    return out, time.perf_counter() - start


def run_lightly(folder: Path, weights: Path, stats: dict, epochs: int, batch: int) -> tuple:
    os.environ.setdefault("LIGHTLY_TRAIN_EVENTS_DISABLED", "1")  # no usage events: offline
    import lightly_train

    out = OUT / "lightly"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    lightly_train.pretrain(
        out=str(out),
        data=str(folder),
        model="timm/resnet10t",
        method="distillation",
        method_args={
            "teacher": "timm/resnet18",
            "teacher_weights": str(weights),
            "teacher_args": {"num_classes": 0},
        },
        epochs=epochs,
        batch_size=batch,
        accelerator="cpu",
        devices=1,
        num_workers=2,
        transform_args={"image_size": (32, 32), "normalize": stats},
        loggers={"tensorboard": None},
        seed=0,
    )
    wall = time.perf_counter() - start
    exported = out / "exported_models" / "exported_last.pt"
    state = torch.load(exported, weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    torch.save(state, out / "student.pth")
    run = OUT / "lightly-run"
    shutil.rmtree(run, ignore_errors=True)
    sslctl(
        "pretrain",
        "recipes/image/fashion-mnist/simclr.yaml",
        "--out",
        str(run),
        "--quiet",
        "--set",
        f"data.train={folder}",
        "--set",
        "data.channels=3",
        "--set",
        "train.epochs=0",
        "--set",
        f"encoder={{name: resnet10t, weights: {out}/student.pth}}",
    )
    return run, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    folder = write_images(args.images)
    weights, stats = teacher(folder)
    print("| tool | img/s | wall (s) | kNN top-1 | linear top-1 | RankMe |")
    print("|---|---|---|---|---|---|")
    for name, job in (("sslctl distill", run_sslctl), ("LightlyTrain 0.18.0", run_lightly)):
        run, wall = job(folder, weights, stats, args.epochs, args.batch)
        r = json.loads(sslctl("probe", str(run), "--json", "--data", "builtin:fashion-mnist"))
        speed = args.images * args.epochs / wall
        print(
            f"| {name} | {speed:.0f} | {wall:.0f} | {r['knn_top1']:.1f} | "
            f"{r['linear_top1']:.1f} | {r['rankme']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
