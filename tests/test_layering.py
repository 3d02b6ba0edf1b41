"""The layering of docs/architecture.md, checked on every import statement of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "layerscope"

# What each part of layerscope may import from layerscope itself (docs/architecture.md).
BASE = {"model", "errors"}
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "errors": set(),
    "config_paths": {"errors"},
    "platforms": BASE,
    "refs": BASE,
    "compiled": set(),
    "collector": set(),
    "tree": BASE | {"_stack", "_entries", "compiled"},  # compiled parts (native/)
    "layers": BASE | {"tree", "_tarwalk", "compiled"},  # _tarwalk: its compiled hot loop
    "dockerfile": BASE,
    "buildlogs": BASE | {"dockerfile"},
    "credentials": BASE,
    "sources": BASE
    | {"refs", "platforms", "layers", "tree", "config_paths", "credentials"}
    | {"analysis.packages"},  # the package-database predicate, handed to the walker
    "store": BASE | {"config_paths", "refs", "dockerfile", "_entries", "compiled"},  # codec
    "analysis": BASE | {"tree", "dockerfile", "platforms", "refs"},
    "render": BASE | {"analysis", "dockerfile", "tree"},
    "tui": BASE | {"analysis", "render", "tree", "dockerfile", "collector"},
    "testing": BASE,
    "budget_config": BASE | {"analysis"},
    "fanout": BASE,
    "commands": {"*"},
    "cli": {"*"},
    "__main__": {"*"},
    # The public API (docs/api.md): a facade over the parts a command composes; the package's
    # __init__ re-exports it and the result types (lazily, names only).
    "api": BASE | {"sources", "store", "analysis", "dockerfile", "budget_config", "commands"},
    "__init__": BASE | {"api", "analysis"},
}
# Third-party libraries that only some parts may use.
THIRD_PARTY = {
    "docker": {"sources/daemon.py", "sources/daemon_build.py"},
    "requests": {"sources/registry_client.py", "sources/registry_http.py"},
    "textual": {"tui"},
    "rich": {"render", "tui", "commands"},
    "humanize": {"render", "tui"},
    "networkx": {"analysis"},
    "psycopg": {"store/backend_postgres.py"},
    "distributed": {"fanout/on_dask.py"},
    "dask": {"fanout/on_dask.py"},
}


def _part(module: Path) -> str:
    rel = module.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(module: Path) -> list[tuple[str, int]]:
    """(imported name relative to the package or absolute third-party, line) of a module."""
    tree = ast.parse(module.read_text(), filename=str(module))
    rel = module.relative_to(PACKAGE)
    package_parts = list(rel.parts[:-1])
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                parts = ["layerscope", *base, *(node.module or "").split(".")]
                target = ".".join(parts).rstrip(".")
                if node.module is None:
                    found.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names)
                else:
                    found.append((target, node.lineno))
            elif node.module:
                found.append((node.module, node.lineno))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layering(module: Path) -> None:
    part = _part(module)
    allowed = ALLOWED[part]
    rel = str(module.relative_to(PACKAGE))
    for name, line in _imports(module):
        top = name.split(".")[0]
        if top == "layerscope":
            target = name.split(".")[1] if "." in name else "__init__"
            if target in (part, "__version__", "__init__") or "*" in allowed:
                continue
            module = ".".join(name.split(".")[1:3])  # a single module allowed from a part
            assert target in allowed or module in allowed, (
                f"{rel}:{line} imports layerscope.{target} ({part} may not)"
            )
        elif top in THIRD_PARTY:
            places = THIRD_PARTY[top]
            assert rel in places or part in places, f"{rel}:{line} imports {top}"


def test_the_checker_sees_imports() -> None:
    """Guard against a checker that passes because it finds nothing."""
    daemon = {name for name, _ in _imports(PACKAGE / "sources" / "daemon.py")}
    assert "docker" in daemon and "layerscope.sources.export" in daemon
    history = {name for name, _ in _imports(PACKAGE / "store" / "history.py")}
    assert "layerscope.model" in history
