"""Weighted kNN on L2-normalised features, as DINO evaluates (k=20, T=0.07): each of the k most
cosine-similar training samples votes for its class with weight exp(sim / T)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.eval import ProbeData


@torch.inference_mode()
def knn_predict(
    train: torch.Tensor,
    train_y: torch.Tensor,
    test: torch.Tensor,
    k: int = 20,
    temperature: float = 0.07,
    chunk: int = 1024,
    train_chunk: int = 65536,
) -> torch.Tensor:
    """Chunked over test and train alike: a (chunk, train_chunk) block of similarities at a
    time, keeping each test sample's running top k, so memory does not grow with either set."""
    test = F.normalize(test.float(), dim=1)
    n_classes = int(train_y.max()) + 1
    k = min(k, len(train))
    preds = []
    for start in range(0, len(test), chunk):
        block = test[start : start + chunk]
        best_sim = torch.full((len(block), 0), -float("inf"), device=block.device)
        best_idx = torch.zeros((len(block), 0), dtype=torch.long, device=block.device)
        for t0 in range(0, len(train), train_chunk):
            part = F.normalize(train[t0 : t0 + train_chunk].float(), dim=1)
            sim, idx = (block @ part.T).topk(min(k, len(part)), dim=1)
            best_sim, pick = torch.cat([best_sim, sim], 1).topk(
                min(k, best_sim.shape[1] + sim.shape[1]), dim=1
            )
            best_idx = torch.cat([best_idx, idx + t0], 1).gather(1, pick)
        votes = torch.zeros(len(block), n_classes, device=block.device)
        votes.scatter_add_(1, train_y[best_idx], (best_sim / temperature).exp())
        preds.append(votes.argmax(1))
    return torch.cat(preds)


def knn_top1(train, train_y, test, test_y, k: int = 20, temperature: float = 0.07) -> float:
    pred = knn_predict(train, train_y, test, k, temperature)
    return 100.0 * (pred == test_y).float().mean().item()


def knn_protocol(data: ProbeData) -> dict:
    """Weighted kNN top-1 % (k and temperature from the run's probe section)."""
    top1 = knn_top1(
        data.train, data.train_y, data.test, data.test_y, data.spec.k, data.spec.temperature
    )
    return {"knn_top1": top1}
