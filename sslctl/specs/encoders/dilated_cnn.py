"""`dilated_cnn`: TS2Vec's dilated convolutional encoder."""

from sslctl.specs.encoders import ENCODERS, OwnEncoder

ENCODERS.register("dilated_cnn")(
    OwnEncoder("timeseries", "sslctl.encoders.dilated_cnn:build", order=20)
)
