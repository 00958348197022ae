"""report: one or several runs -> a folder of PNG figures and an index.html that shows them
with each run's recipe and probe results (report/plots.py draws, report/page.py writes the
page). Curves come from each run's metrics.jsonl; the spectrum, the map and the probe table
from the frozen encoder on its probe data, the same split `sslctl probe RUN` uses.

The folder is built under a temporary name and renamed into place, so a report is whole or
absent, and it replaces only a folder this command wrote before."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sslctl.errors import UserError
from sslctl.eval import ProbeData
from sslctl.eval.rankme import MAX_SAMPLES as RANKME_ROWS  # the spectrum RankMe sums up
from sslctl.io.atomic import write_text
from sslctl.io.regular import check_file
from sslctl.probing import probe_data, run_protocols
from sslctl.report import plots
from sslctl.report.page import GENERATOR, Figure, RunSummary, render
from sslctl.rundir import RunDir, is_run_dir, load_run

MAX_LINE = 1 << 16  # a metrics line longer than this is not one sslctl wrote: skipped
MAP_POINTS = 1000  # probe-test embeddings on the 2-D map


@dataclass
class RunData:
    name: str
    path: Path
    recipe: str
    metrics: list[dict[str, float]]
    probe: dict | None = None
    embedded: ProbeData | None = None
    facts: dict[str, str] = field(default_factory=dict)


def read_metrics(path: Path) -> list[dict[str, float]]:
    """The numeric values of each metrics.jsonl line; torn, overlong or foreign lines are
    skipped (a killed run may leave one torn line)."""
    if not path.exists():
        return []
    check_file(path, "metrics.jsonl")
    rows = []
    with open(path, "rb") as fh:
        while line := fh.readline(MAX_LINE):
            if not line.endswith(b"\n") and len(line) == MAX_LINE:
                while (rest := fh.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("step"), int):
                rows.append(
                    {
                        k: float(v)
                        for k, v in record.items()
                        if isinstance(v, int | float) and not isinstance(v, bool)
                    }
                )
    return rows


def _names(paths: list[Path]) -> list[str]:
    """Each run's name in legends: its folder's name, with the parent's where two clash."""
    names = [p.resolve().name for p in paths]
    return [
        f"{p.resolve().parent.name}/{n}" if names.count(n) > 1 else n
        for p, n in zip(paths, names, strict=True)
    ]


def _is_report(folder: Path) -> bool:
    index = folder / "index.html"
    if not index.is_file():
        return False
    with open(index, "rb") as fh:
        return f'content="{GENERATOR}"'.encode() in fh.read(4096)


def check_out(out: Path, runs: list[Path]) -> None:
    """Refuse an output that is not a new folder or an earlier report, or that is a run."""
    for run in runs:
        if out.resolve() == run.resolve():
            raise UserError(f"--out {out}: is a run this report reads; choose another folder")
    if out.exists() and not (out.is_dir() and _is_report(out)):
        raise UserError(f"--out {out}: exists and is not an sslctl report; choose another folder")
    if is_run_dir(out.parent) and out.resolve() != RunDir(out.parent).report.resolve():
        raise UserError(
            f"--out {out}: would write into run {out.parent}; a run's report is {out.parent}/report"
        )


def gather(
    path: Path,
    name: str,
    data: str | None,
    protocols: list[str] | None,
    device: torch.device,
    quiet: bool,
) -> RunData:
    loaded = load_run(path)
    recipe = loaded.recipe
    run = RunData(name, path, RunDir(path).recipe.read_text(), read_metrics(RunDir(path).metrics))
    run.facts = {
        "modality": recipe.data.modality,
        "method": recipe.method.name,
        "encoder": recipe.encoder.name if recipe.encoder else "",
        "steps": str(int(run.metrics[-1]["step"])) if run.metrics else "0",
    }
    if run.metrics:
        run.facts["final loss"] = f"{run.metrics[-1].get('loss', float('nan')):.4f}"
    if data is not None or (recipe.probe.train and recipe.probe.test):
        run.embedded = probe_data(loaded, data, device, quiet)
        run.probe = run_protocols(run.embedded, protocols or recipe.probe.protocols, quiet)
    return run


def _series(runs: list[RunData], key: str) -> plots.Series:
    """Each run's curve of `key` (empty where it has none, so a run keeps its colour)."""
    return {
        r.name: (
            [m["step"] for m in r.metrics if key in m],
            [m[key] for m in r.metrics if key in m],
        )
        for r in runs
    }


def _drawn(series: plots.Series) -> bool:
    return any(len(steps) for steps, _ in series.values())


def _map_points(embedded: ProbeData) -> tuple[np.ndarray, np.ndarray, str]:
    """A 2-D map of up to MAP_POINTS probe-test embeddings (drawn by a fixed seed, L2-normalised:
    the kNN probe's cosine geometry), its labels and what made it: t-SNE, or the two leading
    principal components where t-SNE cannot run (under 10 points, or under 3 dimensions)."""
    n = len(embedded.test)
    pick = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:MAP_POINTS]
    x = F.normalize(embedded.test[pick].float(), dim=1).double().numpy()
    labels = embedded.test_y[pick].numpy()
    if len(x) < 10 or x.shape[1] < 3:
        centred = x - x.mean(0)
        components = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
        points = np.zeros((len(x), 2))
        points[:, : components.shape[1]] = components
        return points, labels, "PCA"
    from sklearn.manifold import TSNE

    perplexity = float(min(30, (len(x) - 1) // 3))
    points = TSNE(2, init="pca", random_state=0, perplexity=perplexity).fit_transform(x)
    return points, labels, "t-SNE"


def draw(runs: list[RunData], folder: Path) -> tuple[list[Figure], list[str]]:
    """Every figure the runs allow, into `folder`; notes on what could not be drawn."""
    figures, notes = [], []
    training = {k: _series(runs, k) for k in ("loss", "lr")}
    if _drawn(training["loss"]):
        plots.curves(folder / "training.png", {"loss": training["loss"], "lr": training["lr"]})
        figures.append(Figure("training.png", "Training loss and learning rate per step."))
    else:
        notes.append("No training curves: the runs logged no steps (train.epochs: 0?).")
    online = {"kNN top-1 %": _series(runs, "knn_top1"), "RankMe": _series(runs, "rankme")}
    online = {k: v for k, v in online.items() if _drawn(v)}
    if online:
        plots.curves(folder / "online.png", online)
        figures.append(
            Figure("online.png", "Online evaluation during training (train.eval_every).")
        )
    else:
        notes.append("No online evaluation: set train.eval_every to log kNN and RankMe.")
    probed = [r for r in runs if r.embedded is not None]
    if probed:
        spectra = {
            r.name: torch.linalg.svdvals(r.embedded.train[:RANKME_ROWS].double()).numpy()
            for r in probed
        }
        plots.spectrum(folder / "spectrum.png", spectra)
        figures.append(Figure("spectrum.png", "Singular values of the probe-train embeddings."))
    for i, r in enumerate(probed, start=1):
        points, labels, how = _map_points(r.embedded)
        title = f"{r.name}: {how} of {len(points)} probe-test embeddings"
        plots.embedding_map(folder / f"map-{i}.png", points, labels, title, r.embedded.classes)
        figures.append(Figure(f"map-{i}.png", f"{title}, coloured by label."))
    for r in runs:
        if r.embedded is None:
            notes.append(f"{r.name}: its recipe names no probe data; pass --data to probe it.")
    return figures, notes


def report(
    paths: list[Path],
    out: Path | None,
    data: str | None,
    protocols: list[str] | None,
    device: torch.device,
    quiet: bool = True,
) -> Path:
    """Write the report folder; its path."""
    if out is None:
        if len(paths) > 1:
            raise UserError("--out: a report of several runs needs --out FOLDER")
        out = RunDir(paths[0]).report
    check_out(out, paths)
    runs = [
        gather(p, n, data, protocols, device, quiet)
        for p, n in zip(paths, _names(paths), strict=True)
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    building = out.with_name(f".{out.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    try:
        figures, notes = draw(runs, building)
        summaries = [RunSummary(r.name, str(r.path), r.recipe, r.facts, r.probe) for r in runs]
        write_text(building / "index.html", render(summaries, figures, notes))
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        building.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return out
