"""`knn`: weighted kNN top-1 % (k and temperature from the run's probe section)."""

from sslctl.specs.probes import PROBES, ProbeProtocol

PROBES.register("knn")(ProbeProtocol("sslctl.eval.knn:knn_protocol", order=10))
