"""The `encoder` recipe section as recipes write it: the plain spec (sslctl.specs) with its
name checked against, and described from, the encoder registry (plugins included). The
recipe's student encoders and a random teacher's architecture are both this."""

from __future__ import annotations

from pydantic import Field, field_validator

from sslctl import specs
from sslctl.specs.encoders import ENCODERS, known_encoder, suggest_encoders


def _encoder_names() -> str:
    """The `encoder.name` description: timm's models, and sslctl's own encoders by modality."""
    by_modality: dict[str, list[str]] = {}
    for name, unit in ENCODERS.items():
        by_modality.setdefault(unit.modality, []).append(name)
    own = "; ".join(f"{modality}: {', '.join(names)}" for modality, names in by_modality.items())
    return (
        "timm model name (e.g. resnet18, vit_tiny_patch16_224; audio takes them on 1-channel "
        f"log-mel spectrograms) or an sslctl encoder ({own})."
    )


class EncoderSpec(specs.EncoderSpec):
    name: str = Field(description=_encoder_names())

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if not known_encoder(name):
            raise ValueError(f"unknown encoder '{name}'; close matches: {suggest_encoders(name)}")
        return name
