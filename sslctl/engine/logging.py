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


class TrainLog:
    def __init__(self, metrics_path: Path | None, total: int, start: int, quiet: bool) -> None:
        self.file = metrics_path.open("a") if metrics_path else None
        self.quiet = quiet
        self.bar = None
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
        if self.bar is not None:
            info = f"loss {record['loss']:.4f} lr {record['lr']:.2e} {record['throughput']:.0f}/s"
            self.bar.update(self.task, completed=record["step"], info=info)
        elif not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
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
