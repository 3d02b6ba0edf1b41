"""Soak: eight processes record builds of one repository into one PostgreSQL and one SQLite
store at the same time, each in its own order, most builds by several processes, while a reader
reads both. The reader never sees half a build, nothing is lost or doubled, and ``history``
prints the same from both stores."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from layerscope import cli
from layerscope.store.history import HistoryStore
from tests.history.fleetkit import synthetic_build
from tests.history.pgkit import PgCluster

REPOSITORY = "docker.io/team/soak"
BUILDS = 60
WRITERS = 8

SOAKER = """
import sys
from layerscope.store.history import HistoryStore
from tests.history.fleetkit import synthetic_build
writer, total, urls = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
stores = [HistoryStore(url) for url in urls]
# each writer its own order; together they cover every build, most of them several times
order = [(writer * 7 + k * 5) % total for k in range(total * 3 // 4)]
order += [n for n in range(total) if n % 8 == writer]
for n in order:
    build = synthetic_build("docker.io/team/soak", n, layers=12)
    for store in stores:
        store.record(build)
for store in stores:
    store.close()
"""


def history(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["history", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_eight_writers_into_postgresql_and_sqlite(pg_cluster: PgCluster, tmp_path: Path) -> None:
    stores = [pg_cluster.create_database(), f"sqlite:///{tmp_path / 'soak.sqlite3'}"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    procs = [
        subprocess.Popen([sys.executable, "-c", SOAKER, str(w), str(BUILDS), *stores],
                         stderr=subprocess.PIPE, text=True, env=env)
        for w in range(WRITERS)
    ]  # fmt: skip
    # meanwhile a reader: every build it sees is whole, on both engines
    readers = [HistoryStore(url) for url in stores]
    reads = 0
    try:
        while any(p.poll() is None for p in procs):
            for reader in readers:
                seen = reader.builds(REPOSITORY)
                assert all(len(build.layers) == 12 for build in seen)
                reads += 1
    finally:
        for reader in readers:
            reader.close()
    errors = [p.communicate(timeout=600)[1] for p in procs]
    assert reads >= 2
    assert [p.returncode for p in procs] == [0] * WRITERS, errors
    expected = {synthetic_build(REPOSITORY, n, layers=12).image_id for n in range(BUILDS)}
    outputs = []
    for url in stores:
        with HistoryStore(url) as store:
            builds = store.builds(REPOSITORY)
        ids = [build.image_id for build in builds]
        assert len(ids) == len(set(ids)) == BUILDS and set(ids) == expected
        assert all(len(build.layers) == 12 for build in builds)
        code, text, err = history(REPOSITORY, "--text", "--store", url)
        assert code == 0, err
        code, doc, err = history(REPOSITORY, "--json", "--store", url)
        assert code == 0, err
        assert [b["tag"] for b in json.loads(doc)["builds"]] == [f"b{n}" for n in range(BUILDS)]
        outputs.append((text, doc))
    assert outputs[0] == outputs[1]
