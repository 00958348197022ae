"""timm backbones, always randomly initialised or loaded from a local file (never the hub).

timm is imported where a backbone is built, not at module import: it pulls in torchvision and
torch._dynamo (2.5 s on a 2-core CPU), which every command on an audio-CNN, series or graph run
would otherwise pay."""

from __future__ import annotations

from pathlib import Path

import torch

from sslctl.encoders.base import Encoder, Normalize
from sslctl.errors import UserError

# Keyword arguments a recipe may pass to timm.create_model: the architecture's shape and
# regularisation. Anything else is refused, because timm also takes keywords that load files
# or reach the hub (pretrained, checkpoint_path, pretrained_cfg, pretrained_cfg_overlay, ...),
# and a recipe is data: it must not make sslctl read an arbitrary pickle or download.
TIMM_KWARGS = frozenset(
    {
        "patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio", "qkv_bias", "qk_norm",
        "init_values", "class_token", "no_embed_class", "reg_tokens", "global_pool", "fc_norm",
        "drop_rate", "drop_path_rate", "attn_drop_rate", "proj_drop_rate", "pos_drop_rate",
        "patch_drop_rate", "dynamic_img_size", "dynamic_img_pad", "pos_embed", "layers",
        "channels", "stem_type", "stem_width", "output_stride", "width_factor",
    }
)  # fmt: skip


def _check_kwargs(kwargs: dict) -> None:
    for key, value in kwargs.items():
        if key not in TIMM_KWARGS:
            allowed = ", ".join(sorted(TIMM_KWARGS))
            raise UserError(f"encoder.kwargs.{key}: not passed to timm (allowed: {allowed})")
        plain = (bool, int, float, str)
        if not (
            isinstance(value, plain)
            or (isinstance(value, list | tuple) and all(isinstance(v, plain) for v in value))
        ):
            raise UserError(f"encoder.kwargs.{key}: must be a number, string or list of them")


def create_timm_backbone(
    name: str, in_chans: int, img_size: int | tuple[int, int], kwargs: dict | None = None
) -> torch.nn.Module:
    """A headless timm model (num_classes=0) for `in_chans` x `img_size` inputs."""
    import timm

    _check_kwargs(kwargs or {})
    base = dict(pretrained=False, num_classes=0, in_chans=in_chans, **(kwargs or {}))
    try:
        try:
            return timm.create_model(name, img_size=img_size, **base)
        except TypeError:  # CNNs take no img_size
            return timm.create_model(name, **base)
    except (RuntimeError, ValueError, AssertionError, TypeError) as exc:
        raise UserError(
            f"encoder: cannot build {name} for {in_chans}x{img_size} inputs: {exc}"
        ) from None


def load_weights(module: torch.nn.Module, path: str) -> None:
    """Initialise from a local .safetensors or .pt state dict; missing files are user errors."""
    file = Path(path)
    if not file.is_file():
        raise UserError(f"encoder.weights: file not found: {file}")
    if file.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(file))
        except Exception as exc:  # noqa: BLE001 - SafetensorError and friends: a bad file
            raise UserError(
                f"encoder.weights: {file} is not readable safetensors ({exc})"
            ) from None
    else:
        from sslctl.io.weights import safe_torch_load

        state = safe_torch_load(file, "state dict")
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise UserError(f"encoder.weights: {file} is not a state dict of tensors")
    missing, unexpected = module.load_state_dict(state, strict=False)
    if unexpected or len(missing) == len(list(module.state_dict())):
        raise UserError(f"encoder.weights: {file} does not match the encoder's parameters")


def build_timm_encoder(
    name: str,
    in_chans: int,
    img_size: int,
    mean: list[float],
    std: list[float],
    kwargs: dict | None = None,
    weights: str | None = None,
) -> Encoder:
    backbone = create_timm_backbone(name, in_chans, img_size, kwargs)
    if weights:
        load_weights(backbone, weights)
    return Encoder(Normalize(mean, std), backbone, int(backbone.num_features))
