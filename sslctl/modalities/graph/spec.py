"""The graph data section of a recipe (`data.modality: graph`): registered as the modality's data
spec, with the class that reads and augments it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sslctl.modalities import MODALITIES
from sslctl.modalities.graph.presets import PRESETS
from sslctl.specs import DataSpec, Location, Strict

PresetName = Literal[tuple(PRESETS)]


class GraphAugSpec(Strict):
    """Overrides of the graph view preset; unset fields keep the preset's value."""

    preset: PresetName | None = Field(
        None,
        description="Parameter set: graph (joint-embedding methods on graph-level data), "
        "graphcl (one of four augmentations per view, GraphCL), node (feature and edge "
        "masking, GRACE/BGRL; node-level data), none (GraphMAE masks by itself). Default: "
        "the method's own, else graph or node by the data's level.",
    )
    node_mask: float | None = Field(
        None, ge=0, lt=1, description="Share of nodes whose features become the training mean."
    )
    feature_mask: float | None = Field(
        None, ge=0, lt=1, description="Share of feature columns set to the mean for all nodes."
    )
    edge_drop: float | None = Field(None, ge=0, lt=1, description="Share of edges removed.")
    node_drop: float | None = Field(
        None, ge=0, lt=1, description="Share of nodes removed (graph-level data only)."
    )
    subgraph: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Share of each graph's nodes kept by breadth-first growth from a random "
        "node (0: off; graph-level data only).",
    )
    one_of: bool | None = Field(
        None, description="Each view applies one random pick of the enabled augmentations."
    )


@MODALITIES.register("graph")
class GraphDataSpec(DataSpec):
    order: ClassVar[int] = 40
    libraries: ClassVar[tuple[str, ...]] = ("networkx", "skimage", "torch_geometric")
    caches: ClassVar[bool] = True  # superpixel graphs are built once
    code: ClassVar[str] = "sslctl.modalities.graph.modality:GraphModality"
    builtin: ClassVar[str | None] = "sslctl.modalities.graph.builtin"
    # "level": the preset named after the data's level (graph or node)
    view_kinds: ClassVar[dict[str, str]] = {
        "contrastive": "level",
        "asymmetric": "level",
        "multi-crop": "level",
        "masked": "none",
        "graph-perturbation": "graphcl",
    }
    modality: Literal["graph"] = Field(description="Data modality.")
    train: Location = Field(
        description="Training graphs: .npz/.pt with x, edge_index [, y, ptr or batch, "
        "edge_attr] (without ptr/batch: one graph, node level), a TU-format folder "
        "(NAME_A.txt ...), an edge-list folder (edges.txt [, features.txt, labels.txt]), "
        "pyg:CLASS:ROOT[:NAME] for a torch_geometric dataset already on disk, or "
        "builtin:NAME[:split] (karate, digits-superpixels, fashion-mnist-superpixels)."
    )
    undirected: bool = Field(
        True,
        description="Add the reverse of every edge (duplicates dropped), also at probe and "
        "embed time; false: edges are directed src -> dst as given.",
    )
    augment: GraphAugSpec = Field(default_factory=GraphAugSpec, description="View overrides.")
