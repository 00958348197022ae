"""The report's figures, drawn by matplotlib on its file-only Agg backend (no screen needed)
and saved as PNG. Each takes plain arrays, so it draws any run, of any modality, the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

Series = dict[str, tuple[Sequence[float], Sequence[float]]]  # run name -> (steps, values)
MAX_LEGEND_CLASSES = 20  # more classes than this are told apart by colour alone
SPECTRUM_FLOOR = 1e-8  # the spectrum's lowest ratio shown


def _pyplot():
    """pyplot on the Agg backend, imported only when a report is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def legend_label(label: int, classes: list[str] | None, limit: int = 30) -> str:
    """Label `label`'s legend entry: its class name (cut to `limit` characters, `$` escaped so
    matplotlib never parses a folder name as mathtext, which raises on a malformed one), or the
    number itself."""
    if not classes:
        return str(label)
    name = classes[int(label)]
    name = name if len(name) <= limit else name[: limit - 1] + "…"
    return name.replace("$", r"\$")


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)


def curves(path: Path, panels: dict[str, Series]) -> None:
    """One panel per entry of `panels` (its y label -> each run's curve over steps), runs
    overlaid in one colour each across panels."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.6), squeeze=False)
    for ax, (label, series) in zip(axes[0], panels.items(), strict=True):
        for i, (name, (steps, values)) in enumerate(series.items()):
            ax.plot(
                steps, values, label=name, color=f"C{i}", marker="." if len(steps) < 30 else None
            )
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    _save(fig, path)


def spectrum(path: Path, singular_values: dict[str, np.ndarray]) -> None:
    """Each run's embedding singular values, largest first, divided by the largest (log
    scale): a flat curve uses many dimensions, a cliff shows (dimensional) collapse."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for i, (name, s) in enumerate(singular_values.items()):
        ax.plot(np.arange(1, len(s) + 1), s / max(float(s[0]), 1e-30), label=name, color=f"C{i}")
    ax.set_yscale("log")
    ax.set_ylim(SPECTRUM_FLOOR, 2)  # below it: float round-off of dimensions not used at all
    ax.set_xlabel("index")
    ax.set_ylabel("singular value / largest")
    ax.set_title("embedding spectrum (probe train set)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def embedding_map(
    path: Path, points: np.ndarray, labels: np.ndarray, title: str, classes: list[str] | None
) -> None:
    """A 2-D map of embeddings, one colour per label; a legend names up to 20 of them, by
    class name where the probe data names its classes (`classes[label]`), else by number."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    values = np.unique(labels)
    cmap = plt.get_cmap("tab20" if len(values) > 10 else "tab10")
    for i, value in enumerate(values):
        at = labels == value
        name, color = legend_label(value, classes), cmap(i % cmap.N)
        ax.scatter(points[at, 0], points[at, 1], s=5, color=color, label=name, alpha=0.8)
    if len(values) <= MAX_LEGEND_CLASSES:
        ax.legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    _save(fig, path)
