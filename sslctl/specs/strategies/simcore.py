"""`simcore`: SimCore-style selection (Kim et al. 2023), the pool samples nearest to a target
set (`--target`)."""

from sslctl.specs.strategies import STRATEGIES, Strategy

STRATEGIES.register("simcore")(
    Strategy("sslctl.selection.simcore:select", needs_target=True, order=20)
)
