"""The CPU-friendly default audio encoder: BYOL-A's AudioNTT2020 network (Niizumi et al. 2021)
and, with `conv_layers=2, stack=True`, its v2 successor AudioNTT2022 (Niizumi et al. 2023).

Conv3x3-BN-ReLU-maxpool blocks over the log-mel, each frame's (channels x mel) features
through a two-layer MLP, then max + mean over time. v2 keeps the conv features of each frame
next to the MLP's output before pooling ("stack"), so the embedding carries local spectral
detail as well as the MLP's global features. Any number of frames is taken, so DINO's local
views and clips of other lengths need no resizing.
"""

from __future__ import annotations

import torch
from torch import nn

from sslctl.errors import UserError


class AudioCNN(nn.Module):
    """`dim` is the embedding width. Without `stack` it is also the MLP's hidden width (v1);
    with `stack` the MLP (hidden width `hidden`, default `dim`) outputs `dim` minus the conv
    features' width, as AudioNTT2022's d = conv + MLP."""

    def __init__(
        self,
        n_mels: int,
        channels: int = 64,
        dim: int = 512,
        dropout: float = 0.3,
        conv_layers: int = 3,
        stack: bool = False,
        hidden: int | None = None,
    ):
        super().__init__()
        if conv_layers < 1:
            raise TypeError(f"conv_layers must be 1 or more, got {conv_layers}")
        if n_mels < 2**conv_layers:  # every block halves the mel axis
            raise ValueError(f"needs at least {2**conv_layers} mel bins for {conv_layers} blocks")
        blocks: list[nn.Module] = []
        in_ch = 1
        for _ in range(conv_layers):
            blocks += [
                nn.Conv2d(in_ch, channels, 3, padding=1),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            in_ch = channels
        self.features = nn.Sequential(*blocks)
        conv_dim = channels * (n_mels // 2**conv_layers)
        out = dim - conv_dim if stack else dim
        if out < 1:
            raise TypeError(f"stack needs dim > the conv features' width {conv_dim}")
        hidden = hidden or dim
        self.fc = nn.Sequential(
            nn.Linear(conv_dim, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, out),
            nn.ReLU(inplace=True),
        )
        self.stack = stack
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)  # (B, C, F', T')
        b, c, f, t = h.shape
        h = h.permute(0, 3, 1, 2).reshape(b, t, c * f)  # (B, T', C*F')
        h = torch.cat([h, self.fc(h)], dim=2) if self.stack else self.fc(h)
        return h.amax(dim=1) + h.mean(dim=1)


def build(input_spec: dict, kwargs: dict) -> AudioCNN:
    try:
        return AudioCNN(input_spec["n_mels"], **kwargs)
    except ValueError as exc:
        raise UserError(f"data.n_mels: audio_cnn {exc}") from None
