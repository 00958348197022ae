"""Coreset strategy registry: `--strategy` names -> a `Strategy`, declared torch-free in
`sslctl/specs/strategies/NAME.py`, whose `code` names the selection function in
`sslctl/selection/NAME.py`: `select(pool, budget, seed, target)`, with pool (N, D) and
target (M, D) embeddings on the device (target None unless `needs_target`), returning the
chosen pool indices in selection order. Plugins add theirs through the `sslctl.strategies`
entry-point group."""

from __future__ import annotations

from dataclasses import dataclass

from sslctl.registry import Registry
from sslctl.specs import PLUGIN_ORDER


@dataclass(frozen=True)
class Strategy:
    """`code`: "module:function" of the selection; `needs_target`: `--target` is required;
    `order`: its place in listings."""

    code: str
    needs_target: bool = False
    order: int = PLUGIN_ORDER


STRATEGIES: Registry[Strategy] = Registry(
    "coreset strategy", "sslctl.strategies", "sslctl.specs.strategies"
)
