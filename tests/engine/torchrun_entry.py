"""`sslctl ARGS` as torchrun starts it in the distributed tests, with test hooks set by
environment variables (each rank runs this file):

- SSLCTL_TEST_IDENTITY_VIEWS: the two image views are the images and their mirror images, so
  N ranks with batch B and one process with batch N*B see the same views (augmentations draw
  per-rank randomness);
- SSLCTL_TEST_TRACE=PATH: each rank appends the sample rows it decodes to PATH.RANK;
- SSLCTL_TEST_KILL=RANK:STEP: on the group's first attempt, that rank SIGKILLs itself when
  it starts that step.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def _hooks() -> None:
    if os.environ.get("SSLCTL_TEST_IDENTITY_VIEWS"):
        from sslctl.modalities.image import modality as image

        calls = []

        def fixed_views(x, size, params):  # the images, then their mirror images
            calls.append(1)
            return x if len(calls) % 2 else x.flip(-1)

        image.augment = fixed_views
    if os.environ.get("SSLCTL_TEST_TRACE"):
        from sslctl.sources import stream

        decode = stream.DecodeBatches.__getitem__

        def traced(self, request):
            rows = [int(self.samples.rows[p]) for p in request.positions]
            path = f"{os.environ['SSLCTL_TEST_TRACE']}.{os.environ['RANK']}"
            with open(path, "a") as fh:
                fh.write(json.dumps([request.epoch, rows]) + "\n")
            return decode(self, request)

        stream.DecodeBatches.__getitem__ = traced
    kill = os.environ.get("SSLCTL_TEST_KILL")
    if kill and os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0":
        rank, step = map(int, kill.split(":"))
        from sslctl.engine import trainer

        schedule = trainer.set_schedule
        calls = []

        def set_schedule(*args):
            calls.append(1)
            if int(os.environ["RANK"]) == rank and len(calls) == step + 1:
                os.kill(os.getpid(), signal.SIGKILL)
            return schedule(*args)

        trainer.set_schedule = set_schedule


if __name__ == "__main__":
    _hooks()
    from sslctl.cli import main

    sys.argv = ["sslctl", *sys.argv[1:]]
    main()
