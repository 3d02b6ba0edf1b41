"""A soak of concurrent CI runs: PROCS processes at once, each looping ``inspect``, ``check`` and
``history`` over a few images, all sharing one cache directory and one history store.

    python -m tests.soak.run --minutes 10 --procs 8 --workdir DIR   (scripts/soak runs this)

Every command runs through ``layerscope.cli.main`` in the worker process (each opens its own
database connections, as a CI job's process would). An error is a command that exits other than
expected (inspect/history 0, check 0 or 1) or writes anything to stderr (a warning about a busy
cache counts). Afterwards the databases are checked: ``PRAGMA integrity_check``, exactly one build
record per image with all its layers, and the layer cache within LAYERSCOPE_CACHE_MAX. The
summary (JSON) goes to DIR/summary.json and stdout.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from layerscope.testing import File, ImageSpec, LayerSpec, Synthetic, write_image

REPOSITORY = "soak/app"
IMAGES = 3


def _specs() -> list[ImageSpec]:
    """Three builds of one repository: a shared base layer, then layers of their own."""
    base = LayerSpec(
        [File(f"/usr/lib/base{i}.so", Synthetic(20_000, seed=f"base{i}")) for i in range(40)],
        created_by="/bin/sh -c #(nop) ADD file:base in / ",
    )
    out = []
    for n in range(1, IMAGES + 1):
        app = LayerSpec(
            [
                File(f"/app/{n}/f{i}.py", Synthetic(3_000, seed=f"{n}-{i}", kind="text"))
                for i in range(60 * n)
            ],
            created_by=f"/bin/sh -c #(nop) COPY dir:app{n} in /app ",
        )
        extra = LayerSpec(
            [File(f"/var/cache/{n}.bin", Synthetic(50_000, seed=f"x{n}"))],
            created_by=f"/bin/sh -c build {n}",
        )
        out.append(ImageSpec(layers=[base, app, extra], repo_tags=[f"{REPOSITORY}:{n}"]))
    return out


def _env(work: Path, cache_max: str) -> dict[str, str]:
    return {
        "LAYERSCOPE_CACHE_DIR": str(work / "cache"),
        "LAYERSCOPE_DATA_DIR": str(work / "data"),
        "LAYERSCOPE_CACHE_MAX": cache_max,
        "HOME": str(work / "home"),
    }


def _worker(index: int, work: Path, images: list[str], until: float, env: dict[str, str]) -> None:
    os.environ.update(env)
    from layerscope.cli import main

    runs: dict[str, int] = {"inspect": 0, "check": 0, "history": 0}
    errors: list[str] = []
    error_count = 0
    step = index  # each worker starts at a different image and command
    while time.monotonic() < until:
        image = images[step % len(images)]
        command = ("inspect", "check", "history")[(step // len(images)) % 3]
        argv = {
            "inspect": ["inspect", image, "--json", "-q"],
            "check": ["check", image, "--json", "-q", "--rule", "max_size=1GB"],
            "history": ["history", REPOSITORY, "--json"],
        }[command]
        out, err = io.StringIO(), io.StringIO()
        code = main(argv, stdout=out, stderr=err)
        runs[command] += 1
        ok_codes = (0, 1) if command == "check" else (0,)
        if code not in ok_codes or err.getvalue().strip():
            error_count += 1
            if len(errors) < 20:
                errors.append(f"{command} {Path(image).name}: exit {code}: {err.getvalue()[:500]}")
        elif command == "history":
            builds = json.loads(out.getvalue()).get("builds", [])
            counts = [b.get("layer_count") for b in builds]
            if counts != [3] * IMAGES:  # every image was recorded before the workers started
                error_count += 1
                errors.append(f"history shows builds with layer counts {counts}")
        step += 1
    result = {"worker": index, "runs": runs, "errors": error_count, "first_errors": errors}
    (work / f"worker-{index}.json").write_text(json.dumps(result))


def _seed(images: list[str], env: dict[str, str]) -> None:
    """One inspect per image before the workers start, as the CI runs before them would have:
    a ``history`` that starts first then finds builds whatever the order the workers run in."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        from layerscope.cli import main

        for image in images:
            err = io.StringIO()
            code = main(["inspect", image, "--json", "-q"], stdout=io.StringIO(), stderr=err)
            if code != 0:
                raise RuntimeError(f"seeding inspect of {image} failed: {err.getvalue()}")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def soak(minutes: float, procs: int, work: Path, cache_max: str | None = None) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    images = []
    for n, spec in enumerate(_specs(), 1):
        path = work / f"app-{n}.tar"
        write_image(spec, path, format="docker-25")
        images.append(str(path))
    if cache_max is None:  # the 7 layers' indexes take ~6.5 kB: ~4 fit, so layers keep going
        cache_max = "4kB"
    env = _env(work, cache_max)
    _seed(images, env)
    until = time.monotonic() + minutes * 60
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_worker, args=(i, work, images, until, env)) for i in range(procs)
    ]
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join(minutes * 60 + 600)
    elapsed = time.monotonic() - started
    results = []
    for i, w in enumerate(workers):
        path = work / f"worker-{i}.json"
        if w.exitcode != 0 or not path.exists():
            results.append(
                {
                    "worker": i,
                    "runs": {},
                    "errors": 1,
                    "first_errors": [f"worker exited {w.exitcode} without a result"],
                }
            )
        else:
            results.append(json.loads(path.read_text()))
    cache_db = work / "cache" / "layerscope.sqlite3"
    history_db = work / "data" / "history.sqlite3"
    conn = sqlite3.connect(history_db)
    try:
        builds = conn.execute(
            "SELECT b.image_id, count(l.idx) FROM builds b LEFT JOIN build_layers l "
            "ON l.build_id = b.id WHERE b.repository LIKE ? GROUP BY b.id",
            (f"%{REPOSITORY}",),
        ).fetchall()
    finally:
        conn.close()
    conn = sqlite3.connect(cache_db)
    try:
        stored, layers = conn.execute(
            "SELECT coalesce(sum(encoded_bytes), 0), count(*) FROM layers"
        ).fetchone()
    finally:
        conn.close()
    from layerscope.config_paths import cache_max_bytes

    bound = cache_max_bytes(cache_max)
    runs = sum(sum(r["runs"].values()) for r in results)
    errors = sum(int(r["errors"]) for r in results)
    all_errors = [e for r in results for e in r["first_errors"]]
    return {
        "minutes": minutes,
        "processes": procs,
        "elapsed_s": round(elapsed, 1),
        "runs_completed": runs,
        "runs_by_command": {
            c: sum(r["runs"].get(c, 0) for r in results) for c in ("inspect", "check", "history")
        },
        "errors": errors,
        "database_locked": sum("database is locked" in e for e in all_errors),
        "first_errors": all_errors[:10],
        "integrity_check": {"layer_cache": _integrity(cache_db), "history": _integrity(history_db)},
        "build_records": len(builds),
        "build_records_expected": IMAGES,
        "layers_per_build": sorted(int(n) for _, n in builds),
        "distinct_image_ids": len({b[0] for b in builds}),
        "layer_cache_stored_bytes": int(stored),
        "layer_cache_layers": int(layers),
        "layer_cache_max_bytes": bound,
        "layer_cache_disk_bytes": _disk(cache_db),
        "history_disk_bytes": _disk(history_db),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--cache-max", default=None)
    args = parser.parse_args()
    summary = soak(args.minutes, args.procs, args.workdir, args.cache_max)
    text = json.dumps(summary, indent=2)
    (args.workdir / "summary.json").write_text(text + "\n")
    print(text)
    ok = (
        summary["errors"] == 0
        and set(summary["integrity_check"].values()) == {"ok"}
        and summary["build_records"] == summary["distinct_image_ids"] == IMAGES
        and summary["layers_per_build"] == [3] * IMAGES
        and summary["layer_cache_stored_bytes"] <= summary["layer_cache_max_bytes"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
