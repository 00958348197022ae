"""`random`: a uniform random subset, the baseline every other strategy should beat."""

from sslctl.specs.strategies import STRATEGIES, Strategy

STRATEGIES.register("random")(Strategy("sslctl.selection.uniform:select", order=40))
