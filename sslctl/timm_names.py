"""timm's model names without importing timm, which imports torch: `sslctl recipe validate`
and `--help` check an `encoder.name` or `teacher.timm` in a few milliseconds instead of the
seconds torch takes to load.

timm registers each architecture with `@register_model` on a function of the same name, and
keeps old names through `register_model_deprecations(__name__, {old: new})`; reading its
model files for both finds every name `timm.list_models()` gives. A name the reading misses is
still asked of timm itself, so the fast path can only be faster, never stricter."""

from __future__ import annotations

import re
from functools import cache
from importlib.util import find_spec
from pathlib import Path

_REGISTERED = re.compile(r"^@register_model\s*\ndef (\w+)\(", re.M)
_DEPRECATED = re.compile(r"register_model_deprecations\(\s*__name__\s*,\s*\{(.*?)\}\s*\)", re.S)
_OLD_NAME = re.compile(r"""['"](\w+)['"]\s*:""")


@cache
def timm_model_names() -> frozenset[str]:
    """Every architecture name timm's installed model files register (deprecated ones
    included); empty when timm is not installed."""
    spec = find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    names: set[str] = set()
    for path in (Path(spec.submodule_search_locations[0]) / "models").glob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        names.update(_REGISTERED.findall(text))
        for block in _DEPRECATED.findall(text):
            names.update(_OLD_NAME.findall(block))
    return frozenset(names)


def is_timm_model(name: str) -> bool:
    """timm.is_model(name) (a pretrained tag after '.' ignored), without importing timm
    unless its files do not name it."""
    if name.split(".", 1)[0] in timm_model_names():
        return True
    import timm

    return timm.is_model(name)
