"""The build-record store: recording once per image id, migrations, two writer processes.

Every test runs on both engines (``store_url``: a SQLite file, then a database of the private
PostgreSQL cluster), which is also the default store through ``LAYERSCOPE_STORE``.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerscope.analysis.cache import cache_history
from layerscope.model import Digest
from layerscope.store.backend import Session
from layerscope.store.backend_postgres import PostgresBackend
from layerscope.store.backend_sqlite import SqliteBackend
from layerscope.store.history import (
    HistoryStore,
    build_record,
    default_history_path,
    record_build,
)
from layerscope.store.history_schema import HISTORY_SCHEMA
from layerscope.store.location import parse_store_url
from tests.history.histkit import REPO, Inputs, load, write

pytestmark = pytest.mark.usefixtures("store_url")

T1, T2 = "2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"


def test_default_path_is_in_the_data_dir_not_the_cache(tmp_path: Path) -> None:
    path = default_history_path()
    assert path.parent == Path(os.environ["LAYERSCOPE_DATA_DIR"])
    assert path.name == "history.sqlite3"
    assert not str(path).startswith(os.environ["LAYERSCOPE_CACHE_DIR"])


def test_record_once_per_image_id_and_read_back(tmp_path: Path) -> None:
    first = load(write(tmp_path, "b1", T1, Inputs()))
    second = load(write(tmp_path, "b2", T2, Inputs(requirements=b"flask\n")))
    with HistoryStore() as store:
        assert record_build(store, first) is True
        assert record_build(store, first) is False  # re-recording adds nothing
        assert record_build(store, second, ref="docker-archive:b2.tar") is True
        assert store.repositories() == ((REPO, 2),)
        # the name is normalised: a familiar form or one with a tag finds the same builds
        got = store.builds(f"{REPO}:whatever")
        assert [b.tag for b in got] == ["b1", "b2"]
        assert got[0] == dataclasses.replace(build_record(first), recorded_at=got[0].recorded_at)
        assert got[1].ref == "docker-archive:b2.tar"
        assert [layer.chain_id for layer in got[1].layers] == list(second.chain_ids)
        assert [layer.is_base for layer in got[1].layers] == [True, False, False, False]
        assert store.builds("docker.io/library/other") == ()
    with HistoryStore() as again:  # persisted
        assert len(again.builds(REPO)) == 2


def test_build_log_data_is_kept(tmp_path: Path, store_url: str) -> None:
    image = load(write(tmp_path, "b1", T1, Inputs()))
    record = build_record(image)
    logged = dataclasses.replace(
        record,
        layers=tuple(
            dataclasses.replace(layer, log_cached=layer.index < 2, log_duration_seconds=1.5)
            for layer in record.layers
        ),
    )
    with HistoryStore(store_url) as store:
        store.record(record)
        store.attach_build_log(logged)
        got = store.builds(REPO)[0]
    assert [layer.log_cached for layer in got.layers] == [True, True, False, False]
    assert [layer.log_duration_seconds for layer in got.layers] == [1.5] * 4


def test_a_bare_path_is_still_a_sqlite_store(tmp_path: Path) -> None:
    image = load(write(tmp_path, "b1", T1, Inputs()))
    path = tmp_path / "elsewhere" / "h.sqlite3"  # --store PATH, as before store URLs
    with HistoryStore(str(path)) as store:
        assert store.record(build_record(image)) is True
        assert store.engine == "sqlite"
    assert path.is_file()


def test_migrate_a_version_1_database(store_url: str) -> None:
    location = parse_store_url(store_url)
    v1 = (
        SqliteBackend(location, HISTORY_SCHEMA[:1])
        if location.engine == "sqlite"
        else PostgresBackend(location, HISTORY_SCHEMA[:1])
    )
    assert v1.schema_version == 1

    def insert(session: Session) -> None:
        session.rows(
            "INSERT INTO builds (id, repository, tag, image_id, created, ref, recorded_at) "
            "VALUES (1, 'docker.io/library/old', '1', 'sha256:aa', "
            "'2023-01-01T00:00:00Z', 'old:1', 5.0)"
        )
        session.rows(
            "INSERT INTO build_layers VALUES "
            "(1, 0, 'sha256:d0', 'sha256:d0', 10, NULL, 'ADD x /', 'ADD x /', NULL, NULL)"
        )

    v1.run(insert, write=True)
    v1.close()
    with HistoryStore(store_url) as store:
        assert store.schema_version == len(HISTORY_SCHEMA) == 4
        (build,) = store.builds("old")
        assert build.tag == "1" and build.recorded_at == 5.0
        assert build.layers[0].log_cached is None and build.layers[0].size_bytes == 10
        assert build.layers[0].gzip_estimate_bytes is None  # unknown, not 0


WRITER = """
import sys, dataclasses
from layerscope.analysis.cache import BuildRecord, LayerRecord
from layerscope.model import Digest
from layerscope.store.history import HistoryStore
name, count = sys.argv[1], int(sys.argv[2])
with HistoryStore(sys.argv[3]) as store:
    for i in range(count):
        layer = LayerRecord(0, Digest(f"sha256:{name}{i}"), Digest(f"sha256:{name}{i}"), i, None,
                            "RUN x", "RUN x")
        created = f"2024-01-01T00:00:{i:02d}Z"
        store.record(BuildRecord("docker.io/library/shared", name, Digest(f"sha256:{name}{i}"),
                                 created, name, (layer,), 0.0))
        store.record(BuildRecord("docker.io/library/shared", name, Digest("sha256:same"),
                                 created, name, (layer,), 0.0))
"""


def test_two_processes_record_at_once(store_url: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, name, "25", store_url],
                         stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with HistoryStore(store_url) as store:
        builds = store.builds("shared")
    # 25 distinct ids from each writer, plus sha256:same recorded once between them
    assert len(builds) == 25 + 25 + 1
    assert len({b.image_id for b in builds}) == 51
    history = cache_history(builds)
    assert len(history.builds) == 51
    assert Digest("sha256:same") in {b.image_id for b in builds}
