"""What views are, whoever asks for them: a method names one kind (its spec's `views`), a
modality's data spec declares the kinds it makes (`view_kinds`: kind -> its own preset).
Neither knows the other's names. Torch-free, so a recipe is checked without loading either."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

VIEW_KINDS: dict[str, str] = {
    "contrastive": "views of one strong augmentation, as in SimCLR",
    "asymmetric": "strong views, one blurred and one solarised, as in BYOL",
    "multi-crop": "asymmetric global views plus small local crops, as in DINO",
    "masked": "lightly augmented views for a method that masks them itself, as in MAE",
    "overlapping-crops": "two crops of one series that overlap in time, as in TS2Vec",
    "graph-perturbation": "one random graph perturbation per view, as in GraphCL",
    "context-targets": "one lightly augmented view whose patch tokens split into a context "
    "and target blocks, as in I-JEPA",
}


@dataclass(frozen=True)
class ViewPlan:
    """Which views a method wants: how many global and local (multi-crop) views, the local
    crops' size, and their kind (a key of VIEW_KINDS)."""

    n_global: int = 2
    n_local: int = 0
    local_size_ratio: float = 96 / 224
    kind: str = "contrastive"

    def __post_init__(self) -> None:
        if self.kind not in VIEW_KINDS:
            raise ValueError(f"view kind {self.kind!r}; known: {', '.join(VIEW_KINDS)}")


def view_kind_refusal(method: str, kind: str, modality: str, makes: Iterable[str]) -> str | None:
    """The one line refusing a method whose views a modality does not make, or None."""
    makes = list(makes)
    if kind in makes:
        return None
    return (
        f"method {method} needs {kind} views ({VIEW_KINDS[kind]}), which modality {modality} "
        f"does not make; it makes {', '.join(makes)}"
    )


def preset_refusal(
    kind: str, preset: str | None, kind_presets: dict[str, tuple[str, ...]]
) -> str | None:
    """The one line refusing a recipe's preset that contradicts the method's view kind, or
    None. The kind chooses how views are built; a preset only tunes that builder, so a kind
    that only some presets serve refuses the others, and such a preset serves only its kinds."""
    if preset is None:
        return None
    allowed = kind_presets.get(kind)
    if allowed is not None and preset not in allowed:
        return (
            f"{preset} cannot make the {kind} views the method needs ({VIEW_KINDS[kind]}); "
            f"use {' or '.join(allowed)}, or leave it unset"
        )
    serves = [other for other, presets in kind_presets.items() if preset in presets]
    if serves and kind not in serves:
        return f"{preset} makes only {' and '.join(serves)} views; the method needs {kind} views"
    return None
