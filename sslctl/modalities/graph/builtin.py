"""Built-in graphs: karate from networkx, and superpixel graphs of the built-in
digits and Fashion-MNIST images made with scikit-image's SLIC, as the MNIST-superpixel
benchmarks do. Superpixel sets are made on first use and cached atomically (same cache as the
audio sets); nothing is downloaded.

Superpixel graphs: `slic(img, n_segments=75, compactness=0.25, channel_axis=None)` on the
image scaled to [0, 1]; a node per superpixel with features (mean intensity, centroid row / H,
centroid column / W); an undirected edge (both directions) between superpixels that touch
horizontally or vertically; the image's class as the label. On 8x8 digits SLIC returns one
superpixel per pixel (64 nodes); on 28x28 Fashion-MNIST about 75.
"""

from __future__ import annotations

import os
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from sslctl.cache import cache_dir
from sslctl.io.atomic import save_npz
from sslctl.modalities.image.builtin import load_builtin_images
from sslctl.modalities.image.builtin import source_checks as image_source_checks
from sslctl.optional import import_optional, install_hint
from sslctl.sources.builtin import SourceCheck, parse_builtin

NAMES = ["karate", "digits-superpixels", "fashion-mnist-superpixels"]
CACHE_VERSION = "v1"  # bump when the graph construction changes


def karate() -> dict[str, np.ndarray]:
    """Zachary's karate club: identity features (as Kipf & Welling), club as the label, a
    stratified 80/20 node split with seed 0."""
    nx = import_optional("networkx", "builtin:karate")
    from sklearn.model_selection import train_test_split

    g = nx.karate_club_graph()
    n = g.number_of_nodes()
    y = np.array([g.nodes[i]["club"] != "Mr. Hi" for i in range(n)], dtype=np.int64)
    edges = np.array(list(g.edges()), dtype=np.int64).T
    edge_index = np.concatenate([edges, edges[::-1]], axis=1)
    train, _ = train_test_split(np.arange(n), test_size=0.2, stratify=y, random_state=0)
    train_mask = np.isin(np.arange(n), train)
    return {
        "x": np.eye(n, dtype=np.float32),
        "edge_index": edge_index,
        "y": y,
        "train_mask": train_mask,
        "test_mask": ~train_mask,
    }


def superpixel_graph(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(features (n, 3), edges (2, e) both directions) of one grayscale image in [0, 1]."""
    from skimage.segmentation import slic

    seg = slic(image, n_segments=75, compactness=0.25, channel_axis=None, start_label=0)
    _, seg = np.unique(seg, return_inverse=True)
    seg = seg.reshape(image.shape)
    n = int(seg.max()) + 1
    count = np.bincount(seg.ravel(), minlength=n)
    rows, cols = np.indices(image.shape)
    mean = lambda v: np.bincount(seg.ravel(), v.ravel(), minlength=n) / count  # noqa: E731
    h, w = image.shape
    x = np.stack([mean(image), mean(rows) / h, mean(cols) / w], axis=1).astype(np.float32)
    pairs = np.concatenate(
        [
            np.stack([seg[:, :-1].ravel(), seg[:, 1:].ravel()]),
            np.stack([seg[:-1].ravel(), seg[1:].ravel()]),
        ],
        axis=1,
    )
    pairs = pairs[:, pairs[0] != pairs[1]]
    pairs = np.unique(np.concatenate([pairs, pairs[::-1]], axis=1), axis=1)
    return x, pairs


def _graphs(images: np.ndarray) -> dict[str, np.ndarray]:
    with Pool(max(1, min(8, os.cpu_count() or 1))) as pool:
        graphs = pool.map(superpixel_graph, list(images[:, 0] / 255.0), chunksize=256)
    node_ptr = np.concatenate([[0], np.cumsum([len(x) for x, _ in graphs])])
    edge_ptr = np.concatenate([[0], np.cumsum([e.shape[1] for _, e in graphs])])
    return {
        "x": np.concatenate([x for x, _ in graphs]),
        "edge_index": np.concatenate([e for _, e in graphs], axis=1).astype(np.int32),
        "node_ptr": node_ptr,
        "edge_ptr": edge_ptr,
    }


def _cache_path(name: str, split: str) -> Path:
    return cache_dir() / f"{name}-{split}-{CACHE_VERSION}.npz"


def superpixels(name: str, split: str) -> dict[str, np.ndarray]:
    """Superpixel graphs of builtin:<image set>:<split>, made once and cached."""
    import_optional("skimage.segmentation", f"builtin:{name}")  # checked here, used in workers
    path = _cache_path(name, split)
    if not path.is_file():
        images, y = load_builtin_images(f"builtin:{name.removesuffix('-superpixels')}:{split}")
        save_npz(path, **_graphs(images), y=y)
    with np.load(path) as arrays:
        return {k: arrays[k] for k in arrays.files}


def source_checks() -> list[SourceCheck]:
    """karate needs networkx; superpixel sets need scikit-image and their image set, unless
    they are cached already."""
    from importlib.util import find_spec

    images = {check.name: check for check in image_source_checks()}
    checks = [
        SourceCheck("karate", True, "networkx found")
        if find_spec("networkx") is not None
        else SourceCheck("karate", False, "networkx is not installed", install_hint("networkx"))
    ]
    for name in NAMES[1:]:
        image_set = images[name.removesuffix("-superpixels")]
        if all(_cache_path(name, split).is_file() for split in ("train", "test")):
            checks.append(SourceCheck(name, True, f"cached in {cache_dir()}"))
        elif find_spec("skimage") is None:
            detail = "scikit-image is not installed"
            checks.append(SourceCheck(name, False, detail, install_hint("scikit-image")))
        elif not image_set.ok:
            checks.append(SourceCheck(name, False, image_set.detail, image_set.fix))
        else:
            checks.append(SourceCheck(name, True, "scikit-image found; made on first use"))
    return checks


def load_builtin_graphs(source: str) -> tuple[dict[str, np.ndarray], str | None]:
    """`builtin:NAME[:split]` -> (arrays, split). Node-level sets (karate) hold one graph
    with train/test node masks, and pick nodes only when the split is named."""
    name, split = parse_builtin(source, NAMES, "graph")
    if name == "karate":
        return karate(), split if source.count(":") >= 2 else None
    return superpixels(name, split), split
