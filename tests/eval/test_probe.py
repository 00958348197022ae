"""Probes agree with scikit-learn on the same features (within 1 point), RankMe behaves."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from sslctl.eval.knn import knn_top1
from sslctl.eval.linear import (
    DEFAULT_WEIGHT_DECAY,
    FOLDS,
    WEIGHT_DECAYS,
    linear_top1,
    stratified_folds,
)
from sslctl.eval.rankme import rankme
from sslctl.modalities.image.builtin import load_builtin_images


def _features():
    """Digits pixels and a fixed random ReLU projection of them: two realistic feature sets."""
    (xtr, ytr), (xte, yte) = (load_builtin_images(f"builtin:digits:{s}") for s in ("train", "test"))
    xtr, xte = (torch.from_numpy(x.reshape(len(x), -1)).float() / 255 for x in (xtr, xte))
    proj = torch.randn(64, 256, generator=torch.Generator().manual_seed(0))
    sets = [(xtr, xte), (torch.relu(xtr @ proj), torch.relu(xte @ proj))]
    return [(a, torch.from_numpy(ytr), b, torch.from_numpy(yte)) for a, b in sets]


def test_knn_matches_sklearn():
    for ftr, ytr, fte, yte in _features():
        ours = knn_top1(ftr, ytr, fte, yte, k=20, temperature=0.07)
        ref = KNeighborsClassifier(
            n_neighbors=20,
            metric="cosine",
            algorithm="brute",
            weights=lambda d: np.exp((1 - d) / 0.07),
        ).fit(ftr.numpy(), ytr.numpy())
        ref_acc = 100 * (ref.predict(fte.numpy()) == yte.numpy()).mean()
        assert abs(ours - ref_acc) <= 1.0, (ours, ref_acc)


def test_linear_matches_sklearn():
    for ftr, ytr, fte, yte in _features():
        ours, wd = linear_top1(ftr, ytr, fte, yte)
        mean, std = ftr.mean(0), ftr.std(0).clamp(min=1e-6)
        ref = LogisticRegression(C=1 / (wd * len(ftr)), max_iter=5000)
        ref.fit(((ftr - mean) / std).numpy(), ytr.numpy())
        ref_acc = 100 * (ref.predict(((fte - mean) / std).numpy()) == yte.numpy()).mean()
        assert abs(ours - ref_acc) <= 1.0, (ours, ref_acc, wd)
        assert ours > 85


def test_rankme_counts_used_dimensions():
    g = torch.Generator().manual_seed(0)
    low = torch.randn(1000, 3, generator=g) @ torch.randn(3, 64, generator=g)
    assert 2.5 < rankme(low) < 3.5
    assert rankme(torch.randn(1000, 64, generator=g)) > 55


def test_linear_probe_learns_from_one_label_per_class():
    """Few-label probes: a class with one labelled sample is never held out of the fit, and
    one sample per class (nothing to hold out) still trains on every label."""
    g = torch.Generator().manual_seed(0)
    centres = 4 * torch.randn(3, 16, generator=g)
    test_y = torch.arange(3).repeat(20)
    test = centres[test_y] + torch.randn(60, 16, generator=g)
    one_each, wd = linear_top1(centres, torch.arange(3), test, test_y)
    assert one_each > 95 and wd == DEFAULT_WEIGHT_DECAY
    mixed_x = torch.cat([centres, centres[:2] + 0.5 * torch.randn(2, 16, generator=g)])
    mixed, _ = linear_top1(mixed_x, torch.tensor([0, 1, 2, 0, 1]), test, test_y)
    assert mixed > 95


def test_linear_probe_folds_are_stratified_and_keep_lone_samples_in_every_fit():
    y = torch.tensor([0] * 10 + [1] * 7 + [2])
    fold = stratified_folds(y)
    assert fold[-1] == -1  # class 2's only sample is never held out
    for c, n in ((0, 10), (1, 7)):
        counts = torch.bincount(fold[y == c], minlength=FOLDS)
        assert counts.sum() == n and counts.max() - counts.min() <= 1, counts
    assert torch.equal(fold, stratified_folds(y))


def test_linear_probe_breaks_ties_toward_the_stronger_penalty():
    """Well separated classes score every fold perfectly at every penalty: the probe must then
    take the strongest, as a grid search over an ascending C grid does (a single hold-out that
    took the first of tied penalties always ended on the weakest)."""
    g = torch.Generator().manual_seed(0)
    centres = 10 * torch.randn(3, 16, generator=g)
    y = torch.arange(3).repeat(10)
    x = centres[y] + torch.randn(30, 16, generator=g)
    test = centres[y] + torch.randn(30, 16, generator=g)
    acc, wd = linear_top1(x, y, test, y)
    assert acc == 100 and wd == max(WEIGHT_DECAYS)
