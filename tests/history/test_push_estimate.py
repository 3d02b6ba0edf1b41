"""``history``'s push and pull cost for builds read from docker-save archives (layers stored
uncompressed): the gzip size estimated from a sample, labelled as such, recorded in the store,
and the stores of earlier versions migrated (their rows say the cost is unknown).

Every test runs on both engines (``store_url``: SQLite, then the private PostgreSQL cluster).
"""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
import zlib
from pathlib import Path

import pytest

from layerscope import cli
from layerscope.render.units import size
from layerscope.store.backend import Session
from layerscope.store.backend_postgres import PostgresBackend
from layerscope.store.backend_sqlite import SqliteBackend
from layerscope.store.history import HistoryStore
from layerscope.store.history_schema import HISTORY_SCHEMA
from layerscope.store.location import parse_store_url
from layerscope.testing import File, Synthetic, write_image
from tests.history.histkit import REPO, Inputs, spec

pytestmark = pytest.mark.usefixtures("history_cli", "store_url")

T1, T2 = "2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def build(tmp: Path, tag: str, created: str, version: int) -> Path:
    """A build whose RUN layer is ~10 MiB (site-packages text and a binary wheel), new each
    time: big enough to be sampled, not compressed whole."""
    image = spec(tag, created, Inputs(pip_output=f"torch {version}\n".encode()))
    run_layer = image.layers[2]
    extra = [
        *(File(f"/usr/lib/site/p{i}.py", Synthetic(24_000, f"{version}-{i}", "text"))
          for i in range(300)),
        File("/usr/lib/site/torch.so", Synthetic(3 << 20, version, "binary")),
    ]  # fmt: skip
    layers = list(image.layers)
    layers[2] = dataclasses.replace(run_layer, entries=[*run_layer.entries, *extra])
    path = tmp / f"{tag}.tar"
    write_image(dataclasses.replace(image, layers=layers), path, "docker-25")
    return path


def gzip6_of_layers(path: Path, indexes: list[int]) -> int:
    """gzip -6 (Python's zlib) of these layer tars of a docker-save archive, read with tarfile."""
    total = 0
    with tarfile.open(path) as tar:
        names = json.load(tar.extractfile("manifest.json"))[0]["Layers"]  # type: ignore[arg-type]
        for i in indexes:
            data = tar.extractfile(names[i]).read()  # type: ignore[union-attr]
            packer = zlib.compressobj(6, zlib.DEFLATED, 31)
            total += len(packer.compress(data)) + len(packer.flush())
    return total


def test_two_recorded_builds_price_the_push_with_an_estimate(tmp_path: Path) -> None:
    first, second = build(tmp_path, "b1", T1, 1), build(tmp_path, "b2", T2, 2)
    for path in (first, second):  # recorded as a user's inspect records them
        code, _out, err = run("inspect", str(path), "--json")
        assert code == 0, err
    code, out, err = run("history", REPO, "--json")
    assert code == 0, err
    miss = json.loads(out)["builds"][1]["miss"]
    rebuilt = miss["rebuilt_layer_indexes"]
    assert rebuilt == [2, 3]  # the RUN changed, and the COPY above it misses with it
    truth = gzip6_of_layers(second, rebuilt)
    assert miss["push_bytes_source"] == "estimate" and miss["rebuilt_compressed_bytes"] is None
    assert abs(miss["push_bytes"] - truth) <= 0.06 * truth, (miss["push_bytes"], truth)
    parts = miss["rebuilt_layers"]
    assert [p["index"] for p in parts] == rebuilt
    assert sum(p["push_bytes"] for p in parts) == miss["push_bytes"]
    assert miss["push_bytes"] < 0.6 * miss["rebuilt_bytes"]  # 7 MB of text gzips ~3x: not the tar
    code, out, err = run("history", REPO, "--text")
    assert code == 0, err
    text = " ".join(out.split())
    expected = (
        f"≈{size(miss['push_bytes'])} to push and pull (gzip estimated from a sample; "
        f"stored uncompressed here: {size(miss['rebuilt_bytes'])})"
    )
    assert expected in text, out
    page = tmp_path / "history.html"
    code, _out, err = run("history", REPO, "--html", str(page))
    assert code == 0, err
    assert f"≈{size(miss['push_bytes'])}" in page.read_text()  # the builds table's push column


def _old_store(url: str) -> None:
    """A store as layerscope left it before estimates (schema 3), holding two builds."""
    location = parse_store_url(url)
    old = (
        SqliteBackend(location, HISTORY_SCHEMA[:3])
        if location.engine == "sqlite"
        else PostgresBackend(location, HISTORY_SCHEMA[:3])
    )
    assert old.schema_version == 3

    def insert(session: Session) -> None:
        for day, diff in ((1, "a"), (2, "b")):
            (build_id,) = session.rows(
                "INSERT INTO builds (repository, tag, image_id, created, ref, recorded_at) "
                f"VALUES ('docker.io/library/old', 'v{day}', 'sha256:{diff}', "
                f"'2023-01-0{day}T00:00:00Z', 'old.tar', {day}.0) RETURNING id"
            )[0]
            session.rows(
                "INSERT INTO build_layers (build_id, idx, diff_id, chain_id, size_bytes, "
                "compressed_size_bytes, created_by, instruction, history_created, is_base, "
                f"log_cached, log_duration_s) VALUES ({build_id}, 0, 'sha256:d{diff}', "
                f"'sha256:d{diff}', 5000, NULL, 'ADD x /', 'ADD x /', NULL, NULL, NULL, NULL)"
            )

    old.run(insert, write=True)
    old.close()


def test_an_old_store_is_migrated_and_its_rows_say_the_cost_is_unknown(
    tmp_path: Path, store_url: str
) -> None:
    _old_store(store_url)
    with HistoryStore(store_url) as store:
        assert store.schema_version == len(HISTORY_SCHEMA) == 4
        builds = store.builds("old")
        assert [b.layers[0].gzip_estimate_bytes for b in builds] == [None, None]
    code, out, err = run("history", "old", "--json")
    assert code == 0, err
    miss = json.loads(out)["builds"][1]["miss"]
    assert (miss["push_bytes"], miss["push_bytes_source"]) == (None, None)
    code, out, err = run("history", "old", "--text")
    text = " ".join(out.split())
    expected = (
        f"{size(5000)} uncompressed to push and pull (stored uncompressed here: the compressed "
        "size is unknown)"
    )
    assert expected in text, out
    # the migrated store records new builds with their estimates beside the old rows
    first, second = build(tmp_path, "b1", T1, 1), build(tmp_path, "b2", T2, 2)
    for path in (first, second):
        assert run("inspect", str(path), "--json")[0] == 0
    with HistoryStore(store_url) as store:
        (recorded, _) = store.builds(REPO)
        assert all(layer.gzip_estimate_bytes for layer in recorded.layers)
        assert all(layer.compressed_size_bytes is None for layer in recorded.layers)


def test_exports_carry_estimates_and_older_exports_still_import(tmp_path: Path) -> None:
    first, second = build(tmp_path, "b1", T1, 1), build(tmp_path, "b2", T2, 2)
    assert run("history", "--json", "--refs", str(first), str(second))[0] == 0
    exported = tmp_path / "h.jsonl"
    assert run("history", "export", REPO, "-o", str(exported))[0] == 0
    header, *lines = exported.read_text().splitlines()
    docs = [json.loads(line) for line in lines]
    estimates = [[layer["gzip_estimate_bytes"] for layer in doc["layers"]] for doc in docs]
    assert all(isinstance(n, int) and n > 0 for row in estimates for n in row)
    # an export written before estimates were kept has no such key: it reads as unknown
    for doc in docs:
        doc["repository"] = "docker.io/team/older"
        for layer in doc["layers"]:
            del layer["gzip_estimate_bytes"]
    older = tmp_path / "older.jsonl"
    older.write_text("\n".join([header, *map(json.dumps, docs)]) + "\n")
    code, _out, err = run("history", "import", str(older))
    assert code == 0, err
    with HistoryStore() as store:
        assert {
            layer.gzip_estimate_bytes for b in store.builds("team/older") for layer in b.layers
        } == {None}
        assert [
            [layer.gzip_estimate_bytes for layer in b.layers] for b in store.builds(REPO)
        ] == estimates
    # a wrong type is refused with one line
    docs[0]["layers"][0]["gzip_estimate_bytes"] = "12"
    older.write_text("\n".join([header, json.dumps(docs[0])]) + "\n")
    code, _out, err = run("history", "import", str(older))
    assert code == 2 and "gzip_estimate_bytes" in err and len(err.strip().splitlines()) == 1
