"""Where ``layerscope inspect --json`` spends time and memory on one archive, phase by phase.

    python benchmarks/profile_inspect.py ARCHIVE                  # phases: seconds, RSS, heap
    python benchmarks/profile_inspect.py ARCHIVE --tracemalloc    # + top allocation sites
    python benchmarks/profile_inspect.py ARCHIVE --cprofile OUT   # + cProfile of cli.main
    python benchmarks/profile_inspect.py ARCHIVE --cprofile OUT --warm   # ... on a filled cache

Phases: load (``sources.load_image``), analyze, document (``render.json.inspect_document``),
dumps. After each it prints wall seconds, ``RssAnon``/``RssFile`` of this process and, with
``--tracemalloc``, Python heap bytes (current and peak) and bytes per layer entry.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

MIB = 1024**2


def _status() -> dict[str, int]:
    out: dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("RssAnon", "RssFile", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024
    return out


def phases(archive: str, trace: bool, top: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ls-prof-") as tmp:
        os.environ.setdefault("LAYERSCOPE_CACHE_DIR", f"{tmp}/cache")
        os.environ.setdefault("LAYERSCOPE_DATA_DIR", f"{tmp}/data")
        _phases(archive, trace, top)


def _phases(archive: str, trace: bool, top: int) -> None:
    t_import = time.perf_counter()
    from layerscope.analysis import analyze
    from layerscope.render.json import dumps, inspect_document
    from layerscope.sources import load_image

    print(
        f"imports: {time.perf_counter() - t_import:.2f} s, "
        f"anon {_status()['RssAnon'] / MIB:.0f} MiB"
    )
    if trace:
        tracemalloc.start(8)
    held: dict[str, Any] = {}
    n_entries = 0

    def step(name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        if trace:
            tracemalloc.reset_peak()
        value = fn()
        dt = time.perf_counter() - t0
        st = _status()
        line = (
            f"{name:>9}: {dt:6.2f} s  anon {st['RssAnon'] / MIB:6.0f} MiB  "
            f"file {st['RssFile'] / MIB:6.0f} MiB  hwm {st['VmHWM'] / MIB:6.0f} MiB"
        )
        if trace:
            cur, peak = tracemalloc.get_traced_memory()
            line += f"  heap {cur / MIB:6.0f} MiB (peak {peak / MIB:.0f})"
            if n_entries:
                line += f"  {cur / n_entries:.0f} B/entry"
        print(line, flush=True)
        held[name] = value
        return value

    image = step("load", lambda: load_image(archive))  # no layer cache: like --no-cache
    n_entries = sum(len(layer.entries) for layer in image.layers)
    print(f"           {n_entries:,} entries in {len(image.layers)} layers")
    snap_load = tracemalloc.take_snapshot() if trace else None
    analysis = step("analyze", lambda: analyze(image))
    snap_analyze = tracemalloc.take_snapshot() if trace else None
    doc = step("document", lambda: inspect_document(analysis))
    text = step("dumps", lambda: dumps(doc))
    print(f"           JSON {len(text) / MIB:.1f} MiB")
    if trace and snap_load is not None and snap_analyze is not None:
        filt = [tracemalloc.Filter(False, tracemalloc.__file__)]
        print(f"\ntop {top} allocation sites alive after load:")
        for stat in snap_load.filter_traces(filt).statistics("lineno")[:top]:
            print(f"  {stat.size / MIB:7.1f} MiB {stat.count:>9,} blocks  {stat.traceback[0]}")
        print(f"\ntop {top} allocation sites added by analyze:")
        diff = snap_analyze.filter_traces(filt).compare_to(snap_load.filter_traces(filt), "lineno")
        for d in diff[:top]:
            print(f"  {d.size_diff / MIB:+7.1f} MiB {d.count_diff:>+9,} blocks  {d.traceback[0]}")
    gc.collect()


def profile(archive: str, out: Path, top: int, warm: bool = False) -> None:
    from layerscope.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LAYERSCOPE_CACHE_DIR"] = f"{tmp}/cache"
        os.environ["LAYERSCOPE_DATA_DIR"] = f"{tmp}/data"
        argv = ["inspect", archive, "--json", "-q", "--output", f"{tmp}/o.json"]
        if warm:  # a first run fills the layer cache; the second one is profiled
            t0 = time.perf_counter()
            print(f"\nfilling the layer cache: exit {main(argv)}, {time.perf_counter() - t0:.2f} s")
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        code = prof.runcall(main, argv)
        print(f"\ncProfile run: exit {code}, {time.perf_counter() - t0:.2f} s (with profiler)")
    prof.dump_stats(out)
    stats = pstats.Stats(str(out), stream=sys.stdout).strip_dirs()
    print(f"\ntop {top} by own time:")
    stats.sort_stats("tottime").print_stats(top)
    print(f"top {top} by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("archive")
    p.add_argument("--tracemalloc", action="store_true", help="trace Python allocations (slow)")
    p.add_argument("--cprofile", type=Path, metavar="OUT", help="also cProfile cli.main to OUT")
    p.add_argument("--warm", action="store_true", help="--cprofile a run on a filled layer cache")
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)
    phases(args.archive, args.tracemalloc, args.top)
    if args.cprofile:
        profile(args.archive, args.cprofile, args.top, args.warm)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
