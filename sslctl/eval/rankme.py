"""RankMe (Garrido et al. 2023): exp of the entropy of the normalised singular values of the
embedding matrix, a label-free proxy for how many dimensions the encoder actually uses."""

from __future__ import annotations

import torch

from sslctl.eval import ProbeData

MAX_SAMPLES = 25600  # the embeddings whose singular values it takes, at most


@torch.inference_mode()
def rankme(features: torch.Tensor, max_samples: int = MAX_SAMPLES, eps: float = 1e-7) -> float:
    z = features[:max_samples].double()
    s = torch.linalg.svdvals(z)
    p = s / s.sum() + eps
    return float(torch.exp(-(p * torch.log(p)).sum()))


def rankme_protocol(data: ProbeData) -> dict:
    """RankMe of the training embeddings (label-free)."""
    return {"rankme": rankme(data.train)}
