"""`gin` and `gcn`: graph encoders in plain torch (GIN, Xu et al. 2019; GCN, Kipf & Welling
2017)."""

from sslctl.specs.encoders import ENCODERS, OwnEncoder

ENCODERS.register("gin")(OwnEncoder("graph", "sslctl.encoders.gnn:build_gin", order=50))
ENCODERS.register("gcn")(OwnEncoder("graph", "sslctl.encoders.gnn:build_gcn", order=60))
