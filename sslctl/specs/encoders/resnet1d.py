"""`resnet1d`: the 1-D ResNet of Wang et al. 2017."""

from sslctl.specs.encoders import ENCODERS, OwnEncoder

ENCODERS.register("resnet1d")(OwnEncoder("timeseries", "sslctl.encoders.resnet1d:build", order=30))
