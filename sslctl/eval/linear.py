"""Linear probe: multinomial logistic regression on standardised frozen features, fit in torch by
full-batch L-BFGS. The L2 penalty is chosen by stratified 5-fold cross-validation of the
training set (pooled held-out accuracy, ties to the stronger penalty, as a grid search over an
ascending C grid does), then the probe is refit on all training data. One 20% hold-out cannot
choose on small sets: on UCR's ItalyPowerDemand (67 series) it held out 14 and every penalty
scored 13 of them, so its tie rule (the weakest) always decided. Five folds separate the
penalties on sets of a thousand or more (the audio sets); on sets as small as that one they can
still tie, and the stronger penalty is then the safer choice. From 10,000 samples only the first
fold is held out (2,000 or more samples, already precise). A class with a single labelled sample
stays in every fit set, and with nothing left to hold out the middle penalty is used: few-label
probes (one or two labels per class) must still learn from every label."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.eval import ProbeData

WEIGHT_DECAYS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
DEFAULT_WEIGHT_DECAY = WEIGHT_DECAYS[len(WEIGHT_DECAYS) // 2]  # when nothing can be held out
FOLDS = 5
CV_MAX_SAMPLES = 10_000  # from here on one fold is held out, not all five
ITERS = 200  # L-BFGS iterations of every fit


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


def stratified_folds(y: torch.Tensor) -> torch.Tensor:
    """Stratified fold of every training sample (seed 0): each class's shuffled samples cut
    into FOLDS near-equal runs; -1 marks a class's only sample, which every fit must keep."""
    g = torch.Generator().manual_seed(0)
    fold = torch.full((len(y),), -1, dtype=torch.long)
    for c in y.unique():
        idx = (y == c).nonzero().flatten().cpu()
        idx = idx[torch.randperm(len(idx), generator=g)]
        if len(idx) > 1:
            fold[idx] = torch.arange(len(idx)) * FOLDS // len(idx)
    return fold.to(y.device)


def _choose_weight_decay(x: torch.Tensor, y: torch.Tensor, n_classes: int, iters: int) -> float:
    """The grid penalty with the most correct held-out predictions over the folds."""
    fold = stratified_folds(y)
    held = [f for f in range(FOLDS if len(y) < CV_MAX_SAMPLES else 1) if (fold == f).any()]
    if not held:
        return DEFAULT_WEIGHT_DECAY
    per_fold = [held_out_correct(x, y, fold == f, n_classes, iters) for f in held]
    correct = dict(zip(WEIGHT_DECAYS, map(sum, zip(*per_fold, strict=True)), strict=True))
    return max(reversed(WEIGHT_DECAYS), key=correct.__getitem__)  # a tie: the stronger


def held_out_correct(
    x: torch.Tensor, y: torch.Tensor, val: torch.Tensor, n_classes: int, iters: int = ITERS
) -> list[int]:
    """Correct predictions on the `val` samples of a probe fit on the rest, for each penalty of
    WEIGHT_DECAYS in order (what the penalty choice compares; benchmarks/probe_penalties.py
    prints it)."""
    fit_x, val_x = _standardise(x[~val], x[val])
    models = [_fit(fit_x, y[~val], n_classes, wd, iters) for wd in WEIGHT_DECAYS]
    return [int((model(val_x).argmax(1) == y[val]).sum()) for model in models]


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
    iters: int = ITERS,
) -> tuple[float, float]:
    """Returns (test top-1 %, chosen weight decay)."""
    train, test = train.float(), test.float()
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    with torch.enable_grad():
        best_wd = _choose_weight_decay(train, train_y, n_classes, iters)
        train_s, test_s = _standardise(train, test)
        model = _fit(train_s, train_y, n_classes, best_wd, iters)
    with torch.no_grad():
        acc = (model(test_s).argmax(1) == test_y).float().mean().item()
    return 100.0 * acc, best_wd


def linear_protocol(data: ProbeData) -> dict:
    """Linear probe top-1 % and the L2 penalty cross-validation chose."""
    top1, weight_decay = linear_top1(data.train, data.train_y, data.test, data.test_y)
    return {"linear_top1": top1, "linear_weight_decay": weight_decay}
