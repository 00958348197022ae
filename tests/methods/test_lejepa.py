"""SIGReg and LeJEPA against formulas written out here: the Epps-Pulley statistic as the
integral it is defined by (complex exponentials over the symmetric interval, trapezoid
rule), its gradients, its behaviour on Gaussian and collapsed samples, and LeJEPA's loss."""

from __future__ import annotations

import json
import math

import pytest
import torch

from sslctl.methods.lejepa import LeJEPA, LeJEPASpec, lejepa_terms
from sslctl.methods.sigreg import epps_pulley, sigreg
from tests.conftest import ROOT, cli


def epps_pulley_by_definition(x: torch.Tensor, t_max: float = 3.0, knots: int = 33):
    """N * integral over [-t_max, t_max] of |ecf(t) - e^{-t^2/2}|^2 e^{-t^2/2} dt per column of
    x (N, K), with the plain trapezoid rule on `knots` points."""
    t = torch.linspace(-t_max, t_max, knots, dtype=torch.float64)
    ecf = torch.exp(1j * x.double().unsqueeze(-1) * t).mean(0)  # (K, knots)
    normal = torch.exp(-(t**2) / 2)
    integrand = (ecf - normal).abs().square() * normal
    return torch.trapezoid(integrand, t, dim=-1) * x.shape[0]


def test_epps_pulley_and_its_gradient_match_the_integral():
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(0)) * 1.3 + 0.2
    mine = x.clone().requires_grad_(True)
    ref = x.clone().double().requires_grad_(True)
    # 17 knots on [0, 3] with doubled weights is the trapezoid on 33 knots over [-3, 3]
    torch.testing.assert_close(
        epps_pulley(mine), epps_pulley_by_definition(ref).float(), rtol=1e-5, atol=1e-5
    )
    epps_pulley(mine).sum().backward()
    epps_pulley_by_definition(ref).sum().backward()
    torch.testing.assert_close(mine.grad, ref.grad.float(), rtol=1e-4, atol=1e-6)


def test_sigreg_is_near_zero_for_gaussian_samples_and_large_for_collapsed_ones():
    torch.manual_seed(0)
    gaussian = torch.randn(2048, 32)
    collapsed = torch.ones(2048, 32) * 0.5 + 1e-3 * torch.randn(2048, 32)
    shrunk = torch.randn(2048, 32) * 0.1  # dimensional collapse in scale
    g, c, s = (sigreg(z).item() for z in (gaussian, collapsed, shrunk))
    # For N(0, 1) samples E|ecf - phi|^2 = (1 - phi^2) / N, so the statistic's mean is the
    # integral of (1 - phi^2) phi: sqrt(2 pi) (1 - 1/sqrt(3)) = 1.06, whatever N is
    assert 0.8 < g < 1.4, g
    assert c > 500 and s > 500, (c, s)  # anything else grows with N (here 2048)


def test_sigreg_draws_its_directions_from_torchs_generator():
    z = torch.randn(128, 8)
    torch.manual_seed(3)
    a = sigreg(z, slices=16)
    torch.manual_seed(3)
    directions = torch.randn(8, 16)
    directions = directions / directions.norm(dim=0)
    torch.testing.assert_close(a, epps_pulley_by_definition(z @ directions).mean().float())


def test_lejepa_terms_match_the_written_loss():
    torch.manual_seed(1)
    z = torch.randn(4, 32, 6)  # (views, batch, dim)
    torch.manual_seed(7)
    prediction, gaussian = lejepa_terms(z, slices=8)
    centre = z.mean(0)
    expected = sum(((centre - z[v]) ** 2).mean() for v in range(4)) / 4
    torch.testing.assert_close(prediction, expected)
    torch.manual_seed(7)
    directions = torch.randn(6, 8)
    directions = directions / directions.norm(dim=0)
    per_view = [epps_pulley_by_definition(z[v] @ directions).mean() for v in range(4)]
    torch.testing.assert_close(gaussian, (sum(per_view) / 4).float(), rtol=1e-5, atol=1e-5)


def test_lejepa_loss_weights_its_terms_by_lamb():
    from sslctl.encoders.base import Encoder
    from sslctl.modalities.base import Views

    backbone = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 10))
    encoder = Encoder(torch.nn.Identity(), backbone, 10)
    spec = LeJEPASpec(name="lejepa", proj_hidden=16, proj_dim=4, views=3, lamb=0.25, slices=8)
    method = LeJEPA(encoder, spec)
    views = Views([torch.randn(5, 12) for _ in range(3)], 3, torch.cat)
    torch.manual_seed(0)
    loss, terms = method(views)
    assert math.isclose(
        loss.item(), 0.75 * terms["prediction"].item() + 0.25 * terms["sigreg"].item(), rel_tol=1e-5
    )
    assert method.view_plan.n_global == 3


@pytest.mark.parametrize("field", ["views", "lamb", "slices"])
def test_lejepa_fields_are_bounded(field):
    from pydantic import ValidationError

    bad = {"views": 1, "lamb": 1.5, "slices": 0}[field]
    with pytest.raises(ValidationError):
        LeJEPASpec(name="lejepa", **{field: bad})


@pytest.mark.parametrize("name", ["simclr", "byol", "barlow", "vicreg"])
def test_sigreg_option_adds_its_weighted_statistic_to_a_joint_embedding_loss(name):
    """`method.sigreg: w` adds w x SIGReg of both views' projections; at 0 the loss is as it
    was and no random number is drawn (runs without the option are unchanged)."""
    from sslctl.encoders.base import Encoder
    from sslctl.methods.sigreg import sigreg as statistic
    from sslctl.modalities.base import Views
    from sslctl.specs.methods import METHODS

    torch.manual_seed(0)
    backbone = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 10))
    spec, cls = METHODS.get(name), METHODS.load(name)
    small = {"proj_hidden": 16, "proj_dim": 8}
    method = cls(Encoder(torch.nn.Identity(), backbone, 10), spec(name=name, **small))
    views = Views([torch.randn(6, 12), torch.randn(6, 12)], 2, torch.cat)
    state = torch.get_rng_state()
    plain, terms = method(views)
    assert "sigreg" not in terms and torch.equal(torch.get_rng_state(), state)
    method.sigreg = 0.5
    torch.manual_seed(5)
    loss, terms = method(views)
    z1, z2 = (method.projector(method.encoder(v)) for v in views)
    torch.manual_seed(5)
    expected = (statistic(z1.float()) + statistic(z2.float())) / 2
    torch.testing.assert_close(terms["sigreg"], expected.detach())
    torch.testing.assert_close(loss, plain + 0.5 * expected, rtol=1e-5, atol=1e-5)


# LeJEPA's stated floor on Fashion-MNIST (docs/studies/image-methods-on-fashion-mnist.md,
# "LeJEPA does not collapse"): RankMe of the encoder's embedding at every online evaluation
# of a 40-step run; a collapsed encoder scores about 1. It rules out collapse, not a lack of
# learning (test_learning.py checks that).
RANKME_FLOOR = 40.0


@pytest.mark.slow
def test_lejepa_keeps_rankme_above_its_floor_on_fashion_mnist(tmp_path):
    """LeJEPA has no EMA teacher, stop-gradient or predictor; SIGReg keeps it from collapsing.
    The shipped Fashion-MNIST recipe (resnet10t, batch 64, 40 steps) keeps RankMe above the
    floor at each online evaluation (steps 20 and 40; 70 and 150 when measured)."""
    sets = ["train.steps=40", "train.batch_size=64", "train.eval_every=20"]
    sets += ["train.eval_samples=1000", "encoder.name=resnet10t"]
    args = [a for s in sets for a in ("--set", s)]
    recipe = ROOT / "recipes/image/fashion-mnist/lejepa.yaml"
    cli("pretrain", recipe, *args, "--out", tmp_path / "run", "--quiet", check=True)
    lines = [json.loads(x) for x in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    ranks = {r["step"]: r["rankme"] for r in lines if "rankme" in r}
    assert list(ranks) == [20, 40], ranks
    assert min(ranks.values()) > RANKME_FLOOR, ranks
