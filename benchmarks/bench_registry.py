"""Pull and analyse a >= 1 GiB image from a local registry, against two floors, as ratios.

Floors, timed in the same run:
- transfer: ``skopeo copy docker://HOST/bench:1 dir:TMP`` (skopeo's registry transport);
- CPU: decompressing every layer blob (from skopeo's dir copy) with isal's igzip, to nowhere.
layerscope: ``registry.load`` (pull, verify, read every layer) then ``analysis.analyze``, in a
fresh child process with empty cache directories. Target: layerscope <= 1.3x the larger floor.

Then the local case (issue 17: "gzip layers, an OCI archive made with skopeo from a registry"):
``skopeo copy docker://HOST/bench:1 oci-archive:FILE``, and ``layerscope inspect FILE --json``
(cold: fresh cache directories each run) against the igzip floor of the same blobs, ``--repeat``
times (at least 3) interleaved (with ``--before``, that checkout's ``inspect`` too, in the same
rounds), wall and CPU seconds; the ratio is the median of the rounds' ratios (a round's runs
see about the same load). Target: <= 1.3x igzip. ``--only-archive`` skips the
pull and analysis from the registry (the image is still pushed there and copied out by skopeo).

    .venv/bin/python benchmarks/bench_registry.py [--size-gb 1.0] [--files 20000] [--keep]
        [--repeat N] [--before DIR] [--only-archive]   # DIR: another checkout's package dir
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks._measure import measure  # noqa: E402

LS_CODE = """
import sys
from layerscope.model import ImageRef, SourceKind
from layerscope.sources.registry import load
from layerscope.sources.context import LoadContext
from layerscope import analysis
image = load(ImageRef(SourceKind.REGISTRY, sys.argv[1], None, sys.argv[1]),
             LoadContext(concurrency=int(sys.argv[2])))
result = analysis.analyze(image)
print(len(image.layers), sum(len(l.entries) for l in image.layers), image.size_bytes)
"""

NO_CWD = ("-P",)
"""``-c`` and ``-m`` put the current directory first on ``sys.path``: run from a checkout's
root, the child imported that checkout's package whatever ``--before`` put on PYTHONPATH (the
"before" runs timed the same code as "after"). ``-P`` (Python 3.11+) leaves it out."""

IGZIP_CODE = """
import sys
from pathlib import Path
from isal import igzip_threaded
total = 0
for path in sys.argv[1:]:
    with open(path, 'rb') as raw:
        if raw.read(2) != b'\\x1f\\x8b':
            continue
    with igzip_threaded.open(path, 'rb', threads=1) as f:
        while True:
            chunk = f.read(1 << 22)
            if not chunk:
                break
            total += len(chunk)
print(total)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_registry(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    (work / "storage").mkdir(parents=True, exist_ok=True)
    config = work / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {work / 'storage'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("docker-registry did not start")


def _run_layerscope(
    work: Path, ref: str, concurrency: int, out: Path, pythonpath: str | None
) -> Any:
    """One cold pull and analysis in a child process (None when it failed)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-compiled, as an installed package
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    with tempfile.TemporaryDirectory(prefix="ls-", dir=work) as cache:
        env["LAYERSCOPE_CACHE_DIR"] = f"{cache}/cache"
        env["LAYERSCOPE_DATA_DIR"] = f"{cache}/data"
        ls = measure(
            [sys.executable, *NO_CWD, "-c", LS_CODE, ref, str(concurrency)],
            stdout=out,
            env=env,
            stderr=work / "layerscope.err",
        )
    if ls.returncode != 0:
        print((work / "layerscope.err").read_text()[-3000:], file=sys.stderr)
        return None
    return ls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/layerscope-bench-registry"))
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the built layout")
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="also time another checkout's layerscope package (PYTHONPATH=DIR), interleaved",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="layerscope runs of each case (median)"
    )
    parser.add_argument(
        "--only-archive",
        action="store_true",
        help="only the local oci-archive case (no pull and analysis from the registry)",
    )
    args = parser.parse_args()
    for tool in ("docker-registry", "skopeo"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    layout = work / f"layout-{args.files}-{args.size_gb}"
    if not (layout / "index.json").exists():
        from layerscope.testing import write_image
        from layerscope.testing.specs import large_spec

        shutil.rmtree(layout, ignore_errors=True)
        t0 = time.perf_counter()
        spec = large_spec(files=args.files, total_bytes=int(args.size_gb * 1024**3))
        write_image(spec, layout, format="oci-dir", compression="gzip", gzip_level=1)
        print(f"built {layout} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    reg_dir = Path(tempfile.mkdtemp(prefix="registry-", dir=work))
    proc, host = _start_registry(reg_dir)
    try:
        ref = f"{host}/bench/large:1"
        subprocess.run(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                f"oci:{layout}",
                f"docker://{ref}",
            ],
            check=True,
        )
        copy_dir = work / "skopeo-dir"
        shutil.rmtree(copy_dir, ignore_errors=True)
        skopeo = measure(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--src-tls-verify=false",
                f"docker://{ref}",
                f"dir:{copy_dir}",
            ]
        )
        blobs = [p for p in copy_dir.iterdir() if p.name not in ("manifest.json", "version")]
        blob_bytes = sum(p.stat().st_size for p in blobs)
        for p in blobs:  # warm the page cache for the CPU floor
            with open(p, "rb") as f:
                while f.read(1 << 24):
                    pass
        igzip = measure([sys.executable, "-c", IGZIP_CODE, *map(str, blobs)])
        if args.only_archive:
            oci = _oci_archive(work, ref, blobs, max(args.repeat, 3), args.before)
            print(json.dumps({"oci_archive": oci}, indent=2))
            shutil.rmtree(copy_dir, ignore_errors=True)
            return 0 if oci["ratio_vs_igzip"] <= 1.3 else 1
        out = work / "layerscope.out"
        runs: dict[str, list[Any]] = {"after": [], "before": []}
        for i in range(args.repeat + 1):  # the first round writes the byte-code: not counted
            for key, path in (("after", None), ("before", args.before)):
                if key == "before" and not path:
                    continue
                ls = _run_layerscope(work, ref, args.concurrency, out, path)
                if ls is None:
                    return 2
                if i:
                    runs[key].append(ls)
                    print(f"{key}: {ls.wall_s:.2f} s (cpu {ls.cpu_s or 0:.2f} s)", file=sys.stderr)
        ls = sorted(runs["after"], key=lambda r: r.wall_s)[len(runs["after"]) // 2]
        floor = max(skopeo.wall_s, igzip.wall_s)
        result = {
            "blob_bytes": blob_bytes,
            "skopeo_copy_s": round(skopeo.wall_s, 2),
            "igzip_decompress_s": round(igzip.wall_s, 2),
            "layerscope_pull_analyse_s": round(ls.wall_s, 2),
            "layerscope_rss_mib": round(ls.max_rss_mib, 1),
            "ratio_vs_skopeo": round(ls.wall_s / skopeo.wall_s, 2),
            "ratio_vs_igzip": round(ls.wall_s / igzip.wall_s, 2),
            "ratio_vs_floor": round(ls.wall_s / floor, 2),
            "target_ratio": 1.3,
            "layerscope_output": out.read_text().strip(),
            "layerscope_runs": [[r.wall_s, r.cpu_s] for r in runs["after"]],
            "before_runs": [[r.wall_s, r.cpu_s] for r in runs["before"]],
            "loadavg_after": os.getloadavg(),
        }
        result["oci_archive"] = _oci_archive(work, ref, blobs, max(args.repeat, 3), args.before)
        print(json.dumps(result, indent=2))
        shutil.rmtree(copy_dir, ignore_errors=True)
        met = result["ratio_vs_floor"] <= 1.3 and result["oci_archive"]["ratio_vs_igzip"] <= 1.3
        return 0 if met else 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(reg_dir, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(layout, ignore_errors=True)


def _oci_archive(
    work: Path, ref: str, blobs: list[Path], repeat: int, before: str | None
) -> dict[str, Any]:
    """Cold ``inspect --json`` of a skopeo-made OCI archive against igzip of the same blobs
    (and ``before``'s inspect), one of each per round: ratios are taken round by round."""
    archive = work / "skopeo.oci.tar"
    archive.unlink(missing_ok=True)
    subprocess.run(
        ["skopeo", "copy", "--quiet", "--src-tls-verify=false", f"docker://{ref}",
         f"oci-archive:{archive}"],
        check=True,
    )  # fmt: skip
    with open(archive, "rb") as f:  # warm the page cache, as for the blobs
        while f.read(1 << 24):
            pass
    cases = {"after": None, "before": before} if before else {"after": None}
    runs: dict[str, list[Any]] = {key: [] for key in (*cases, "igzip")}
    for i in range(repeat + 1):  # the first round writes the byte-code: not counted
        for key, path in cases.items():
            run = _inspect_cold(work, archive, path)
            if i:
                runs[key].append(run)
        if i:
            runs["igzip"].append(measure([sys.executable, "-c", IGZIP_CODE, *map(str, blobs)]))
    archive.unlink()
    igzip = runs["igzip"]
    result: dict[str, Any] = {
        "archive_bytes": sum(p.stat().st_size for p in blobs),
        "runs": repeat,
        "igzip_decompress_s": [round(r.wall_s, 2) for r in igzip],
        "igzip_cpu_s": [round(r.cpu_s or 0, 2) for r in igzip],
    }
    for key in cases:
        mine = runs[key]
        prefix = "layerscope" if key == "after" else "before"
        result[f"{prefix}_inspect_s"] = [round(r.wall_s, 2) for r in mine]
        result[f"{prefix}_cpu_s"] = [round(r.cpu_s or 0, 2) for r in mine]
        result[f"{prefix}_rss_mib"] = round(max(r.max_rss_mib for r in mine), 1)
        ratios = [a.wall_s / b.wall_s for a, b in zip(mine, igzip, strict=True)]
        result[f"{prefix}_ratios_vs_igzip"] = [round(x, 2) for x in ratios]
        # the median of the rounds' ratios: a round's two runs see about the same load
        result[f"{prefix}_ratio_vs_igzip"] = round(statistics.median(ratios), 2)
        result[f"{prefix}_ratio_of_medians"] = round(
            statistics.median(r.wall_s for r in mine) / statistics.median(r.wall_s for r in igzip),
            2,
        )
    result["ratio_vs_igzip"] = result["layerscope_ratio_vs_igzip"]
    result["target_ratio"] = 1.3
    result["loadavg_after"] = os.getloadavg()
    return result


def _inspect_cold(work: Path, archive: Path, pythonpath: str | None) -> Any:
    """One ``inspect --json`` of ``archive`` with empty cache directories."""
    cache = Path(tempfile.mkdtemp(prefix="ls-", dir=work))
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-compiled, as an installed package
    env["PYTHONPYCACHEPREFIX"] = str(work / ("pycache-before" if pythonpath else "pycache"))
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    env["LAYERSCOPE_CACHE_DIR"] = str(cache / "cache")
    env["LAYERSCOPE_DATA_DIR"] = str(cache / "data")
    run = measure(
        [sys.executable, *NO_CWD, "-m", "layerscope", "inspect", str(archive), "--json", "--quiet",
         "--output", str(cache / "out.json")],
        env=env, stderr=work / "layerscope.err",
    )  # fmt: skip
    shutil.rmtree(cache, ignore_errors=True)
    if run.returncode != 0:
        raise SystemExit((work / "layerscope.err").read_text()[-3000:])
    return run


if __name__ == "__main__":
    raise SystemExit(main())
