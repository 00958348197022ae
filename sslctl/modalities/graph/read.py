"""Every graph source loader (`load_graphs`): builtin sets, torch_geometric TU folders on
disk, and the readers below. Each returns a `GraphSet` (many graphs, a label each) or a
`NodeSet` (one graph, labels on nodes) plus labels, after checking the indices: a bad edge
index is reported with the file and the problem, never turned into a silent wrong graph.

- `.npz` / `.pt`: x (N, F), edge_index (2, E) in union numbering, optional edge_attr (E, A),
  y, and graph offsets `ptr` (G + 1,) or a per-node graph id `batch` (N,). Without offsets the
  file is one graph and y (if any) labels its nodes; `train_mask` / `test_mask` pick the nodes
  of `FILE:train` / `FILE:test`.
- an edge-list folder: `edges.{txt,csv,tsv}` (src dst per line, 0-based), optional
  `features.{txt,csv,npy}` (one row per node) and `labels.{txt,csv,npy}` (one per node).
- a TU-format folder: NAME_A.txt, NAME_graph_indicator.txt, NAME_graph_labels.txt, optional
  NAME_node_labels.txt (one-hot features), NAME_node_attributes.txt, NAME_edge_attributes.txt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sslctl.errors import UserError, first_line
from sslctl.graphs import GraphSet, NodeSet, segment_ids
from sslctl.io.regular import check_file
from sslctl.modalities.base import Samples
from sslctl.sources.labels import integer_labels

Labels = torch.Tensor | None
MAX_DEGREE_FEATURE = 64  # degree one-hot width for featureless graphs (as GIN on IMDB)


def check_index(edges: np.ndarray, n_nodes: int, where: str, name: str = "edge_index") -> None:
    """Reject non-integer, negative and out-of-range node indices, naming `where`."""
    if edges.dtype.kind == "f":
        if not np.all(np.isfinite(edges)) or np.any(edges != np.round(edges)):
            raise UserError(f"{where}: {name} has non-integer node indices")
    elif edges.dtype.kind not in "iu":
        raise UserError(f"{where}: {name} must hold integers, got {edges.dtype}")
    if edges.size and edges.min() < 0:
        raise UserError(f"{where}: {name} has negative node indices (min {int(edges.min())})")
    if edges.size and edges.max() >= n_nodes:
        raise UserError(
            f"{where}: {name} refers to node {int(edges.max())} but there are only "
            f"{n_nodes} nodes (features have {n_nodes} rows)"
        )


def degree_features(edge_index: np.ndarray, n_nodes: int) -> np.ndarray:
    """One-hot (in-)degree capped at MAX_DEGREE_FEATURE - 1, for graphs without features."""
    deg = np.bincount(edge_index[1], minlength=n_nodes) if edge_index.size else np.zeros(n_nodes)
    return np.eye(MAX_DEGREE_FEATURE, dtype=np.float32)[np.minimum(deg, MAX_DEGREE_FEATURE - 1)]


def from_union(
    x: np.ndarray,
    edge_index: np.ndarray,
    ptr: np.ndarray | None,
    y: np.ndarray | None,
    where: str,
    edge_attr: np.ndarray | None = None,
) -> tuple[GraphSet, Labels]:
    """Check and split a disjoint union into a GraphSet; ptr None means one graph."""
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise UserError(f"{where}: x must be (nodes, features), got shape {x.shape}")
    if x.dtype.kind not in "fiub":
        raise UserError(f"{where}: x must be numeric, got {x.dtype}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise UserError(f"{where}: node features hold NaN or inf")
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise UserError(f"{where}: edge_index must be (2, E), got shape {edge_index.shape}")
    n = len(x)
    check_index(edge_index, n, where)
    edge_index = edge_index.astype(np.int64)
    if edge_attr is not None and not np.isfinite(np.asarray(edge_attr, dtype=np.float64)).all():
        raise UserError(f"{where}: edge attributes hold NaN or inf")
    if edge_attr is not None and len(edge_attr) != edge_index.shape[1]:
        raise UserError(
            f"{where}: edge_attr has {len(edge_attr)} rows but edge_index has "
            f"{edge_index.shape[1]} edges"
        )
    if ptr is None:
        ptr = np.array([0, n])
    ptr = ptr.astype(np.int64)
    if ptr[0] != 0 or np.any(np.diff(ptr) < 0) or ptr[-1] != n:
        raise UserError(
            f"{where}: graph offsets must rise from 0 to the {n} rows of x, got {ptr[0]}..{ptr[-1]}"
        )
    graph_of_node = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    src_graph, dst_graph = graph_of_node[edge_index[0]], graph_of_node[edge_index[1]]
    if np.any(src_graph != dst_graph):
        bad = int(np.flatnonzero(src_graph != dst_graph)[0])
        raise UserError(f"{where}: edge {bad} joins nodes of two different graphs")
    order = np.argsort(src_graph, kind="stable")
    edge_index, src_graph = edge_index[:, order], src_graph[order]
    edge_ptr = np.zeros(len(ptr), dtype=np.int64)
    edge_ptr[1:] = np.cumsum(np.bincount(src_graph, minlength=len(ptr) - 1))
    local = edge_index - ptr[src_graph]
    attr = None if edge_attr is None else torch.from_numpy(edge_attr[order].astype(np.float32))
    graphs = GraphSet(
        torch.from_numpy(x.astype(np.float32)),
        torch.from_numpy(local),
        torch.from_numpy(ptr),
        torch.from_numpy(edge_ptr),
        attr,
    )
    if y is not None:
        y = y.reshape(-1)
        want, what = (len(ptr) - 1, "graphs") if len(ptr) > 2 else (n, "nodes")
        if len(y) != want:
            raise UserError(f"{where}: y has {len(y)} labels for {want} {what}")
        return graphs, torch.from_numpy(integer_labels(y, where))
    return graphs, None


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".npz":
        from sslctl.sources.npz import open_npz

        return dict(open_npz(path))
    from sslctl.io.weights import safe_torch_load

    data = safe_torch_load(path, "tensor dict")
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a dict of tensors (x, edge_index, ...)")
    return {k: v.numpy() if torch.is_tensor(v) else np.asarray(v) for k, v in data.items()}


def read_arrays(path: Path, split: str | None) -> tuple[GraphSet | NodeSet, Labels]:
    arrays = _read_arrays(path)
    for key in ("x", "edge_index"):
        if key not in arrays:
            raise UserError(f"{path}: missing array '{key}'")
    x, edges = arrays["x"], arrays["edge_index"]
    ptr = arrays.get("ptr", arrays.get("graph_ptr"))
    if ptr is None and "batch" in arrays:
        batch = arrays["batch"].reshape(-1)
        if len(batch) != len(x):
            raise UserError(f"{path}: batch has {len(batch)} entries but x has {len(x)} rows")
        if np.any(np.diff(batch) < 0):
            raise UserError(f"{path}: batch must be sorted (nodes grouped by graph)")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(batch))])
    graphs, y = from_union(x, edges, ptr, arrays.get("y"), str(path), arrays.get("edge_attr"))
    if ptr is not None and len(ptr) > 2:
        if split:
            raise UserError(f"{path}:{split}: splits apply to node-level (one-graph) files")
        return graphs, y
    return node_samples(graphs, y, arrays, split, str(path))


def node_samples(
    graph: GraphSet, y: Labels, arrays: dict[str, np.ndarray], split: str | None, where: str
) -> tuple[NodeSet, Labels]:
    """The nodes of a one-graph source, all or those of `<split>_mask`."""
    nodes = torch.arange(graph.node_ptr[-1])
    if split:
        key = f"{split}_mask"
        if key not in arrays:
            raise UserError(f"{where}: no '{key}' array for the {split} split")
        mask = torch.from_numpy(np.asarray(arrays[key]).reshape(-1).astype(bool))
        if len(mask) != len(nodes):
            raise UserError(f"{where}: {key} has {len(mask)} entries for {len(nodes)} nodes")
        nodes = nodes[mask]
    return NodeSet(graph, nodes), None if y is None else y[nodes]


def _read_table(path: Path, dtype: type) -> np.ndarray:
    check_file(path, "table")
    if path.suffix == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: cannot read .npy ({str(exc)[:160]})") from None
    try:
        with path.open() as fh:  # commas (TU files: "1, 2"), tabs or spaces between values
            table = np.loadtxt((ln.replace(",", " ") for ln in fh), dtype=np.float64, ndmin=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a numeric table ({first_line(exc)})") from None
    if dtype is int:
        check_index(table, np.iinfo(np.int64).max, str(path), "values")
        return table.astype(np.int64)
    return table.astype(np.float32)


def _find(folder: Path, stem: str) -> Path | None:
    for suffix in (".txt", ".csv", ".tsv", ".npy"):
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    return None


def read_edge_list(folder: Path, split: str | None) -> tuple[NodeSet, Labels]:
    edge_file = _find(folder, "edges")
    edges = _read_table(edge_file, float)
    if edges.shape[1] != 2:
        raise UserError(f"{edge_file}: expected two columns (src dst), got {edges.shape[1]}")
    edges = edges.T
    feat_file, label_file = _find(folder, "features"), _find(folder, "labels")
    y = None if label_file is None else _read_table(label_file, float).reshape(-1)
    n = int(edges.max()) + 1 if edges.size else 0
    if feat_file is not None:
        x = _read_table(feat_file, float)
        check_index(edges, len(x), str(edge_file))
        n = len(x)
    elif y is not None:
        check_index(edges, len(y), str(edge_file))
        n = len(y)
    else:
        check_index(edges, max(n, 1), str(edge_file))
        edges = edges.astype(np.int64)
    if feat_file is None:
        x = degree_features(edges.astype(np.int64), n)
    if y is not None and len(y) != n:
        raise UserError(f"{label_file}: {len(y)} labels for {n} nodes")
    graph, labels = from_union(x, edges, None, y, str(edge_file))
    return node_samples(graph, labels, {}, split, str(folder))


def read_tu(folder: Path, name: str) -> tuple[GraphSet, Labels]:
    """TU Dortmund format: 1-based node ids in NAME_A.txt, graph ids per node, labels per graph."""
    part = lambda key: folder / f"{name}_{key}.txt"  # noqa: E731
    indicator = _read_table(part("graph_indicator"), int).reshape(-1)
    n = len(indicator)
    edges = _read_table(part("A"), float)
    if edges.shape[1] != 2:
        raise UserError(f"{part('A')}: expected two columns per line (i, j)")
    edges = edges.T - 1  # TU numbers nodes from 1
    check_index(edges, n, str(part("A")), "node ids (1-based)")
    if np.any(np.diff(indicator) < 0) or indicator.min() != 1:
        raise UserError(f"{part('graph_indicator')}: graph ids must start at 1 and not decrease")
    counts = np.bincount(indicator - 1)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    features = []
    for key in ("node_attributes", "node_labels"):
        if part(key).is_file():
            table = _read_table(part(key), int if key == "node_labels" else float)
            if len(table) != n:
                raise UserError(
                    f"{part(key)}: {len(table)} rows for the {n} nodes listed in "
                    f"{part('graph_indicator').name}"
                )
            if key == "node_labels":
                table = np.eye(int(table.max()) + 1, dtype=np.float32)[table[:, 0]]
            features.append(table)
    x = np.concatenate(features, 1) if features else degree_features(edges.astype(np.int64), n)
    attr = None
    if part("edge_attributes").is_file():
        attr = _read_table(part("edge_attributes"), float)
    y = _read_table(part("graph_labels"), float).reshape(-1)
    if len(y) != len(counts):
        raise UserError(f"{part('graph_labels')}: {len(y)} labels for {len(counts)} graphs")
    return from_union(x, edges, ptr, y, str(folder), attr)


def read_folder(folder: Path, split: str | None) -> tuple[GraphSet | NodeSet, Labels]:
    tu = sorted(folder.glob("*_A.txt"))
    if tu:
        if split:
            raise UserError(f"{folder}:{split}: TU folders have no split; give the folder")
        return read_tu(folder, tu[0].name[: -len("_A.txt")])
    if _find(folder, "edges") is not None:
        return read_edge_list(folder, split)
    raise UserError(
        f"{folder}: not a graph folder (expected NAME_A.txt of the TU format, or edges.txt "
        "with optional features.txt and labels.txt)"
    )


SPLITS = ("train", "test")


def symmetrize(graphs: GraphSet) -> GraphSet:
    """Every edge in both directions, duplicates dropped, edges sorted within each graph."""
    n_edges = graphs.edge_index.shape[1]
    if n_edges == 0:
        return graphs
    graph = segment_ids(graphs.edge_ptr, n_edges)
    both = torch.cat([graphs.edge_index, graphs.edge_index.flip(0)], 1)
    graph = torch.cat([graph, graph])
    m = int((graphs.node_ptr[1:] - graphs.node_ptr[:-1]).max())
    keys = torch.unique(graph * m * m + both[0] * m + both[1])
    graph, rest = keys // (m * m), keys % (m * m)
    edge_ptr = torch.zeros_like(graphs.edge_ptr)
    edge_ptr[1:] = torch.bincount(graph, minlength=len(graphs)).cumsum(0)
    edges = torch.stack([rest // m, rest % m])
    return GraphSet(graphs.x, edges, graphs.node_ptr, edge_ptr, None)


PYG_CLASSES = ("TUDataset",)  # torch_geometric datasets whose raw files sslctl reads itself


def _pyg(source: str) -> tuple[GraphSet | NodeSet, torch.Tensor | None]:
    """`pyg:TUDataset:ROOT:NAME`: a torch_geometric TU dataset already on disk, read from its
    raw text files (ROOT/NAME/raw/NAME_*.txt) by sslctl's TU reader. torch_geometric itself is
    never called: its datasets unpickle `processed/*.pt` (pre_transform.pt, pre_filter.pt,
    data.pt), so anyone able to write the folder could run code as the user. Processed files
    are ignored, and other dataset classes (whose raw files may themselves be pickles, as
    Planetoid's are) are refused."""
    parts = source.split(":", 3)
    if len(parts) < 4 or not parts[2] or not parts[3]:
        raise UserError(
            f"{source}: expected pyg:TUDataset:ROOT:NAME, e.g. pyg:TUDataset:data:MUTAG"
        )
    if parts[1] not in PYG_CLASSES:
        raise UserError(
            f"{source}: pyg:{parts[1]} is not read (allowed: {', '.join(PYG_CLASSES)}, whose "
            "raw text files sslctl reads itself; other datasets can be exported to .npz/.pt)"
        )
    name = parts[3]
    if Path(name).name != name or name in (".", ".."):
        raise UserError(f"{source}: NAME must be a folder name, got {name!r}")
    raw = Path(parts[2]) / name / "raw"
    if not (raw / f"{name}_A.txt").is_file():
        raise UserError(f"{source}: {raw / f'{name}_A.txt'} not found; sslctl never downloads")
    return read_tu(raw, name)


def _builtin(source: str) -> tuple[GraphSet | NodeSet, torch.Tensor | None]:
    from sslctl.modalities.graph.builtin import load_builtin_graphs

    arrays, split = load_builtin_graphs(source)
    if "train_mask" in arrays:  # node level: one graph, labels on nodes
        graph, y = from_union(arrays["x"], arrays["edge_index"], None, arrays["y"], source)
        return node_samples(graph, y, arrays, split, source)
    t = {k: torch.from_numpy(v) for k, v in arrays.items()}
    graphs = GraphSet(t["x"], t["edge_index"].long(), t["node_ptr"], t["edge_ptr"])
    return graphs, t["y"]


def load_graphs(source: str, undirected: bool) -> Samples:
    if source.startswith("builtin:"):
        data, y = _builtin(source)
    elif source.startswith("pyg:"):
        data, y = _pyg(source)
    else:
        path, split = Path(source), None
        head, _, tail = source.rpartition(":")
        if not path.exists() and tail in SPLITS and Path(head).exists():
            path, split = Path(head), tail
        if path.is_dir():
            data, y = read_folder(path, split)
        elif not path.is_file():
            raise UserError(f"{path}: graph data not found")
        elif path.suffix.lower() in (".npz", ".pt"):
            data, y = read_arrays(path, split)
        else:
            raise UserError(f"{path}: graph data must be .npz, .pt or a folder")
    if undirected:
        data = (
            NodeSet(symmetrize(data.graph), data.nodes)
            if isinstance(data, NodeSet)
            else (symmetrize(data))
        )
    return Samples(data, y, source)
