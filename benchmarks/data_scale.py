"""Data at scale on this machine: streamed folders against the folder size, decode throughput
against workers and against torchvision's ImageFolder + DataLoader, and listing a million files.

    python benchmarks/data_scale.py --root /tmp/scale            # 10k and 100k images
    python benchmarks/data_scale.py --root /tmp/scale --listing 1000000

It writes its own data (no downloads): 10,000 distinct 400x320 JPEGs of random smooth colour
fields (about 47 kB each at quality 90), and a 100,000-image folder holding each of them ten
times under other names (hard links: the same decode cost per file, and the page cache holds
them, as it would hold a warm dataset). Results print as Markdown rows for
docs/studies/data-at-scale.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import torch

UNIQUE = 10_000
SIZE = 96  # image_size of the pretrain runs and the crop side of the loaders


def write_jpegs(root: Path, n: int, seed: int = 0) -> None:
    from PIL import Image

    if root.is_dir() and sum(1 for _ in root.rglob("*.jpg")) >= n:
        return
    rng = np.random.default_rng(seed)
    for i in range(n):
        folder = root / f"class{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        coarse = rng.integers(0, 255, (5, 4, 3), dtype=np.uint8)
        img = Image.fromarray(coarse).resize((400, 320), Image.BICUBIC)
        noise = rng.integers(-12, 12, (320, 400, 3))
        pixels = np.clip(np.asarray(img, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:07d}.jpg", quality=90)


def link_copies(source: Path, root: Path, copies: int) -> None:
    if root.is_dir() and sum(1 for _ in root.rglob("*.jpg")) >= copies * UNIQUE:
        return
    for path in source.rglob("*.jpg"):
        for c in range(copies):
            target = root / path.parent.name / f"{c}-{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.link(path, target)


def recipe(train: str, epochs: int, workers: int, size: int = SIZE, batch: int = 128) -> str:
    text = {
        "name": "scale",
        "data": {"modality": "image", "train": train, "image_size": size, "cache": "stream"},
        "encoder": {"name": "resnet10t"},
        "method": {"name": "simclr", "proj_hidden": 256, "proj_dim": 64},
        "optim": {"lr": 1e-3, "warmup_epochs": 0},
        "train": {"epochs": epochs, "batch_size": batch, "num_workers": workers, "log_every": 1},
    }
    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as fh:
        json.dump(text, fh)  # JSON is YAML
    return path


def tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """(main process RSS, main + workers RSS) in bytes; workers' shared pages count twice."""
    try:
        main = proc.memory_info().rss
        children = sum(c.memory_info().rss for c in proc.children(recursive=True))
    except psutil.NoSuchProcess:
        return 0, 0
    return main, main + children


def pretrain_run(recipe_path: str, out: Path, first_step_only: bool) -> dict:
    """Seconds from process start to the first training batch and to the first logged step,
    wall time, and peak RSS of `sslctl pretrain` (to the end of its epoch, or stopped after the
    first step), through benchmarks/first_step.py."""
    out_dir = tempfile.mkdtemp(dir=out)
    marks = Path(out_dir) / "marks.json"
    # a new cache folder: the folder is listed from scratch, as on a first run
    env = {**os.environ, "FIRST_STEP": str(marks), "SSLCTL_CACHE": tempfile.mkdtemp(dir=out)}
    if first_step_only:
        env["STOP_AFTER_FIRST"] = "1"
    script = Path(__file__).with_name("first_step.py")
    args = [
        sys.executable,
        str(script),
        "pretrain",
        recipe_path,
        "--out",
        f"{out_dir}/run",
        "--quiet",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=env)
    handle = psutil.Process(proc.pid)
    peak_main = peak_tree = 0
    while proc.poll() is None:
        main, tree = tree_rss(handle)
        peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
        time.sleep(0.05)
    err = proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"pretrain failed: {err}")
    return {
        **json.loads(marks.read_text()),
        "wall_s": time.perf_counter() - start,
        "peak_rss_main_mb": peak_main / 2**20,
        "peak_rss_tree_mb": peak_tree / 2**20,
    }


def sslctl_throughput(root: Path, workers: int, views: int, batches: int) -> float:
    """Images/s of sslctl's streaming loader (train decoder, `views` crops per image)."""
    from sslctl.modalities.image.modality import ImageModality
    from sslctl.sources.files import open_file_source
    from sslctl.sources.stream import DecodeLog, FileSamples, Request, decoded_batches
    from sslctl.views import ViewPlan

    source = open_file_source(str(root), {".jpg"}, "image")
    modality = ImageModality({"image_size": SIZE, "channels": 3}, None, None, workers)
    decoder = modality.train_decoder(ViewPlan(n_global=views, preset="simclr"))
    order = np.random.default_rng(0).permutation(len(source))
    requests = [Request(0, order[i * 128 : (i + 1) * 128]) for i in range(batches)]
    loader = decoded_batches(
        FileSamples(source), decoder, requests, workers, 0, False, DecodeLog("fail")
    )
    next(loader)  # workers started, first batch in
    start = time.perf_counter()
    n = sum(len(b.kept) for b in loader)
    return n / (time.perf_counter() - start)


def torchvision_throughput(root: Path, workers: int, views: int, batches: int) -> float:
    """Images/s of ImageFolder + DataLoader with RandomResizedCrop(SIZE) (+ flip), per view."""
    from torchvision import datasets, transforms

    crop = transforms.Compose(
        [
            transforms.RandomResizedCrop(SIZE),
            transforms.RandomHorizontalFlip(),
            transforms.PILToTensor(),
        ]
    )
    transform = crop if views == 1 else (lambda img: [crop(img) for _ in range(views)])
    dataset = datasets.ImageFolder(str(root), transform=transform)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=128,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
        generator=torch.Generator().manual_seed(0),
    )
    it = iter(loader)
    next(it)
    start = time.perf_counter()
    n = 0
    for _ in range(batches - 1):
        next(it)
        n += 128
    return n / (time.perf_counter() - start)


def train_step_rate(batch: int = 128) -> float:
    """Images/s of one SimCLR training step of the benchmark's encoder on this machine."""
    import yaml  # noqa: F401 - the recipe module's dependency, imported as pretrain does

    from sslctl.methods import build_method
    from sslctl.modalities.image.modality import Crops, ImageModality
    from sslctl.recipe import validate
    from sslctl.views import ViewPlan

    spec = json.loads(Path(recipe("x", 1, 0)).read_text())
    r = validate(spec, "benchmark")
    modality = ImageModality(
        {"image_size": SIZE, "channels": 3, "mean": [0.5] * 3, "std": [0.25] * 3}, None, None, 0
    )
    method = build_method(r.method, modality.build_encoder(r.encoder))
    opt = torch.optim.AdamW(method.parameters(), 1e-3)
    crops = Crops([torch.rand(batch, 3, SIZE, SIZE) for _ in range(2)])

    def step():
        loss, _ = method(modality.views(crops, ViewPlan()))
        loss.backward()
        opt.step()
        opt.zero_grad()

    step()
    start = time.perf_counter()
    for _ in range(3):
        step()
    return 3 * batch / (time.perf_counter() - start)


def listing_time(root: Path, n: int) -> dict:
    from sslctl.sources.listing import list_folder

    if not root.is_dir():
        for i in range(n):
            folder = root / f"d{i // 1000:04d}"
            if i % 1000 == 0:
                folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i:08d}.jpg").touch()
    os.environ["SSLCTL_CACHE"] = tempfile.mkdtemp()
    start = time.perf_counter()
    first = list_folder(root, {".jpg"}, "image")
    cold = time.perf_counter() - start
    start = time.perf_counter()
    list_folder(root, {".jpg"}, "image")
    warm = time.perf_counter() - start
    return {"files": len(first), "first_listing_s": cold, "cached_listing_s": warm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--listing", type=int, default=0, help="also time listing N empty files")
    parser.add_argument("--skip-epoch", action="store_true", help="no full-epoch runs")
    parser.add_argument("--epoch-size", type=int, default=32, help="image_size of epoch runs")
    parser.add_argument("--skip-pretrain", action="store_true", help="loaders and listing only")
    parser.add_argument("--repeats", type=int, default=3, help="alternated loader timings")
    parser.add_argument("--batches", type=int, default=24, help="batches of 128 per timing")
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0))
    small, large = args.root / "jpegs-10k", args.root / "jpegs-100k"
    write_jpegs(small, UNIQUE)
    link_copies(small, large, 10)
    results = {"cpus": cpus, "torch_threads": torch.get_num_threads()}
    runs = args.root / "runs"
    runs.mkdir(exist_ok=True)
    for name, root in () if args.skip_pretrain else (("10k", small), ("100k", large)):
        path = recipe(str(root), 1, cpus)
        results[f"first_step_{name}"] = pretrain_run(path, runs, True)
        print(name, results[f"first_step_{name}"], file=sys.stderr)
        if not args.skip_epoch:  # data-bound: small images, so the epoch is mostly decoding
            path = recipe(str(root), 1, cpus, size=args.epoch_size, batch=256)
            results[f"epoch_{name}"] = pretrain_run(path, runs, False)
            print(name, results[f"epoch_{name}"], file=sys.stderr)
    results["train_step_images_per_s"] = train_step_rate()
    for workers in sorted({0, 1, 2, cpus}):
        for views in (1, 2):
            ours, theirs = [], []
            for _ in range(args.repeats):  # alternated, so a drift of the machine hits both
                ours.append(sslctl_throughput(small, workers, views, args.batches))
                theirs.append(torchvision_throughput(small, workers, views, args.batches))
            results[f"decode_w{workers}_v{views}"] = {
                "sslctl": statistics.median(ours),
                "torchvision": statistics.median(theirs),
                "ratio": statistics.median(a / b for a, b in zip(ours, theirs, strict=True)),
            }
            print(workers, views, results[f"decode_w{workers}_v{views}"], file=sys.stderr)
    if args.listing:
        results["listing"] = listing_time(args.root / f"empty-{args.listing}", args.listing)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
