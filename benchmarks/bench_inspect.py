"""Speed and memory benchmark: ``layerscope inspect --json`` against dive and the read floor.

Builds two large docker-save archives with ``layerscope.testing`` (a whiteout-heavy one and an
easy one with no whiteouts or rewrites), then, in one run, times for each: the floor
(``cat ARCHIVE > /dev/null`` with a warm page cache), ``layerscope inspect --json`` and
``dive --ci``. Prints a table and the targets, and writes the results as JSON.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import Run, Summary, measure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
GIB = 1024**3
MIB = 1024**2
TARGET_VS_DIVE_HEAVY = 100.0  # layerscope at least 100x faster than dive on the heavy image
TARGET_VS_DIVE_EASY = 2.0  # at least 2x faster than dive on the easy image
TARGET_VS_FLOOR = 3.0  # within 3x of the floor
TARGET_RSS_MIB = 300.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--files", type=int, default=100_000, help="files in the base layer")
    p.add_argument(
        "--size-gb",
        type=float,
        default=2.0,
        help="total file bytes in the base layer, GiB (default 2.0)",
    )
    p.add_argument(
        "--whiteouts",
        type=int,
        default=2_500,
        help="whiteouts in the heavy image's second layer (1 in 10 is a directory)",
    )
    p.add_argument(
        "--rewrites",
        type=int,
        default=1_200,
        help="rewritten files in the heavy image's second layer",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "layerscope-bench",
        help="where images and logs go (never inside the repo)",
    )
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        help="results JSON (default: WORKDIR-results.json, next to the workdir)",
    )
    p.add_argument("--keep", action="store_true", help="keep the images for a later run")
    p.add_argument("--skip-dive", action="store_true", help="do not run dive")
    p.add_argument("--repeat", type=int, default=3, help="runs of floor and layerscope (median)")
    p.add_argument(
        "--dive-timeout",
        type=float,
        default=1200.0,
        help="seconds before dive is killed (default 1200)",
    )
    p.add_argument("--only", choices=("heavy", "easy"), help="benchmark one image only")
    p.add_argument("--layerscope", default=None, help="layerscope command (default: venv's)")
    p.add_argument("--dive", default=None, help="dive binary (default: venv's, else PATH)")
    p.add_argument(
        "--before",
        default=None,
        metavar="CMD",
        help="another layerscope command (an older checkout) timed the same way, "
        "interleaved with the main one: the 'before' columns",
    )
    args = p.parse_args(argv)
    work = args.workdir.resolve()
    if work == REPO or REPO in work.parents:
        p.error(f"--workdir {work} is inside the repository; pick a directory outside it")
    args.workdir = work
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    return args


# --- images -------------------------------------------------------------------------------------


def builder_fingerprint() -> str:
    """A short hash of the builder's source, so a changed builder means rebuilt images."""
    h = hashlib.sha256()
    for f in sorted((REPO / "layerscope" / "testing").glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:10]


def image_params(args: argparse.Namespace, kind: str) -> dict[str, int]:
    heavy = kind == "heavy"
    return {
        "files": args.files,
        "total_bytes": int(args.size_gb * GIB),
        "whiteouts": args.whiteouts if heavy else 0,
        "rewrites": args.rewrites if heavy else 0,
        "seed": args.seed,
    }


def image_path(workdir: Path, params: dict[str, int], fp: str) -> Path:
    p = params
    name = (
        f"large-f{p['files']}-b{p['total_bytes']}-w{p['whiteouts']}-r{p['rewrites']}"
        f"-s{p['seed']}-{fp}.tar"
    )
    return workdir / name


def build_image(path: Path, params: dict[str, int]) -> float:
    """Write the image unless it exists (write_image renames into place only when complete)."""
    if path.exists():
        return 0.0
    from layerscope.testing import write_image
    from layerscope.testing.specs import large_spec

    spec = large_spec(**params)
    t0 = time.perf_counter()
    write_image(spec, path, format="docker-legacy")
    return time.perf_counter() - t0


def check_disk(workdir: Path, needed: int) -> None:
    free = shutil.disk_usage(workdir).free
    if free < needed:
        sys.exit(f"bench: {workdir} has {free / GIB:.1f} GiB free, needs about {needed / GIB:.1f}")


# --- commands -----------------------------------------------------------------------------------


def layerscope_cmd(args: argparse.Namespace) -> list[str]:
    if args.layerscope:
        return str(args.layerscope).split()
    exe = Path(sys.executable).parent / "layerscope"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "layerscope"]


def dive_cmd(args: argparse.Namespace) -> str | None:
    if args.dive:
        return str(args.dive)
    exe = Path(sys.executable).parent / "dive"
    return str(exe) if exe.exists() else shutil.which("dive")


def warm(path: Path) -> float:
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(8 * MIB)
        while f.readinto(buf):
            pass
    return time.perf_counter() - t0


def run_layerscope(
    cmd: list[str],
    archive: Path,
    logdir: Path,
    tag: str,
    *,
    extra: tuple[str, ...] = (),
    state: Path | None = None,
    must_succeed: bool = True,
) -> tuple[Run, Path]:
    """One run, JSON to a file in ``logdir``; cold (fresh cache and data directories) unless
    ``state`` names directories to reuse."""
    out = logdir / f"layerscope-{archive.stem}.json"
    err = logdir / f"layerscope-{archive.stem}.{tag}.err"
    with tempfile.TemporaryDirectory(dir=logdir) as tmp:
        base = state or Path(tmp)
        env = dict(
            os.environ, LAYERSCOPE_CACHE_DIR=f"{base}/cache", LAYERSCOPE_DATA_DIR=f"{base}/data"
        )
        # byte-compiled modules, as an installed package has them: with PYTHONDONTWRITEBYTECODE
        # every run would compile layerscope's sources again (~0.1 s)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(logdir / "pycache")
        run = measure(
            [*cmd, "inspect", str(archive), "--json", "--quiet", "--output", str(out), *extra],
            stderr=err,
            env=env,
            cwd=logdir,
        )
    if run.returncode != 0 and must_succeed:
        sys.exit(
            f"bench: layerscope exited {run.returncode}:\n{err.read_text(errors='replace')[-2000:]}"
        )
    return run, out


def variants(cmd: list[str], archive: Path, logdir: Path) -> dict[str, Any]:
    """Context for the cold figure, one run each: ``--no-cache`` (no layer cache, so no sha256
    of the layers and no cache write) and a second run on a filled layer cache."""
    res: dict[str, Any] = {}
    run, _ = run_layerscope(
        cmd, archive, logdir, "nocache", extra=("--no-cache",), must_succeed=False
    )
    res["no_cache"] = asdict(run) if run.returncode == 0 else None
    with tempfile.TemporaryDirectory(dir=logdir) as keep:
        run_layerscope(cmd, archive, logdir, "fill", state=Path(keep))
        run, _ = run_layerscope(cmd, archive, logdir, "cached", state=Path(keep))
        res["cached"] = asdict(run)
    return res


_DIVE_EFF = re.compile(r"efficiency:\s*([0-9.]+)\s*%")
_DIVE_WASTED = re.compile(r"wastedBytes:\s*(\d+) bytes")


def run_dive(exe: str, archive: Path, logdir: Path, timeout: float) -> dict[str, Any]:
    log = logdir / f"dive-{archive.stem}.log"
    run = measure(
        [exe, "--ci", "--source", "docker-archive", str(archive)],
        stdout=log,
        stderr=log.with_suffix(".err"),
        env=dict(os.environ, CI="true"),
        cwd=logdir,
        timeout_s=timeout,
    )
    text = log.read_text(errors="replace")
    res: dict[str, Any] = {"run": asdict(run), "log": str(log)}
    if not run.timed_out and run.returncode not in (0, 1):
        sys.exit(f"bench: dive exited {run.returncode}; see {log} and {log.with_suffix('.err')}")
    m, w = _DIVE_EFF.search(text), _DIVE_WASTED.search(text)
    res["efficiency_ratio"] = float(m.group(1)) / 100 if m else None
    res["wasted_bytes"] = int(w.group(1)) if w else None
    return res


def layerscope_facts(out: Path) -> dict[str, Any]:
    """What layerscope itself reports about the image (a sanity check of the built image)."""
    doc = json.loads(out.read_text())
    img, layers = doc["image"], doc["layers"]
    return {
        "size_bytes": img["size_bytes"],
        "efficiency_ratio": img["efficiency_ratio"],
        "dive_wasted_bytes": img["dive_wasted_bytes"],
        "reclaimable_bytes": img["reclaimable_bytes"],
        "reclaimable_by_reason": img["reclaimable_by_reason"],
        "layers": [
            {k: ly.get(k) for k in ("entries", "added", "modified", "removed")} for ly in layers
        ],
    }


# --- one image ----------------------------------------------------------------------------------


def bench_image(
    kind: str,
    path: Path,
    params: dict[str, int],
    args: argparse.Namespace,
    ls_cmd: list[str],
    dive_exe: str | None,
) -> dict[str, Any]:
    size = path.stat().st_size
    print(
        f"[{kind}] warming page cache: {path.name} ({size / GIB:.2f} GiB) {warm(path):.1f} s",
        flush=True,
    )
    floors: list[Run] = []
    ls_runs: list[Run] = []
    before_runs: list[Run] = []
    before_cmd = str(args.before).split() if args.before else None
    out = path
    for cmd in (ls_cmd, before_cmd):  # not measured: writes the byte-compiled modules
        if cmd:
            run_layerscope(cmd, path, args.workdir, "warmup", extra=("--no-cache",))
    for i in range(args.repeat):  # interleaved, so all see the same machine load
        floors.append(measure(["cat", str(path)]))
        run, out = run_layerscope(ls_cmd, path, args.workdir, str(i))
        ls_runs.append(run)
        print(
            f"[{kind}] run {i + 1}/{args.repeat}: floor {floors[-1].wall_s:.2f} s, "
            f"layerscope {run.wall_s:.2f} s (cpu {run.cpu_s or 0:.2f} s), "
            f"{run.max_rss_mib:.0f} MiB "
            f"(anon {run.peak_anon_mib or 0:.0f}, file {run.peak_file_mib or 0:.0f})",
            flush=True,
        )
        if before_cmd:
            measure(["cat", str(path)])
            brun, _ = run_layerscope(before_cmd, path, args.workdir, f"before{i}")
            before_runs.append(brun)
            print(
                f"[{kind}] run {i + 1}/{args.repeat}: before {brun.wall_s:.2f} s "
                f"(cpu {brun.cpu_s or 0:.2f} s), "
                f"{brun.max_rss_mib:.0f} MiB",
                flush=True,
            )
    floor, ls = Summary(tuple(floors)), Summary(tuple(ls_runs))
    more = variants(ls_cmd, path, args.workdir)
    before: dict[str, Any] | None = None
    if before_cmd:
        b = Summary(tuple(before_runs))
        bmore = variants(before_cmd, path, args.workdir)
        before = {
            "wall_s": b.wall_s,
            "max_rss_mib": b.max_rss_mib,
            "runs": [asdict(r) for r in before_runs],
            "variants": bmore,
        }
        print(
            f"[{kind}] before: cold {b.wall_s:.2f} s, --no-cache "
            f"{_secs(bmore['no_cache'])} s, cached {_secs(bmore['cached'])} s",
            flush=True,
        )
    nc, cached = more["no_cache"], more["cached"]
    print(
        f"[{kind}] layerscope --no-cache "
        f"{'failed' if nc is None else format(nc['wall_s'], '.2f') + ' s'}, "
        f"second run on a filled layer cache {cached['wall_s']:.2f} s",
        flush=True,
    )
    res: dict[str, Any] = {
        "image": kind,
        "archive": str(path),
        "archive_bytes": size,
        **params,
        "floor": {
            "wall_s": floor.wall_s,
            "runs": [asdict(r) for r in floors],
            "read_rate_mib_s": size / MIB / floor.wall_s,
        },
        "layerscope": {
            "wall_s": ls.wall_s,
            "max_rss_mib": ls.max_rss_mib,
            "peak_anon_mib": max(r.peak_anon_mib or 0.0 for r in ls_runs),
            "peak_file_mib": max(r.peak_file_mib or 0.0 for r in ls_runs),
            "runs": [asdict(r) for r in ls_runs],
            "facts": layerscope_facts(out),
            "variants": more,
        },
        "dive": None,
        "before": before,
    }
    if dive_exe and not args.skip_dive:
        print(f"[{kind}] dive (timeout {args.dive_timeout:.0f} s) ...", flush=True)
        res["dive"] = run_dive(dive_exe, path, args.workdir, args.dive_timeout)
        d = res["dive"]["run"]
        print(
            f"[{kind}] dive {d['wall_s']:.1f} s{' (timed out)' if d['timed_out'] else ''}, "
            f"{d['max_rss_mib']:.0f} MiB",
            flush=True,
        )
    res["targets"] = targets(kind, res)
    return res


def targets(kind: str, r: dict[str, Any]) -> dict[str, Any]:
    ls_s, floor_s = r["layerscope"]["wall_s"], r["floor"]["wall_s"]
    t: dict[str, Any] = {
        "layerscope_over_floor": ls_s / floor_s,
        "within_3x_floor": ls_s / floor_s <= TARGET_VS_FLOOR,
        "rss_under_300": r["layerscope"]["max_rss_mib"] < TARGET_RSS_MIB,
        "dive_over_layerscope": None,
        "dive_ratio_is_lower_bound": False,
        "vs_dive_met": None,
    }
    if r["dive"]:
        d = r["dive"]["run"]
        ratio = d["wall_s"] / ls_s
        need = TARGET_VS_DIVE_HEAVY if kind == "heavy" else TARGET_VS_DIVE_EASY
        t["dive_over_layerscope"] = ratio
        t["dive_ratio_is_lower_bound"] = d["timed_out"]
        t["vs_dive_target"] = need
        # a timed-out dive gives a lower bound: it proves the target only when already met
        t["vs_dive_met"] = True if ratio >= need else (None if d["timed_out"] else False)
    return t


# --- report -------------------------------------------------------------------------------------


def _yn(v: bool | None) -> str:
    return "n/a" if v is None else ("yes" if v else "NO")


def _secs(run: dict[str, Any] | None) -> str:
    return "-" if run is None else f"{run['wall_s']:.2f}"


def print_table(results: list[dict[str, Any]]) -> None:
    head = (
        "image",
        "files",
        "GiB",
        "whiteouts",
        "rewrites",
        "floor s",
        "read MiB/s",
        "layerscope s",
        "no-cache s",
        "cached s",
        "dive s",
        "ls/floor",
        "dive/ls",
        "ls RSS MiB",
        "(anon/file)",
        "dive RSS MiB",
    )
    rows = []
    for r in results:
        d, t = r["dive"], r["targets"]
        dive_s = (
            "-"
            if not d
            else (
                f"> {d['run']['wall_s']:.0f} (timed out)"
                if d["run"]["timed_out"]
                else f"{d['run']['wall_s']:.2f}"
            )
        )
        ratio = t["dive_over_layerscope"]
        ratio_s = (
            "-"
            if ratio is None
            else (">= " if t["dive_ratio_is_lower_bound"] else "") + f"{ratio:.1f}x"
        )
        rows.append(
            (
                r["image"],
                f"{r['files']:,}",
                f"{r['archive_bytes'] / GIB:.2f}",
                f"{r['whiteouts']:,}",
                f"{r['rewrites']:,}",
                f"{r['floor']['wall_s']:.2f}",
                f"{r['floor']['read_rate_mib_s']:,.0f}",
                f"{r['layerscope']['wall_s']:.2f}",
                _secs(r["layerscope"]["variants"]["no_cache"]),
                _secs(r["layerscope"]["variants"]["cached"]),
                dive_s,
                f"{t['layerscope_over_floor']:.2f}x",
                ratio_s,
                f"{r['layerscope']['max_rss_mib']:.0f}",
                f"{r['layerscope']['peak_anon_mib']:.0f}/{r['layerscope']['peak_file_mib']:.0f}",
                "-" if not d else f"{d['run']['max_rss_mib']:.0f}",
            )
        )
    if any(r.get("before") for r in results):
        head = (*head, "before s", "before no-cache s", "before cached s", "before/after")
        rows = [
            (
                *row,
                *(
                    ("-",) * 4
                    if not r.get("before")
                    else (
                        _secs(r["before"]),
                        _secs(r["before"]["variants"]["no_cache"]),
                        _secs(r["before"]["variants"]["cached"]),
                        f"{r['before']['wall_s'] / r['layerscope']['wall_s']:.2f}x",
                    )
                ),
            )
            for row, r in zip(rows, results, strict=True)
        ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print()
    print("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print()
    for r in results:
        t = r["targets"]
        need = TARGET_VS_DIVE_HEAVY if r["image"] == "heavy" else TARGET_VS_DIVE_EASY
        vs = "not run" if t["vs_dive_met"] is None and not r["dive"] else _yn(t["vs_dive_met"])
        if t["dive_ratio_is_lower_bound"]:
            vs += " (dive timed out: the ratio is a lower bound)"
        print(
            f"{r['image']:>5}: >= {need:g}x faster than dive: {vs}; "
            f"within {TARGET_VS_FLOOR:g}x of floor: {_yn(t['within_3x_floor'])}; "
            f"peak RSS < {TARGET_RSS_MIB:g} MiB: {_yn(t['rss_under_300'])}"
        )
        f, d = r["layerscope"]["facts"], r["dive"]
        if d and d["efficiency_ratio"] is not None:
            same = (
                abs(d["efficiency_ratio"] - f["efficiency_ratio"]) < 5e-6
                and d["wasted_bytes"] == f["dive_wasted_bytes"]
            )
            print(
                f"       dive-compatible metrics agree with dive: {_yn(same)} "
                f"(efficiency {f['efficiency_ratio']:.6f} vs {d['efficiency_ratio']:.6f}, "
                f"wasted {f['dive_wasted_bytes']} vs {d['wasted_bytes']})"
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    ls_cmd, dive_exe = layerscope_cmd(args), dive_cmd(args)
    if not args.skip_dive and not dive_exe:
        sys.exit("bench: dive not found (pass --dive or --skip-dive)")
    fp = builder_fingerprint()
    kinds = [args.only] if args.only else ["heavy", "easy"]
    plan = {k: image_params(args, k) for k in kinds}
    paths = {k: image_path(args.workdir, plan[k], fp) for k in kinds}
    missing = [k for k in kinds if not paths[k].exists()]
    one = int(args.size_gb * GIB * 1.1) + args.files * 1536
    check_disk(args.workdir, one * (len(missing) + 1))  # +1: the builder's scratch copy
    builds: dict[str, float] = {}
    for k in kinds:
        print(
            f"[{k}] image {paths[k].name}: {'building' if k in missing else 'reusing'} ...",
            flush=True,
        )
        builds[k] = build_image(paths[k], plan[k])
        if k in missing:
            print(f"[{k}] built in {builds[k]:.0f} s", flush=True)
    results = []
    try:
        for k in kinds:
            results.append(bench_image(k, paths[k], plan[k], args, ls_cmd, dive_exe))
            results[-1]["build_s"] = builds[k]
    finally:
        if not args.keep:
            for p in paths.values():
                p.unlink(missing_ok=True)
            print("deleted the images (use --keep to reuse them)", flush=True)
    print_table(results)
    dest = args.results or args.workdir.with_name(args.workdir.name + "-results.json")
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "layerscope_cmd": ls_cmd,
        "dive": dive_exe,
        "repeat": args.repeat,
        "builder_fingerprint": fp,
        "loadavg_after": os.getloadavg(),
        "results": results,
    }
    dest.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nresults: {dest}")
    ok = all(
        r["targets"]["within_3x_floor"]
        and r["targets"]["rss_under_300"]
        and r["targets"]["vs_dive_met"] is not False
        for r in results
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
