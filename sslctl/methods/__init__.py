"""Method registry: recipe `method.name` -> class. A new method is one file plus one line here."""

from __future__ import annotations

from sslctl.encoders.base import Encoder
from sslctl.errors import UserError
from sslctl.methods.barlow import BarlowTwins
from sslctl.methods.base import Method
from sslctl.methods.byol import BYOL
from sslctl.methods.dino import DINO
from sslctl.methods.distill import Distill
from sslctl.methods.graphcl import GraphCL
from sslctl.methods.graphmae import GraphMAE
from sslctl.methods.mae import MAE
from sslctl.methods.masked_series import MaskedSeries
from sslctl.methods.simclr import SimCLR
from sslctl.methods.ts2vec import TS2Vec
from sslctl.methods.vicreg import VICReg

METHODS = {
    "simclr": SimCLR,
    "byol": BYOL,
    "barlow": BarlowTwins,
    "vicreg": VICReg,
    "dino": DINO,
    "mae": MAE,
    "ts2vec": TS2Vec,
    "masked_series": MaskedSeries,
    "graphmae": GraphMAE,
    "graphcl": GraphCL,
}


def build_method(spec, encoder: Encoder, teacher: Encoder | None = None) -> Method:
    if spec.name == "distill":
        if teacher is None:
            raise UserError("teacher.run: method 'distill' needs a teacher run directory")
        return Distill(encoder, spec, teacher)
    return METHODS[spec.name](encoder, spec)
