"""Run one fuzz target with the plain mutator (no coverage feedback, no instrumentation, several
times faster than atheris): ``python -m tests.fuzz.mutate_main TARGET CORPUS_DIR [-max_total_time=S]
[-seed=N] [-artifact_prefix=DIR/]``. It mutates the seeds plus whatever atheris left in CORPUS_DIR,
and prints libFuzzer's final ``stat::`` lines so scripts/fuzz reads both engines alike.

A finding (an exception, a case over 30 s, peak RSS over 500 MB) prints
``=== Uncaught Python exception: ===`` or ``==N== ERROR: …``, writes the input to
``artifact_prefix`` and exits 1.
"""

from __future__ import annotations

import hashlib
import os
import resource
import sys
import time
import traceback
from pathlib import Path

from tests.fuzz import harness
from tests.fuzz.mutate import cases

SLOW_S = 30.0
RSS_LIMIT_MB = 500


def _flag(argv: list[str], name: str, default: str) -> str:
    for arg in argv:
        if arg.startswith(f"-{name}="):
            return arg.split("=", 1)[1]
    return default


def _rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> int:
    name, corpus = sys.argv[1], Path(sys.argv[2])
    flags = sys.argv[3:]
    budget = float(_flag(flags, "max_total_time", "60"))
    seed = int(_flag(flags, "seed", "1"))
    prefix = _flag(flags, "artifact_prefix", "./")
    run = harness.target(name)
    pool = harness.seeds(name)
    if corpus.is_dir():
        pool += [p.read_bytes() for p in sorted(corpus.iterdir()) if p.is_file()]
    done, slowest = 0, 0.0
    deadline = time.monotonic() + budget
    for data in cases(pool, 10**9, seed):
        if time.monotonic() >= deadline:
            break
        started = time.monotonic()
        finding = None
        try:
            run(data)
        except Exception:  # noqa: BLE001 - reported with its input
            finding = "=== Uncaught Python exception: ===\n" + traceback.format_exc()
        took = time.monotonic() - started
        slowest = max(slowest, took)
        if finding is None and took > SLOW_S:
            finding = f"=={os.getpid()}== ERROR: libFuzzer: timeout after {took:.0f} seconds"
        if finding is None and _rss_mb() > RSS_LIMIT_MB:
            finding = f"=={os.getpid()}== ERROR: libFuzzer: out-of-memory ({_rss_mb()} MB)"
        done += 1
        if finding is not None:
            path = Path(prefix + "crash-" + hashlib.sha1(data).hexdigest())
            path.write_bytes(data)
            print(finding, f"\nTest unit written to {path}", file=sys.stderr)
            break
    for key, value in (
        ("number_of_executed_units", done),
        ("average_exec_per_sec", int(done / max(budget, 1))),
        ("slowest_unit_time_sec", int(slowest)),
        ("peak_rss_mb", _rss_mb()),
    ):
        print(f"stat::{key}: {value}", file=sys.stderr)
    return 1 if done and finding is not None else 0


if __name__ == "__main__":
    sys.exit(main())
