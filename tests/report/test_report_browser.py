"""Each HTML report in a real browser: Debian's chromium, headless, driven over the DevTools
protocol, loading the page from a file:// URL. No console errors, nothing fetched, the treemap
and the layer chart drawn (DOM and a screenshot), a click on a layer bar updates the view,
hovering a treemap cell shows its path. Screenshots (1280x800) land in the test's folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from layerscope.analysis import analyze
from layerscope.model import EntryKind
from layerscope.sources import load_image

from .cdp import Browser
from .conftest import DEMO, MODEL_BYTES, run

TIP = "document.getElementById('ls-tip')"


def load(chromium: Browser, page: Path) -> None:
    chromium.send("Network.enable")
    chromium.open(page.resolve().as_uri())
    assert chromium.evaluate("document.documentElement.getAttribute('data-ready')") == "1"
    fetched = [url for url in chromium.requests_seen() if not url.startswith(("file:", "data:"))]
    assert fetched == [], f"the page fetched {fetched}"


def assert_drawn(png: Path) -> None:
    """The screenshot is 1280x800 and far from blank (many colours, none over 95% of it)."""
    with Image.open(png) as img:
        assert img.size == (1280, 800)
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, f"{len(colours or [])} colours"
    assert max(count for count, _ in colours) < 0.95 * 1280 * 800


def centre(chromium: Browser, js_element: str) -> tuple[float, float]:
    """Scroll an element into view; the viewport coordinates of its centre."""
    box: dict[str, float] = chromium.evaluate(
        f"(() => {{ const e = {js_element}; e.scrollIntoView({{block: 'center'}});"
        " const r = e.getBoundingClientRect();"
        " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
    )
    return box["x"], box["y"]


def hover_largest_cell(chromium: Browser) -> str:
    """Move the mouse onto the treemap's largest file cell; the tooltip's text."""
    largest = (
        "[...document.querySelectorAll('#ls-tm rect.f[data-i]')].sort((a, b) =>"
        " b.getBBox().width * b.getBBox().height - a.getBBox().width * a.getBBox().height)[0]"
    )
    x, y = centre(chromium, largest)
    chromium.mouse("mouseMoved", x, y)
    assert chromium.evaluate(f"{TIP}.style.display") == "block"
    text: str = chromium.evaluate(f"{TIP}.innerText")
    return text


def state(chromium: Browser) -> dict[str, Any]:
    result: dict[str, Any] = chromium.evaluate(
        "({rows: document.querySelectorAll('[data-layer]').length,"
        " cells: document.querySelectorAll('#ls-tm rect[data-i]').length,"
        " lit: document.querySelectorAll('#ls-tm rect.f.on').length,"
        " selecting: document.getElementById('ls-tm').classList.contains('sel'),"
        " active: [...document.querySelectorAll('.lrow.active')].map(e => e.dataset.layer),"
        " changes: document.getElementById('ls-changes').innerText,"
        " crumbs: document.getElementById('ls-crumbs').innerText})"
    )
    return result


def test_inspect_report_in_chromium(tmp_path: Path, chromium: Browser) -> None:
    page = tmp_path / "report.html"
    assert run("report", str(DEMO), "-o", str(page), "--quiet")[0] == 0
    load(chromium, page)
    shot = tmp_path / "inspect-report.png"
    chromium.screenshot(shot)
    assert_drawn(shot)
    before = state(chromium)
    assert before["rows"] == 8  # one bar per layer of the demo image
    assert before["cells"] > 40 and not before["selecting"]
    assert "Click a layer" in before["changes"]

    # the largest stored file is the model tarball layer 4 downloaded and layer 6 deleted
    tip = hover_largest_cell(chromium)
    assert "/tmp/model.tar.gz" in tip and f"{MODEL_BYTES / 1000:.1f} kB" in tip
    assert "layer 4" in tip and "deleted by layer 6" in tip

    x, y = centre(chromium, "document.querySelector('[data-layer=\"4\"]')")
    chromium.click(x, y)
    after = state(chromium)
    assert after["active"] == ["4"] and after["selecting"]
    assert after["lit"] >= 1  # the tarball's cell is layer 4's
    assert after["changes"].startswith("Layer 4") and "/tmp/model.tar.gz" in after["changes"]
    chromium.screenshot(tmp_path / "inspect-report-layer4.png")

    # a click on a cell zooms into its top-level directory
    x, y = centre(chromium, "document.querySelector('#ls-tm rect.f[data-i]')")
    chromium.click(x, y)
    assert state(chromium)["crumbs"].count("/") >= 2
    assert chromium.problems() == []


def test_treemap_areas_are_proportional_to_bytes(tmp_path: Path, chromium: Browser) -> None:
    """The top-level cells tile the treemap: each one's share of the area is its directory's
    share of the bytes (visible files plus hidden copies), summed here from the image."""
    analysis = analyze(load_image(str(DEMO)))
    by_top: dict[str, int] = {}
    for path, placed in analysis.filesystem.final.items():
        if placed.entry.kind is EntryKind.FILE:
            top = path.split("/")[1]
            by_top[top] = by_top.get(top, 0) + placed.entry.size_bytes
    for item in analysis.waste.items:
        by_top[item.path.split("/")[1]] = by_top.get(item.path.split("/")[1], 0) + item.size_bytes
    total = sum(by_top.values())
    expected = sorted((v / total for v in by_top.values() if v), reverse=True)

    page = tmp_path / "report.html"
    assert run("report", str(DEMO), "-o", str(page), "-q")[0] == 0
    load(chromium, page)
    shares: list[float] = chromium.evaluate(
        "(() => { const vb = document.querySelector('#ls-tm svg').viewBox.baseVal;"
        " return [...document.querySelectorAll('#ls-tm rect.top')].map(r =>"
        " r.width.baseVal.value * r.height.baseVal.value / (vb.width * vb.height)); })()"
    )
    shares.sort(reverse=True)
    assert len(shares) == len(expected)
    for got, want in zip(shares, expected, strict=True):
        assert abs(got - want) < 0.002, (shares, expected)
    assert chromium.problems() == []


def test_diff_report_in_chromium(tmp_path: Path, chromium: Browser, demo_v2: Path) -> None:
    page = tmp_path / "diff.html"
    assert run("diff", str(DEMO), str(demo_v2), "--html", "-o", str(page), "-q")[0] == 0
    load(chromium, page)
    shot = tmp_path / "diff-report.png"
    chromium.screenshot(shot)
    assert_drawn(shot)
    before = state(chromium)
    assert before["rows"] >= 8 and before["cells"] >= 2

    tip = hover_largest_cell(chromium)
    assert "/app/assets/bundle.js" in tip and "added" in tip

    row = "[...document.querySelectorAll('[data-layer]')].find(e => e.innerText.includes('assets'))"
    x, y = centre(chromium, row)
    chromium.click(x, y)
    after = state(chromium)
    assert len(after["active"]) == 1 and after["selecting"] and after["lit"] >= 1
    assert "/app/assets/bundle.js" in after["changes"]
    assert chromium.problems() == []


def test_history_report_in_chromium(tmp_path: Path, chromium: Browser, demo_v2: Path) -> None:
    page = tmp_path / "history.html"
    code = run("history", "--refs", str(DEMO), str(demo_v2), "--html", "-o", str(page), "-q")[0]
    assert code == 0
    load(chromium, page)
    bars = chromium.evaluate(
        "[...document.querySelectorAll('.chart svg')].map(s => s.querySelectorAll('rect').length)"
    )
    assert bars == [2, 1, 1]  # sizes of both builds; hit ratio and rebuilt bytes of the second
    chromium.screenshot(tmp_path / "history-report.png")
    assert_drawn(tmp_path / "history-report.png")
    assert chromium.problems() == []
