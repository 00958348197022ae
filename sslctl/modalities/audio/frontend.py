"""Log-mel front end, part of every audio encoder so exports take the raw waveform.

The power spectrogram is a strided convolution with a Hann-windowed DFT basis (what torch.stft
computes with center=True and reflect padding), mel-weighted with torchaudio's filterbank
(`melscale_fbanks`, as `torchaudio.transforms.MelSpectrogram` uses), then log-compressed and
standardised with the training set's statistics. Why a convolution and not torch.stft: the
STFT kernel of onnxruntime differs from PyTorch by up to 1.4e-3 in log-mel on low-energy bins,
while a Conv node agrees to ~1e-5, and on CPU the convolution is also about twice as fast.
The DFT angles are reduced mod n_fft in integers and evaluated in float64, because float32
angles of up to 2*pi*n_fft/2 lose 1e-4 of phase.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sslctl.optional import import_optional

torchaudio = import_optional("torchaudio", "the audio modality")

LOG_EPS = 1e-6


def dft_basis(n_fft: int, win_length: int) -> torch.Tensor:
    """(2 * (n_fft//2 + 1), 1, n_fft): windowed cos rows, then -sin rows."""
    window = torch.zeros(n_fft, dtype=torch.float64)
    left = (n_fft - win_length) // 2
    window[left : left + win_length] = torch.hann_window(win_length, dtype=torch.float64)
    k = torch.arange(n_fft // 2 + 1)[:, None]
    n = torch.arange(n_fft)[None]
    angle = 2 * math.pi * ((k * n) % n_fft).double() / n_fft
    basis = torch.cat([torch.cos(angle) * window, -torch.sin(angle) * window])
    return basis.float().unsqueeze(1)


class LogMelFrontEnd(nn.Module):
    """(B, samples) waveform -> (B, 1, n_mels, samples // hop) standardised log-mel.

    A 4-D input is taken to be this front end's output already (the augmented views the
    modality makes from it) and passes through unchanged.
    """

    def __init__(
        self,
        sample_rate: int,
        n_fft: int,
        win_length: int,
        hop_length: int,
        n_mels: int,
        f_min: float,
        f_max: float,
        mean: float = 0.0,
        std: float = 1.0,
    ) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop_length
        self.register_buffer("basis", dft_basis(n_fft, win_length), persistent=False)
        fbank = torchaudio.functional.melscale_fbanks(
            n_fft // 2 + 1, f_min, f_max, n_mels, sample_rate
        )
        self.register_buffer("fbank", fbank.T.contiguous(), persistent=False)  # (n_mels, bins)
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        """Unstandardised log-mel power, (B, n_mels, frames)."""
        frames = wave.shape[-1] // self.hop
        padded = F.pad(wave.float()[:, None], (self.n_fft // 2, self.n_fft // 2), mode="reflect")
        spec = F.conv1d(padded, self.basis, stride=self.hop)[..., :frames]
        real, imag = spec.chunk(2, dim=1)
        power = real.square() + imag.square()  # (B, bins, frames)
        return torch.log(torch.matmul(self.fbank, power) + LOG_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            return x
        return ((self.log_mel(x) - self.mean) / self.std).unsqueeze(1)
