"""Encoders: the timm wrapper and sslctl's own backbones, each declared (name, modality, the
function that builds it) torch-free in `sslctl/specs/encoders/`."""
