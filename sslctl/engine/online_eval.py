"""Online evaluation during training (`train.eval_every`): how good and how collapsed the
embedding is, while the run goes on, on one fixed sample chosen at the start.

- `knn_top1`: weighted kNN top-1 % (the probe's protocol, k and temperature from the recipe's
  probe section) of up to `train.eval_samples` probe-train embeddings against a quarter as
  many probe-test ones; only when the recipe names labelled probe data.
- `rankme`: RankMe of the bank's embeddings (the training data's, without probe data).
- `emb_std`: the mean per-dimension std of the L2-normalised embeddings (SimSiam's collapse
  check: about 1/sqrt(dim) when spread out, 0 when collapsed).
- `eval_s`: the wall seconds the evaluation took.

The keys are engine/logging.py's EVAL_KEYS. It embeds each encoder the trainer hands it
(`Method.watched_encoders`: the one a run keeps), in eval mode under inference mode, and saves
and restores torch's generators around the pass, so training draws exactly the random numbers
it would have drawn without it: a resumed run stays identical.
"""

from __future__ import annotations

import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from sslctl.engine.embedding import embed_samples
from sslctl.eval.knn import knn_top1
from sslctl.eval.rankme import rankme
from sslctl.modalities.base import Modality, Samples


def fixed_subset(samples: Samples, count: int, seed: int) -> Samples:
    """`count` samples drawn once by `seed` from a generator of their own (the training RNG is
    not touched), kept in source order."""
    if len(samples) <= count:
        return samples
    generator = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(samples), generator=generator)[:count].sort().values
    y = None if samples.y is None else samples.y[pick]
    return replace(samples, x=samples.x[pick], y=y, rows=None)


def embedding_std(features: torch.Tensor) -> float:
    """Mean over dimensions of the std of the L2-normalised embeddings."""
    return float(F.normalize(features.float(), dim=1).std(0).mean())


class OnlineEval:
    """Called by the trainer at each eval step; returns the keys of EVAL_KEYS it measured."""

    def __init__(
        self,
        modality: Modality,
        bank: Samples,
        queries: Samples | None,
        probe,
        device: torch.device,
    ) -> None:
        self.modality, self.bank, self.queries = modality, bank, queries
        self.probe, self.device = probe, device

    def __call__(self, encoder: torch.nn.Module) -> dict[str, float]:
        start = time.perf_counter()
        cpu = torch.get_rng_state()
        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        try:
            bank = embed_samples(encoder, self.modality, self.bank, self.device)
            result = {"rankme": rankme(bank.x), "emb_std": embedding_std(bank.x)}
            if self.queries is not None:
                queries = embed_samples(encoder, self.modality, self.queries, self.device)
                result["knn_top1"] = knn_top1(
                    bank.x,
                    self.bank.y[bank.kept],
                    queries.x,
                    self.queries.y[queries.kept],
                    self.probe.k,
                    self.probe.temperature,
                )
        finally:
            torch.set_rng_state(cpu)
            if cuda is not None:
                torch.cuda.set_rng_state(cuda, self.device)
        result["eval_s"] = round(time.perf_counter() - start, 3)
        return result
