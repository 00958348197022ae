"""Linear probe: multinomial logistic regression on standardised frozen features, fit in torch by
full-batch L-BFGS. The L2 penalty is chosen on a stratified 20% hold-out of the training set,
then the probe is refit on all training data. A class with a single labelled sample stays in the
fit set, and with nothing left to hold out the middle penalty is used: few-label probes (one or
two labels per class) must still learn from every label."""

from __future__ import annotations

import torch
import torch.nn.functional as F

WEIGHT_DECAYS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
DEFAULT_WEIGHT_DECAY = WEIGHT_DECAYS[len(WEIGHT_DECAYS) // 2]  # when nothing can be held out


def _fit(
    x: torch.Tensor, y: torch.Tensor, n_classes: int, wd: float, iters: int
) -> torch.nn.Linear:
    model = torch.nn.Linear(x.shape[1], n_classes).to(x.device)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    opt = torch.optim.LBFGS(
        model.parameters(),
        lr=1.0,
        max_iter=iters,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-6,
        tolerance_change=1e-9,
        history_size=20,
    )

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) + 0.5 * wd * model.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return model


def _holdout(y: torch.Tensor, frac: float = 0.2) -> torch.Tensor:
    """Deterministic stratified hold-out mask (seed 0); every class keeps one sample to fit on."""
    g = torch.Generator().manual_seed(0)
    mask = torch.zeros(len(y), dtype=torch.bool)
    for c in y.unique():
        idx = (y == c).nonzero().flatten().cpu()
        idx = idx[torch.randperm(len(idx), generator=g)]
        mask[idx[: min(max(1, int(round(frac * len(idx)))), len(idx) - 1)]] = True
    return mask.to(y.device)


def _standardise(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    if len(train) < 2:  # one sample has no spread: centre only
        return [t - train.mean(0) for t in (train, *others)]
    mean, std = train.mean(0), train.std(0).clamp(min=1e-6)
    return [(t - mean) / std for t in (train, *others)]


def linear_top1(
    train: torch.Tensor,
    train_y: torch.Tensor,
    test: torch.Tensor,
    test_y: torch.Tensor,
    iters: int = 200,
) -> tuple[float, float]:
    """Returns (test top-1 %, chosen weight decay)."""
    train, test = train.float(), test.float()
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    val = _holdout(train_y)
    best_wd, best_acc = DEFAULT_WEIGHT_DECAY, -1.0
    with torch.enable_grad():
        fit_x, val_x = _standardise(train[~val], train[val])
        for wd in WEIGHT_DECAYS if val.any() else ():
            model = _fit(fit_x, train_y[~val], n_classes, wd, iters)
            acc = (model(val_x).argmax(1) == train_y[val]).float().mean().item()
            if acc > best_acc:
                best_wd, best_acc = wd, acc
        train_s, test_s = _standardise(train, test)
        model = _fit(train_s, train_y, n_classes, best_wd, iters)
    with torch.no_grad():
        acc = (model(test_s).argmax(1) == test_y).float().mean().item()
    return 100.0 * acc, best_wd
