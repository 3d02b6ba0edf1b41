"""The package's size limits (issue 11): no module of layerscope/ over 450 lines, no function
over 80 lines (a function's lines run from its ``def`` to its last line, as ``ast`` sees them).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "layerscope"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, int]]:
    """(qualified name, line count) of every function and method, nested ones too."""
    found: list[tuple[str, int]] = []
    for node in ast.iter_child_nodes(tree):
        name = prefix
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                found.append((name, node.end_lineno - node.lineno + 1))
            name += "."
        found.extend(_functions(node, name))
    return found


def offenders(package: Path = PACKAGE) -> dict[str, int]:
    """Every module and function over its limit, with its line count."""
    over: dict[str, int] = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            over[rel] = lines
        for name, count in _functions(ast.parse(text, filename=rel)):
            if count > MAX_FUNCTION_LINES:
                over[f"{rel}:{name.removeprefix('.')}"] = count
    return over


def test_no_module_or_function_is_over_its_limit() -> None:
    over = offenders()
    assert not over, (
        f"over the limits ({MAX_MODULE_LINES} lines a module, {MAX_FUNCTION_LINES} a function): "
        + ", ".join(f"{name} ({count})" for name, count in sorted(over.items()))
    )


def test_the_counter_sees_long_modules_and_functions(tmp_path: Path) -> None:
    """Guard against a checker that passes because it measures nothing."""
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text(
        f"class C:\n    def method(self) -> None:\n    {body.replace(chr(10), chr(10) + '    ')}\n"
        + "\n" * MAX_MODULE_LINES,
        encoding="utf-8",
    )
    (tmp_path / "short.py").write_text(
        "def f() -> None:\n" + "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 1)),
        encoding="utf-8",
    )
    assert offenders(tmp_path) == {
        "long.py": MAX_MODULE_LINES + MAX_FUNCTION_LINES + 2,
        "long.py:C.method": MAX_FUNCTION_LINES + 1,
    }
