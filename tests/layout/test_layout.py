"""The package's shape: layers that only look down, checked on static imports (lazy ones
included) and on what importing each module really loads, and no import cycles.

A module may import its own layer and the layers below it, never one above. A check that
cannot fail proves nothing, so each check is also run on a planted upward import.
"""

from __future__ import annotations

import ast
import os
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import sslctl

ROOT = Path(sslctl.__file__).parent

# Low to high: (layer, module names). A name ending in "." covers every module under it; the
# longest match decides, so a registry package's __init__ sits below the units it registers.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("specs", ("sslctl", "sslctl.errors", "sslctl.specs", "sslctl.views")),
    (
        "io",
        (
            "sslctl.io",
            "sslctl.io.",
            "sslctl.cache",
            "sslctl.optional",
            "sslctl.collectives",
            "sslctl.timm_names",
        ),
    ),
    (
        "registries",  # each kind's registry and its units' torch-free declarations
        (
            "sslctl.registry",
            "sslctl.specs.",
            "sslctl.modalities",
            *(f"sslctl.modalities.{p.name}" for p in (ROOT / "modalities").iterdir() if p.is_dir()),
            *(  # a modality's recipe section and the preset table it names
                f"sslctl.modalities.{p.parent.name}.{p.stem}"
                for pattern in ("*/spec.py", "*/presets.py")
                for p in (ROOT / "modalities").glob(pattern)
            ),
        ),
    ),
    ("recipe", ("sslctl.recipe", "sslctl.recipe_errors")),
    ("sources", ("sslctl.sources.", "sslctl.sources", "sslctl.graphs")),
    (
        "encoders and eval",
        (
            "sslctl.encoders",
            "sslctl.encoders.",
            "sslctl.eval",
            "sslctl.eval.",
            "sslctl.selection",
            "sslctl.selection.",
        ),
    ),  # fmt: skip
    ("modalities", ("sslctl.modalities.",)),
    ("methods", ("sslctl.methods", "sslctl.methods.")),
    ("engine", ("sslctl.engine", "sslctl.engine.")),
    ("run directory", ("sslctl.rundir",)),
    # teacher kinds load their teacher, a run's among them (through the run directory)
    ("teachers", ("sslctl.teachers", "sslctl.teachers.")),
    # a run put to use: probed on its labelled split, or trained (both serve several jobs)
    ("runs", ("sslctl.probing", "sslctl.training")),
    ("report figures and page", ("sslctl.report", "sslctl.report.")),
    ("jobs", ("sslctl.jobs", "sslctl.jobs.")),
    ("cli", ("sslctl.cli", "sslctl.cli_recipe", "sslctl.cli_text", "sslctl.__main__")),
]


def layer_of(module: str) -> int:
    """The layer of a module: that of its longest matching name in LAYERS."""
    best, best_len = -1, -1
    for level, (_, names) in enumerate(LAYERS):
        for name in names:
            match = module.startswith(name) if name.endswith(".") else module == name
            if match and len(name) > best_len:
                best, best_len = level, len(name)
    if best < 0:
        raise AssertionError(f"{module}: in no layer; add it to LAYERS")
    return best


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Lines of `if TYPE_CHECKING:` blocks: imports for annotations only, never run."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for child in node.body:
                lines |= set(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_in(source: str) -> set[str]:
    """The sslctl modules a module's text imports anywhere (lazy imports included), except
    under `if TYPE_CHECKING:`."""
    tree = ast.parse(source)
    skip = _type_checking_lines(tree)
    found = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sslctl"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sslctl")}
    return found


def modules() -> dict[str, Path]:
    return {_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    """module -> the sslctl modules it imports (names resolved to modules, not attributes)."""
    known = modules()
    graph = {}
    for module, path in known.items():
        targets = {t for t in imports_in(path.read_text()) if t in known}
        graph[module] = targets - {module}
    return graph


def upward(module: str, targets: set[str]) -> list[str]:
    """The targets in a layer above `module`'s, named with both layers."""
    mine = layer_of(module)
    return sorted(
        f"{module} ({LAYERS[mine][0]}) -> {t} ({LAYERS[layer_of(t)][0]})"
        for t in targets
        if layer_of(t) > mine
    )


def loaded_by(module: str, extra_path: str | None = None) -> set[str]:
    """The sslctl modules importing `module` loads, in a child forked from a process that
    has imported the third-party libraries but no sslctl module (so nothing is there yet)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: import, report, leave without running the parent's cleanup
        os.close(read)
        status = 0
        try:
            if extra_path:
                sys.path.insert(0, extra_path)
            __import__(module)
            names = [m for m in sys.modules if m.startswith("sslctl")]
            os.write(write, "\n".join(names).encode())
        except BaseException:  # noqa: BLE001 - the parent reports a failed import
            status = 1
        finally:
            os.close(write)
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as fh:
        text = fh.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0, f"importing {module} failed"
    return set(text.split()) - {module}


def _fresh_parent() -> None:
    """Forked children inherit this process's modules: drop sslctl's (pytest imported some
    through conftest), keeping the heavy third-party libraries so each fork is quick."""
    import numpy  # noqa: F401
    import pydantic  # noqa: F401
    import torch  # noqa: F401
    import yaml  # noqa: F401


# ---------------------------------------------------------------- the package
def test_the_package_has_no_import_cycles():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_static_imports_only_look_down():
    found = [line for m, targets in import_graph().items() for line in upward(m, targets)]
    assert not found, "\n".join(found)


def test_importing_each_module_loads_nothing_from_a_layer_above(monkeypatch):
    _fresh_parent()
    for name in [m for m in sys.modules if m == "sslctl" or m.startswith("sslctl.")]:
        monkeypatch.delitem(sys.modules, name)
    found = []
    for module in modules():
        if module == "sslctl.__main__":  # importing it runs the CLI; it imports only sslctl.cli
            continue
        found += upward(module, {m for m in loaded_by(module) if m in modules()})
    assert not found, "\n".join(found)


def test_registries_load_without_torch(tmp_path):
    """doctor, pack and the CLI build their lists from the registries, so listing them must
    work where torch is broken (the doctor reports that, it must not crash on it)."""
    import subprocess

    code = (
        "import sys\n"
        "from sslctl.modalities import MODALITIES\n"
        "from sslctl.specs.encoders import ENCODERS\n"
        "from sslctl.specs.methods import METHODS\n"
        "from sslctl.specs.probes import PROBES\n"
        "from sslctl.specs.strategies import STRATEGIES\n"
        "from sslctl.specs.teachers import TEACHERS\n"
        "for registry in (ENCODERS, METHODS, PROBES, STRATEGIES, TEACHERS):\n"
        "    assert registry.names()\n"
        "names = MODALITIES.names()[:4]\n"
        "print(names, 'torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    assert out.strip() == "['image', 'audio', 'timeseries', 'graph'] False"


# ---------------------------------------------------------------- the checks can fail
def test_a_planted_upward_import_is_found_statically():
    planted = "def f():\n    from sslctl.cli import app\n    return app\n"
    assert upward("sslctl.io.planted", imports_in(planted) & set(modules())) == [
        "sslctl.io.planted (io) -> sslctl.cli (cli)"
    ]
    hidden = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sslctl.cli import app\n"
    assert not imports_in(hidden)


def test_a_planted_upward_import_is_found_at_run_time(tmp_path, monkeypatch):
    """A module that reaches up through import_module at import time: invisible to the
    static check, found by the run-time one."""
    _fresh_parent()
    for name in [m for m in sys.modules if m == "sslctl" or m.startswith("sslctl.")]:
        monkeypatch.delitem(sys.modules, name)
    (tmp_path / "planted_io.py").write_text(
        "from importlib import import_module\nimport_module('sslctl.' + 'engine.trainer')\n"
    )
    assert not imports_in((tmp_path / "planted_io.py").read_text())
    loaded = loaded_by("planted_io", str(tmp_path))
    assert "sslctl.engine.trainer" in loaded
    planted_layers = [*LAYERS]
    planted_layers[1] = ("io", (*LAYERS[1][1], "planted_io"))
    monkeypatch.setattr(sys.modules[__name__], "LAYERS", planted_layers)
    found = upward("planted_io", loaded & set(modules()))
    assert "planted_io (io) -> sslctl.engine.trainer (engine)" in found


def test_the_loop_through_the_run_teacher_is_found_when_planted():
    """recipe -> teacher declarations -> a run teacher's loader -> rundir -> recipe was once a
    hidden cycle (the loader's import was lazy). With the declarations below the recipe and
    the loaders above the run directory, a declaration reaching for the run directory, even
    lazily, is an upward import."""
    planted = "def load(path):\n    from sslctl.rundir import load_run\n    return load_run(path)\n"
    found = upward("sslctl.specs.teachers.planted", imports_in(planted) & set(modules()))
    assert found == ["sslctl.specs.teachers.planted (registries) -> sslctl.rundir (run directory)"]
    assert (
        layer_of("sslctl.recipe") < layer_of("sslctl.rundir") < layer_of("sslctl.teachers.run_dir")
    )
