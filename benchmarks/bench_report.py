"""Benchmark of ``layerscope report``: page size and how fast headless chromium renders it.

    .venv/bin/python benchmarks/bench_report.py                      # 1 GB, 35k files
    .venv/bin/python benchmarks/bench_report.py --files 120000 --size-gb 1 --keep   # folding

Builds a docker-save archive with the project's builder (``large_spec``: a base layer of
``--files`` files totalling ``--size-gb`` GB, then a layer of whiteouts and rewrites), writes
the report with ``layerscope report ARCHIVE -o PAGE`` (a child process, cold layer cache), and
loads the page ``--repeat`` times in Debian's headless chromium from a file:// URL, each time in
a fresh profile, reading the page's own navigation timing: ``loadEventEnd`` (HTML parsed, the
data block parsed, the treemap laid out and drawn, the layer chart and tables laid out). The
floor, in the same browser session, is a page of the same chromium holding only the word "x".
A benchmark, not a test: it prints a table and exits 0 when the render is within 2 s and the
page within 5 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _measure import measure  # noqa: E402

from tests.report.cdp import browser  # noqa: E402

MB = 1000**2
TARGET_S = 2.0
TARGET_BYTES = 5 * MB


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=35_000)
    parser.add_argument("--size-gb", type=float, default=1.0, help="decimal GB (default 1)")
    parser.add_argument("--whiteouts", type=int, default=1_000)
    parser.add_argument("--rewrites", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/layerscope-bench-report"))
    parser.add_argument("--keep", action="store_true", help="keep the image for the next run")
    args = parser.parse_args(argv)
    if REPO in args.workdir.resolve().parents:
        parser.error("--workdir must be outside the repository")
    return args


def build(args: argparse.Namespace) -> tuple[Path, float]:
    from layerscope.testing import write_image
    from layerscope.testing.specs import large_spec

    total = int(args.size_gb * 1000**3)
    path = args.workdir / (f"report-f{args.files}-b{total}-w{args.whiteouts}-r{args.rewrites}.tar")
    if path.exists():
        return path, 0.0
    free = shutil.disk_usage(args.workdir).free
    if free < total * 1.2:
        sys.exit(f"bench: {args.workdir} has {free / MB:.0f} MB free, needs {total * 1.2 / MB:.0f}")
    spec = large_spec(args.files, total, args.whiteouts, args.rewrites)
    start = time.perf_counter()
    write_image(spec, path, format="docker-legacy")
    return path, time.perf_counter() - start


def render_times(
    page: Path, repeat: int, scratch: Path
) -> tuple[list[float], list[float], list[float], int]:
    """Seconds per run: page load, floor load, treemap layout+draw; and the cells drawn."""
    floor_page = scratch / "floor.html"
    floor_page.write_text("<!DOCTYPE html><title>x</title>x", encoding="utf-8")
    timing = "performance.getEntriesByType('navigation')[0].loadEventEnd / 1000"
    loads, floors, draws, cells = [], [], [], 0
    for run in range(repeat):
        with browser(scratch / f"run{run}") as chromium:
            chromium.open(floor_page.as_uri())
            floors.append(chromium.evaluate(timing))
            chromium.open(page.as_uri())
            loads.append(chromium.evaluate(timing))
            cells = int(chromium.evaluate("document.getElementById('ls-tm').dataset.cells"))
            draw_ms = chromium.evaluate("document.getElementById('ls-tm').dataset.drawMs")
            draws.append(float(draw_ms) / 1000)
            problems = chromium.problems()
            if problems:
                sys.exit(f"bench: the page reported errors: {problems[:3]}")
            chromium.screenshot(scratch / "report.png")
    return loads, floors, draws, cells


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    archive, built_s = build(args)
    scratch = Path(tempfile.mkdtemp(prefix="bench-report-", dir=args.workdir))
    env = dict(os.environ)
    env["LAYERSCOPE_CACHE_DIR"] = str(scratch / "cache")
    env["LAYERSCOPE_DATA_DIR"] = str(scratch / "data")
    page = scratch / "report.html"
    exe = Path(sys.executable).parent / "layerscope"
    run = measure([str(exe), "report", str(archive), "-o", str(page), "--quiet"], env=env,
                  stderr=scratch / "report.err")  # fmt: skip
    if run.returncode != 0:
        sys.exit(f"bench: layerscope report failed: {(scratch / 'report.err').read_text()[-500:]}")
    text = page.read_text(encoding="utf-8")
    size = len(text.encode())
    data = json.loads(text.split('id="ls-data">', 1)[1].split("</script>", 1)[0])
    loads, floors, draws, cells = render_times(page, args.repeat, scratch)
    load, floor = statistics.median(loads), statistics.median(floors)
    ok = load <= TARGET_S and size <= TARGET_BYTES
    print(f"image: {args.files:,} files, {args.size_gb:g} GB ({archive.name}"
          f"{f', built in {built_s:.0f} s' if built_s else ', reused'})")  # fmt: skip
    print(f"{'':32}{'value':>14}{'target':>10}{'floor':>10}{'ratio':>8}")
    print(f"{'page size':32}{size / MB:>11.2f} MB{'<= 5 MB':>10}")
    print(f"{'render in chromium (median)':32}{load:>12.2f} s{'<= 2 s':>10}{floor:>9.2f}s"
          f"{load / floor if floor else float('nan'):>7.0f}x")  # fmt: skip
    print(f"{'  runs':32}{', '.join(f'{v:.2f}' for v in loads):>14}")
    print(f"{'layerscope report (cold cache)':32}{run.wall_s:>12.2f} s"
          f"{'':>10}{'':>10}  peak RSS {run.max_rss_mib:.0f} MiB")  # fmt: skip
    print(f"{'  of which treemap layout+draw':32}{statistics.median(draws):>12.2f} s")
    print(f"{'treemap cells drawn':32}{cells:>14,}")
    print(f"{'files folded into directories':32}{data['folded']:>14,}")
    verdict = "targets met" if ok else "TARGET MISSED"
    print(f"verdict: {verdict}; screenshot {scratch / 'report.png'}")
    if not args.keep:
        archive.unlink()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
