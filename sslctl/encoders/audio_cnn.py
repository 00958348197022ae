"""The CPU-friendly default audio encoder: BYOL-A's AudioNTT2020 network (Niizumi et al. 2021).

Three conv3x3-BN-ReLU-maxpool blocks over the log-mel, each frame's (channels x mel) features
through a two-layer MLP, then max + mean over time. It takes any number of frames, so DINO's
local views and clips of other lengths need no resizing.
"""

from __future__ import annotations

import torch
from torch import nn


class AudioCNN(nn.Module):
    def __init__(self, n_mels: int, channels: int = 64, dim: int = 512, dropout: float = 0.3):
        super().__init__()
        blocks: list[nn.Module] = []
        in_ch = 1
        for _ in range(3):
            blocks += [
                nn.Conv2d(in_ch, channels, 3, padding=1),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            in_ch = channels
        self.features = nn.Sequential(*blocks)
        self.fc = nn.Sequential(
            nn.Linear(channels * (n_mels // 8), dim),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(dim, dim),
            nn.ReLU(inplace=True),
        )
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)  # (B, C, F', T')
        b, c, f, t = h.shape
        h = self.fc(h.permute(0, 3, 1, 2).reshape(b, t, c * f))  # (B, T', dim)
        return h.amax(dim=1) + h.mean(dim=1)
