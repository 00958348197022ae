"""Libraries that only one modality needs, imported when that modality is used.

A missing or broken one (torchaudio built for another torch fails with an OSError or an
undefined symbol while loading its library) becomes a one-line UserError (exit 2) that names
the package and the command that installs the version sslctl was tested with.
"""

from __future__ import annotations

import re
from importlib import import_module, metadata
from types import ModuleType

from sslctl.errors import UserError, first_line

# import name -> distribution name, where they differ
DISTRIBUTIONS = {"skimage": "scikit-image", "sklearn": "scikit-learn"}


def distribution(module: str) -> str:
    """The distribution that installs an import name (`skimage` -> `scikit-image`)."""
    top = module.split(".")[0]
    return DISTRIBUTIONS.get(top, top)


def requirement(package: str) -> str:
    """sslctl's own requirement for `package` (e.g. `torchaudio==2.11.1`), markers dropped;
    the bare name when sslctl's metadata does not list it."""
    try:
        requires = metadata.requires("sslctl") or []
    except metadata.PackageNotFoundError:
        requires = []
    wanted = canonical(package)
    for line in requires:
        spec = line.split(";")[0].strip()
        match = re.match(r"[A-Za-z0-9._-]+", spec)
        if match and canonical(match.group(0)) == wanted:
            return spec.replace(" ", "")
    return package


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_hint(package: str, reinstall: bool = False) -> str:
    flag = "--force-reinstall " if reinstall else ""
    return f"pip install {flag}'{requirement(package)}'"


def import_optional(module: str, needed_for: str) -> ModuleType:
    """Import `module` for `needed_for` (e.g. "audio data"), or raise a one-line UserError."""
    package = distribution(module)
    try:
        return import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != module.split(".")[0]:
            raise _broken(package, needed_for, exc) from None
        raise UserError(
            f"{needed_for} needs {package}, which is not installed; install it with: "
            f"{install_hint(package)}"
        ) from None
    except (ImportError, OSError, AttributeError, RuntimeError) as exc:
        raise _broken(package, needed_for, exc) from None


def _broken(package: str, needed_for: str, exc: BaseException) -> UserError:
    reason = first_line(exc)
    return UserError(
        f"{needed_for} needs {package}, which is installed but fails to load "
        f"({exc.__class__.__name__}: {reason}); reinstall it with: "
        f"{install_hint(package, reinstall=True)}"
    )
