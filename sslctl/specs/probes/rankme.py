"""`rankme`: rankMe of the training embeddings (label-free)."""

from sslctl.specs.probes import PROBES, ProbeProtocol

PROBES.register("rankme")(ProbeProtocol("sslctl.eval.rankme:rankme_protocol", order=30))
