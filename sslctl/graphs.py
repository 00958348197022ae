"""Graphs held in memory, and the disjoint-union batch the encoders take (shared by the graph
modality and the GNN encoders, so it lives outside both packages).

A graph-level source is a `GraphSet`: every graph's nodes and edges packed end to end, with
node and edge offsets, so selecting graphs and building their union are a few gathers and a
cumsum. A node-level source is a `NodeSet`: one graph plus the nodes that are its samples, so
the engine's "batch of samples" is the whole graph with the batch's nodes selected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch


class GraphBatch(NamedTuple):
    """The encoder input, a disjoint union of graphs.

    x: (N, F) float node features. edge_index: (2, E) int64 directed edges src -> dst, numbered
    in the union. pick: for graph-level encoders the node offsets (G + 1,) of the G graphs
    (embeddings come out per graph); for node-level encoders the indices (K,) of the nodes whose
    embeddings come out.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    pick: torch.Tensor

    def to(self, device: torch.device) -> GraphBatch:
        return GraphBatch(*(t.to(device, non_blocking=True) for t in self))


def segment_ids(offsets: torch.Tensor, n: int) -> torch.Tensor:
    """(n,) segment id of every row, from (S + 1,) offsets; empty segments are fine.

    A cumsum over boundary marks rather than bucketize, so it runs on any device without a sync
    and exports to ONNX."""
    marks = torch.zeros(n + 1, dtype=torch.long, device=offsets.device)
    marks.index_add_(0, offsets[1:-1], torch.ones_like(offsets[1:-1]))
    return marks.cumsum(0)[:n]


def _gather_ranges(offsets: torch.Tensor, index: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Rows of the segments `index` (in that order): (row ids, new offsets, segment of each)."""
    starts, counts = offsets[index], offsets[index + 1] - offsets[index]
    new = torch.zeros(len(index) + 1, dtype=torch.long)
    new[1:] = counts.cumsum(0)
    seg = segment_ids(new, int(new[-1]))
    rows = starts[seg] + torch.arange(int(new[-1])) - new[seg]
    return rows, new, seg


@dataclass
class GraphSet:
    """Many graphs: x (N, F) float32, edge_index (2, E) int64 local to each graph, node_ptr and
    edge_ptr (G + 1,) offsets; optional edge_attr (E, A) kept for sources that carry it."""

    x: torch.Tensor
    edge_index: torch.Tensor
    node_ptr: torch.Tensor
    edge_ptr: torch.Tensor
    edge_attr: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.node_ptr) - 1

    @property
    def num_features(self) -> int:
        return int(self.x.shape[1])

    def __getitem__(self, index: torch.Tensor) -> GraphSet:
        index = torch.as_tensor(index, dtype=torch.long).reshape(-1)
        nodes, node_ptr, _ = _gather_ranges(self.node_ptr, index)
        edges, edge_ptr, _ = _gather_ranges(self.edge_ptr, index)
        attr = None if self.edge_attr is None else self.edge_attr[edges]
        return GraphSet(self.x[nodes], self.edge_index[:, edges], node_ptr, edge_ptr, attr)

    def union(self) -> GraphBatch:
        """All graphs as one disjoint union, edges renumbered by their graph's node offset."""
        graph_of_edge = segment_ids(self.edge_ptr, self.edge_index.shape[1])
        edges = self.edge_index + self.node_ptr[graph_of_edge]
        return GraphBatch(self.x, edges, self.node_ptr)


@dataclass
class NodeSet:
    """The nodes of one graph as samples: indexing picks nodes, the graph stays whole."""

    graph: GraphSet
    nodes: torch.Tensor

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def num_features(self) -> int:
        return self.graph.num_features

    def __getitem__(self, index: torch.Tensor) -> NodeSet:
        return NodeSet(self.graph, self.nodes[torch.as_tensor(index, dtype=torch.long)])

    def union(self) -> GraphBatch:
        return GraphBatch(self.graph.x, self.graph.edge_index, self.nodes)


def concat_batches(parts: list[GraphBatch], level: str) -> GraphBatch:
    """One disjoint union of several batches: node ids shift by the nodes before them; `pick`
    joins as graph offsets (graph level: G + 1 boundaries, shared ones merged) or as node
    indices (node level). Embeddings then come out in the parts' order."""
    shift = torch.tensor([0] + [len(p.x) for p in parts[:-1]], device=parts[0].x.device)
    shift = shift.cumsum(0)
    edges = torch.cat([p.edge_index + s for p, s in zip(parts, shift, strict=True)], 1)
    if level == "graph":
        picks = [parts[0].pick] + [
            p.pick[1:] + s for p, s in zip(parts[1:], shift[1:], strict=True)
        ]
    else:
        picks = [p.pick + s for p, s in zip(parts, shift, strict=True)]
    return GraphBatch(torch.cat([p.x for p in parts]), edges, torch.cat(picks))


def pack_graphs(
    xs: list[torch.Tensor], edges: list[torch.Tensor], attrs: list[torch.Tensor] | None = None
) -> GraphSet:
    """A GraphSet from per-graph features (n_i, F) and local edges (2, e_i)."""
    node_ptr = torch.tensor([0] + [len(x) for x in xs]).cumsum(0)
    edge_ptr = torch.tensor([0] + [e.shape[1] for e in edges]).cumsum(0)
    attr = torch.cat(attrs) if attrs else None
    return GraphSet(torch.cat(xs).float(), torch.cat(edges, 1).long(), node_ptr, edge_ptr, attr)
