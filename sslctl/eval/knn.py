"""Weighted kNN on L2-normalised features, as DINO evaluates (k=20, T=0.07): each of the k most
cosine-similar training samples votes for its class with weight exp(sim / T)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.inference_mode()
def knn_predict(
    train: torch.Tensor,
    train_y: torch.Tensor,
    test: torch.Tensor,
    k: int = 20,
    temperature: float = 0.07,
    chunk: int = 1024,
) -> torch.Tensor:
    train, test = F.normalize(train.float(), dim=1), F.normalize(test.float(), dim=1)
    n_classes = int(train_y.max()) + 1
    k = min(k, len(train))
    preds = []
    for start in range(0, len(test), chunk):
        sim, idx = (test[start : start + chunk] @ train.T).topk(k, dim=1)
        votes = torch.zeros(len(sim), n_classes, device=sim.device)
        votes.scatter_add_(1, train_y[idx], (sim / temperature).exp())
        preds.append(votes.argmax(1))
    return torch.cat(preds)


def knn_top1(train, train_y, test, test_y, k: int = 20, temperature: float = 0.07) -> float:
    pred = knn_predict(train, train_y, test, k, temperature)
    return 100.0 * (pred == test_y).float().mean().item()
