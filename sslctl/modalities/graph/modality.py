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

from typing import Any

import torch

from sslctl.encoders.base import Encoder
from sslctl.encoders.gnn import GraphNormalize
from sslctl.errors import UserError
from sslctl.graphs import GraphBatch, GraphSet, NodeSet, concat_batches
from sslctl.modalities.base import (
    Modality,
    Samples,
    Views,
    own_backbone,
    preset_for,
    require_teacher_input,
)
from sslctl.modalities.graph.augment import augment, keep_nodes, subgraph_keep
from sslctl.modalities.graph.presets import PRESETS, GraphViewParams
from sslctl.modalities.graph.read import load_graphs, symmetrize
from sslctl.modalities.graph.spec import GraphAugSpec, GraphDataSpec
from sslctl.specs import EncoderSpec
from sslctl.views import ViewPlan

LOCAL_SUBGRAPH = 0.3  # share of each graph's nodes a local (multi-crop) view keeps


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


class GraphModality(Modality):
    """Built from a data spec for training, or from encoder.json's input spec for a saved run."""

    view_kinds = GraphDataSpec.view_kinds
    presets = PRESETS

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

    def load(self, source: str) -> Samples:
        samples = load_graphs(source, self.undirected)
        level = "node" if isinstance(samples.x, NodeSet) else "graph"
        if level != self.level:
            raise UserError(
                f"{source}: {level}-level data; the encoder was trained on {self.level}s"
            )
        if samples.x.num_features != self.features:
            raise UserError(
                f"{source}: nodes have {samples.x.num_features} features; the encoder was "
                f"trained on {self.features}"
            )
        return samples

    def batch(self, samples: Samples, index: torch.Tensor, device: torch.device) -> GraphBatch:
        return samples.x[index].union().to(device)

    def view_params(self, kind: str) -> GraphViewParams:
        """The preset named after the data's level where the kind says so; node-level data
        refuses perturbations that need many graphs."""
        a = self.augment_spec
        kinds = {k: self.level if v == "level" else v for k, v in self.view_kinds.items()}
        params = preset_for(a, kind, kinds, PRESETS)
        if self.level == "node":
            for field, rate in params.renumbering().items():
                if rate:
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
        params = self.view_params(plan.kind)
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
