"""GIN and GCN in plain torch: messages are gathered with indexing and summed with
`index_add_`, readout uses `index_add_` / `scatter_reduce`, so the encoder runs on any device
without extra packages and exports to ONNX with dynamic node, edge and graph counts.

GIN (Xu et al. 2019) as in GraphMAE's official encoder: h' = MLP((1 + eps) h + sum of
neighbours), a two-layer MLP with norm and activation inside, then norm and activation after
every layer (the last too, since it encodes). GCN (Kipf & Welling 2017): symmetric-normalised
aggregation over the graph with self-loops, then norm and activation.
"""

from __future__ import annotations

import torch
from torch import nn

from sslctl.graphs import GraphBatch, segment_ids

READOUTS = ("sum", "mean", "max")


def neighbour_sum(h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """Sum over incoming edges: out[dst] += h[src]."""
    return torch.zeros_like(h).index_add_(0, edge_index[1], h[edge_index[0]])


class GINConv(nn.Module):
    def __init__(self, dim_in: int, dim_out: int, hidden: int, post: bool) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(dim_in, hidden),
            nn.BatchNorm1d(hidden),
            nn.PReLU(),
            nn.Linear(hidden, dim_out),
        )
        self.post = nn.Sequential(nn.BatchNorm1d(dim_out), nn.PReLU()) if post else nn.Identity()

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.post(self.mlp(h + neighbour_sum(h, edge_index)))  # eps = 0, as GraphMAE


class GCNConv(nn.Module):
    """One linear map per layer; `hidden` is accepted (and unused) so both convs share a
    constructor and GraphMAE can build its decoder from either."""

    def __init__(self, dim_in: int, dim_out: int, hidden: int, post: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(dim_in, dim_out)
        self.post = nn.Sequential(nn.BatchNorm1d(dim_out), nn.PReLU()) if post else nn.Identity()

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = self.linear(h)
        src, dst = edge_index[0], edge_index[1]
        deg = torch.ones(h.shape[0], device=h.device, dtype=h.dtype)
        deg = deg.index_add(0, dst, torch.ones_like(dst, dtype=h.dtype))  # + 1: self-loop
        scale = deg.rsqrt()
        messages = h[src] * (scale[src] * scale[dst])[:, None]
        out = torch.zeros_like(h).index_add_(0, dst, messages) + h / deg[:, None]
        return self.post(out)


CONVS = {"gin": GINConv, "gcn": GCNConv}


def readout(h: torch.Tensor, offsets: torch.Tensor, how: str) -> torch.Tensor:
    """(G, D) per-graph pooling of node states; an empty graph reads out zeros."""
    graph = segment_ids(offsets, h.shape[0])
    out = torch.zeros(offsets.shape[0] - 1, h.shape[1], device=h.device, dtype=h.dtype)
    if how == "max":
        index = graph[:, None].expand_as(h)
        return out.scatter_reduce(0, index, h, reduce="amax", include_self=False)
    out = out.index_add(0, graph, h)
    if how == "mean":
        count = torch.zeros_like(out[:, 0]).index_add(0, graph, torch.ones_like(h[:, 0]))
        out = out / count.clamp(min=1)[:, None]
    return out


class GNN(nn.Module):
    """`layers` message-passing layers of width `hidden`; graph-level encoders read out each
    graph (sum / mean / max), node-level encoders return the selected nodes' states."""

    def __init__(
        self,
        in_features: int,
        conv: str = "gin",
        level: str = "graph",
        hidden: int = 128,
        layers: int = 3,
        readout: str = "sum",
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if readout not in READOUTS:
            raise TypeError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
        if layers < 1:
            raise TypeError(f"layers must be at least 1, got {layers}")
        self.conv, self.level, self.readout = conv, level, readout
        self.input_dropout = nn.Dropout(dropout)  # a module, so an EMA teacher can switch it off
        dims = [in_features] + [hidden] * layers
        self.layers = nn.ModuleList(
            CONVS[conv](dims[i], dims[i + 1], hidden, post=True) for i in range(layers)
        )
        self.num_features = hidden

    def node_states(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """(N, hidden) node representations (input dropout before each layer, as GraphMAE)."""
        h = x
        for layer in self.layers:
            h = layer(self.input_dropout(h), edge_index)
        return h

    def forward(self, g: GraphBatch) -> torch.Tensor:
        h = self.node_states(g.x, g.edge_index)
        if self.level == "node":
            return h[g.pick]
        return readout(h, g.pick, self.readout)


class GraphNormalize(nn.Module):
    """Per-feature standardisation fitted on the training nodes, kept inside the encoder."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1))
        self.register_buffer("std", torch.tensor(std).view(1, -1))

    def forward(self, g: GraphBatch) -> GraphBatch:
        return GraphBatch((g.x - self.mean) / self.std, g.edge_index, g.pick)


def build_gin(input_spec: dict, kwargs: dict) -> GNN:
    """The registry's entry point for `gin` (sslctl/specs/encoders/gnn.py)."""
    return GNN(input_spec["features"], conv="gin", level=input_spec["level"], **kwargs)


def build_gcn(input_spec: dict, kwargs: dict) -> GNN:
    """The registry's entry point for `gcn` (sslctl/specs/encoders/gnn.py)."""
    return GNN(input_spec["features"], conv="gcn", level=input_spec["level"], **kwargs)
