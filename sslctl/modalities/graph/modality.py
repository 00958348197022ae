"""Graphs: graph-level sources (many graphs, a label each) and node-level sources (one graph,
labels on nodes), from .npz/.pt, TU and edge-list folders, torch_geometric datasets on disk and
builtin sets.

A sample is a graph (graph level) or a node (node level). A batch is a `GraphBatch`, the
disjoint union of the batch's graphs (graph level) or the whole graph with the batch's nodes
selected (node level), so the engine's indexing, the probes and the coreset job work unchanged.
Feature standardisation (fitted on the training nodes, stored in encoder.json) lives in the
encoder; views are made on the training device by `graph_augment`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from sslctl.encoders import Encoder
from sslctl.encoders.gnn import GraphNormalize
from sslctl.errors import UserError
from sslctl.graphs import GraphBatch, GraphSet, NodeSet, concat_batches, segment_ids
from sslctl.modalities.base import (
    Samples,
    ViewPlan,
    Views,
    own_backbone,
    preset_for,
    require_teacher_input,
)
from sslctl.modalities.graph.augment import (
    NODE_LEVEL_ONLY_OFF,
    PRESETS,
    GraphViewParams,
    augment,
    keep_nodes,
    subgraph_keep,
)
from sslctl.modalities.graph.read import (
    from_union,
    node_samples,
    read_arrays,
    read_folder,
    read_tu,
)
from sslctl.modalities.graph.spec import GraphAugSpec, GraphDataSpec
from sslctl.specs import EncoderSpec

LOCAL_SUBGRAPH = 0.3  # share of each graph's nodes a local (multi-crop) view keeps
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


def _pyg(spec: str) -> tuple[GraphSet | NodeSet, torch.Tensor | None]:
    """`pyg:TUDataset:ROOT:NAME`: a torch_geometric TU dataset already on disk, read from its
    raw text files (ROOT/NAME/raw/NAME_*.txt) by sslctl's TU reader. torch_geometric itself is
    never called: its datasets unpickle `processed/*.pt` (pre_transform.pt, pre_filter.pt,
    data.pt), so anyone able to write the folder could run code as the user. Processed files
    are ignored, and other dataset classes (whose raw files may themselves be pickles, as
    Planetoid's are) are refused."""
    parts = spec.split(":", 3)
    if len(parts) < 4 or not parts[2] or not parts[3]:
        raise UserError(f"{spec}: expected pyg:TUDataset:ROOT:NAME, e.g. pyg:TUDataset:data:MUTAG")
    if parts[1] not in PYG_CLASSES:
        raise UserError(
            f"{spec}: pyg:{parts[1]} is not read (allowed: {', '.join(PYG_CLASSES)}, whose "
            "raw text files sslctl reads itself; other datasets can be exported to .npz/.pt)"
        )
    name = parts[3]
    if Path(name).name != name or name in (".", ".."):
        raise UserError(f"{spec}: NAME must be a folder name, got {name!r}")
    raw = Path(parts[2]) / name / "raw"
    if not (raw / f"{name}_A.txt").is_file():
        raise UserError(f"{spec}: {raw / f'{name}_A.txt'} not found; sslctl never downloads")
    return read_tu(raw, name)


def _builtin(spec: str) -> tuple[GraphSet | NodeSet, torch.Tensor | None]:
    from sslctl.datasets.graph_builtin import load_builtin_graphs

    name, arrays, split = load_builtin_graphs(spec)
    if name == "karate":
        graph, y = from_union(arrays["x"], arrays["edge_index"], None, arrays["y"], spec)
        return node_samples(graph, y, arrays, split, spec)
    t = {k: torch.from_numpy(v) for k, v in arrays.items()}
    graphs = GraphSet(t["x"], t["edge_index"].long(), t["node_ptr"], t["edge_ptr"])
    return graphs, t["y"]


def load_graphs(spec: str, undirected: bool) -> Samples:
    if spec.startswith("builtin:"):
        data, y = _builtin(spec)
    elif spec.startswith("pyg:"):
        data, y = _pyg(spec)
    else:
        path, split = Path(spec), None
        head, _, tail = spec.rpartition(":")
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
    return Samples(data, y, spec)


def _random_graphs(sizes: list[int], features: int, gen: torch.Generator) -> GraphSet:
    """Random undirected graphs of the given sizes (a ring plus random chords each)."""
    xs, edges = [], []
    for n in sizes:
        ring = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
        chords = torch.randint(n, (2, n // 2 + 1), generator=gen)
        e = torch.cat([ring, chords], 1) if n > 1 else torch.zeros(2, 0, dtype=torch.long)
        edges.append(torch.cat([e, e.flip(0)], 1))
        xs.append(torch.randn(n, features, generator=gen))
    return symmetrize(
        GraphSet(
            torch.cat(xs),
            torch.cat(edges, 1),
            torch.tensor([0, *sizes]).cumsum(0),
            torch.tensor([0, *(e.shape[1] for e in edges)]).cumsum(0),
        )
    )


class GraphModality:
    """Built from a data spec for training, or from encoder.json's input spec for a saved run."""

    # "level": the preset named after the data's level (graph or node)
    view_kinds = {
        "contrastive": "level",
        "asymmetric": "level",
        "multi-crop": "level",
        "masked": "none",
        "graph-perturbation": "graphcl",
    }

    def __init__(
        self, input_spec: dict[str, Any], augment_spec: GraphAugSpec | None = None
    ) -> None:
        self.input_spec = input_spec
        self.level = input_spec["level"]
        self.features = int(input_spec["features"])
        self.undirected = bool(input_spec["undirected"])
        self.mean = torch.tensor(input_spec["mean"], dtype=torch.float32)
        self.augment_spec = augment_spec or GraphAugSpec()
        # node level: the export returns every node's embedding, in `pick` order (a
        # permutation of the nodes, e.g. arange), so pick shares the node axis
        pick = "num_graph_offsets" if self.level == "graph" else "num_nodes"
        self.export_axes = ({0: "num_nodes"}, {1: "num_edges"}, {0: pick})

    @classmethod
    def for_training(
        cls, data: GraphDataSpec, train: Samples, workers: int | str = 0
    ) -> GraphModality:
        x = train.x.graph.x if isinstance(train.x, NodeSet) else train.x.x
        if len(x) == 0:
            raise UserError(f"{data.train}: no nodes")
        values = x.double()
        spec = {
            "modality": "graph",
            "level": "node" if isinstance(train.x, NodeSet) else "graph",
            "features": int(x.shape[1]),
            "undirected": data.undirected,
            "mean": values.mean(0).tolist(),
            "std": values.std(0, correction=0).clamp(min=1e-6).tolist(),
            "inputs": "x (nodes, features) float32; edge_index (2, edges) int64 src -> dst; "
            "pick int64: graph level the node offsets (graphs + 1,) -> (graphs, dim); node "
            "level node indices -> their embeddings (ONNX: every node, e.g. arange(nodes))",
        }
        return cls(spec, data.augment)

    @staticmethod
    def load_training_samples(data: GraphDataSpec, workers: int | str = 0) -> Samples:
        """Held in memory: `workers` is not used."""
        return load_graphs(data.train, data.undirected)

    def load(self, spec: str) -> Samples:
        samples = load_graphs(spec, self.undirected)
        level = "node" if isinstance(samples.x, NodeSet) else "graph"
        if level != self.level:
            raise UserError(f"{spec}: {level}-level data; the encoder was trained on {self.level}s")
        if samples.x.num_features != self.features:
            raise UserError(
                f"{spec}: nodes have {samples.x.num_features} features; the encoder was "
                f"trained on {self.features}"
            )
        return samples

    def batch(self, samples: Samples, index: torch.Tensor, device: torch.device) -> GraphBatch:
        return samples.x[index].union().to(device)

    def check_views(self, plan: ViewPlan) -> None:
        """Refuse views this data cannot make before the run writes anything."""
        self._params(plan.kind)

    def _params(self, kind: str) -> GraphViewParams:
        a = self.augment_spec
        kinds = {k: self.level if v == "level" else v for k, v in self.view_kinds.items()}
        params = preset_for(a, kind, kinds, PRESETS)
        if self.level == "node":
            for field in NODE_LEVEL_ONLY_OFF:
                if getattr(params, field):
                    asked = "" if a.preset else f", so it cannot make {kind} views"
                    raise UserError(
                        f"data.augment.{field}: node-level data keeps every node (views must "
                        f"align node by node){asked}; set it to 0 or use preset node"
                    )
        return params

    def views(self, g: GraphBatch, plan: ViewPlan) -> Views:
        """Global views, then local ones (DINO's multi-crop): at graph level a local view is a
        view cut down to a breadth-first subgraph of LOCAL_SUBGRAPH of each graph's nodes
        (GraphCL's subgraph augmentation, at the scale of DINO's local crops, which cover
        5-40% of an image); at node level every node must stay, so local views are further
        global-style views."""
        params = self._params(plan.kind)
        mean = self.mean.to(g.x.device)
        views = [augment(g, params, mean) for _ in range(plan.n_global + plan.n_local)]
        if self.level == "graph":
            views[plan.n_global :] = [
                keep_nodes(v, subgraph_keep(v, LOCAL_SUBGRAPH)) for v in views[plan.n_global :]
            ]
        return Views(views, plan.n_global, self.concat)

    def concat(self, parts: list[GraphBatch]) -> GraphBatch:
        return concat_batches(parts, self.level)

    def student_of(self, teacher: GraphModality) -> GraphModality:
        """Views hold raw node features; each encoder normalises with its own statistics."""
        require_teacher_input(self.input_spec, teacher.input_spec, ("level", "features"))
        return self

    def build_encoder(self, spec: EncoderSpec) -> Encoder:
        backbone = own_backbone(spec, "graph", self.input_spec, "graphs")
        normalize = GraphNormalize(self.input_spec["mean"], self.input_spec["std"])
        return Encoder(normalize, backbone, int(backbone.num_features))

    def _example(self, sizes: list[int], seed: int) -> GraphBatch:
        gen = torch.Generator().manual_seed(seed)
        g = _random_graphs(sizes, self.features, gen).union()
        if self.level == "graph":
            return g
        return GraphBatch(g.x, g.edge_index, torch.randperm(len(g.x), generator=gen))

    def export_example(self, batch: int) -> GraphBatch:
        """`batch` graphs (graph level) or one graph of 29 nodes in shuffled order; sizes
        chosen so the dynamic axes differ in length in the trace."""
        if self.level == "graph":
            return self._example([7 + 2 * i for i in range(batch)], 0)
        return self._example([29], 0)

    def export_checks(self) -> list[GraphBatch]:
        """Other graph counts and sizes than the example, one-node graphs among them."""
        if self.level == "graph":
            return [self._example([3], 1), self._example([41, 1, 18, 26], 2)]
        return [self._example([5], 1), self._example([63], 2), self._example([1], 3)]
