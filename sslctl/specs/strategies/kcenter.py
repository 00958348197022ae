"""`kcenter`: k-center greedy (Sener & Savarese 2018), each pick the point farthest from
those chosen."""

from sslctl.specs.strategies import STRATEGIES, Strategy

STRATEGIES.register("kcenter")(Strategy("sslctl.selection.kcenter:select", order=10))
