"""The package's shape: no import cycles, and methods and the engine meet only through the
base interfaces (methods/base.py; collectives.py lies below both)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import sslctl

ROOT = Path(sslctl.__file__).parent


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the sslctl modules it imports, anywhere in its body (lazy imports included)."""
    modules = {_name(p): p for p in ROOT.rglob("*.py")}

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sslctl"):
                targets |= {owner(f"{node.module}.{alias.name}") for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {owner(a.name) for a in node.names if a.name.startswith("sslctl")}
        graph[module] = targets - {module, None}
    return graph


def test_the_package_has_no_import_cycles():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_methods_and_engine_meet_only_through_the_base_interfaces():
    graph = import_graph()
    crossing = {
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if (source.startswith("sslctl.engine") and target.startswith("sslctl.methods."))
        or (source.startswith("sslctl.methods") and target.startswith("sslctl.engine"))
    }
    assert crossing <= {("sslctl.engine.trainer", "sslctl.methods.base")}, crossing
