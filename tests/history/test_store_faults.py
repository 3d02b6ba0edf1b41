"""A history store under faults: wrong passwords, servers that are down or go away mid-run,
a server killed while eight writers record, processes that migrate an empty database at once,
and a missing driver. Always one line, exit 3 for an unavailable store, never a password."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layerscope import cli
from layerscope.store.history import HistoryStore
from layerscope.store.history_file import build_line, header
from layerscope.store.history_schema import HISTORY_SCHEMA
from tests.history.fleetkit import synthetic_build
from tests.history.histkit import REPO, Inputs, write
from tests.history.pgkit import CuttingProxy, PgCluster
from tests.ports import refused_port

T1 = "2024-05-01T10:00:00Z"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERSCOPE_STORE_RETRY_SECONDS", "1")


@pytest.mark.usefixtures("quick_retries")
def test_wrong_password_is_one_line_and_exit_3(pg_cluster: PgCluster) -> None:
    database = pg_cluster.create_database().rsplit("/", 1)[1]
    wrong = "Wr0ng-Secret-42"
    for argv in (["history", "app"], ["history", "prune", "--keep", "1"]):
        code, out, err = run(*argv, "--store", pg_cluster.url(database, password=wrong))
        line = one_line(err)
        assert code == 3 and out == ""
        assert "password authentication failed" in line
        assert f"postgresql://layerscope:***@127.0.0.1:{pg_cluster.port}/{database}" in line
        assert wrong not in err and pg_cluster.password not in err


def test_password_from_pgpassword_or_pgpass(
    pg_cluster: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_cluster.create_database()
    bare = pg_cluster.url(url.rsplit("/", 1)[1], password="")
    assert "@127.0.0.1" in bare and pg_cluster.password not in bare
    monkeypatch.setenv("PGPASSWORD", pg_cluster.password)
    assert run("history", "prune", "--keep", "1", "--store", bare)[0] == 0
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_cluster.port}:*:layerscope:{pg_cluster.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    code, out, err = run("history", "prune", "--keep", "1", "--store", bare)
    assert code == 0 and "pruned 0 builds" in out, err


@pytest.mark.usefixtures("quick_retries")
def test_server_down_is_exit_3_but_analysis_still_prints(tmp_path: Path) -> None:
    with refused_port() as port:
        _server_down_is_exit_3_but_analysis_still_prints(
            tmp_path, f"postgresql://ci:s3cr3t-pw@127.0.0.1:{port}/layerscope"
        )


def _server_down_is_exit_3_but_analysis_still_prints(tmp_path: Path, down: str) -> None:
    code, out, err = run("history", REPO, "--store", down)
    assert code == 3 and "unavailable after 1s of retries" in one_line(err)
    assert "Connection refused" in err and "s3cr3t-pw" not in err
    # inspect does not need the history: its report, and a warning
    image = write(tmp_path, "b1", T1, Inputs())
    code, out, err = run("inspect", "--json", str(image), "--store", down)
    assert code == 0 and json.loads(out)["image"]["layer_count"] == 4
    assert one_line(err).startswith("layerscope: warning: build not recorded: history store ")
    assert "s3cr3t-pw" not in err
    # check's baseline = "last" does: exit 3
    code, out, err = run("check", str(image), "--baseline", "last", "--store", down)
    assert code == 3 and out == "" and "s3cr3t-pw" not in err
    assert one_line(err).startswith("layerscope: error: history store postgresql://ci:***@")


def big_export(path: Path, builds: int) -> Path:
    with path.open("w") as handle:
        handle.write(header() + "\n")
        for i in range(builds):
            handle.write(build_line(synthetic_build("docker.io/team/big", i, layers=30)) + "\n")
    return path


@pytest.mark.usefixtures("quick_retries")
def test_server_going_away_mid_run_is_exit_3(pg_cluster: PgCluster, tmp_path: Path) -> None:
    url = pg_cluster.create_database()
    HistoryStore(url).close()  # migrated: the proxy then only sees the import's traffic
    proxy = CuttingProxy(pg_cluster.port, cut_after=64 * 1024)
    try:
        export = big_export(tmp_path / "big.jsonl", 200)
        assert export.stat().st_size > 10 * 64 * 1024  # far more than the proxy lets through
        code, out, err = run("history", "import", str(export), "--store", proxy.url(pg_cluster,
                             url.rsplit("/", 1)[1]))  # fmt: skip
    finally:
        proxy.close()
    assert proxy.cut.is_set()
    line = one_line(err)
    assert code == 3 and out == "" and "unavailable after 1s of retries" in line
    assert pg_cluster.password not in err and "***" in line
    # whole batches or nothing: every stored build has all its layers
    with HistoryStore(url) as store:
        builds = store.builds("docker.io/team/big")
    assert len(builds) < 200
    assert all(len(build.layers) == 30 for build in builds)


WRITER = """
import sys
from layerscope.store.history import HistoryStore
from tests.history.fleetkit import synthetic_build
writer, count, url = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with HistoryStore(url) as store:
    for i in range(count):
        store.record(synthetic_build("docker.io/team/fleet", writer * 1000 + i, layers=30))
        print(i, flush=True)
"""


def writers(url: str, count: int, n: int = 8) -> list[subprocess.Popen[str]]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return [
        subprocess.Popen([sys.executable, "-c", WRITER, str(w), str(count), url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for w in range(n)
    ]  # fmt: skip


def test_killing_the_server_while_eight_writers_record(
    pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_cluster.create_database()
    HistoryStore(url).close()
    monkeypatch.setenv("LAYERSCOPE_STORE_RETRY_SECONDS", "60")  # outlive the restart
    procs = writers(url, 40)
    try:
        deadline = time.monotonic() + 120
        while pg_cluster.query(url, "SELECT count(*) FROM builds")[0][0] < 40:
            assert time.monotonic() < deadline, "the writers recorded nothing"
            time.sleep(0.05)
        assert any(p.poll() is None for p in procs)  # killed mid-run: writers are writing
        pg_cluster.stop("immediate")  # a crash: no shutdown checkpoint, recovery at start
        pg_cluster.start()
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err  # retried through the restart
    rows = pg_cluster.query(
        url,
        "SELECT b.image_id, count(l.idx) FROM builds b LEFT JOIN build_layers l "
        "ON l.build_id = b.id GROUP BY b.image_id",
    )
    assert {count for _id, count in rows} == {30}  # no half-written build
    assert len(rows) == 8 * 40  # none lost, none twice (image ids are distinct per build)
    with HistoryStore(url) as store:
        assert len(store.builds("docker.io/team/fleet")) == 8 * 40


MIGRATOR = """
import sys
from layerscope.store.history import HistoryStore
from tests.history.fleetkit import synthetic_build
with HistoryStore(sys.argv[2]) as store:
    store.record(synthetic_build("docker.io/team/m", int(sys.argv[1]), layers=3))
    print(store.schema_version)
"""


def test_processes_migrating_an_empty_database_at_once(store_url: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    procs = [
        subprocess.Popen([sys.executable, "-c", MIGRATOR, str(i), store_url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for i in range(8)
    ]  # fmt: skip
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == str(len(HISTORY_SCHEMA))
    with HistoryStore(store_url) as store:
        assert store.schema_version == len(HISTORY_SCHEMA)
        assert store.repositories() == (("docker.io/team/m", 8),)


def test_a_missing_driver_says_how_to_install_it(pg_cluster: PgCluster) -> None:
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from layerscope.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "history", "app", "--store", pg_cluster.create_database()],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert one_line(proc.stderr) == (
        "layerscope: error: a postgresql:// store needs the PostgreSQL driver: "
        "pip install 'layerscope[postgres]'"
    )


@pytest.mark.usefixtures("quick_retries")
def test_a_refs_series_is_analysed_when_the_store_is_down(tmp_path: Path) -> None:
    paths = [write(tmp_path, f"b{i}", f"2024-05-0{i}T10:00:00Z", Inputs()) for i in (1, 2)]
    with refused_port() as port:
        down = f"postgresql://ci:s3cr3t-pw@127.0.0.1:{port}/layerscope"
        code, out, err = run("history", "--json", "--refs", *map(str, paths), "--store", down)
    assert code == 0 and [b["tag"] for b in json.loads(out)["builds"]] == ["b1", "b2"]
    assert one_line(err).startswith("layerscope: warning: builds not recorded: history store")
    assert "s3cr3t-pw" not in err
