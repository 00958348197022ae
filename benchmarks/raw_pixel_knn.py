"""Raw-pixel baseline for the probe tables: the same weighted kNN (k=20, T=0.07) on flattened
pixels in [0, 1].  python benchmarks/raw_pixel_knn.py fashion-mnist"""

from __future__ import annotations

import sys

import torch

from sslctl.eval.knn import knn_top1
from sslctl.modalities.image.builtin import load_builtin_images


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "digits"
    (xtr, ytr), (xte, yte) = (load_builtin_images(f"builtin:{name}:{s}") for s in ("train", "test"))
    flat = [torch.from_numpy(x.reshape(len(x), -1)).float() / 255 for x in (xtr, xte)]
    acc = knn_top1(flat[0], torch.from_numpy(ytr), flat[1], torch.from_numpy(yte))
    print(f"{name}: raw-pixel weighted kNN top-1 = {acc:.2f}")


if __name__ == "__main__":
    main()
