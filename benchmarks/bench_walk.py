"""Walker benchmark: ``scan_layer`` on a ~100k-entry tar, compiled and pure Python.

Builds once, in ``--workdir`` (outside the repository), a GNU tar of about 100k entries
(directories, files of random bytes, ``.pyc`` files, symlinks, and package-database files the
scan keeps) and its gzip twin. Then times ``scan_layer`` on it as a memoryview, as a stream and
gzip-compressed, with the compiled walker (C) and the pure-Python one: CPU seconds of the scan
(``time.process_time``, steadier than wall time on a shared machine), median of ``--repeat``.
Beside it, the floor: xxh3 of the whole uncompressed tar, the hashing no walk can skip.
The ``span`` cases walk the tar as a ``FileSpan`` of its file (mapped windows: the path of a
local ``docker save`` archive), through ``sources.scan_layer`` (which also samples the gzip
estimate), with wall time beside CPU time: that walk uses helper threads (a hashing worker, a
populater, an unmapper, the estimate), so its CPU time counts every thread and its wall time is
what they save.
``--archive FILE`` walks the biggest member of a ``docker save`` archive there instead (e.g.
the 2 GiB image of bench_inspect.py) and runs only the ``span`` cases.

``--before DIR`` times another checkout's walker (DIR holds its ``layerscope`` package, with
the compiled extension built in place: ``python setup.py build_ext --inplace``) the same way,
in its own processes taking turns with this one, and prints after/before for each case.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import mmap
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CASES = ("C/view", "C/stream", "C/gzip", "C/span", "pure/view", "pure/stream", "pure/gzip")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--dirs", type=int, default=2000, help="directories of 49 entries each")
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "layerscope-walk",
        help="where the tars go (never inside the repo)",
    )
    p.add_argument("--repeat", type=int, default=5, help="scans per case (median)")
    p.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    p.add_argument(
        "--before",
        type=Path,
        default=None,
        metavar="DIR",
        help="a checkout whose walker is timed the same way, in turn with this one",
    )
    p.add_argument(
        "--archive",
        type=Path,
        default=None,
        metavar="FILE",
        help="walk the biggest member of this docker-save archive (span cases only)",
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.archive is not None:
        args.archive = args.archive.resolve()
        args.cases = [c for c in args.cases if c.endswith("/span")] or ["C/span"]
    work = args.workdir.resolve()
    if work == REPO or REPO in work.parents:
        p.error(f"--workdir {work} is inside the repository; pick a directory outside it")
    args.workdir = work
    return args


def build(work: Path, dirs: int) -> tuple[Path, Path]:
    """The tar and its gzip twin (built once per size, then reused)."""
    tar_path, gz_path = work / f"walk-{dirs}.tar", work / f"walk-{dirs}.tar.gz"
    if tar_path.exists() and gz_path.exists():
        return tar_path, gz_path
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add(
            name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
        ) -> None:
            info = tarfile.TarInfo(name)
            info.mtime, info.type, info.linkname = 1_700_000_000, kind, link
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)

        add("var/lib/dpkg/status", b"Package: a\nStatus: install ok installed\nVersion: 1\n\n" * 50)
        site = "usr/lib/python3/site-packages"
        for d in range(dirs):
            add(f"{site}/pkg{d}", kind=tarfile.DIRTYPE)
            if d % 50 == 0:
                add(f"{site}/pkg{d}-1.0.dist-info/RECORD", b"a,b,1\n" * 30)
                add(f"{site}/pkg{d}-1.0.dist-info/METADATA", b"Name: p\nVersion: 1\n")
            for f in range(49):
                name, r = f"{site}/pkg{d}/mod{f}", rng.random()
                if r < 0.05:
                    add(name + "_link", kind=tarfile.SYMTYPE, link=f"mod{(f + 1) % 49}.py")
                elif r < 0.15:
                    add(name + ".pyc", rng.randbytes(rng.randint(16, 4000)))
                else:
                    add(name + ".py", rng.randbytes(rng.randint(0, 3000)))
    tar_path.write_bytes(buf.getvalue())
    gz_path.write_bytes(gzip.compress(buf.getvalue(), 6))
    return tar_path, gz_path


def _span(path: Path, archive: Path | None) -> tuple[int, int, int]:
    """(fd, offset, size) of the tar: the file, or the biggest member of ``archive``."""
    if archive is None:
        return os.open(path, os.O_RDONLY), 0, path.stat().st_size
    with tarfile.open(archive) as tar:
        member = max(tar.getmembers(), key=lambda m: m.size)
    return os.open(archive, os.O_RDONLY), member.offset_data, member.size


def child(tar_path: Path, gz_path: Path, cases: list[str], archive: Path | None) -> dict[str, Any]:
    """One scan per case in this process (whichever ``layerscope`` is on the path)."""
    import inspect

    import xxhash

    from layerscope.layers import FileSpan, scan_layer
    from layerscope.sources import layer_scan

    keep: dict[str, Any] = {}
    if "keep" in inspect.signature(scan_layer).parameters:
        from layerscope.analysis.packages import PACKAGE_DATABASES

        keep["keep"] = PACKAGE_DATABASES
    fd, offset, size = _span(tar_path, archive)
    blob = b"" if archive is not None else tar_path.read_bytes()
    gz = b"" if archive is not None else gz_path.read_bytes()
    makers: dict[str, Callable[[], Any]] = {
        "view": lambda: memoryview(blob),
        "stream": lambda: io.BytesIO(blob),
        "gzip": lambda: io.BytesIO(gz),
        "span": lambda: FileSpan(fd, offset, size),
    }
    out: dict[str, Any] = {}
    start = time.process_time()
    if archive is None:
        xxhash.xxh3_64_hexdigest(blob)
    else:  # the walk's floor there: map 16 MiB windows, xxh3 every byte
        hasher = xxhash.xxh3_64()
        for at in range(0, size, 16 << 20):
            hasher.update(_mapped(fd, offset + at, min(16 << 20, size - at)))
    out["floor"] = time.process_time() - start
    for case in cases:
        walker, how = case.split("/")
        made = makers[how]()
        start, wall = time.process_time(), time.perf_counter()
        if how == "span":  # as a source walks it: with the gzip estimate
            scan = _span_scan(layer_scan, made)
        else:
            scan = scan_layer(made, pure_python=walker == "pure", **keep)
        out[case] = time.process_time() - start
        out[case + ":wall"] = time.perf_counter() - wall
        out[case + ":entries"] = [len(scan.entries), len(scan.contents)]
    return out


def _mapped(fd: int, at: int, length: int) -> memoryview:
    aligned = at - at % mmap.ALLOCATIONGRANULARITY
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    window = mmap.mmap(fd, at + length - aligned, flags, mmap.PROT_READ, offset=aligned)
    return memoryview(window)[at - aligned :]


def _span_scan(layer_scan: Any, span: Any) -> Any:
    """``sources.scan_layer`` of a FileSpan, and its gzip estimate when the checkout under test
    adds it after the walk (before issue 17's threads)."""
    scan = layer_scan.scan_layer(span)
    if getattr(scan, "gzip_estimate_bytes", 0) is None:
        from layerscope.layers import estimate_gzip_bytes

        def read_at(at: int, length: int) -> bytes:
            return os.pread(span.fd, min(length, span.size - at), span.offset + at)

        estimate_gzip_bytes(read_at, span.size)
    return scan


def run_child(args: argparse.Namespace, checkout: Path, paths: tuple[Path, Path]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    cmd = [sys.executable, __file__, "--child", "--workdir", str(args.workdir),
           "--dirs", str(args.dirs), "--cases", *args.cases]  # fmt: skip
    if args.archive is not None:
        cmd += ["--archive", str(args.archive)]
    done = subprocess.run(
        cmd, env=env, capture_output=True, text=True, check=True, cwd=paths[0].parent
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = build(args.workdir, args.dirs)
    if args.child:
        print(json.dumps(child(*paths, args.cases, args.archive)))
        return 0
    sides = {"after": REPO} | ({"before": args.before.resolve()} if args.before else {})
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for i in range(args.repeat):
        order = list(sides) if i % 2 == 0 else list(sides)[::-1]  # take turns, first and second
        for side in order:
            runs[side].append(run_child(args, sides[side], paths))
        print(f"run {i + 1}/{args.repeat} done", file=sys.stderr, flush=True)
    entries = runs["after"][0][args.cases[0] + ":entries"]
    print(
        f"{entries[0]:,} entries, {entries[1]} kept; ms per scan (CPU of every thread, and "
        f"wall), median of {args.repeat}; after/before: median of the paired ratios"
    )
    head = f"{'case':<12}{'CPU':>9}{'floor x':>9}{'wall':>9}"
    if "before" in runs:
        head += f"{'CPU before':>12}{'after/before':>14}{'wall before':>13}{'after/before':>14}"
    print(head)
    floor = statistics.median(r["floor"] for r in runs["after"])
    print(f"{'xxh3 floor':<12}{floor * 1000:>9.1f}")
    for case in args.cases:
        after = statistics.median(r[case] for r in runs["after"])
        wall = statistics.median(r[case + ":wall"] for r in runs["after"])
        row = f"{case:<12}{after * 1000:>9.1f}{after / floor:>8.1f}x{wall * 1000:>9.1f}"
        if "before" in runs:
            for key in (case, case + ":wall"):
                before = statistics.median(r.get(key, r[case]) for r in runs["before"])
                pairs = statistics.median(
                    a[key] / b.get(key, b[case])
                    for a, b in zip(runs["after"], runs["before"], strict=True)
                )
                row += f"{before * 1000:>12.1f}{pairs:>13.3f}x"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
