"""The audio modality: its data spec (imported here, which registers it; light), and
in modality.py the class that reads, augments and exports it (imported on first use)."""

from sslctl.modalities.audio.spec import AudioDataSpec

__all__ = ["AudioDataSpec"]
