"""``layerscope scan`` against a real registry filled with 30+ images over 5 bases (some
multi-platform), locally, in worker processes and on a real dask.distributed cluster.

Expected figures come from the registry API (``scanfill.api_figures``) or from how the images
were built (``scanfill.Plan``), never from layerscope's own output.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from layerscope.cli import main
from tests.ports import refused_port

from . import scanfill
from .conftest import Registry, _need, _start, _stop
from .servers import Fault, FaultProxy


@dataclass
class Filled:
    registry: Registry
    plan: scanfill.Plan
    figures: dict[str, Any]
    broken_blob: str


@pytest.fixture(scope="session")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    _need("skopeo")
    work = tmp_path_factory.mktemp("scan-registry")
    proc, port = _start(work, "")
    registry = Registry(f"127.0.0.1:{port}", port, work, proc)
    images = tmp_path_factory.mktemp("scan-images")
    plan = scanfill.build(images)
    scanfill.push_all(plan, registry.host, scanfill.skopeo_push(registry.host))
    repo, tag = plan.broken.split(":")
    (broken,) = scanfill.manifests_of(registry.host, repo, tag)
    gone = broken["layers"][-1]["digest"]
    scanfill.delete_blob(registry.host, repo, gone)
    figures = scanfill.api_figures(registry.host)
    yield Filled(registry, plan, figures, gone)
    _stop(proc)


def scan(
    *args: str, cache: Path, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.environ.get("LAYERSCOPE_CACHE_DIR")
    os.environ["LAYERSCOPE_CACHE_DIR"] = str(cache)
    try:
        rc = main(["scan", *args, "--json"], stdout=out, stderr=err)
    finally:
        if old is None:
            os.environ.pop("LAYERSCOPE_CACHE_DIR", None)
        else:
            os.environ["LAYERSCOPE_CACHE_DIR"] = old
    doc = json.loads(out.getvalue()) if out.getvalue().strip() else {}
    return rc, doc, err.getvalue()


TOTALS = (
    "repositories",
    "tags",
    "images",
    "unique_layers",
    "stored_compressed_bytes",
    "referenced_compressed_bytes",
    "shared_compressed_bytes",
)


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything but how the scan ran (executor, timing, bytes read) and the host name."""
    kept = {k: v for k, v in doc.items() if k not in ("scan", "registry")}
    text = json.dumps(kept, sort_keys=True)
    return json.loads(re.sub(r"127\.0\.0\.1:\d+", "HOST", text))  # type: ignore[no-any-return]


def check_against_api(filled: Filled, doc: dict[str, Any]) -> None:
    fig = filled.figures
    assert fig["images"] >= 30 and len({k.split(":")[0] for k in filled.plan.on_base}) >= 5
    assert {k: doc[k] for k in TOTALS} == {k: fig[k] for k in TOTALS}
    assert doc["schema_version"] == 1
    exclusive = {i["manifest_digest"]: i["exclusive_compressed_bytes"] for i in doc["image_list"]}
    assert exclusive == fig["_exclusive"]
    counts = {i["manifest_digest"]: i["layer_count"] for i in doc["image_list"]}
    assert counts == {m: len(layers) for m, layers in fig["_layers"].items()}
    assert [f["digest"] for f in doc["failures"]] == [filled.broken_blob]
    (broken,) = [i for i in doc["image_list"] if i["repository"].endswith("/broken/app")]
    assert broken["error"] and filled.broken_blob in broken["error"]
    assert broken["size_bytes"] is None


@pytest.fixture(scope="session")
def local_scan(filled: Filled, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One in-process scan through a logging proxy, then a re-scan with the same cache."""
    cache = tmp_path_factory.mktemp("scan-cache")
    proxy = FaultProxy(filled.registry.port)
    try:
        rc, doc, err = scan(f"registry://127.0.0.1:{proxy.port}", cache=cache)
        first_log = list(proxy.log)
        proxy.log.clear()
        rc2, again, _err2 = scan(f"registry://127.0.0.1:{proxy.port}", cache=cache)
        second_log = list(proxy.log)
    finally:
        proxy.close()
    return {
        "rc": rc,
        "doc": doc,
        "err": err,
        "log": first_log,
        "rc2": rc2,
        "again": again,
        "log2": second_log,
    }


def _layer_gets(log: list[tuple[str, str, int, dict[str, str]]], layers: set[str]) -> list[str]:
    out = []
    for method, path, _status, _headers in log:
        match = re.search(r"/blobs/(sha256:[0-9a-f]{64})", path)
        if method == "GET" and match and match.group(1) in layers:
            out.append(match.group(1))
    return out


def test_figures_equal_the_registry_api(filled: Filled, local_scan: dict[str, Any]) -> None:
    assert local_scan["rc"] == 1, local_scan["err"]  # one blob is missing: reported, exit 1
    check_against_api(filled, local_scan["doc"])


def test_each_unique_layer_is_read_once_and_a_rescan_reads_none(
    filled: Filled, local_scan: dict[str, Any]
) -> None:
    layers = {d for m in filled.figures["_layers"].values() for d in m}
    gets = _layer_gets(local_scan["log"], layers)
    assert sorted(gets) == sorted(layers)  # every unique blob once (the missing one tried once)
    doc = local_scan["doc"]
    sizes = {d: s for m in filled.figures["_layers"].values() for d, s in m.items()}
    assert doc["scan"]["bytes_read"] == sum(sizes.values()) - sizes[filled.broken_blob]
    assert doc["scan"]["layers_read"] == len(layers) - 1
    again = local_scan["again"]
    assert _layer_gets(local_scan["log2"], layers) == [filled.broken_blob]
    # configs and child manifests are content-addressed: kept in the cache, not asked again
    again_paths = [path for method, path, _s, _h in local_scan["log2"] if method == "GET"]
    assert [p for p in again_paths if "/blobs/" in p] == [
        p for p in again_paths if filled.broken_blob in p
    ]
    assert not [p for p in again_paths if "/manifests/sha256:" in p]
    first_paths = [path for method, path, _s, _h in local_scan["log"] if method == "GET"]
    assert [p for p in first_paths if "/manifests/sha256:" in p]  # the multi-platform children
    assert again["scan"]["bytes_read"] == 0
    assert again["scan"]["layers_cached"] == len(layers) - 1
    assert comparable(again) == comparable(doc)


def test_workers_2_give_the_same_report(
    filled: Filled, local_scan: dict[str, Any], tmp_path: Path
) -> None:
    rc, doc, err = scan(
        f"registry://{filled.registry.host}", "--workers", "2", cache=tmp_path / "cache"
    )
    assert rc == 1, err
    assert doc["scan"]["executor"] == "2 workers"
    assert doc["scan"]["layers_read"] == local_scan["doc"]["scan"]["layers_read"]
    assert comparable(doc) == comparable(local_scan["doc"])


def test_layers_are_read_while_the_registry_is_still_listed(
    filled: Filled, local_scan: dict[str, Any], tmp_path: Path
) -> None:
    """The proxy holds back the last repository's tag manifests until a layer blob has been
    asked for: a scan that listed everything before reading anything would never ask one
    (this test would fail after its wait). Then the report is the same as ever."""
    catalog = json.loads(
        urllib.request.urlopen(f"http://{filled.registry.host}/v2/_catalog?n=1000").read()
    )
    last = sorted(catalog["repositories"])[-1]
    proxy = FaultProxy(filled.registry.port)
    fault = Fault(path=re.escape(f"/v2/{last}/manifests/"), action="wait", times=99)
    proxy.faults.append(fault)
    layers = {d for m in filled.figures["_layers"].values() for d in m}
    result: dict[str, Any] = {}

    def run() -> None:
        target = f"registry://127.0.0.1:{proxy.port}"
        result["out"] = scan(target, cache=tmp_path / "cache")

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert fault.reached.wait(300), f"{last}'s manifests were never asked for"
        for _ in range(1200):  # a scan that reads while it lists gets here within seconds
            if _layer_gets(list(proxy.log), layers):
                break
            fault.release.wait(0.1)
        read_while_held = _layer_gets(list(proxy.log), layers)
    finally:
        fault.release.set()
        thread.join(600)
        proxy.close()
    assert read_while_held, f"no layer was read while {last} was still being listed"
    rc, doc, err = result["out"]
    assert rc == 1, err
    assert comparable(doc) == comparable(local_scan["doc"])


def test_a_listing_request_failing_mid_way_is_reported_and_the_rest_read_once(
    filled: Filled, tmp_path: Path
) -> None:
    """While the scan lists and reads at once, one repository's tag list is refused (403) and
    another's config is cut off half-way once (its retry answers): the refused repository is a
    problem and none of its images is read; every other image is in the report, and each of
    their layers is asked for exactly once."""
    refused, cut = "apps/a3", "apps/a5"
    config = scanfill.manifests_of(filled.registry.host, cut, "1")[0]["config"]["digest"]
    proxy = FaultProxy(filled.registry.port)
    proxy.faults += [
        Fault(path=re.escape(f"/v2/{refused}/tags/list"), action="status", status=403, times=99),
        Fault(path=re.escape(config), action="drop", after=-1),
    ]
    try:
        rc, doc, err = scan(f"registry://127.0.0.1:{proxy.port}", cache=tmp_path / "cache")
    finally:
        proxy.close()
    assert rc == 1, err
    problems = [p for p in doc["problems"] if refused in p["subject"]]
    assert len(problems) == 1 and "refused access" in problems[0]["message"], doc["problems"]
    owner, layers = filled.figures["_owner"], filled.figures["_layers"]
    expected = {m for m, repo in owner.items() if repo != refused}
    listed = {i["manifest_digest"] for i in doc["image_list"]}
    assert listed == expected
    assert doc["images"] == len(expected)
    wanted = {d for m in expected for d in layers[m]}
    only_refused = {d for m in owner if m not in expected for d in layers[m]} - wanted
    gets = _layer_gets(list(proxy.log), wanted | only_refused)
    assert sorted(gets) == sorted(wanted)  # once each (the deleted blob: one 404)
    analysed = {i["repository"].split("/", 1)[1] for i in doc["image_list"] if not i["error"]}
    assert cut in analysed and refused not in analysed


def test_bases_and_their_versions(filled: Filled, local_scan: dict[str, Any]) -> None:
    doc = local_scan["doc"]
    platforms = {i["manifest_digest"]: i for i in doc["image_list"]}
    on = {}
    for fam in doc["bases"]:
        for v in fam["versions"]:
            key = f"{fam['name'].split('/', 1)[1]}:{v['version']}"
            on.setdefault(key, set()).update(v["images"])
            assert fam["named_by"] == "registry"
            assert v["stale"] == (v["version"] == "v1" and fam["name"].endswith(("b0", "b1")))
    expected: dict[str, set[str]] = {}
    for base, apps in filled.plan.on_base.items():
        for app in apps:
            repo = app.split(":")[0]
            expected.setdefault(base, set()).update(
                f"{i['repository']}@{m}"
                for m, i in platforms.items()
                if i["repository"].split("/", 1)[1] == repo
            )
    expected["base/b0:v1"].add(
        next(f"{i['repository']}@{m}" for m, i in platforms.items() if "broken" in i["repository"])
    )
    assert on == expected
    # stale versions first
    assert [f["name"].rsplit("/", 1)[1] for f in doc["bases"][:2]] == sorted(
        f["name"].rsplit("/", 1)[1] for f in doc["bases"][:2]
    ) and {f["name"].rsplit("/", 1)[1] for f in doc["bases"][:2]} == {"b0", "b1"}


def test_findings_name_the_images_built_with_them(
    filled: Filled, local_scan: dict[str, Any]
) -> None:
    doc = local_scan["doc"]
    by_repo: dict[str, set[str]] = {}
    for i in doc["image_list"]:
        by_repo.setdefault(i["repository"].split("/", 1)[1], set()).add(
            f"{i['repository']}@{i['manifest_digest']}"
        )

    def apps(pred: Any) -> set[str]:
        return {x for n in range(30) if pred(n) for x in by_repo[f"apps/a{n}"]}

    found = {f["kind"]: {i["image"] for i in f["images"]} for f in doc["findings"]}
    assert found["toolchain"] == apps(lambda n: n % 3 == 0)
    assert found["pycache"] == apps(lambda n: n % 4 == 0)
    assert found["package_cache"] == apps(lambda n: n % 5 == 0)
    assert found["duplicate_files"] == apps(lambda n: n % 7 == 0)
    dup = next(f for f in doc["findings"] if f["kind"] == "duplicate_files")
    assert dup["total_bytes"] == (1 << 20) * len(found["duplicate_files"])
    assert doc["top_suggestions"][0]["total_bytes"] >= doc["top_suggestions"][-1]["total_bytes"]


def test_namespace_tags_latest_platform_and_refs(filled: Filled, tmp_path: Path) -> None:
    host = filled.registry.host
    cache = tmp_path / "cache"
    rc, doc, err = scan(f"registry://{host}/base", cache=cache)
    assert rc == 0, err
    assert doc["repositories"] == 5 and doc["tags"] == 7
    assert doc["images"] == 8  # b4 has two platforms
    rc, doc, err = scan(f"registry://{host}/base", "--tags", "v2", cache=cache)
    assert (rc, doc["tags"], doc["images"]) == (0, 2, 2)
    rc, doc, err = scan(f"registry://{host}/base", "--latest", "1", cache=cache)
    assert {(i["repository"].rsplit("/", 1)[1], tuple(i["tags"])) for i in doc["image_list"]} == {
        ("b0", ("v2",)),
        ("b1", ("v2",)),
        ("b2", ("v1",)),
        ("b3", ("v1",)),
        ("b4", ("v1",)),
    }
    rc, doc, err = scan(f"registry://{host}/base", "--platform", "linux/arm64", cache=cache)
    assert [i["platform"] for i in doc["image_list"]] == ["linux/arm64/v8"]
    refs = tmp_path / "refs.txt"
    refs.write_text(f"# two images\nregistry://{host}/apps/a1:1\n\nregistry://{host}/apps/a2\n")
    rc, doc, err = scan("--refs", str(refs), cache=cache)
    assert (rc, doc["repositories"], doc["tags"], doc["images"]) == (0, 2, 2, 2), err


def test_bases_named_by_labels_when_the_base_is_not_scanned(filled: Filled, tmp_path: Path) -> None:
    """Only apps/: no base image in the scan, so a group of apps on one layer prefix is named
    by the base-name label one of them carries (odd apps carry it), else left unnamed."""
    rc, doc, err = scan(f"registry://{filled.registry.host}/apps", cache=tmp_path / "cache")
    assert rc == 0, err
    expected = {}
    for base, apps in filled.plan.on_base.items():
        labelled = any(int(app.split(":")[0].removeprefix("apps/a")) % 2 for app in apps)
        if labelled:
            name, version = base.split(":")
            expected.setdefault(name, set()).add(version)
    named = {
        f["name"]: {v["version"] for v in f["versions"]}
        for f in doc["bases"]
        if f["named_by"] == "label"
    }
    assert named == expected
    unnamed = [f for f in doc["bases"] if f["named_by"] == "prefix"]
    assert all(not v["stale"] for f in unnamed for v in f["versions"])
    in_groups = sum(v["image_count"] for f in doc["bases"] for v in f["versions"])
    assert in_groups == doc["images"]  # every app shares its base layer with another


def test_text_and_markdown_reports(filled: Filled, tmp_path: Path) -> None:
    os.environ["LAYERSCOPE_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        for fmt, marker in (
            ("--text", "Bases (stale versions first):"),
            ("--markdown", "## Bases"),
        ):
            out, err = io.StringIO(), io.StringIO()
            rc = main(["scan", f"registry://{filled.registry.host}", fmt], stdout=out, stderr=err)
            assert rc == 1, err.getvalue()
            assert marker in out.getvalue()
            assert filled.broken_blob[:19] in out.getvalue()
            assert "Traceback" not in err.getvalue()
    finally:
        os.environ.pop("LAYERSCOPE_CACHE_DIR", None)


def test_bad_input_and_unreachable(tmp_path: Path) -> None:
    rc, _doc, err = scan("docker://nginx", cache=tmp_path)
    assert rc == 2 and "registry://HOST" in err
    with refused_port() as port:
        rc, _doc, err = scan(f"registry://127.0.0.1:{port}", cache=tmp_path)
    assert rc == 3 and err.count("\n") == 1, err


def held_layer(filled: Filled, repo: str) -> tuple[FaultProxy, Fault, str]:
    """A proxy in front of the registry that holds the download of ``repo:1``'s last layer
    after 100 bytes until ``fault.release`` (``fault.reached`` says it got there)."""
    app = scanfill.manifests_of(filled.registry.host, repo, "1")[0]
    held = app["layers"][-1]["digest"]
    proxy = FaultProxy(filled.registry.port)
    fault = Fault(path=re.escape(held), action="hold", after=100)
    proxy.faults.append(fault)
    return proxy, fault, held


def _pid_with_socket(port: int) -> int:
    """The process that owns the loopback TCP socket bound to local ``port`` (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in {f"socket:[{i}]" for i in inodes}:
                    return int(proc.name)
        except OSError:
            continue
    raise AssertionError(f"no process owns local port {port}")


def test_a_worker_process_killed_mid_layer_is_replaced(
    filled: Filled, local_scan: dict[str, Any], tmp_path: Path
) -> None:
    """--workers 2: the worker process holding a half-sent layer is killed; the pool is
    rebuilt, the layer read again, and the report is the same."""
    proxy, fault, held = held_layer(filled, "apps/a2")
    result: dict[str, Any] = {}
    target = f"registry://127.0.0.1:{proxy.port}"

    def run() -> None:
        result["out"] = scan(target, "--workers", "2", cache=tmp_path / "cache")

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert fault.reached.wait(300), "the held layer was never requested"
        assert fault.peer is not None
        victim = _pid_with_socket(fault.peer[1])
        assert victim != os.getpid()
        os.kill(victim, signal.SIGKILL)
        fault.release.set()
        thread.join(600)
        assert not thread.is_alive()
    finally:
        fault.release.set()
        proxy.close()
    rc, doc, err = result["out"]
    assert rc == 1, err
    assert comparable(doc) == comparable(local_scan["doc"])
    assert _layer_gets(proxy.log, {held}) == [held, held]


# --- Dask ------------------------------------------------------------------------------------


class DaskCluster:
    """A dask.distributed scheduler and workers, each its own process on loopback."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.bin = str(Path(sys.executable).parent / "dask")
        self.file = work / "scheduler.json"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.scheduler = self._spawn(
            "scheduler",
            "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(self.file),
        )  # fmt: skip
        import distributed

        self.client = distributed.Client(scheduler_file=str(self.file), timeout=120)
        self.address = str(self.client.scheduler.address)

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.work / f"{args[0]}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([self.bin, *args], stdout=log, stderr=log, cwd=self.work)
        self.procs.append(proc)
        return proc

    def add_worker(self) -> subprocess.Popen[bytes]:
        count = len(self.client.scheduler_info()["workers"])
        proc = self._spawn(
            "worker", "--scheduler-file", str(self.file), "--nthreads", "1", "--no-nanny",
            "--no-dashboard", "--host", "127.0.0.1",
            "--local-directory", str(self.work / f"w{len(self.procs)}"),
        )  # fmt: skip
        self.client.wait_for_workers(count + 1, timeout=120)
        return proc

    def close(self) -> None:
        self.client.close()
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    cluster = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        cluster.add_worker()
        cluster.add_worker()
        yield cluster
    finally:
        cluster.close()


def test_dask_gives_the_same_report(
    filled: Filled, local_scan: dict[str, Any], dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    rc, doc, err = scan(
        f"registry://{filled.registry.host}", "--dask", dask_cluster.address, cache=tmp_path
    )
    assert rc == 1, err
    assert doc["scan"]["executor"].startswith("dask ")
    assert doc["scan"]["layers_read"] == local_scan["doc"]["scan"]["layers_read"]
    assert comparable(doc) == comparable(local_scan["doc"])


def test_a_dask_worker_killed_mid_layer_is_retried_elsewhere(
    filled: Filled, local_scan: dict[str, Any], tmp_path: Path
) -> None:
    """Worker A gets a layer whose download the proxy holds half-way; worker B joins, A is
    killed; the scheduler reruns the layer on B and the report is the same."""
    proxy, fault, held = held_layer(filled, "apps/a1")
    (tmp_path / "dask").mkdir()
    cluster = DaskCluster(tmp_path / "dask")
    result: dict[str, Any] = {}
    try:
        first = cluster.add_worker()
        target = f"registry://127.0.0.1:{proxy.port}"

        def run() -> None:
            result["out"] = scan(target, "--dask", cluster.address, cache=tmp_path / "cache")

        thread = threading.Thread(target=run)
        thread.start()
        assert fault.reached.wait(300), "the held layer was never requested"
        cluster.add_worker()
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        fault.release.set()
        thread.join(600)
        assert not thread.is_alive()
    finally:
        fault.release.set()
        proxy.close()
        cluster.close()
    rc, doc, err = result["out"]
    assert rc == 1, err
    assert comparable(doc) == comparable(local_scan["doc"])
    gets = _layer_gets(proxy.log, {held})
    assert gets == [held, held]  # begun on the killed worker, read again on the other


def test_the_dask_relay_runs_any_named_function(dask_cluster: DaskCluster) -> None:
    """The fan-out's relay, without a scan: tasks without names get keys of their own, answers
    come back in task order, and ``on_result`` sees each once."""
    import math

    from layerscope.fanout import run_tasks

    seen: dict[int, float] = {}
    squares = [float(n * n) for n in range(40)]
    out = run_tasks(
        math.sqrt,
        squares,
        on_result=seen.__setitem__,
        lost=lambda _i, why: pytest.fail(why),
        dask=dask_cluster.address,
    )
    assert out == [float(n) for n in range(40)]
    assert seen == dict(enumerate(out))


def test_a_dask_scan_starts_one_relay_before_it_lists(
    filled: Filled,
    local_scan: dict[str, Any],
    dask_cluster: DaskCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--dask`` starts the relay process first thing, before the parser is built (its import
    of distributed overlaps the scan's start) and the fan-out adopts that one: one relay per
    scan, the same report; one started and never adopted (the scan failed first) is ended."""
    from layerscope.commands.scan_read import READ_LAYER
    from layerscope.fanout import dask_relay
    from layerscope.sources.registry_scan_layer import read_layer

    assert READ_LAYER == f"{read_layer.__module__}:{read_layer.__qualname__}"
    started: list[subprocess.Popen[bytes]] = []
    real_start = dask_relay._start

    def counted(function: str, address: str) -> tuple[subprocess.Popen[bytes], int]:
        relay = real_start(function, address)
        started.append(relay[0])
        return relay

    monkeypatch.setattr(dask_relay, "_start", counted)
    target = f"registry://{filled.registry.host}"
    rc, doc, err = scan(target, "--dask", dask_cluster.address, cache=tmp_path / "c")
    assert rc == 1, err
    assert comparable(doc) == comparable(local_scan["doc"])
    assert len(started) == 1 and started[0].returncode == 0
    rc, _doc, err = scan("--refs", str(tmp_path / "missing"), "--dask", dask_cluster.address,
                         cache=tmp_path / "c2")  # fmt: skip
    assert rc == 2 and "cannot read --refs file" in err
    assert len(started) == 2 and started[1].returncode is not None
    # started before the parser is built; --help then ends the command before run()
    assert main(["scan", f"--dask={dask_cluster.address}", "--help"], stdout=io.StringIO()) == 0
    assert len(started) == 3 and started[2].returncode is not None
    assert not dask_relay._EARLY


def test_dask_unreachable_is_exit_3(filled: Filled, tmp_path: Path) -> None:
    with refused_port() as port:
        rc, _doc, err = scan(
            f"registry://{filled.registry.host}/base",
            "--dask",
            f"tcp://127.0.0.1:{port}",
            cache=tmp_path,
        )
    assert rc == 3 and "Dask scheduler" in err, err


AS_FROM_A_TERMINAL = (
    "import runpy, signal; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
    "runpy.run_module('layerscope', run_name='__main__', alter_sys=True)"
)
"""``python -c`` prelude: run layerscope with SIGINT handled as in a shell's foreground job.

A process started with SIGINT ignored (a background job of a shell without job control, nohup)
or blocked passes that on through exec, and Python then installs no KeyboardInterrupt handler:
layerscope keeps the disposition it was given, as POSIX programs do. The Ctrl+C test must not
depend on how pytest itself was started, so its child sets what a terminal's would have."""


def test_ctrl_c_cancels_the_dask_tasks(
    filled: Filled, dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    """SIGINT while a layer is being read: exit 130, and the scheduler forgets every task."""
    proxy, fault, held = held_layer(filled, "apps/a3")
    env = dict(os.environ, LAYERSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    target = f"registry://127.0.0.1:{proxy.port}"
    cmd = [sys.executable, "-c", AS_FROM_A_TERMINAL, "scan", target]
    proc = subprocess.Popen(
        [*cmd, "--dask", dask_cluster.address, "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert fault.reached.wait(300), "the held layer was never requested"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=300)
    finally:
        fault.release.set()
        proxy.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err

    def ours(dask_scheduler: Any) -> list[str]:
        return [str(k) for k in dask_scheduler.tasks if str(k).startswith("layerscope-")]

    assert dask_cluster.client.run_on_scheduler(ours) == []


def test_a_corrupt_or_refused_layer_is_reported_and_the_scan_goes_on(
    filled: Filled, tmp_path: Path
) -> None:
    """a1's last layer arrives with a flipped byte (twice: the retry too), a2's is refused
    (403); both are listed with their reason, a4 (two platforms) is analysed."""
    corrupt_proxy, _f, corrupt = held_layer(filled, "apps/a1")
    corrupt_proxy.close()
    refused = scanfill.manifests_of(filled.registry.host, "apps/a2", "1")[0]["layers"][-1]
    proxy = FaultProxy(filled.registry.port)
    proxy.faults += [
        Fault(path=re.escape(corrupt), action="flip", after=50, times=2),
        Fault(path=re.escape(refused["digest"]), action="status", status=403, times=99),
    ]
    host = f"127.0.0.1:{proxy.port}"
    refs = tmp_path / "refs.txt"
    refs.write_text("".join(f"registry://{host}/apps/a{n}:1\n" for n in (1, 2, 4)))
    try:
        rc, doc, err = scan("--refs", str(refs), cache=tmp_path / "cache")
    finally:
        proxy.close()
    assert rc == 1, err
    reasons = {f["digest"]: f["message"] for f in doc["failures"]}
    assert set(reasons) == {corrupt, refused["digest"]}
    assert "hashes to" in reasons[corrupt]
    assert "refused access" in reasons[refused["digest"]]
    analysed = [i["repository"].rsplit("/", 1)[1] for i in doc["image_list"] if not i["error"]]
    assert analysed == ["a4", "a4"]  # both platforms


def scan_output(*args: str, cache: Path) -> tuple[int, str, str]:
    """``layerscope scan ARGS`` in-process with its own cache: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.environ.get("LAYERSCOPE_CACHE_DIR")
    os.environ["LAYERSCOPE_CACHE_DIR"] = str(cache)
    try:
        rc = main(["scan", *args], stdout=out, stderr=err)
    finally:
        if old is None:
            os.environ.pop("LAYERSCOPE_CACHE_DIR", None)
        else:
            os.environ["LAYERSCOPE_CACHE_DIR"] = old
    return rc, out.getvalue(), err.getvalue()


def check_scan_page(filled: Filled, page: str) -> None:
    """Self-contained, and carries the registry API's totals and per-image freed bytes."""
    from layerscope.render.text import size
    from tests.report.test_report_cli import assert_self_contained, page_data

    assert_self_contained(page)
    data = page_data(page)
    fig = filled.figures
    assert data["totals"] == {k: fig[k] for k in TOTALS}
    freed = {i["manifest_digest"]: i["exclusive_compressed_bytes"] for i in data["images"]}
    assert freed == fig["_exclusive"]
    shown = re.sub(r"<[^>]+>", "\n", page.split('id="ls-data"')[0])
    for key in ("stored_compressed_bytes", "shared_compressed_bytes"):
        assert f"\n{size(fig[key])}\n" in shown, key  # a card's value
    assert f"\n{fig['images']}\n" in shown
    assert page.count("<tr>") >= fig["images"] + 1  # the image table: a row per image
    assert f"layer {filled.broken_blob}" in page  # under "Not read"
    for repo in {k.split(":")[0] for k in filled.plan.on_base}:
        assert repo in page


def test_html_beside_the_text_report_and_as_the_output(filled: Filled, tmp_path: Path) -> None:
    host = f"registry://{filled.registry.host}"
    beside = tmp_path / "scan.html"
    rc, out, err = scan_output(host, "--html", str(beside), cache=tmp_path / "cache")
    assert rc == 1, err  # the broken image's layer is missing
    assert out.startswith(f"Registry {filled.registry.host}:")
    assert f"HTML report: {beside.resolve().as_uri()}" in out
    check_scan_page(filled, beside.read_text(encoding="utf-8"))

    rc, out, err = scan_output(host, "--markdown", f"--html={beside}", cache=tmp_path / "cache")
    assert rc == 1 and "## Bases" in out and "[Open the HTML report](" in out, err

    alone = tmp_path / "alone.html"
    rc, out, err = scan_output(host, "--html", "-o", str(alone), "-q", cache=tmp_path / "cache")
    assert rc == 1 and out == "", err
    check_scan_page(filled, alone.read_text(encoding="utf-8"))
    rc, out, err = scan_output(host, "--format", "html", cache=tmp_path / "cache")
    assert rc == 1, err
    check_scan_page(filled, out)

    rc, out, err = scan_output(host, "--json", "--html", cache=tmp_path / "cache")
    assert rc == 2 and "--html without FILE" in err and "Traceback" not in err


def test_html_page_in_chromium(filled: Filled, tmp_path: Path) -> None:
    from tests.report.cdp import browser
    from tests.report.test_report_browser import assert_drawn, load

    page = tmp_path / "scan.html"
    rc, _out, err = scan_output(
        f"registry://{filled.registry.host}", "--html", "-o", str(page), cache=tmp_path / "cache"
    )
    assert rc == 1, err
    with browser(tmp_path) as chromium:
        load(chromium, page)
        counts = chromium.evaluate(
            "({cards: document.querySelectorAll('.card').length,"
            " tables: document.querySelectorAll('table').length,"
            " bars: document.querySelectorAll('.sbar span').length,"
            " columns: document.querySelectorAll('.chart svg rect').length})"
        )
        assert counts["cards"] == 7 and counts["tables"] >= 5, counts
        assert counts["bars"] == 2 and counts["columns"] == min(10, filled.figures["images"])
        chromium.screenshot(tmp_path / "scan-report.png")
        assert_drawn(tmp_path / "scan-report.png")
        assert chromium.problems() == []
