"""The graph view parameters and their named presets (`data.augment.preset`): plain data,
no torch, so the recipe's spec takes the preset names from here and the schema lists them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GraphViewParams:
    node_mask: float = 0.0
    feature_mask: float = 0.0
    edge_drop: float = 0.0
    node_drop: float = 0.0
    subgraph: float = 0.0  # 0: off; else share of nodes kept
    one_of: bool = False  # one random pick of node_mask/edge_drop/node_drop/subgraph per view

    def perturbations(self) -> dict[str, float]:
        """The rates `one_of` picks among, by field name."""
        return {
            "node_mask": self.node_mask,
            "edge_drop": self.edge_drop,
            "node_drop": self.node_drop,
            "subgraph": self.subgraph,
        }

    def renumbering(self) -> dict[str, float]:
        """The rates of perturbations that drop nodes (and so renumber them): node-level data,
        whose views must align node by node, needs them at 0."""
        return {"node_drop": self.node_drop, "subgraph": self.subgraph}


PRESETS = {
    "graph": GraphViewParams(node_mask=0.2, edge_drop=0.2, node_drop=0.1),
    "graphcl": GraphViewParams(
        node_mask=0.2, edge_drop=0.2, node_drop=0.2, subgraph=0.8, one_of=True
    ),
    "node": GraphViewParams(feature_mask=0.3, edge_drop=0.3),
    "none": GraphViewParams(),
}
