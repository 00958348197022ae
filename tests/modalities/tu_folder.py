"""A small TU-format dataset written from scratch, for reader tests and the graph benchmark.

Each graph is a random tree with one to three rings attached; its class is the ring size
(3, 4, 5 or 6 nodes). Node labels (one-hot features after reading) are atom-like types: ring
nodes are type 0, tree nodes types 1-3 drawn at random, so the class is a structural property
no single node feature reveals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RING_SIZES = (3, 4, 5, 6)


def make_graph(rng: np.random.Generator, label: int) -> tuple[list[tuple[int, int]], list[int]]:
    n_tree = int(rng.integers(6, 16))
    edges = [(int(rng.integers(i)), i) for i in range(1, n_tree)]
    types = [int(rng.integers(1, 4)) for _ in range(n_tree)]
    size = RING_SIZES[label]
    for _ in range(int(rng.integers(1, 4))):
        start = len(types)
        ring = list(range(start, start + size))
        edges += [(ring[i], ring[(i + 1) % size]) for i in range(size)]
        edges.append((int(rng.integers(n_tree)), ring[0]))
        types += [0] * size
    return edges, types


def write_tu_folder(root: Path, name: str = "RINGS", n_graphs: int = 400, seed: int = 0) -> Path:
    """Write NAME_{A,graph_indicator,graph_labels,node_labels}.txt under root/NAME."""
    rng = np.random.default_rng(seed)
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    a, indicator, node_labels, graph_labels = [], [], [], []
    offset = 0
    for g in range(n_graphs):
        label = g % len(RING_SIZES)
        edges, types = make_graph(rng, label)
        for s, d in edges:  # TU lists both directions, 1-based
            a += [(s + offset + 1, d + offset + 1), (d + offset + 1, s + offset + 1)]
        indicator += [g + 1] * len(types)
        node_labels += types
        graph_labels.append(label)
        offset += len(types)
    (folder / f"{name}_A.txt").write_text("".join(f"{s}, {d}\n" for s, d in a))
    (folder / f"{name}_graph_indicator.txt").write_text("".join(f"{g}\n" for g in indicator))
    (folder / f"{name}_node_labels.txt").write_text("".join(f"{t}\n" for t in node_labels))
    (folder / f"{name}_graph_labels.txt").write_text("".join(f"{c}\n" for c in graph_labels))
    return folder
