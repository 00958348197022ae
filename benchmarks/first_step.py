"""`sslctl pretrain ARGS`, recording when the first training batch is ready and when the first
step is logged (seconds since this process started) into the JSON file named by $FIRST_STEP;
with $STOP_AFTER_FIRST set, it stops there. Used by data_scale.py."""

from __future__ import annotations

import json
import os
import sys
import time

START = time.perf_counter()
marks: dict[str, float] = {}


def _mark(name: str) -> None:
    marks.setdefault(name, time.perf_counter() - START)
    with open(os.environ["FIRST_STEP"], "w") as fh:
        json.dump(marks, fh)


def main() -> None:
    from sslctl.engine.logging import TrainLog
    from sslctl.modalities.base import Samples, StreamedSamples

    def timed(inputs):
        def timed_inputs(*args, **kwargs):
            for i, batch in enumerate(inputs(*args, **kwargs)):
                if i == 0:
                    _mark("first_batch_s")
                yield batch

        return timed_inputs

    for kind in (Samples, StreamedSamples):  # held in memory or streamed: the source decides
        kind.train_inputs = timed(kind.train_inputs)
    log = TrainLog.log

    def timed_log(self, record):
        _mark("first_step_s")
        if os.environ.get("STOP_AFTER_FIRST"):
            os._exit(0)
        log(self, record)

    TrainLog.log = timed_log
    from sslctl.cli import main as cli

    sys.argv = ["sslctl", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
