"""``layerscope report`` and ``--html [FILE]`` on inspect, diff and history: what the page holds,
that it references nothing outside itself, and how it sits beside the other outputs."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from layerscope import cli
from layerscope.analysis import analyze
from layerscope.render.html import render_inspect_html
from layerscope.sources import load_image

from .conftest import DEMO, run

EXTERNAL = re.compile(
    r"""(?:src|href|action|poster)\s*=|url\(\s*['"]?(?!#)|@import|<link\b""", re.I
)


def page_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="ls-data">(.*?)</script>', page, re.S)
    assert found, "no inline data block"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def assert_self_contained(page: str) -> None:
    """No attribute or rule that loads anything: every script and style is inline."""
    assert page.startswith("<!DOCTYPE html>")
    assert not EXTERNAL.findall(page), EXTERNAL.findall(page)[:5]
    assert "http://" not in page.split('id="ls-data"')[0].replace("http://www.w3.org", "")
    assert page.count("<script") == page.count("</script>") == 2
    assert "<style>" in page


def test_report_is_one_self_contained_page(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, stdout, stderr = run("report", str(DEMO), "-o", str(out), "--quiet")
    assert (code, stdout, stderr) == (0, "", "")
    page = out.read_text(encoding="utf-8")
    assert_self_contained(page)
    # the JSON document (another renderer) is the reference for the figures
    code, doc_text, _ = run("inspect", str(DEMO), "--json", "--quiet")
    doc = json.loads(doc_text)["image"]
    data = page_data(page)
    tree = data["tree"]
    assert tree[4] == doc["final_fs_bytes"]  # the visible files
    assert tree[1] == doc["final_fs_bytes"] + doc["reclaimable_bytes"]  # + hidden copies
    assert len(data["cats"]) == doc["layer_count"] == len(data["changes"])
    assert data["folded"] == 0
    for layer in json.loads(doc_text)["layers"]:
        row = re.search(rf'data-layer="{layer["index"]}"', page)
        assert row, f"no bar for layer {layer['index']}"
    for reason, value in doc["reclaimable_by_reason"].items():
        assert value == 0 or f"r-{reason}" in page
    assert "Combined patch" not in page  # no Dockerfile given: no patch
    assert "Suggestions" in page


def test_inspect_html_is_the_report_and_the_dockerfile_adds_the_patch(tmp_path: Path) -> None:
    dockerfile = DEMO.parent / "Dockerfile"
    code, page, _ = run("inspect", str(DEMO), "--html", "-f", str(dockerfile), "--quiet")
    assert code == 0
    out = tmp_path / "r.html"
    assert run("report", str(DEMO), "-f", str(dockerfile), "-o", str(out), "--quiet")[0] == 0
    assert out.read_text(encoding="utf-8") == page
    assert "Combined patch" in page
    patch = run("suggest", str(DEMO), "-f", str(dockerfile), "--patch-only", "--quiet")[1]
    first_added = next(
        line for line in patch.splitlines() if line.startswith("+") and line[1:2] != "+"
    )
    assert first_added[1:].strip().split()[0] in page


def test_html_file_beside_the_text_output_is_linked(tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    code, text, _ = run("inspect", str(DEMO), "--text", "--html", str(out), "--quiet")
    assert code == 0
    assert text.rstrip().endswith(f"HTML report: {out.resolve().as_uri()}")
    assert "Reclaimable" in text  # the text report itself is still there
    assert_self_contained(out.read_text(encoding="utf-8"))


def test_html_without_file_cannot_go_with_another_format() -> None:
    code, out, err = run("inspect", str(DEMO), "--json", "--html", "--quiet")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--html FILE" in err


def test_report_refuses_to_print_html_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = Tty(), io.StringIO()
    code = cli.main(["report", str(DEMO)], stdout=out, stderr=err)
    assert code == 2 and out.getvalue() == ""
    assert "-o FILE" in err.getvalue()


def test_diff_markdown_links_its_page(tmp_path: Path, demo_v2: Path) -> None:
    out = tmp_path / "diff.html"
    code, md, _ = run("diff", str(DEMO), str(demo_v2), "--markdown", "--html", str(out), "-q")
    assert code == 0
    assert f"[Open the HTML report]({out.as_posix()})" in md
    page = out.read_text(encoding="utf-8")
    assert_self_contained(page)
    data = page_data(page)
    paths = {
        f["path"]
        for f in json.loads(run("diff", str(DEMO), str(demo_v2), "--json", "-q")[1])["files"]
    }
    drawn = set()

    def walk(node: list[Any], prefix: str) -> None:
        for child in node[3]:
            path = f"{prefix}/{child[0]}"
            if isinstance(child[3], list):
                walk(child, path)
            else:
                drawn.add(path)

    walk(data["tree"], "")
    assert "/app/assets/bundle.js" in drawn
    assert drawn <= paths  # only changed paths are drawn (0-byte ones have no area)


def test_history_html(tmp_path: Path, demo_v2: Path) -> None:
    code, page, _ = run("history", "--refs", str(DEMO), str(demo_v2), "--html", "-q")
    assert code == 0
    assert_self_contained(page)
    for title in ("Image size", "Cache-hit ratio", "Rebuilt bytes"):
        assert f'aria-label="{title}"' in page


def test_many_files_fold_and_the_page_says_how_many() -> None:
    analysis = analyze(load_image(str(DEMO)))
    files = page_data(render_inspect_html(analysis))["tree"]
    page = render_inspect_html(analysis, leaf_limit=10)
    data = page_data(page)
    assert data["folded"] > 0
    assert re.search(
        rf"{data['folded']:,} smaller files \([^)]*\) folded into their directories", page
    )
    assert data["tree"][1] == files[1]  # every byte is still there


def test_report_shows_the_history_once_builds_are_recorded(tmp_path: Path, demo_v2: Path) -> None:
    store = str(tmp_path / "history.sqlite3")
    first = tmp_path / "first.html"
    assert run("report", str(DEMO), "--store", store, "-o", str(first), "-q")[0] == 0
    assert "Build history" not in first.read_text(encoding="utf-8")  # one build: no history
    second = tmp_path / "second.html"
    assert run("report", str(demo_v2), "--store", store, "-o", str(second), "-q")[0] == 0
    page = second.read_text(encoding="utf-8")
    assert "Build history" in page and "2 recorded builds" in page
    for title in ("Image size", "Cache-hit ratio", "Rebuilt bytes"):
        assert f'aria-label="{title}"' in page
