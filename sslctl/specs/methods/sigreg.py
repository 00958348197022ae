"""The recipe field that adds SIGReg (`sslctl/methods/sigreg.py`) to a method, and SIGReg's
slice count, torch-free."""

from __future__ import annotations

from pydantic import Field

from sslctl.specs import Strict

SLICES = 256


class SIGRegOption(Strict):
    """The recipe field that adds SIGReg to a joint-embedding method's own loss."""

    sigreg: float = Field(
        0.0,
        ge=0,
        le=100,
        description="Weight of SIGReg (LeJEPA's Gaussian regulariser) on each view's "
        "projections, added to the method's loss; 0: off.",
    )
