"""The sslctl command line: one thin function per subcommand (parse, load, call the job, print).

Exit codes: 0 ok; 2 bad usage, recipe or data (one line naming the field or file); 1 any other
failure; 130 interrupted after a checkpoint. Machine-readable output goes to stdout, everything
meant for people goes to stderr.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from sslctl.cli_recipe import RecipeArg, SetOpt, recipe_app
from sslctl.cli_text import UNITS_HINT, command
from sslctl.errors import Interrupted, NonFiniteLoss, UserError, one_line
from sslctl.modalities import MODALITIES
from sslctl.specs.probes import DEFAULT_PROTOCOLS, PROBES
from sslctl.specs.strategies import STRATEGIES
from sslctl.specs.teachers import teacher_kinds

app = typer.Typer(
    help="Self-supervised learning from the command line: pretrain an encoder on unlabeled "
    "data, probe it, distill it, pick coresets with it and export it.\n\n"
    "Quick start: sslctl pretrain recipes/image/simclr.yaml && sslctl probe runs/simclr-digits"
    f"\n\n{UNITS_HINT}; every recipe field: sslctl recipe schema",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(recipe_app, name="recipe")


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


def _choices(name: str, values: list[str]) -> type[StrEnum]:
    """A Typer choice type from a registry's names (plugins included), for --help and errors."""
    return StrEnum(name, {value: value for value in values})


Protocol = _choices("Protocol", [*PROBES.names(), "all"])
Strategy = _choices("Strategy", STRATEGIES.names())


ModalityName = _choices("ModalityName", MODALITIES.names())


class Format(StrEnum):
    onnx = "onnx"
    safetensors = "safetensors"
    timm = "timm"


RunArg = Annotated[Path, typer.Argument(metavar="RUN", help="Run directory.")]
DeviceOpt = Annotated[Device, typer.Option(help="Where to run; auto picks cuda when present.")]


def _err(message: str) -> None:
    print(f"error: {one_line(message)}", file=sys.stderr)


def _device(name: str):
    from sslctl.io.device import pick_device

    return pick_device(name)


def _train(
    recipe_path: Path, out, overrides, resume: bool, device: Device, quiet: bool, distill: bool
):
    from sslctl.recipe import load_recipe

    recipe = load_recipe(recipe_path, overrides)
    if distill:
        from sslctl.jobs.distill import distill as job

        run_dir = job(recipe, out, resume, device.value, quiet, str(recipe_path))
    else:
        from sslctl.jobs.pretrain import pretrain

        run_dir = pretrain(recipe, out, resume, device.value, quiet)
    if not _main_process():  # under torchrun every rank runs this; one answer is printed
        return
    runs = [run_dir / s.name for s in recipe.students] if recipe.students else [run_dir]
    if not quiet:
        print(f"run written to {', '.join(map(str, runs))}", file=sys.stderr)
        print(_next_steps(runs[0]), file=sys.stderr)
    print("\n".join(map(str, runs)))


def _next_steps(run: Path) -> str:
    """What to do with a finished run: judge it, ship it, or load its encoder in Python."""
    return (
        f"next: sslctl probe {run}  |  sslctl export {run} --format onnx  |  in Python: "
        f"from sslctl.rundir import load_run; encoder = load_run({str(run)!r}).encoder"
    )


def _main_process() -> bool:
    """Rank 0 of a torchrun job, or a process on its own (torchrun sets RANK)."""
    return os.environ.get("RANK", "0") == "0"


@command(
    app,
    "sslctl pretrain recipes/image/simclr.yaml --set train.epochs=2 --out runs/demo",
    units=True,
)
def pretrain(
    recipe: RecipeArg,
    out: Annotated[str | None, typer.Option(help="Run directory; default runs/<name>.")] = None,
    set_: SetOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoints/last.pt.")] = False,
    device: DeviceOpt = Device.auto,
    quiet: Annotated[bool, typer.Option(help="No progress output.")] = False,
):
    """Learn an encoder from unlabeled data; prints the run directory on stdout.

    `--set train.epochs=0` writes the randomly initialised encoder: the baseline for probes.
    """
    _train(recipe, out, set_ or [], resume, device, quiet, distill=False)


@command(
    app,
    "sslctl distill recipes/image/fashion-mnist/distill.yaml --set teacher.run=runs/demo",
    units=True,
)
def distill(
    recipe: Annotated[
        Path,
        typer.Argument(
            metavar="RECIPE",
            help=f"Recipe with method distill and a teacher ({teacher_kinds()}).",
        ),
    ],
    out: Annotated[str | None, typer.Option(help="Run directory; default runs/<name>.")] = None,
    set_: SetOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoints/last.pt.")] = False,
    device: DeviceOpt = Device.auto,
    quiet: Annotated[bool, typer.Option(help="No progress output.")] = False,
):
    """Compress a frozen teacher into the recipe's student(s), without labels.

    The teacher is a run, a local timm weights file, an ONNX file or a random init; the loss
    is chosen and weighted in `method.losses` (cosine, LightlyTrain v3's queue_kl and
    token_kl, v2's token_mse). With `students:` the teacher runs once per batch for all of
    them and each is written as OUT/NAME; their run directories are printed on stdout.
    """
    _train(recipe, out, set_ or [], resume, device, quiet, distill=True)


@command(app, "sslctl probe runs/demo --json")
def probe(
    run: RunArg,
    data: Annotated[
        str | None,
        typer.Option(
            help="Labelled data source; builtin:NAME uses its train/test splits, else 80/20."
        ),
    ] = None,
    protocol: Annotated[
        Protocol | None,
        typer.Option(
            help=f"Which probe to run; all: {', '.join(DEFAULT_PROTOCOLS)}; default: the run's "
            "recipe (probe.protocols)."
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    device: DeviceOpt = Device.auto,
    quiet: Annotated[
        bool, typer.Option(help="No progress bars (they show only on a terminal, on stderr).")
    ] = False,
):
    """Judge a frozen encoder: weighted kNN (k=20, T=0.07), linear probe, RankMe; --protocol svm
    runs TS2Vec's RBF-SVM protocol (the one its published UCR/UEA accuracies use)."""
    from sslctl.jobs.probe import probe as run_probe

    result = run_probe(run, data, _protocols(protocol), _device(device.value), quiet)
    if json_out:
        print(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"probe {run}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, _shown(value))
    Console().print(table)


def _protocols(protocol: Protocol | None) -> list[str] | None:
    """--protocol as a list (all: the default set); None: the run's recipe decides."""
    if protocol is None:
        return None
    return list(DEFAULT_PROTOCOLS) if protocol.value == "all" else [protocol.value]


def _shown(value: object) -> str:
    """A probe result as the table shows it: scores to two decimals; a tiny or huge float
    (a chosen weight decay or SVM C) and anything else as it is."""
    if isinstance(value, float) and (value == 0 or 0.01 <= abs(value) < 1e4):
        return f"{value:.2f}"
    return str(value)


@command(app, "sslctl embed runs/demo --data builtin:digits:test --out emb.npz")
def embed(
    run: RunArg,
    data: Annotated[
        str,
        typer.Option(help="Data source to embed (folder, list file, shards, .npz, builtin:NAME)."),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="FILE.npy (embeddings) or FILE.npz (x; index: each row's position in the "
            "source; y if labelled)."
        ),
    ],
    paths: Annotated[
        bool, typer.Option("--paths", help="Also store each row's file in the .npz (paths).")
    ] = False,
    device: DeviceOpt = Device.auto,
):
    """Write the frozen encoder's embeddings of a data source."""
    from sslctl.jobs.embed import embed as run_embed

    loaded, n = run_embed(run, data, out, _device(device.value), paths)
    print(f"{n} embeddings of dim {loaded.encoder.embed_dim} -> {out}", file=sys.stderr)
    print(out)


@command(app, "sslctl coreset runs/demo --data builtin:digits:test --budget 5 --strategy kcenter")
def coreset(
    run: Annotated[
        Path,
        typer.Argument(
            metavar="RUN",
            help="Run directory whose encoder embeds --data, or an (N, D) .npy of pool "
            "embeddings from `sslctl embed` (embed once, select many times).",
        ),
    ],
    budget: Annotated[str, typer.Option(help="Count (e.g. 500) or fraction (e.g. 0.1).")],
    data: Annotated[
        str | None, typer.Option(help="Pool data source (with a run directory).")
    ] = None,
    strategy: Annotated[
        Strategy, typer.Option(help="Selection strategy (registered in sslctl.selection).")
    ] = Strategy("kcenter"),
    target: Annotated[
        str | None, typer.Option(help="Target data source, or embeddings .npy (simcore).")
    ] = None,
    out: Annotated[str, typer.Option(help="File for the indices, or - for stdout.")] = "-",
    seed: Annotated[int, typer.Option(help="Seed for kcenter's first pick and random.")] = 0,
    paths: Annotated[
        bool, typer.Option("--paths", help="Write each pick's file (shard:#offset) instead.")
    ] = False,
    device: DeviceOpt = Device.auto,
):
    """Select a subset of a pool; writes one line per pick, in selection order: its index in
    the pool source's whole listing (undecodable files skipped still count), or its path."""
    from sslctl.jobs.coreset import coreset as run_coreset

    if out != "-":
        from sslctl.rundir import RunDir, check_output

        reads = [run, *RunDir(run).files(), *(Path(s) for s in (data, target) if s)]
        check_output(Path(out), reads, "--out")
    picks = run_coreset(
        run, data, budget, strategy.value, target, _device(device.value), seed, paths
    )
    text = "".join(f"{line}\n" for line in picks)
    if out == "-":
        sys.stdout.write(text)
    else:
        from sslctl.io.atomic import atomic_write

        atomic_write(Path(out), lambda tmp: Path(tmp).write_text(text))
        print(f"{len(picks)} picks -> {out}", file=sys.stderr)


@command(app, "sslctl export runs/demo --format onnx")
def export(
    run: RunArg,
    format: Annotated[
        Format,
        typer.Option(
            "--format",
            help="onnx, safetensors (sslctl's encoder) or timm (the backbone in timm's key "
            "layout; the command prints the line that loads it).",
        ),
    ] = Format.onnx,
    out: Annotated[
        str | None,
        typer.Option(
            help="Output file; default RUN/encoder.onnx, or RUN/model.safetensors (timm)."
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            help="Compare onnxruntime with PyTorch on random inputs (L2-normalised embeddings "
            "within 1e-4)."
        ),
    ] = True,
):
    """Ship the encoder: ONNX with a dynamic batch axis (normalisation inside), safetensors, or
    timm's own layout (input statistics in the file's metadata, read back by a distill
    `teacher: {timm: NAME, weights: FILE}`)."""
    from sslctl.jobs.export import export as run_export
    from sslctl.jobs.export import loading_line

    path, diffs = run_export(run, format.value, out, check)
    if diffs is not None:
        print(
            f"onnxruntime check passed: max abs diff {diffs['max_abs_diff']:.2e} "
            f"(L2-normalised {diffs['max_abs_diff_l2_normalised']:.2e})",
            file=sys.stderr,
        )
    print(f"load it: {loading_line(run, format.value, path)}", file=sys.stderr)
    print(path)


@command(app, "sslctl pack photos/ shards/ --shard-size 1000")
def pack(
    source: Annotated[
        str,
        typer.Argument(metavar="SOURCE", help="Folder, list file, .npz or builtin:NAME[:split]."),
    ],
    out: Annotated[
        Path, typer.Argument(metavar="OUT", help="New folder for the shards and index.json.")
    ],
    modality: Annotated[
        ModalityName | None,
        typer.Option(
            help="The source's modality (one with a file format: image or audio); default: from "
            "the source."
        ),
    ] = None,
    shard_size: Annotated[int, typer.Option(help="Samples per shard.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the one shuffle before sharding.")] = 0,
    quiet: Annotated[bool, typer.Option(help="No progress output.")] = False,
):
    """Write a source into WebDataset tar shards (shard-NNNNNN.tar) with a wids index.json:
    use OUT as data.train on any number of processes or machines; each reads its own shards.

    Files are stored as they are, arrays as PNG or FLAC, labels as .cls members. A killed pack
    leaves no shard a reader would take as complete; run the same command again to finish it.
    """
    from sslctl.engine.logging import progress
    from sslctl.jobs.pack import pack as run_pack

    kind = modality.value if modality else None
    with progress("pack", quiet) as update:
        n, shards = run_pack(source, out, kind, shard_size, seed, update)
    if not quiet:
        print(f"{n} samples in {shards} shard(s) -> {out}", file=sys.stderr)
    print(out)


@command(app, "sslctl report runs/simclr runs/byol --out compare/")
def report(
    runs: Annotated[
        list[Path], typer.Argument(metavar="RUN...", help="Run directories; several are overlaid.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Folder to write; default RUN/report (needed with several runs)."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(help="Labelled probe data, as `sslctl probe --data`; default: each run's."),
    ] = None,
    protocol: Annotated[
        Protocol | None,
        typer.Option(help="Probes in the table; default: each run's recipe (probe.protocols)."),
    ] = None,
    device: DeviceOpt = Device.auto,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
):
    """Plot runs into a folder with an index.html: loss and lr curves, online kNN and RankMe
    (train.eval_every), the embedding spectrum, a t-SNE map of probe embeddings by label, and
    a table of probe results beside each recipe. Prints the folder on stdout."""
    from sslctl.jobs.report import report as write_report

    folder = write_report(runs, out, data, _protocols(protocol), _device(device.value), quiet)
    print(folder)


@command(app, "sslctl doctor --modality image")
def doctor(
    modality: Annotated[
        list[ModalityName] | None,
        typer.Option(
            help="Only these modalities must work (repeatable); the others' failures are "
            "warnings. Default: all four."
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
):
    """Check this installation: Python, torch/torchvision/torchaudio/timm/onnxruntime versions,
    compiled extensions, the device, the cache folder and each builtin dataset's source.

    One line per check (ok, warn or fail, with the command that fixes it). Exit 0 when
    everything asked for works, 1 when something cannot.
    """
    from sslctl.jobs.doctor import format_line, report, run_checks

    asked = tuple(m.value for m in modality) if modality else tuple(MODALITIES.names())
    checks = run_checks(asked)
    result = report(checks)
    if json_out:
        print(json.dumps(result))
    else:
        print(f"sslctl {result['sslctl']}: checking for {', '.join(asked)}")
        for check in checks:
            print(format_line(check))
    if not result["ok"]:
        raise typer.Exit(1)


def _usage_error(exc: typer.TyperException) -> NoReturn:
    """One line naming the option or argument, and where help is (exit 2, as
    docs/contracts.md says). typer has its own copy of click since 0.26, so click's
    classes no longer catch these. With no arguments at all the help is already printed and
    the message empty."""
    message = exc.format_message().strip()
    ctx = getattr(exc, "ctx", None)
    if message:
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _err(f"{message}{hint}")
    sys.exit(exc.exit_code)


# A path that cannot be used as given (under a regular file, not permitted, too long, a
# loop of links): the user's to fix, so exit 2 with the path named, like any bad input.
USER_ERRNOS = {
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EEXIST,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENAMETOOLONG,
    errno.ELOOP,
}


def _unexpected(exc: Exception) -> NoReturn:
    if os.environ.get("SSLCTL_DEBUG"):
        raise exc
    text = one_line(" ".join(str(exc).split()), limit=300)
    _err(f"{exc.__class__.__name__}: {text} (set SSLCTL_DEBUG=1 for a traceback)")
    sys.exit(1)


def _terminated(signum, frame) -> NoReturn:
    """SIGTERM (timeout, Slurm, a process group's kill) unwinds like Ctrl-C: temporary files
    are removed and the exit code is 130. Training installs its own handler, which first
    checkpoints at the next step."""
    raise KeyboardInterrupt


def main() -> None:
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        _run()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run() -> None:
    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        _err(str(exc))
        sys.exit(2)
    except Interrupted as exc:  # the user's own stop, with a checkpoint: not an error
        if _main_process():
            print(one_line(str(exc)), file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:  # before typer's own handling starts: as typer would return it
        code = 130
    except NonFiniteLoss as exc:
        _err(str(exc))
        sys.exit(1)
    except typer.TyperException as exc:  # bad usage: unknown option, missing argument, bad value
        _usage_error(exc)
    except OSError as exc:
        if exc.errno in USER_ERRNOS and exc.filename and not os.environ.get("SSLCTL_DEBUG"):
            _err(f"{exc.filename}: {exc.strerror}")  # a path the user gave cannot be used
            sys.exit(2)
        if exc.errno != errno.ENOSPC or os.environ.get("SSLCTL_DEBUG"):
            _unexpected(exc)
        where = f" writing {exc.filename}" if exc.filename else ""
        _err(f"no space left on device{where}; nothing half-written was left behind")
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        _unexpected(exc)
    # Outside standalone mode typer returns an exit code instead of raising: --help's 0, and
    # 130 for Ctrl-C (it turns KeyboardInterrupt into that code). A finished command returns None.
    # One place prints "interrupted", wherever the Ctrl-C landed.
    if isinstance(code, int):
        if code == 130:
            print("interrupted", file=sys.stderr)
        sys.exit(code)
