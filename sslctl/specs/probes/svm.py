"""`svm`: tS2Vec's RBF-SVM protocol: top-1 % and the chosen C."""

from sslctl.specs.probes import PROBES, ProbeProtocol

PROBES.register("svm")(ProbeProtocol("sslctl.eval.svm:svm_protocol", order=40))
