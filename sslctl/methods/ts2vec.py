"""TS2Vec (Yue et al. 2022): hierarchical contrastive learning over two overlapping crops.

Each crop is encoded to timestamp-level representations with a random half of the projected
timesteps masked; the shared segment's representations are contrasted at every scale of a
max-pooling pyramid (kernel 2), instance-wise (the same timestamp of the other series in the
batch are negatives) and temporally (the other timestamps of the same series are negatives),
weighted alpha / 1 - alpha, with raw dot products and no temperature, as the official code.
As there, the encoder the run keeps is the equal-weight average of every iterate (the
official code's `torch.optim.swa_utils.AveragedModel`), initial weights included.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sslctl.encoders.series_base import TimestepEncoder
from sslctl.errors import UserError
from sslctl.methods.base import Method, copy_frozen
from sslctl.specs.methods.ts2vec import TS2VecSpec


def paired_contrast(z: torch.Tensor) -> torch.Tensor:
    """z (G, 2n, D): in every group, row i and row i+n are a positive pair and all other rows
    of the group are negatives (self excluded). Mean cross-entropy over the 2n anchors."""
    g, m, _ = z.shape
    n = m // 2
    sim = z @ z.transpose(1, 2)
    self_pair = torch.eye(m, dtype=torch.bool, device=z.device)
    logprob = sim.masked_fill(self_pair, float("-inf")).log_softmax(dim=-1)
    i = torch.arange(n, device=z.device)
    positives = torch.cat([logprob[:, i, i + n], logprob[:, i + n, i]], dim=1)
    return -positives.mean()


def instance_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """(B, T, D) x2: at each timestamp, the other series' representations are negatives."""
    if z1.shape[0] == 1:
        return z1.new_zeros(())
    return paired_contrast(torch.cat([z1, z2], dim=0).transpose(0, 1))


def temporal_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """(B, T, D) x2: within each series, the other timestamps are negatives."""
    if z1.shape[1] == 1:
        return z1.new_zeros(())
    return paired_contrast(torch.cat([z1, z2], dim=1))


def hierarchical_contrastive_loss(
    z1: torch.Tensor, z2: torch.Tensor, alpha: float = 0.5, temporal_unit: int = 0
) -> torch.Tensor:
    """Both losses at every pyramid level (temporal from level `temporal_unit` on), then
    max-pool time by 2; the last, length-1 level adds the instance term only. Averaged over
    the number of levels."""
    loss = z1.new_zeros(())
    depth = 0
    while z1.shape[1] > 1:
        if alpha != 0:
            loss = loss + alpha * instance_contrastive_loss(z1, z2)
        if depth >= temporal_unit and alpha != 1:
            loss = loss + (1 - alpha) * temporal_contrastive_loss(z1, z2)
        depth += 1
        z1 = F.max_pool1d(z1.transpose(1, 2), kernel_size=2).transpose(1, 2)
        z2 = F.max_pool1d(z2.transpose(1, 2), kernel_size=2).transpose(1, 2)
    if z1.shape[1] == 1:
        if alpha != 0:
            loss = loss + alpha * instance_contrastive_loss(z1, z2)
        depth += 1
    return loss / depth


class TS2Vec(Method):
    Spec = TS2VecSpec

    def __init__(self, encoder, spec: TS2VecSpec) -> None:
        super().__init__(encoder)
        if not isinstance(encoder.backbone, TimestepEncoder):
            raise UserError(
                "encoder.name: ts2vec needs timestamp-level representations; use dilated_cnn "
                "(TS2Vec's encoder) or resnet1d"
            )
        self.spec = spec
        self.average = copy_frozen(encoder)
        self.register_buffer("n_averaged", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def _update_average(self) -> None:
        """average += (current - average) / (n + 1), on the device, no host sync."""
        weight = 1.0 / (self.n_averaged + 1).float()
        for avg, cur in zip(self.average.parameters(), self.encoder.parameters(), strict=True):
            avg.lerp_(cur.detach(), weight.to(avg.dtype))
        for avg, cur in zip(self.average.buffers(), self.encoder.buffers(), strict=True):
            avg.copy_(cur)
        self.n_averaged += 1

    def encoder_to_save(self):
        if not self.spec.average_weights:
            return self.encoder
        self._update_average()  # the weights after the last update
        return self.average

    def _encode(self, view: torch.Tensor) -> torch.Tensor:
        x = self.encoder.normalize(view)
        keep = torch.rand(x.shape[0], x.shape[2], device=x.device) < self.spec.keep_prob
        return self.encoder.backbone.tokens(x, keep)

    def forward(self, views):
        overlap = views.overlap  # overlapping-crops views (recipe validation refuses others)
        if self.training:
            self._update_average()  # the weights after the previous update (or the initial ones)
        out1 = self._encode(views[0])[:, -overlap:]
        out2 = self._encode(views[1])[:, :overlap]
        s = self.spec
        return hierarchical_contrastive_loss(out1, out2, s.alpha, s.temporal_unit), {}
