"""The history store on both engines: record 1,000 builds of one repository (30 layers each),
then ``layerscope history NAME`` over them (target <= 1 s on each engine).

Run: .venv/bin/python benchmarks/bench_store.py [--builds 1000] [--layers 30] [--repeat 3]

PostgreSQL is a private cluster from Debian's postgresql package (initdb + pg_ctl on a free
loopback port, as the tests start it; run as root it runs the server as ``nobody``), SQLite a
file in a temporary folder. For each engine:

- record: ``HistoryStore.record`` once per build, one transaction each, one open store (a
  long-lived recorder); per build: mean and p95;
- open+record: 20 more builds, each opening the store, recording, closing (what one
  ``inspect``/``check`` run in a CI job pays, without the image analysis);
- history: ``layerscope history NAME --text/--json --output FILE`` as a child process over the
  builds (spawn to exit, Python start-up included), median of --repeat;
- floor: reading the same rows with the bare driver (``SELECT`` of builds and layers), in
  process: what any reader pays; ``text/floor`` is the ratio. The child's CPU seconds (user +
  system) are printed beside its wall time: on a loaded machine the wall time stretches.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layerscope.store.history import HistoryStore  # noqa: E402
from tests.history.fleetkit import synthetic_build  # noqa: E402
from tests.history.pgkit import PgCluster  # noqa: E402

REPOSITORY = "docker.io/team/bench"


def floor_read(url: str) -> float:
    """Seconds to read every build and layer row with the bare driver."""
    start = time.perf_counter()
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        conn.execute("SELECT * FROM builds WHERE repository = ?", (REPOSITORY,)).fetchall()
        conn.execute("SELECT * FROM build_layers").fetchall()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url) as pg:
            pg.execute("SELECT * FROM builds WHERE repository = %s", (REPOSITORY,)).fetchall()
            pg.execute("SELECT * FROM build_layers").fetchall()
    return time.perf_counter() - start


def history_run(url: str, fmt: str, out: Path, cpu: list[float]) -> float:
    """Wall seconds of one ``history`` child; its CPU seconds (user + system) go to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "layerscope", "history", REPOSITORY, f"--{fmt}", "--store", url,
         "--output", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"history failed: {proc.stderr}")
    return elapsed


def bench(
    engine: str, url: str, builds: int, layers: int, repeat: int, tmp: Path
) -> dict[str, float]:
    records = [synthetic_build(REPOSITORY, n, layers=layers) for n in range(builds + 20)]
    times = []
    with HistoryStore(url) as store:
        for build in records[:builds]:
            start = time.perf_counter()
            assert store.record(build)
            times.append(time.perf_counter() - start)
    cold = []
    for build in records[builds:]:
        start = time.perf_counter()
        with HistoryStore(url) as store:
            assert store.record(build)
        cold.append(time.perf_counter() - start)
    times.sort()
    text_cpu: list[float] = []
    json_cpu: list[float] = []
    result = {
        "record_ms": 1000 * statistics.mean(times),
        "record_p95_ms": 1000 * times[int(len(times) * 0.95)],
        "open_record_ms": 1000 * statistics.median(cold),
        "history_text_s": statistics.median(
            history_run(url, "text", tmp / f"{engine}.txt", text_cpu) for _ in range(repeat)
        ),
        "history_json_s": statistics.median(
            history_run(url, "json", tmp / f"{engine}.json", json_cpu) for _ in range(repeat)
        ),
        "floor_s": statistics.median(floor_read(url) for _ in range(repeat)),
    }
    result["history_text_cpu_s"] = statistics.median(text_cpu)
    result["history_json_cpu_s"] = statistics.median(json_cpu)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--builds", type=int, default=1000)
    parser.add_argument("--layers", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cluster = PgCluster()
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            os.environ["LAYERSCOPE_DATA_DIR"] = str(tmp / "data")
            os.environ["LAYERSCOPE_CACHE_DIR"] = str(tmp / "cache")
            stores = {
                "sqlite": f"sqlite:///{tmp / 'history.sqlite3'}",
                "postgresql": cluster.create_database(),
            }
            results = {
                engine: bench(engine, url, args.builds, args.layers, args.repeat, tmp)
                for engine, url in stores.items()
            }
            same = (tmp / "sqlite.txt").read_text() == (tmp / "postgresql.txt").read_text()
    finally:
        cluster.destroy()
    total = args.builds + 20
    print(f"{args.builds} builds x {args.layers} layers of one repository "
          f"(history over {total} builds)")  # fmt: skip
    print(f"{'engine':<11} {'record ms':>10} {'p95 ms':>8} {'open+rec ms':>12} "
          f"{'history text s':>15} {'(cpu)':>6} {'json s':>7} {'(cpu)':>6} {'floor s':>8} "
          f"{'text/floor':>11}")  # fmt: skip
    ok = True
    for engine, r in results.items():
        ratio = r["history_text_s"] / r["floor_s"]
        print(f"{engine:<11} {r['record_ms']:>10.2f} {r['record_p95_ms']:>8.2f} "
              f"{r['open_record_ms']:>12.1f} {r['history_text_s']:>15.3f} "
              f"{r['history_text_cpu_s']:>6.2f} {r['history_json_s']:>7.3f} "
              f"{r['history_json_cpu_s']:>6.2f} {r['floor_s']:>8.3f} {ratio:>11.1f}")  # fmt: skip
        ok = ok and max(r["history_text_s"], r["history_json_s"]) <= 1.0
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} CPUs "
          "(wall times stretch with it; cpu columns do not)")  # fmt: skip
    print(f"history text identical on both engines: {same}")
    print(f"target history NAME <= 1 s on each engine: {'met' if ok else 'MISSED'}")
    raise SystemExit(0 if ok and same else 1)


if __name__ == "__main__":
    main()
