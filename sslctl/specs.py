"""The building blocks every recipe section is made of, shared by recipe.py and by the units
(methods, modalities) that define their own sections beside their code: strict models (unknown
keys are errors, floats must be finite) and the checked field types."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Strict(BaseModel):
    # A recipe section (no docstring: pydantic would give every section its text as schema).
    # NaN and inf are refused in every float field: `lr: .inf` would train non-finite weights
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, allow_inf_nan=False)


def ordered(scale: tuple[float, float]) -> tuple[float, float]:
    if scale[0] > scale[1]:
        raise ValueError(f"low end {scale[0]} exceeds high end {scale[1]}")
    return scale


def spec_path(value: str) -> str:
    """A data SPEC, run directory or file: never empty (an empty path means the current
    folder, which would be trained on or written into)."""
    if not value.strip():
        raise ValueError("must name a file, folder or builtin:NAME, not be empty")
    return value


Spec = Annotated[str, AfterValidator(spec_path)]
Fraction = Annotated[float, Field(gt=0, le=1)]
Scale = Annotated[tuple[Fraction, Fraction], AfterValidator(ordered)]


class StreamSpec(Strict):
    """How a file source (a folder, a list file, shards) is read: decoded once into memory,
    or streamed from disk by `train.num_workers` worker processes."""

    cache: Literal["auto", "memory", "stream"] = Field(
        "auto",
        description="memory: decode every file once and hold the set; stream: decode in "
        "workers as batches are needed (memory does not grow with the set); auto: memory when "
        "the decoded set fits cache_budget_mb. Arrays (.npz, builtin) are always in memory.",
    )
    cache_budget_mb: float = Field(
        1024,
        gt=0,
        le=1048576,
        description="Largest decoded set `cache: auto` holds in memory (MB).",
    )
    on_decode_error: Literal["fail", "skip"] = Field(
        "fail", description="A file that cannot be decoded: fail (exit 2), or skip and count."
    )
