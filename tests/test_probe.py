"""Probes agree with scikit-learn on the same features (within 1 point), RankMe behaves."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from sslctl.datasets.builtin import load_builtin_images
from sslctl.eval.knn import knn_top1
from sslctl.eval.linear import linear_top1
from sslctl.eval.rankme import rankme


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
