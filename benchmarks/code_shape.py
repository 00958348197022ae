"""Shape figures of the sslctl package: the longest function, the largest file, and the
hasattr/getattr calls (duck-typed questions a typed contract should answer instead).

    python benchmarks/code_shape.py [PACKAGE_DIR]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def shape(package: Path) -> dict:
    longest, largest, reflective = ("", 0), ("", 0), []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        name = str(path.relative_to(package.parent))
        lines = len(text.splitlines())
        if lines > largest[1]:
            largest = (name, lines)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > longest[1]:
                    longest = (f"{name}:{node.lineno} {node.name}", length)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("hasattr", "getattr")
            ):
                reflective.append(f"{name}:{node.lineno} {ast.unparse(node)[:70]}")
    return {"longest_function": longest, "largest_file": largest, "hasattr_getattr": reflective}


def main() -> None:
    package = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1] / "sslctl")
    figures = shape(package.resolve())
    where, lines = figures["longest_function"]
    print(f"longest function: {where} ({lines} lines)")
    print(f"largest file: {figures['largest_file'][0]} ({figures['largest_file'][1]} lines)")
    print(f"hasattr/getattr calls: {len(figures['hasattr_getattr'])}")
    for call in figures["hasattr_getattr"]:
        print(f"  {call}")


if __name__ == "__main__":
    main()
