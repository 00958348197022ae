"""k-means++ seeding declared as a coreset strategy, torch-free (its code: kmeanspp.py)."""

from sslctl.specs.strategies import STRATEGIES, Strategy

STRATEGIES.register("kmeanspp")(Strategy("sslctl_demo_plugin.kmeanspp:select"))
