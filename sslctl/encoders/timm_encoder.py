"""timm backbones, always randomly initialised or loaded from a local file (never the hub).

timm is imported where a backbone is built, not at module import: it pulls in torchvision and
torch._dynamo (2.5 s on a 2-core CPU), which every command on an audio-CNN, series or graph run
would otherwise pay."""

from __future__ import annotations

from pathlib import Path

import torch

from sslctl.encoders.base import Encoder, Features, Normalize, PatchLayout, PatchTokens
from sslctl.encoders.positions import grid_sinusoid
from sslctl.errors import UserError
from sslctl.io.weights import read_state_dict

# Keyword arguments a recipe may pass to timm.create_model: the architecture's shape and
# regularisation. Anything else is refused, because timm also takes keywords that load files
# or reach the hub (pretrained, checkpoint_path, pretrained_cfg, pretrained_cfg_overlay, ...),
# and a recipe is data: it must not make sslctl read an arbitrary pickle or download.
TIMM_KWARGS = frozenset(
    {
        "patch_size",
        "embed_dim",
        "depth",
        "num_heads",
        "mlp_ratio",
        "qkv_bias",
        "qk_norm",
        "init_values",
        "class_token",
        "no_embed_class",
        "reg_tokens",
        "global_pool",
        "fc_norm",
        "drop_rate",
        "drop_path_rate",
        "attn_drop_rate",
        "proj_drop_rate",
        "pos_drop_rate",
        "patch_drop_rate",
        "dynamic_img_size",
        "dynamic_img_pad",
        "pos_embed",
        "layers",
        "channels",
        "stem_type",
        "stem_width",
        "output_stride",
        "width_factor",
    }
)


def _check_kwargs(kwargs: dict, field: str) -> None:
    for key, value in kwargs.items():
        if key not in TIMM_KWARGS:
            allowed = ", ".join(sorted(TIMM_KWARGS))
            raise UserError(f"{field}.kwargs.{key}: not passed to timm (allowed: {allowed})")
        plain = (bool, int, float, str)
        if not (
            isinstance(value, plain)
            or (isinstance(value, list | tuple) and all(isinstance(v, plain) for v in value))
        ):
            raise UserError(f"{field}.kwargs.{key}: must be a number, string or list of them")


def create_timm_backbone(
    name: str,
    in_chans: int,
    img_size: int | tuple[int, int],
    kwargs: dict | None = None,
    field: str = "encoder",
) -> torch.nn.Module:
    """A headless timm model (num_classes=0) for `in_chans` x `img_size` inputs; `field` is
    the recipe section errors name."""
    import timm

    _check_kwargs(kwargs or {}, field)
    base = dict(pretrained=False, num_classes=0, in_chans=in_chans, **(kwargs or {}))
    try:
        try:
            return timm.create_model(name, img_size=img_size, **base)
        except TypeError:  # CNNs take no img_size
            return timm.create_model(name, **base)
    except (RuntimeError, ValueError, AssertionError, TypeError) as exc:
        raise UserError(
            f"{field}: cannot build {name} for {in_chans}x{img_size} inputs: {exc}"
        ) from None


def load_weights(module: torch.nn.Module, path: str) -> None:
    """Initialise a timm backbone from a local file: sslctl's own encoder.safetensors (its
    `backbone.` weights), or a checkpoint in timm's layout (.safetensors or a .pt/.pth state
    dict), classifier keys dropped by name; anything else names its first mismatching keys."""
    file = Path(path)
    state, _ = read_state_dict(file, "encoder.weights")
    if any(k.startswith("backbone.") for k in state):
        state = {
            k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")
        }
    load_timm_state(module, state, file, "encoder.weights")


class TimmEncoder(Encoder):
    """An encoder on a timm backbone, which also gives its last feature map as tokens: a
    CNN's (C, h, w) map, or a ViT's patch tokens without the class/register tokens, after the
    final norm (`forward_intermediates`, timm 1.0's one API for both)."""

    def __init__(self, normalize: torch.nn.Module, backbone: torch.nn.Module) -> None:
        super().__init__(normalize, backbone, int(backbone.num_features))
        self.gives_tokens = callable(getattr(backbone, "forward_intermediates", None))
        self.token_dim = int(backbone.num_features) if self.gives_tokens else None

    def features(self, x: torch.Tensor) -> Features:
        if not self.gives_tokens:
            return Features(self(x))
        final, (fmap,) = self.backbone.forward_intermediates(
            self.normalize(x), indices=1, norm=True, output_fmt="NCHW"
        )
        pooled = self.backbone.forward_head(final, pre_logits=True)
        grid = (int(fmap.shape[-2]), int(fmap.shape[-1]))
        prefix = int(getattr(self.backbone, "num_prefix_tokens", 0))
        cls = final[:, 0] if final.dim() == 3 and prefix > 0 else None
        return Features(pooled, fmap.flatten(2).transpose(1, 2), grid, cls)

    @property
    def patch_layout(self) -> PatchLayout | None:
        """A plain ViT's: patches embedded by `patch_embed` on a fixed grid, a learned position
        table, then `blocks` and `norm` (timm's VisionTransformer and its relatives); None
        for any other timm model."""
        bb = self.backbone
        parts = ("patch_embed", "pos_embed", "blocks", "norm", "num_prefix_tokens")
        plain = all(hasattr(bb, a) for a in parts) and bb.pos_embed is not None
        if not plain or getattr(bb, "dynamic_img_size", False):
            return None
        embed = bb.patch_embed
        pixels = (int(embed.patch_size[0]), int(embed.patch_size[1]))
        grid = (int(embed.grid_size[0]), int(embed.grid_size[1]))
        channels = int(embed.proj.in_channels)
        return PatchLayout(self.embed_dim, grid, pixels, int(bb.num_prefix_tokens), channels)

    @property
    def mean_pooled(self) -> bool:
        return getattr(self.backbone, "global_pool", "avg") == "avg"

    def patch_tokens(self, x: torch.Tensor) -> PatchTokens:
        bb = self.backbone
        tokens = bb.patch_embed(self.normalize(x))
        tokens = tokens + bb.pos_embed[:, -tokens.shape[1] :]  # prefix entries come first
        return PatchTokens(tokens, tuple(bb.patch_embed.grid_size))

    def encode_tokens(
        self, tokens: torch.Tensor, valid: torch.Tensor | None, keep_prefix: bool = False
    ) -> torch.Tensor:
        """The class and register tokens (with their position entries, where the table has
        them) go first, as in timm's `_pos_embed`."""
        bb = self.backbone
        prefix = [t for t in (bb.cls_token, getattr(bb, "reg_token", None)) if t is not None]
        if prefix:
            head = torch.cat(prefix, dim=1)
            if not bb.no_embed_class:
                head = head + bb.pos_embed[:, : head.shape[1]]
            tokens = torch.cat([head.expand(len(tokens), -1, -1), tokens], dim=1)
        h = bb.norm_pre(tokens)
        for block in bb.blocks:
            h = block(h)
        return bb.norm(h) if keep_prefix else bb.norm(h)[:, bb.num_prefix_tokens :]

    def fix_patch_positions(self) -> None:
        pos, layout = self.backbone.pos_embed, self.patch_layout
        if not isinstance(pos, torch.nn.Parameter) or layout is None:
            return
        rows, cols = layout.grid
        with torch.no_grad():
            pos[:, -rows * cols :] = grid_sinusoid(layout.grid, pos.shape[-1], pos.device)
        pos.requires_grad_(False)


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
    return TimmEncoder(Normalize(mean, std), backbone)


def load_timm_state(
    backbone: torch.nn.Module, state: dict[str, torch.Tensor], file: Path, field: str
) -> None:
    """Load a state dict in timm's own key layout strictly, so a file meant for another model
    or input is refused with its first mismatching keys instead of half-loading. Classifier
    weights (the model is built head-less) and BatchNorm step counters are not required."""
    heads = backbone.pretrained_cfg.get("classifier") or ()
    heads = (heads,) if isinstance(heads, str) else tuple(heads)
    state = {k: v for k, v in state.items() if not k.startswith(tuple(f"{h}." for h in heads))}
    own = backbone.state_dict()
    problems = []  # in the model's own order: the first named is the first that differs
    for k, v in own.items():
        if k not in state and "num_batches_tracked" not in k:
            problems.append(f"{k} missing")
        elif k in state and state[k].shape != v.shape:
            problems.append(f"{k} is {tuple(state[k].shape)} in the file, {tuple(v.shape)} here")
    problems += [f"{k} unexpected" for k in state if k not in own]
    if problems:
        shown = "; ".join(problems[:3]) + (
            f"; ... {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        raise UserError(f"{field}: {file} does not fit this model: {shown}")
    bad = next(
        (k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all()), None
    )
    if bad is not None:
        raise UserError(f"{field}: {file} holds NaN or infinite values ({bad})")
    backbone.load_state_dict(state, strict=False)
