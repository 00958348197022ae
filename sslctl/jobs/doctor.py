"""`sslctl doctor`: can this installation run what the user asks of it?

Every check is cheap and cannot raise: a library that fails to load is a failed check with its
reason, not a crash. Each check names the modalities that need it; a failed check fails the
doctor (exit 1) only when one of those modalities was asked for (all of them by default), else
it is a warning. A library whose version differs from sslctl's exact pin is a warning: it may
work, but it is not the tested trio.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import import_module, metadata

from sslctl import __version__
from sslctl.cache import cache_dir
from sslctl.errors import first_line
from sslctl.modalities import MODALITIES
from sslctl.optional import distribution, install_hint, requirement
from sslctl.sources.builtin import SourceCheck

# the libraries every job imports, whatever its modality (a modality's own libraries are
# declared by its data spec: `libraries`)
CORE_LIBRARIES = ("torchvision", "timm", "onnxruntime")


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str | None
    needed_for: tuple[str, ...]


@dataclass(frozen=True)
class Probe:
    """One thing to check: `run` returns its detail or raises with the reason it fails. For a
    library (`package`), the fix installs it when absent and reinstalls it when it is broken."""

    name: str
    run: Callable[[], str]
    needed_for: tuple[str, ...]
    package: str | None = None
    fix: str | None = None

    def fix_for(self, exc: BaseException) -> str | None:
        if self.package is None:
            return self.fix
        missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
        absent = missing is not None and distribution(missing) == self.package
        return install_hint(self.package, reinstall=not absent)


def _python() -> str:
    return f"{platform.python_version()} ({sys.executable})"


def _library(module: str, package: str | None = None) -> Callable[[], str]:
    """Import `module` and report its installed version; the pin mismatch is found later."""

    def run() -> str:
        with warnings.catch_warnings():  # a library's own deprecation notes are not findings
            warnings.simplefilter("ignore")
            import_module(module)
        return metadata.version(package or module)

    return run


def _torch() -> str:
    import torch

    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
    return f"{metadata.version('torch')} ({build})"


def _torchvision_ops() -> str:
    import torch
    from torchvision.ops import nms

    keep = nms(torch.tensor([[0.0, 0, 1, 1], [0, 0, 1, 1]]), torch.tensor([1.0, 0.5]), 0.5)
    if keep.tolist() != [0]:
        raise RuntimeError(f"nms returned {keep.tolist()}")
    return "torchvision C++ ops load (nms ran)"


def _torchaudio_ops() -> str:
    import torch
    import torchaudio.functional as AF

    fb = AF.melscale_fbanks(201, 0.0, 8000.0, 64, 16000)
    out = AF.resample(torch.zeros(1, 160), 16000, 8000)
    if fb.shape != (201, 64) or out.shape != (1, 80):
        raise RuntimeError("melscale_fbanks/resample gave wrong shapes")
    return "libtorchaudio loads; melscale_fbanks and resample ran"


def _soundfile() -> str:
    import soundfile

    return f"libsndfile {soundfile.__libsndfile_version__}"


def _onnxruntime() -> str:
    import onnxruntime

    return f"providers: {', '.join(onnxruntime.get_available_providers())}"


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        names = []
        for i in range(torch.cuda.device_count()):
            major, minor = torch.cuda.get_device_capability(i)
            names.append(f"cuda:{i} {torch.cuda.get_device_name(i)} (capability {major}.{minor})")
        return "; ".join(names)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"cpu, {torch.get_num_threads()} torch threads, {cpus} usable CPUs (no CUDA device)"


def _cache() -> str:
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
        pass
    return f"{root} (writable)"


# what loading a library's compiled part takes, beyond importing it
EXTENSION_CHECKS: dict[str, Callable[[], str]] = {
    "torchvision": _torchvision_ops,
    "torchaudio": _torchaudio_ops,
    "soundfile": _soundfile,
    "onnxruntime": _onnxruntime,
}


def _probes() -> list[Probe]:
    """Python and torch, then each library (every job's, then each modality's, as its data
    spec declares them) with its compiled part where it has one, the device and the cache."""
    every = tuple(MODALITIES.names())
    needed: dict[str, tuple[str, ...]] = dict.fromkeys(CORE_LIBRARIES, every)
    for name, spec in MODALITIES.items():
        for library in spec.libraries:
            needed[library] = (*needed.get(library, ()), name)
    probes = [Probe("python", _python, every), Probe("torch", _torch, every, "torch")]
    for library, users in needed.items():
        package = distribution(library)
        probes.append(Probe(library, _library(library, package), users, package))
    for library, users in needed.items():
        if library in EXTENSION_CHECKS:
            check = EXTENSION_CHECKS[library]
            probes.append(Probe(f"ext: {library}", check, users, distribution(library)))
    caching = tuple(name for name, spec in MODALITIES.items() if spec.caches)
    return [
        *probes,
        Probe("device", _device, every),
        Probe("cache", _cache, caching, fix="set SSLCTL_CACHE to a writable folder"),
    ]


def _dataset_checks() -> list[tuple[SourceCheck, tuple[str, ...]]]:
    """(SourceCheck, modalities) for every builtin set; a module that cannot even be imported
    is itself one failed check."""
    found = []
    for name, spec in MODALITIES.items():
        module, needed_for = spec.builtin, (name,)
        if module is None:  # a modality without builtin sets
            continue
        try:
            checks = import_module(module).source_checks()
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            checks = [SourceCheck(module, False, _reason(exc))]
        found += [(check, needed_for) for check in checks]
    return found


def _reason(exc: BaseException) -> str:
    text = first_line(exc, empty="")
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def _pin_mismatch(package: str, detail: str) -> str | None:
    """A note when `package` is pinned exactly by sslctl and another version is installed."""
    pin = requirement(package)
    if "==" not in pin:
        return None
    wanted = pin.split("==", 1)[1]
    installed = metadata.version(package).split("+")[0]
    return None if installed == wanted else f"{detail}; sslctl is tested with {pin}"


def run_checks(asked: tuple[str, ...]) -> list[Check]:
    """Every check, in a fixed order; `asked` are the modalities whose failures count."""

    def status(ok: bool, needed_for: tuple[str, ...]) -> str:
        if ok:
            return "ok"
        return "fail" if set(needed_for) & set(asked) else "warn"

    checks = []
    for probe in _probes():
        try:
            detail, fix, ok = probe.run(), None, True
        except Exception as exc:  # noqa: BLE001 - a broken library is a finding, not a crash
            detail, fix, ok = _reason(exc), probe.fix_for(exc), False
        check = Check(probe.name, status(ok, probe.needed_for), detail, fix, probe.needed_for)
        if ok and probe.name in ("torch", "torchvision", "torchaudio"):
            note = _pin_mismatch(probe.name, detail)
            if note:
                check.status, check.detail, check.fix = "warn", note, install_hint(probe.name)
        checks.append(check)
    for source, needed_for in _dataset_checks():
        checks.append(
            Check(
                f"data: {source.name}",
                status(source.ok, needed_for),
                source.detail,
                None if source.ok else source.fix,
                needed_for,
            )
        )
    return checks


def report(checks: list[Check]) -> dict:
    """The JSON form: `ok`, sslctl's version and one object per check, keyed by name."""
    return {
        "ok": all(c.status != "fail" for c in checks),
        "sslctl": __version__,
        "checks": {c.name: {k: v for k, v in asdict(c).items() if k != "name"} for c in checks},
    }


def format_line(check: Check) -> str:
    fix = f"  -> {check.fix}" if check.fix and check.status != "ok" else ""
    return f"{check.status:<4}  {check.name:<32} {check.detail}{fix}"
