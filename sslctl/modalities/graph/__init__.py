"""The graph modality: its data spec (imported here, which registers it; light), and
in modality.py the class that reads, augments and exports it (imported on first use)."""

from sslctl.modalities.graph.spec import GraphDataSpec

__all__ = ["GraphDataSpec"]
