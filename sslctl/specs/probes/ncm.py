"""`ncm`: nearest-class-mean top-1 %, cosine to each class's mean embedding."""

from sslctl.specs.probes import PROBES, ProbeProtocol

PROBES.register("ncm")(ProbeProtocol("sslctl.eval.ncm:ncm_protocol", order=50))
