"""Training output: metrics.jsonl always; a rich progress bar on a terminal, JSON lines on stderr
otherwise; nothing with --quiet. Human output never goes to stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

stderr = Console(stderr=True)


# keys of a metrics line that are its coordinates, not values to plot
COORDINATES = ("step", "epoch")
# the keys train.eval_every's online evaluation adds to a line (engine/online_eval.py)
EVAL_KEYS = ("knn_top1", "rankme", "emb_std", "eval_s")


def tensorboard_writer(folder: Path, start: int):
    """A SummaryWriter on `folder` that drops events logged after `start` by an earlier
    attempt (a resumed run writes those steps again)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        from sslctl.errors import UserError

        raise UserError(
            "train.tensorboard: needs the tensorboard package; pip install 'sslctl[tensorboard]' "
            "or set train.tensorboard: false"
        ) from None
    return SummaryWriter(str(folder), purge_step=start or None)


class TrainLog:
    def __init__(
        self,
        metrics_path: Path | None,
        total: int,
        start: int,
        quiet: bool,
        tensorboard: Path | None = None,
    ) -> None:
        self.tb = tensorboard_writer(tensorboard, start) if tensorboard else None
        self.file = metrics_path.open("a") if metrics_path else None
        self.quiet = quiet
        self.bar = None
        self.last_eval = ""
        if not quiet and stderr.is_terminal:
            self.bar = Progress(
                TextColumn("[bold]step {task.completed}/{task.total}"),
                BarColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=stderr,
            )
            self.task = self.bar.add_task("train", total=total, completed=start, info="")
            self.bar.start()

    def log(self, record: dict) -> None:
        line = json.dumps(record)
        if self.file:
            self.file.write(line + "\n")
            self.file.flush()
        if self.tb is not None:
            self._to_tensorboard(record)
        if self.bar is not None:
            info = f"loss {record['loss']:.4f} lr {record['lr']:.2e} {record['throughput']:.0f}/s"
            if "rankme" in record:  # the latest online evaluation stays on the bar (one encoder)
                knn = f"kNN {record['knn_top1']:.1f} " if "knn_top1" in record else ""
                self.last_eval = f" {knn}RankMe {record['rankme']:.1f}"
            self.bar.update(self.task, completed=record["step"], info=info + self.last_eval)
        elif not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def _to_tensorboard(self, record: dict) -> None:
        """Every value of the line as a scalar at its step: online evaluation under eval/,
        the rest (loss, method terms, lr, wd, momentum, throughput, grad_norm) under train/."""
        for key, value in record.items():
            if key not in COORDINATES:
                group = "eval" if key.rsplit("/", 1)[-1] in EVAL_KEYS else "train"
                self.tb.add_scalar(f"{group}/{key}", value, record["step"])
        self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
        if self.bar is not None:
            self.bar.stop()
        if self.file:
            self.file.close()


@contextmanager
def progress(label: str, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """`update(done, total)` for long work outside training (pack): a bar on a terminal,
    nothing when piped or quiet."""
    if quiet or not stderr.is_terminal:
        yield lambda done, total: None
        return
    bar = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
    )
    task = bar.add_task(label, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)
