"""Probe protocol registry: `probe.protocols` and `--protocol` names -> a `ProbeProtocol`,
declared torch-free in `sslctl/specs/probes/NAME.py`, whose `code` names the function in
`sslctl/eval/NAME.py` from the frozen features of a labelled train/test split (`ProbeData`)
to the result keys it adds. Plugins add theirs through the `sslctl.probes` entry-point group."""

from __future__ import annotations

from dataclasses import dataclass

from sslctl.registry import Registry
from sslctl.specs import PLUGIN_ORDER


@dataclass(frozen=True)
class ProbeProtocol:
    """`code`: "module:function" of the protocol; `order`: its place in listings."""

    code: str
    order: int = PLUGIN_ORDER


PROBES: Registry[ProbeProtocol] = Registry("probe protocol", "sslctl.probes", "sslctl.specs.probes")
# what a probe runs when the recipe does not say (`probe.protocols`) and what `--protocol all`
# means: the label-based and label-free protocols that suit any set size (svm does not)
DEFAULT_PROTOCOLS = ("knn", "linear", "rankme")
