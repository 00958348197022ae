"""`linear`: linear probe top-1 % and the L2 penalty cross-validation chose."""

from sslctl.specs.probes import PROBES, ProbeProtocol

PROBES.register("linear")(ProbeProtocol("sslctl.eval.linear:linear_protocol", order=20))
