"""Nearest class mean (NCM): each class is the mean of its L2-normalised training embeddings,
and a test sample takes the class whose mean is most cosine-similar. No fitting and no
hyperparameter, so it tells how well classes are separated in the embedding's own geometry,
between kNN (local) and the linear probe (learned)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.eval import ProbeData


@torch.inference_mode()
def ncm_predict(train: torch.Tensor, train_y: torch.Tensor, test: torch.Tensor) -> torch.Tensor:
    n_classes = int(train_y.max()) + 1
    sums = torch.zeros(n_classes, train.shape[1], device=train.device)
    sums.index_add_(0, train_y, F.normalize(train.float(), dim=1))
    means = F.normalize(sums, dim=1)  # a class with no sample stays a zero vector: never chosen
    return (F.normalize(test.float(), dim=1) @ means.T).argmax(1)


def ncm_protocol(data: ProbeData) -> dict:
    """Nearest-class-mean top-1 %, cosine to each class's mean embedding."""
    pred = ncm_predict(data.train, data.train_y, data.test)
    return {"ncm_top1": 100.0 * (pred == data.test_y).float().mean().item()}
