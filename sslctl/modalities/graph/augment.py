"""Batched graph views on the training device, applied to a whole disjoint-union batch at once.

- node_mask: share of nodes whose features are replaced by the training mean (zero after the
  encoder's standardisation), GraphCL's attribute masking;
- feature_mask: share of feature columns set to the training mean for every node (GRACE, BGRL);
- edge_drop: share of directed edges removed;
- node_drop: share of nodes removed with their edges (graph-level data only);
- subgraph: share of each graph's nodes kept, grown breadth-first from a random seed node with
  random order inside each hop (GraphCL's subgraph; graph-level only).

Masks and scores are drawn per node / edge with tensor ops; removing nodes or edges compacts
the batch with a boolean index, the only step whose output size depends on the draw.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from sslctl.graphs import GraphBatch, segment_ids
from sslctl.modalities.graph.presets import GraphViewParams

BFS_HOPS = 10  # subgraph growth stops after this many hops (then fills with random nodes)


def keep_nodes(g: GraphBatch, keep: torch.Tensor) -> GraphBatch:
    """The batch without the nodes where `keep` is False (and their edges); graph offsets
    shrink accordingly."""
    new_id = keep.long().cumsum(0) - 1
    src, dst = g.edge_index
    edges = new_id[g.edge_index[:, keep[src] & keep[dst]]]
    graph = segment_ids(g.pick, g.x.shape[0])
    counts = torch.zeros_like(g.pick[1:]).index_add_(0, graph, keep.long())
    offsets = torch.cat([g.pick[:1], counts.cumsum(0)])
    return GraphBatch(g.x[keep], edges, offsets)


def subgraph_keep(g: GraphBatch, share: float) -> torch.Tensor:
    """Bool (N,): per graph, the first ceil(share * n) nodes in breadth-first order from a
    random seed, random order within a hop; unreachable nodes come last, in random order."""
    n = g.x.shape[0]
    device = g.x.device
    graph = segment_ids(g.pick, n)
    sizes = g.pick[1:] - g.pick[:-1]
    seed_of_graph = g.pick[:-1] + (torch.rand(len(sizes), device=device) * sizes).long()
    reached = torch.zeros(n, dtype=torch.bool, device=device)
    reached[seed_of_graph.clamp(max=max(n - 1, 0))[sizes > 0]] = True
    hop = torch.where(reached, 0, BFS_HOPS + 1).float()
    src, dst = g.edge_index
    for step in range(1, BFS_HOPS + 1):
        touched = torch.zeros(n, device=device).index_add_(0, dst, reached[src].float()) > 0
        new = touched & ~reached
        hop = torch.where(new, float(step), hop)
        reached = reached | new
    score = graph * (BFS_HOPS + 3.0) + hop + torch.rand(n, device=device) * 0.5
    order = torch.argsort(score)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(n, device=device)
    target = torch.ceil(sizes.float() * share).long()
    return (rank - g.pick[graph]) < target[graph]


def augment(g: GraphBatch, p: GraphViewParams, mean: torch.Tensor) -> GraphBatch:
    """One view of a batch; `mean` (F,) is the training feature mean masked features take."""
    if p.one_of:
        chosen = {name: rate for name, rate in p.perturbations().items() if rate}
        if chosen:
            pick = list(chosen)[int(torch.randint(len(chosen), ()))]
            off = dict.fromkeys(p.perturbations(), 0.0)
            p = replace(p, **{**off, pick: chosen[pick]}, one_of=False)
    x, edge_index = g.x, g.edge_index
    n, device = x.shape[0], x.device
    if p.node_mask:
        masked = torch.rand(n, 1, device=device) < p.node_mask
        x = torch.where(masked, mean.to(x.dtype), x)
    if p.feature_mask:
        masked = torch.rand(1, x.shape[1], device=device) < p.feature_mask
        x = torch.where(masked, mean.to(x.dtype), x)
    if p.edge_drop:
        edge_index = edge_index[:, torch.rand(edge_index.shape[1], device=device) >= p.edge_drop]
    g = GraphBatch(x, edge_index, g.pick)
    if p.node_drop:
        g = keep_nodes(g, torch.rand(n, device=device) >= p.node_drop)
    if p.subgraph:
        g = keep_nodes(g, subgraph_keep(g, p.subgraph))
    return g
