"""`encoder.weights` takes the files users have: sslctl's own encoder.safetensors and timm
checkpoints with their classifier (dropped by name); any other file is refused naming its
first mismatching keys, before anything is written."""

from __future__ import annotations

import pytest
import timm
import torch

from sslctl.errors import UserError
from sslctl.io.weights import save_weights
from sslctl.modalities.image.modality import ImageModality
from sslctl.specs.encoder import EncoderSpec

SPEC = {"modality": "image", "channels": 3, "image_size": 16, "mean": [0.5] * 3, "std": [0.25] * 3}


def _build(**encoder) -> torch.nn.Module:
    return ImageModality(SPEC).build_encoder(EncoderSpec(**encoder))


def test_sslctl_encoder_file_and_timm_checkpoint_load(tmp_path):
    torch.manual_seed(0)
    source = _build(name="resnet10t")
    save_weights(tmp_path / "encoder.safetensors", source)
    again = _build(name="resnet10t", weights=str(tmp_path / "encoder.safetensors"))
    for (k, v), w in zip(source.state_dict().items(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(w, v, msg=k)
    classifier = timm.create_model("resnet10t", num_classes=7)  # a fine-tuned checkpoint
    torch.save(classifier.state_dict(), tmp_path / "ft.pth")
    loaded = _build(name="resnet10t", weights=str(tmp_path / "ft.pth"))
    torch.testing.assert_close(loaded.backbone.conv1[0].weight, classifier.conv1[0].weight)


def test_a_file_for_another_model_names_its_first_mismatching_keys(tmp_path):
    torch.save(timm.create_model("resnet18").state_dict(), tmp_path / "r18.pth")
    with pytest.raises(UserError) as exc:
        _build(name="resnet10t", weights=str(tmp_path / "r18.pth"))
    message = str(exc.value)
    assert message.startswith(f"encoder.weights: {tmp_path / 'r18.pth'} does not fit this model:")
    assert "conv1.0.weight missing" in message and "\n" not in message
