"""Regenerate docs/report-inspect.png, report-diff.png and report-history.png (the README's
pictures).

    .venv/bin/python docs/make_report_screenshots.py

Writes the demo image's report (with its Dockerfile) and a diff against a second version of
it, opens each in headless chromium at 1280x800, selects a layer and hovers the treemap, and
saves the screenshots here.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from layerscope import cli  # noqa: E402
from layerscope.testing import write_image  # noqa: E402
from tests.report.cdp import Browser, browser  # noqa: E402
from tests.report.conftest import demo_v2_spec  # noqa: E402


def pick(chromium: Browser, row_js: str) -> None:
    """Click a layer row, then hover the largest lit treemap cell."""
    largest_lit = (
        "[...document.querySelectorAll('#ls-tm rect.f.on[data-i]')].sort((a, b) =>"
        " b.getBBox().width * b.getBBox().height - a.getBBox().width * a.getBBox().height)[0]"
    )
    for js, action in ((row_js, "click"), (largest_lit, "hover")):
        box = chromium.evaluate(
            f"(() => {{ const r = ({js}).getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        if action == "click":
            chromium.click(*box)
        else:
            chromium.mouse("mouseMoved", *box)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="layerscope-shots-"))
    os.environ["LAYERSCOPE_CACHE_DIR"] = str(work / "cache")
    os.environ["LAYERSCOPE_DATA_DIR"] = str(work / "data")
    os.chdir(work)
    shutil.copy(REPO / "fixtures/demo/demo-app.tar", "demo-app-v1.tar")
    shutil.copy(REPO / "fixtures/demo/Dockerfile", "Dockerfile")
    write_image(demo_v2_spec(), "demo-app-v2.tar", "docker-25")
    assert cli.main(["report", "demo-app-v1.tar", "-f", "Dockerfile", "-o", "inspect.html"]) == 0
    diff = ["diff", "demo-app-v1.tar", "demo-app-v2.tar", "--html", "-o", "diff.html"]
    assert cli.main(diff) == 0
    # report and diff recorded both versions: the history page has two builds to chart
    history = ["history", "example.com/demo-app", "--html", "-o", "history.html"]
    assert cli.main(history) == 0
    shots = {
        "inspect": ("document.querySelector('[data-layer=\"3\"]')", "report-inspect.png"),
        "diff": (
            "[...document.querySelectorAll('[data-layer]')]"
            ".find(e => e.innerText.includes('assets'))",
            "report-diff.png",
        ),
    }
    shots["history"] = ("", "report-history.png")
    for name, (row, png) in shots.items():
        with browser(work / name) as chromium:
            chromium.open((work / f"{name}.html").as_uri())
            if row:
                pick(chromium, row)
            chromium.evaluate("window.scrollTo(0, 0)")
            chromium.screenshot(REPO / "docs" / png)
            assert chromium.problems() == [], chromium.problems()
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
