"""Coreset strategies: k-center matches a naive implementation, budgets, SimCore, herding."""

from __future__ import annotations

import pytest
import torch

from sslctl.errors import UserError
from sslctl.jobs.coreset import resolve_budget
from sslctl.selection.herding import herding
from sslctl.selection.kcenter import kcenter_greedy
from sslctl.selection.simcore import simcore
from sslctl.selection.uniform import random_subset


def test_kcenter_matches_naive():
    pool = torch.randn(200, 5, generator=torch.Generator().manual_seed(0))
    got = kcenter_greedy(pool, 20, seed=3).tolist()
    chosen = [got[0]]
    for _ in range(19):
        d = torch.cdist(pool, pool[chosen]).min(1).values
        chosen.append(int(d.argmax()))
    assert got == chosen and len(set(got)) == 20


def test_kcenter_covers_clusters():
    centers = torch.tensor([[0.0, 0], [10, 0], [0, 10], [10, 10]])
    pool = torch.cat([c + 0.1 * torch.randn(50, 2) for c in centers])
    picked = kcenter_greedy(pool, 4)
    assert sorted((picked // 50).tolist()) == [0, 1, 2, 3]


def test_simcore_prefers_target_like_samples():
    g = torch.Generator().manual_seed(0)
    near = torch.tensor([1.0, 0, 0]) + 0.1 * torch.randn(30, 3, generator=g)
    far = torch.tensor([0.0, 1, 0]) + 0.1 * torch.randn(70, 3, generator=g)
    target = torch.tensor([1.0, 0, 0]) + 0.1 * torch.randn(10, 3, generator=g)
    picked = simcore(torch.cat([near, far]), target, 25)
    assert len(set(picked.tolist())) == 25 and (picked < 30).all()


def test_herding_mean_beats_random():
    pool = torch.randn(500, 8, generator=torch.Generator().manual_seed(0)) + 3
    h = herding(pool, 20)
    err = (pool[h].mean(0) - pool.mean(0)).norm()
    rand_err = (pool[random_subset(pool, 20)].mean(0) - pool.mean(0)).norm()
    assert len(set(h.tolist())) == 20 and err < rand_err / 3


def test_budget_count_and_fraction():
    assert resolve_budget("10", 100) == 10 and resolve_budget("0.25", 100) == 25
    for bad in ("0", "-3", "abc", "200", "1.5"):
        with pytest.raises(UserError, match="--budget"):
            resolve_budget(bad, 100)
