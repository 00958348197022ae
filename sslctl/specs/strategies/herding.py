"""`herding` (Welling 2009; iCaRL's exemplar selection): samples whose running mean best
tracks the pool's mean."""

from sslctl.specs.strategies import STRATEGIES, Strategy

STRATEGIES.register("herding")(Strategy("sslctl.selection.herding:select", order=30))
