"""The probe's building blocks, shared by `sslctl probe`, `sslctl report` and a training run's
online evaluation: the labelled train/test split (the recipe's `probe:` section or `--data`,
labels numbered over one list of classes), a run's frozen embeddings of it, and the protocols
run on them."""

from __future__ import annotations

from dataclasses import replace

import torch

from sslctl.engine.embedding import embed_samples
from sslctl.engine.logging import progress
from sslctl.errors import UserError
from sslctl.eval import ProbeData
from sslctl.modalities.base import Modality, Samples
from sslctl.rundir import Run
from sslctl.specs.probes import PROBES

MAX_PROBE_CLASSES = 100_000  # kNN and linear probes hold a (classes x dim) weight or vote table


def stratified_split(samples: Samples) -> tuple[Samples, Samples]:
    """Stratified 80/20 split with seed 0, for a --data source that has no test split."""
    from sklearn.model_selection import train_test_split

    idx = torch.arange(len(samples))
    try:
        tr, te = train_test_split(
            idx.numpy(), test_size=0.2, stratify=samples.y.numpy(), random_state=0
        )
    except ValueError as err:  # too few labels per class for a stratified split
        raise UserError(
            f"{samples.source}: no stratified 80/20 probe split ({err}); give a larger labelled "
            "set or one with its own test split"
        ) from None
    pick = lambda i: replace(samples, x=samples.x[i], y=samples.y[i])  # noqa: E731
    return pick(torch.from_numpy(tr)), pick(torch.from_numpy(te))


def shared_labels(
    train: Samples, test: Samples, names: tuple[str, str]
) -> tuple[torch.Tensor, torch.Tensor, list[str] | None]:
    """Train and test labels numbered 0..K-1 over one list of classes, and class k's name
    when both sources name their classes: by name then (a test folder lacking one class keeps
    the others' numbers), else by value (an integer label means one class in both). A test
    class with no training example could only be scored wrong, so it is refused, as is a label
    set too large to be classes."""
    y_train, y_test = train.y, test.y
    named = bool(train.classes and test.classes)
    if named and train.classes != test.classes:
        index = {name: i for i, name in enumerate(train.classes)}
        unknown = [c for c in test.classes if c not in index]
        if unknown:
            raise UserError(
                f"{names[1]}: class {unknown[0]!r} has no examples in {names[0]} "
                f"({len(unknown)} such class(es))"
            )
        y_test = torch.tensor([index[c] for c in test.classes], dtype=torch.int64)[y_test]
    values, both = torch.unique(torch.cat([y_train, y_test]), return_inverse=True)
    y_train, y_test = both[: len(y_train)], both[len(y_train) :]
    unseen = set(torch.unique(y_test).tolist()) - set(torch.unique(y_train).tolist())
    if unseen:
        label = int(values[min(unseen)])
        raise UserError(
            f"{names[1]}: label {label} has no examples in {names[0]} ({len(unseen)} such label(s))"
        )
    if len(values) > MAX_PROBE_CLASSES:
        raise UserError(
            f"{names[0]}: {len(values):,} classes; a probe takes at most {MAX_PROBE_CLASSES:,}"
        )
    return y_train, y_test, [train.classes[int(v)] for v in values] if named else None


def _sources(run_probe, data: str | None) -> tuple[str, str | None]:
    if data is None:
        if not run_probe.train or not run_probe.test:
            raise UserError(
                "probe.train/probe.test: the run's recipe names no probe data; pass --data"
            )
        return run_probe.train, run_probe.test
    if data.startswith("builtin:") and data.count(":") == 1:
        return f"{data}:train", f"{data}:test"
    return data, None


def probe_split(modality: Modality, spec, data: str | None) -> tuple[Samples, Samples]:
    """The probe's labelled train and test samples (the recipe's `probe:` section, or
    `data`; a source without a test split is split 80/20), labels numbered 0..K-1 over one
    list of classes."""
    train_src, test_src = _sources(spec, data)
    train = modality.load(train_src)
    if train.y is None:
        raise UserError(f"{train_src}: probe data needs labels")
    if test_src is None:
        train, test = stratified_split(train)
    else:
        test = modality.load(test_src)
        if test.y is None:
            raise UserError(f"{test_src}: probe data needs labels")
    for part, name in ((train, train_src), (test, test_src or train_src)):
        if len(torch.unique(part.y)) < 2:
            raise UserError(f"{name}: a probe needs at least two classes in train and test")
    y_train, y_test, classes = shared_labels(train, test, (train_src, test_src or train_src))
    return replace(train, y=y_train, classes=classes), replace(test, y=y_test, classes=classes)


def probe_data(
    loaded: Run, data: str | None, device: torch.device, quiet: bool = True
) -> ProbeData:
    """A loaded run's frozen embeddings of the probe split; a progress bar per split on a
    terminal unless `quiet`."""
    train, test = probe_split(loaded.modality, loaded.recipe.probe, data)
    embedded = []
    for part, split in ((train, "train"), (test, "test")):
        with progress(f"embed {split}", quiet) as update:
            embedded.append(
                embed_samples(loaded.encoder, loaded.modality, part, device, on_progress=update)
            )
    (f_train, kept_train), (f_test, kept_test) = embedded
    return ProbeData(
        f_train, train.y[kept_train], f_test, test.y[kept_test], loaded.recipe.probe, train.classes
    )


def run_protocols(data: ProbeData, protocols: list[str], quiet: bool = True) -> dict:
    """Each protocol's result keys (declared in sslctl/specs/probes/), in order, with a
    running clock on a terminal unless `quiet`; then the split's sizes and dimension."""
    result: dict = {}
    for name in protocols:
        with progress(f"probe: {name}", quiet):
            result.update(PROBES.load(name)(data))
    result.update(n_train=len(data.train), n_test=len(data.test), dim=int(data.train.shape[1]))
    return result
