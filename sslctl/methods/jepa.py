"""JEPA (I-JEPA, Assran et al. 2023; A-JEPA on spectrograms; ECG-JEPA on series): from a
context of patch tokens, a narrow transformer predictor guesses an EMA target encoder's
embeddings of the target tokens. No augmentations are needed beyond a crop: the modality splits
the patch grid (its `context-targets` views carry the masking: multi-block on images and
spectrograms, time spans on series).

Per step, as the official I-JEPA `train.py`:
- the target encoder (no gradient) encodes every patch; its tokens are layer-normalised
  (without affine weights) and the target sets' tokens are picked out;
- the context encoder (the trained encoder) sees only the context tokens, position code
  included, so it never attends to a target;
- the predictor embeds the context outputs to its width, appends one learned mask token per
  target position (plus a fixed sin-cos position code of the grid), runs its blocks once per
  target set, and projects the mask tokens' outputs back to the encoder's width;
- the loss is the smooth-L1 (the official code) or squared error between predictions and
  targets, averaged over targets, tokens and channels;
- the target encoder follows by EMA, the momentum rising linearly from `momentum` to 1 over the
  run (I-JEPA's schedule, 0.996 -> 1.0).

The run keeps the target encoder, mean-pooled over patch tokens, as I-JEPA evaluates it: a ViT
must pool by average (`encoder.kwargs.global_pool: avg`); patch_tst already averages.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.encoders.positions import grid_sinusoid
from sslctl.errors import UserError
from sslctl.methods.base import Method, copy_frozen
from sslctl.methods.sigreg import add_sigreg
from sslctl.modalities.base import Views
from sslctl.specs.methods.jepa import JEPASpec


def pick(tokens: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """tokens (R, N, D) at index (R, ...) -> (R, ..., D)."""
    flat = index.reshape(len(index), -1)
    out = tokens.gather(1, flat[..., None].expand(-1, -1, tokens.shape[-1]))
    return out.view(*index.shape, tokens.shape[-1])


def jepa_loss(
    pred: torch.Tensor,
    encoded: torch.Tensor,
    targets: torch.Tensor,
    valid: torch.Tensor | None,
    kind: str,
) -> torch.Tensor:
    """pred (R, M, Nt, D) against the target encoder's tokens `encoded` (R, N, D), layer-normed
    then picked at `targets` (R, M, Nt); target tokens of padding only (`valid` False) are left
    out of the mean."""
    target = pick(F.layer_norm(encoded.float(), encoded.shape[-1:]), targets)
    if kind == "smooth_l1":
        error = F.smooth_l1_loss(pred.float(), target, reduction="none").mean(-1)
    else:
        error = (pred.float() - target).square().mean(-1)
    if valid is None:
        return error.mean()
    weight = valid.gather(1, targets.flatten(1)).view_as(error).float()
    return (error * weight).sum() / weight.sum().clamp(min=1)


class Predictor(nn.Module):
    """I-JEPA's predictor: context tokens and mask tokens at target positions, each placed by a
    fixed sin-cos code of the patch grid, through narrow pre-norm blocks; one pass per target
    set (M sets run as M batch rows)."""

    def __init__(self, dim: int, spec: JEPASpec) -> None:
        super().__init__()
        from timm.models.vision_transformer import Block  # lazily: see encoders/timm_encoder.py

        width = spec.predictor_dim
        self.width = width
        self.embed = nn.Linear(dim, width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, 1, width))
        norm = partial(nn.LayerNorm, eps=1e-6)
        self.blocks = nn.ModuleList(
            Block(width, spec.predictor_heads, mlp_ratio=4.0, qkv_bias=True, norm_layer=norm)
            for _ in range(spec.predictor_depth)
        )
        self.norm = norm(width)
        self.proj = nn.Linear(width, dim)
        self._init_weights()

    def _init_weights(self) -> None:
        """Truncated-normal std 0.02 weights and zero biases, then each block's output
        projections scaled by 1/sqrt(2 * layer), as the official `fix_init_weight`."""
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        for layer, block in enumerate(self.blocks, start=1):
            block.attn.proj.weight.data.div_((2.0 * layer) ** 0.5)
            block.mlp.fc2.weight.data.div_((2.0 * layer) ** 0.5)

    def forward(
        self,
        context: torch.Tensor,
        context_index: torch.Tensor,
        targets: torch.Tensor,
        grid: tuple[int, ...],
        context_valid: torch.Tensor | None,
    ) -> torch.Tensor:
        """context (R, Nc, D) at context_index (R, Nc); targets (R, M, Nt) -> (R, M, Nt, D)."""
        rows, n_ctx = context_index.shape
        m, n_tgt = targets.shape[1:]
        pos = grid_sinusoid(grid, self.width, context.device).to(context.dtype)
        ctx = self.embed(context) + pos[context_index]
        queries = self.mask_token + pos[targets]  # (R, M, Nt, W)
        h = torch.cat([ctx[:, None].expand(-1, m, -1, -1), queries], dim=2)
        h = h.reshape(rows * m, n_ctx + n_tgt, self.width)
        attend = None
        if context_valid is not None:  # padding-only context tokens are not attended to
            keys = torch.cat([context_valid, context_valid.new_ones(rows, n_tgt)], dim=1)
            attend = keys.repeat_interleave(m, dim=0)[:, None, None, :]
        for block in self.blocks:
            h = block(h, attn_mask=attend)
        out = self.proj(self.norm(h[:, n_ctx:]))
        return out.view(rows, m, n_tgt, -1)


class JEPA(Method):
    Spec = JEPASpec

    def __init__(self, encoder, spec: JEPASpec) -> None:
        super().__init__(encoder)
        if not encoder.gives_patch_tokens:
            raise UserError(
                "encoder.name: jepa needs a transformer on patches: a ViT "
                "(e.g. vit_tiny_patch16_224) or patch_tst"
            )
        if not encoder.mean_pooled:
            raise UserError(
                "encoder.kwargs.global_pool: jepa keeps the target encoder mean-pooled over "
                "patch tokens, as I-JEPA evaluates it; set global_pool: avg (and class_token: "
                "false: I-JEPA's ViT has no class token)"
            )
        self.spec = spec
        self.teacher_momentum = spec.momentum
        if spec.fixed_positions:
            encoder.fix_patch_positions()
        self.predictor = Predictor(encoder.patch_token_dim, spec)
        self.target_encoder = copy_frozen(encoder)

    def teacher_momentum_at(self, step: int, total: int) -> float:
        """I-JEPA's schedule: linear from `momentum` to 1 over the run."""
        base = self.spec.momentum
        return base + (1 - base) * min(step / max(1, total), 1.0)

    def ema_pairs(self):
        return [(self.encoder, self.target_encoder)]

    def encoder_to_save(self):
        return self.target_encoder

    def train(self, mode: bool = True) -> JEPA:
        """The target encoder runs without dropout or stochastic depth (it gives targets)."""
        super().train(mode)
        self.target_encoder.eval()
        return self

    def forward(self, views: Views):
        x = views[0]
        with torch.no_grad():
            full = self.target_encoder.patch_tokens(x)
            encoded = self.target_encoder.encode_tokens(full.tokens, full.valid)
        patches = self.encoder.patch_tokens(x)
        masks = views.masking.sample(len(x), patches.grid)
        device = patches.tokens.device
        context_index = masks.context.to(device, non_blocking=True)
        targets = masks.targets.to(device, non_blocking=True)
        context_index = context_index.repeat_interleave(patches.rows, dim=0)
        targets = targets.repeat_interleave(patches.rows, dim=0)
        valid = patches.valid
        context_valid = None if valid is None else valid.gather(1, context_index)
        context = self.encoder.encode_tokens(pick(patches.tokens, context_index), context_valid)
        pred = self.predictor(context, context_index, targets, patches.grid, context_valid)
        loss = jepa_loss(pred, encoded, targets, full.valid, self.spec.loss)
        # SIGReg (off by default) on the context encoder's mean token per row
        return add_sigreg(loss, {}, self.spec.sigreg, (context.mean(1),))
