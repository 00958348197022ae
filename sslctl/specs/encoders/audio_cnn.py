"""`audio_cnn`: BYOL-A's AudioNTT2020 (and v2's AudioNTT2022) on log-mel spectrograms."""

from sslctl.specs.encoders import ENCODERS, OwnEncoder

ENCODERS.register("audio_cnn")(OwnEncoder("audio", "sslctl.encoders.audio_cnn:build", order=10))
