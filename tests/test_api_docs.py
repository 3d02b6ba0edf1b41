"""docs/api.md runs exactly as written, and its figures are the command line's.

Every ```python block of the page runs in order in one namespace, in an empty folder with the
cache and data directories inside it. The page's own asserts check what each call returns; this
test then compares what the page computed with the JSON the commands print for the same images.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import layerscope

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every ```python block."""
    return [(text[: m.start(1)].count("\n") + 1, m.group(1)) for m in BLOCK.finditer(text)]


def _cli(*args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "layerscope", *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The namespace after running every block of docs/api.md (module-scoped: it runs once)."""
    folder = tmp_path_factory.mktemp("api-docs")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("LAYERSCOPE_CACHE_DIR", str(folder / "cache"))
        mp.setenv("LAYERSCOPE_DATA_DIR", str(folder / "data"))
        mp.delenv("LAYERSCOPE_STORE", raising=False)
        mp.delenv("COLUMNS", raising=False)
        namespace: dict[str, Any] = {"__name__": "api_docs"}
        for line, code in blocks(PAGE.read_text(encoding="utf-8")):
            padded = "\n" * (line - 1) + code  # tracebacks point at the page's lines
            exec(compile(padded, str(PAGE), "exec"), namespace)  # noqa: S102 - the page's code
        namespace["cli_inspect"] = _cli("inspect", "demo-app.tar", "--json")
        namespace["cli_suggest"] = _cli("suggest", "demo-app.tar", "-f", "Dockerfile", "--json")
        namespace["cli_check"] = _cli(
            "check", "demo-app.tar", "--rule", "max_size=3MB", "--rule", "max_layers=5",
            "--warn-only", "max_layers", "--rule", "min_efficiency=0.7",
            "--disable", "max_user_wasted_ratio", "--json",
        )  # fmt: skip
        namespace["cli_history"] = _cli("history", "example.com/demo-app", "--json")
        namespace["folder"] = folder
    return namespace


def test_the_page_has_python_examples() -> None:
    found = blocks(PAGE.read_text(encoding="utf-8"))
    assert len(found) >= 10
    for line, code in found:
        ast.parse(code, filename=f"{PAGE}:{line}")


def test_every_public_function_has_a_running_example() -> None:
    code = "\n".join(c for _, c in blocks(PAGE.read_text(encoding="utf-8")))
    called = set(re.findall(r"\blayerscope\.([a-z_]+)\(", code))
    functions = {name for name in layerscope.__all__ if name[0].islower()}
    assert functions - called == set()


def test_every_public_name_is_documented() -> None:
    text = PAGE.read_text(encoding="utf-8")
    missing = [n for n in layerscope.__all__ if f"`{n}`" not in text and f"`{n}(" not in text]
    assert not missing, f"not on docs/api.md: {', '.join(missing)}"


def test_analysis_is_what_inspect_json_prints(page: dict[str, Any]) -> None:
    printed, image, analysis = page["cli_inspect"], page["image"], page["analysis"]
    assert printed["image"]["image_id"] == image.image_id
    assert printed["image"]["size_bytes"] == image.size_bytes
    assert printed["image"]["final_fs_bytes"] == analysis.final_fs_bytes
    assert printed["image"]["reclaimable_ratio"] == analysis.waste.reclaimable_ratio
    reasons = printed["image"]["reclaimable_by_reason"]
    assert reasons == {r.value: analysis.waste.bytes_for(r) for r in layerscope.WasteReason}
    layers = [(x["diff_id"], x["added"], x["modified"], x["removed"]) for x in printed["layers"]]
    ours = [
        (layer.diff_id, c.added, c.modified, c.removed)
        for layer, c in zip(image.layers, analysis.changes, strict=True)
    ]
    assert layers == ours


def test_suggestions_are_what_suggest_json_prints(page: dict[str, Any]) -> None:
    printed, report = page["cli_suggest"], page["report"]
    assert [(s["id"], s["estimated_saving_bytes"]) for s in printed["suggestions"]] == [
        (s.id, s.estimated_saving_bytes) for s in report.suggestions
    ]
    assert printed["patch"] == report.patch
    written = (page["folder"] / "Dockerfile.layerscope.patch").read_text(encoding="utf-8")
    assert written == report.patch


def test_budget_is_what_check_json_prints(page: dict[str, Any]) -> None:
    printed, verdict = page["cli_check"], page["verdict"]
    assert printed["passed"] is verdict.passed
    assert [(r["id"], r["status"], r["measured"]) for r in printed["rules"]] == [
        (r.id, r.outcome.value, r.measured) for r in verdict.results
    ]


def test_history_is_what_history_json_prints(page: dict[str, Any]) -> None:
    printed, history = page["cli_history"], page["history"]
    assert [(b["image_id"], b["hit_count"]) for b in printed["builds"]] == [
        (b.build.image_id, b.hit_count) for b in history.builds
    ]


def test_the_demo_helper_writes_the_committed_fixture(page: dict[str, Any]) -> None:
    fixture = REPO / "fixtures" / "demo"
    folder = page["folder"]
    assert (folder / "demo-app.tar").read_bytes() == (fixture / "demo-app.tar").read_bytes()
    assert (folder / "Dockerfile").read_text() == (fixture / "Dockerfile").read_text()
