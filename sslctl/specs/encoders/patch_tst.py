"""`patch_tst`: a small channel-independent patch transformer (PatchTST)."""

from sslctl.specs.encoders import ENCODERS, OwnEncoder

ENCODERS.register("patch_tst")(
    OwnEncoder("timeseries", "sslctl.encoders.patch_tst:build", order=40)
)
