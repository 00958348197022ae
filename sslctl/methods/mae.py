"""MAE (He et al. 2022): encode a random 25% of patches with a timm ViT, reconstruct the masked
patches' (per-patch normalised) pixels with a light decoder; loss only on masked patches.

On audio the "pixels" are the encoder front end's standardised log-mel and patches may be
rectangular (e.g. 8 mel bins x 10 frames): masked spectrogram modelling as in MSM-MAE
(Niizumi et al. 2022) and Audio-MAE (Huang et al. 2022)."""

from __future__ import annotations

import torch
from torch import nn

from sslctl.errors import UserError
from sslctl.methods.base import Method
from sslctl.specs.methods.mae import MAESpec


def patchify(x: torch.Tensor, ph: int, pw: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, (H//ph) * (W//pw), ph*pw*C), row-major like the patch embedding;
    a remainder the strided patch embedding skips is skipped here too."""
    b, c = x.shape[:2]
    gh, gw = x.shape[2] // ph, x.shape[3] // pw
    x = x[:, :, : gh * ph, : gw * pw].reshape(b, c, gh, ph, gw, pw)
    return torch.einsum("bchpwq->bhwpqc", x).reshape(b, gh * gw, ph * pw * c)


def random_masking(tokens: torch.Tensor, ratio: float) -> tuple[torch.Tensor, ...]:
    """Per-sample shuffle by random noise; keep the first (1-ratio) share. mask: 1 = removed."""
    b, n, d = tokens.shape
    keep = max(1, int(n * (1 - ratio)))
    ids_shuffle = torch.argsort(torch.rand(b, n, device=tokens.device), dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    kept = torch.gather(tokens, 1, ids_shuffle[:, :keep, None].expand(-1, -1, d))
    mask = torch.ones(b, n, device=tokens.device)
    mask[:, :keep] = 0
    return kept, torch.gather(mask, 1, ids_restore), ids_restore


class MAE(Method):
    Spec = MAESpec

    def __init__(self, encoder, spec: MAESpec) -> None:
        super().__init__(encoder)
        layout = encoder.patch_layout
        if layout is None or layout.pixels is None:
            raise UserError("method.name: mae needs a ViT encoder (e.g. vit_tiny_patch16_224)")
        if layout.prefix > 1:
            raise UserError(
                "encoder: mae supports ViTs with a pos_embed and at most a class token (no "
                "register tokens)"
            )
        self.prefix = layout.prefix  # 1: the class token goes through the decoder too
        self.spec = spec
        self.patch = layout.pixels
        n_patches = layout.grid[0] * layout.grid[1]
        chans = layout.channels
        from timm.models.vision_transformer import Block  # lazily: see encoders/timm_encoder.py

        d, dd = encoder.embed_dim, spec.decoder_dim
        self.decoder_embed = nn.Linear(d, dd)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dd))
        self.decoder_pos = nn.Parameter(torch.zeros(1, n_patches + self.prefix, dd))
        self.decoder_blocks = nn.Sequential(
            *[
                Block(dd, spec.decoder_heads, mlp_ratio=4.0, qkv_bias=True)
                for _ in range(spec.decoder_depth)
            ]
        )
        self.decoder_norm = nn.LayerNorm(dd)
        self.decoder_pred = nn.Linear(dd, self.patch[0] * self.patch[1] * chans)
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        nn.init.trunc_normal_(self.decoder_pos, std=0.02)

    def _encode(self, view: torch.Tensor) -> tuple[torch.Tensor, ...]:
        tokens = self.encoder.patch_tokens(view).tokens
        h, mask, ids_restore = random_masking(tokens, self.spec.mask_ratio)
        h = self.encoder.encode_tokens(h, None, keep_prefix=True)
        return h, mask, ids_restore

    def _decode(self, h: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        h = self.decoder_embed(h)
        b, n = ids_restore.shape
        p = self.prefix
        fill = self.mask_token.expand(b, n + p - h.shape[1], -1)
        patches = torch.cat([h[:, p:], fill], dim=1)
        patches = torch.gather(patches, 1, ids_restore[..., None].expand(-1, -1, h.shape[2]))
        h = torch.cat([h[:, :p], patches], dim=1) + self.decoder_pos
        return self.decoder_pred(self.decoder_norm(self.decoder_blocks(h)))[:, p:]

    def forward(self, views):
        h, mask, ids_restore = self._encode(views[0])
        x = self.encoder.normalize(views[0])
        pred = self._decode(h, ids_restore).float()
        target = patchify(x, *self.patch).float()
        if self.spec.norm_pix_loss:
            mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
            target = (target - mean) / (var + 1e-6).sqrt()
        per_patch = (pred - target).pow(2).mean(-1)
        loss = (per_patch * mask).sum() / mask.sum()
        return loss, {}
