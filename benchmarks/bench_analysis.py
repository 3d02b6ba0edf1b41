"""CPU time of each step after the layers are read, for one archive: stacking, waste, changes,
dive metrics, suggestions, the JSON text; optionally against another checkout, interleaved.

    python benchmarks/bench_analysis.py ARCHIVE [ARCHIVE...] [--repeat 7] [--before DIR]

The image is loaded once per process (through a private layer cache, filled by the first
load), then each step runs ``--repeat`` times with the cyclic GC off, as ``analyze`` runs it;
the table shows the minimum and the median CPU milliseconds (``time.process_time``). With
``--before DIR`` (e.g. ``git archive main layerscope | tar -x -C DIR``, plus the built
``_tarwalk*.so``), the same steps run in a second process importing layerscope from DIR,
alternating with this checkout's process ``--rounds`` times. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import gc, json, sys, time
from layerscope.sources import load_image
from layerscope.tree import stack_layers
from layerscope.analysis import analyze
from layerscope.analysis.waste import find_waste
from layerscope.analysis.changes import layer_changes
from layerscope.analysis.dive import dive_metrics
from layerscope.analysis.suggest import suggest
from layerscope.render import json as rj

archive, repeat = sys.argv[1], int(sys.argv[2])
image = load_image(archive)
stack = stack_layers(image)
waste = find_waste(image, stack=stack)
analysis = analyze(image)
report = suggest(analysis)
if hasattr(rj, "dumps_inspect"):
    text = lambda: rj.dumps_inspect(analysis, report, indent=None)
else:
    text = lambda: rj.dumps(rj.inspect_document(analysis, report), indent=None)
steps = {
    "stack_layers": lambda: stack_layers(image),
    "find_waste": lambda: find_waste(image, stack=stack),
    "layer_changes": lambda: layer_changes(
        image, stack=stack, reclaimable_by_layer=waste.reclaimable_by_layer
    ),
    "dive_metrics": lambda: dive_metrics(image),
    "analyze (all)": lambda: analyze(image),
    "suggest": lambda: suggest(analysis),
    "JSON text": text,
}
out = {}
for name, step in steps.items():
    times = []
    for _ in range(repeat):
        gc.disable()
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
        gc.enable()
    out[name] = times
print(json.dumps(out))
"""


def _run(archive: str, repeat: int, pythonpath: str | None, cache: str) -> dict[str, list[float]]:
    env = dict(os.environ, LAYERSCOPE_CACHE_DIR=f"{cache}/c", LAYERSCOPE_DATA_DIR=f"{cache}/d")
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(Path(archive).resolve()), str(repeat)],
        env=env,
        cwd=tempfile.gettempdir(),  # not the checkout: PYTHONPATH decides which layerscope
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"bench: the {pythonpath} run failed:\n{done.stderr}")
    result: dict[str, list[float]] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("archives", nargs="+")
    p.add_argument("--repeat", type=int, default=7, help="runs of each step per process")
    p.add_argument("--rounds", type=int, default=2, help="processes per checkout, alternating")
    p.add_argument("--before", metavar="DIR", help="another checkout's folder holding layerscope/")
    args = p.parse_args(argv)
    sides = {"after": str(REPO)} | ({"before": args.before} if args.before else {})
    for archive in args.archives:
        times: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
        with tempfile.TemporaryDirectory(prefix="ls-bench-analysis-") as cache:
            for _ in range(args.rounds):
                for side, path in sides.items():
                    for step, values in _run(archive, args.repeat, path, f"{cache}/{side}").items():
                        times[side].setdefault(step, []).extend(values)
        print(f"\n{Path(archive).name}: CPU ms, min / median of {args.rounds} x {args.repeat}")
        print(f"{'step':<16}" + "".join(f"{side:>20}" for side in sides))
        for step in times["after"]:
            cells = []
            for side in sides:
                values = times[side].get(step, [])
                ms = (min(values) * 1e3, statistics.median(values) * 1e3) if values else None
                cells.append(f"{ms[0]:8.1f} / {ms[1]:7.1f}" if ms else f"{'-':>18}")
            print(f"{step:<16}" + "".join(f"{cell:>20}" for cell in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
