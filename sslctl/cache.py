"""Where sslctl keeps what it makes once and reuses (built-in audio and superpixel sets):
$SSLCTL_CACHE, else $XDG_CACHE_HOME/sslctl, else ~/.cache/sslctl."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    if "SSLCTL_CACHE" in os.environ:
        return Path(os.environ["SSLCTL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sslctl"
