"""``layerscope history``: --refs series, the store, build logs, JSON and text output.

Every test runs on both engines: ``store_url`` sets LAYERSCOPE_STORE to a SQLite file, then to
a database of the private PostgreSQL cluster.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from layerscope import cli
from layerscope.analysis.cache_logs import join_build_log
from layerscope.buildlogs import parse_build_log
from layerscope.render.history_text import sparkline
from layerscope.store.history import build_record
from layerscope.testing import write_image
from tests.history.histkit import REPO, Inputs, load, spec, write

pytestmark = pytest.mark.usefixtures("history_cli", "store_url")

T1, T2, T3 = (f"2024-05-0{d}T10:00:00Z" for d in (1, 2, 3))
CHANGED = {"main.py": b"print('hello')\n", "util.py": b"X = 1\n"}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def three_builds(tmp_path: Path) -> list[Path]:
    return [
        write(tmp_path, "b1", T1, Inputs()),
        write(tmp_path, "b2", T2, Inputs(sources=CHANGED)),
        write(tmp_path, "b3", T3, Inputs(sources=CHANGED, requirements=b"flask\n")),
    ]


def plain_log(image_id: str, cached: tuple[bool, bool, bool], seconds: float) -> str:
    """A BuildKit --progress=plain log of the three user steps."""
    names = ["COPY requirements.txt /app/", "RUN pip install -r /app/requirements.txt",
             "COPY src/ /app/src/"]  # fmt: skip
    lines = ["#1 [internal] load build definition from Dockerfile", "#1 DONE 0.0s", ""]
    for i, (name, hit) in enumerate(zip(names, cached, strict=True)):
        n = i + 4
        lines += [f"#{n} [{i + 1}/3] {name}", f"#{n} CACHED" if hit else f"#{n} DONE {seconds}s"]
    lines += ["#9 exporting to image", f"#9 writing image {image_id} done", "#9 DONE 0.1s"]
    return "\n".join(lines) + "\n"


def test_refs_json_then_the_store(tmp_path: Path) -> None:
    paths = three_builds(tmp_path)
    code, out, err = run("history", "--json", "--refs", *map(str, reversed(paths)))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema_version"] == 1
    # b2: layer 3 changed -> 3/4; b3: layer 1 changed -> 1/4 (worked out in test_cache_analysis)
    assert [b["tag"] for b in doc["builds"]] == ["b1", "b2", "b3"]
    assert [b["hit_ratio"] for b in doc["builds"]] == [None, 0.75, 0.25]
    assert [b["layer_count"] for b in doc["builds"]] == [4, 4, 4]
    miss = doc["builds"][1]["miss"]
    assert miss["reason"] == "files_changed"
    assert miss["paths"] == [{"path": "/app/src/main.py", "change": "content", "size_bytes": 15}]
    assert miss["rebuilt_bytes"] == 21 and miss["rebuilt_seconds"] is None
    assert doc["builds"][0]["miss"] is None
    assert doc["instructions"][3]["timeline"] == ["new", "miss", "miss"]
    assert doc["instructions"][3]["miss_rate"] == 1.0
    # the images were recorded: the same history from the store, by repository name
    code, out2, err = run("history", "--json", REPO)
    assert code == 0, err
    stored = json.loads(out2)
    assert [b["hit_ratio"] for b in stored["builds"]] == [None, 0.75, 0.25]
    # the file lists come from the layer cache the --refs loads filled
    assert stored["builds"][1]["miss"]["paths"] == miss["paths"]


def test_text_report(tmp_path: Path) -> None:
    paths = three_builds(tmp_path)
    code, out, err = run("history", "--text", "--refs", *map(str, paths))
    assert code == 0, err
    assert "b2" in out and "75.0%" in out and "25.0%" in out
    assert "files it copies changed" in out
    assert "content   /app/src/main.py (15 B)" in out
    assert "·●●" in out  # layer 0: new, hit, hit
    assert "hit ratio" in out


def test_build_logs_add_seconds_and_flags(tmp_path: Path) -> None:
    paths = three_builds(tmp_path)
    b2 = load(paths[1])
    assert run("history", "--json", "--refs", *map(str, paths))[0] == 0
    log = tmp_path / "b2.log"
    # the builder says layer 3 ran (2.5 s), and claims layer 2 ran too (chain IDs say hit)
    log.write_text(plain_log(b2.image_id, (True, False, False), 2.5))
    code, out, err = run("history", "--json", REPO, "--build-log", f"b2={log}")
    assert code == 0, err
    build = json.loads(out)["builds"][1]
    assert build["hit_ratio"] == 0.75  # chain IDs decide
    assert [layer["log_cached"] for layer in build["layers"]] == [None, True, False, False]
    assert [layer["log_disagrees"] for layer in build["layers"]] == [False, False, True, False]
    assert build["miss"]["rebuilt_seconds"] == 2.5  # layer 3 only was rebuilt
    # kept in the store; a bare FILE finds its build by the image id the log names
    code, out, err = run("history", "--json", REPO)
    assert json.loads(out)["builds"][1]["layers"][2]["log_disagrees"] is True
    code, out, err = run("history", "--text", REPO, "--build-log", str(log))
    assert code == 0, err
    assert "build log says layer 2 ran; chain IDs say hit" in out


def classic_log(image_id: str, cached: tuple[bool, bool, bool]) -> str:
    """The classic builder's output for the series: it prints no step times."""
    names = ["COPY requirements.txt /app/", "RUN pip install -r /app/requirements.txt",
             "COPY src/ /app/src/"]  # fmt: skip
    lines = ["Step 1/4 : FROM example.test/base", " ---> 0f3a9b8c7d6e"]
    for i, (name, hit) in enumerate(zip(names, cached, strict=True)):
        lines += [f"Step {i + 2}/4 : {name}"]
        lines += [" ---> Using cache"] if hit else [" ---> Running in 1ca77fb594e1"]
        lines += [f" ---> {i}a2b3c4d5e6f"]
    lines += [f"Successfully built {image_id.split(':')[-1][:12]}"]
    return "\n".join(lines) + "\n"


def test_a_classic_builder_log_gives_unknown_step_times_not_zero(tmp_path: Path) -> None:
    paths = three_builds(tmp_path)
    b2 = load(paths[1])
    assert run("history", "--json", "--refs", *map(str, paths))[0] == 0
    log = tmp_path / "b2-classic.log"
    log.write_text(classic_log(b2.image_id, (True, True, False)))
    code, out, err = run("history", "--json", REPO, "--build-log", f"b2={log}")
    assert code == 0, err
    build = json.loads(out)["builds"][1]
    assert [layer["log_cached"] for layer in build["layers"]] == [None, True, True, False]
    assert build["miss"]["rebuilt_layer_indexes"] == [3]
    assert build["miss"]["rebuilt_seconds"] is None  # the log has no times: unknown, not 0
    code, out, err = run("history", "--text", REPO, "--build-log", f"b2={log}")
    assert code == 0, err
    assert "0.0 s" not in out
    assert "build-step time unknown" in " ".join(out.split())


def test_push_and_pull_cost_says_compressed_or_estimated(tmp_path: Path) -> None:
    """An archive whose layers are stored uncompressed does not hold what a push sends: the
    cost is the layer's gzip -6 size, estimated (this small layer is compressed whole, so the
    estimate is the exact zlib figure) and said to be one, never the tar size passed off."""
    plain = [
        write(tmp_path, n, t, i)
        for n, t, i in (("p1", T1, Inputs()), ("p2", T2, Inputs(sources=CHANGED)))
    ]
    with tarfile.open(plain[1]) as tar:  # the rebuilt layer's tar, read here with tarfile
        names = json.load(tar.extractfile("manifest.json"))[0]["Layers"]  # type: ignore[arg-type]
        layer = tar.extractfile(names[3]).read()  # type: ignore[union-attr]
    gzipped = len(gzip.compress(layer, compresslevel=6, mtime=0))
    code, out, err = run("history", "--json", "--refs", *map(str, plain))
    assert code == 0, err
    miss = json.loads(out)["builds"][1]["miss"]
    assert miss["rebuilt_compressed_bytes"] is None and miss["rebuilt_bytes"] == 21
    assert (miss["push_bytes"], miss["push_bytes_source"]) == (gzipped, "estimate")
    assert miss["rebuilt_layers"] == [
        {"index": 3, "push_bytes": gzipped, "push_bytes_source": "estimate"}
    ]
    code, out, err = run("history", "--text", "--refs", *map(str, plain))
    text = " ".join(out.split())
    assert gzipped < 1000  # shown in bytes
    assert (
        f"≈{gzipped} B to push and pull (gzip estimated from a sample; "
        "stored uncompressed here: 21 B)"
    ) in text, out
    # gzip layers: the blob sizes are what moves, read back from the OCI manifest
    gz = []
    for name, created, inputs in (("g1", T1, Inputs()), ("g2", T2, Inputs(sources=CHANGED))):
        path = tmp_path / f"{name}.tar"
        write_image(spec(name, created, inputs), path, "oci-tar", compression="gzip")
        gz.append(path)
    with tarfile.open(gz[1]) as tar:
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
        digest = index["manifests"][0]["digest"].split(":")[1]
        manifest = json.load(tar.extractfile(f"blobs/sha256/{digest}"))  # type: ignore[arg-type]
    last_blob = manifest["layers"][3]["size"]
    assert last_blob < 1000  # shown in bytes
    code, out, err = run("history", "--json", "--refs", *map(str, gz))
    assert code == 0, err
    miss = json.loads(out)["builds"][1]["miss"]
    assert miss["rebuilt_layer_indexes"] == [3]
    assert miss["rebuilt_compressed_bytes"] == last_blob
    assert (miss["push_bytes"], miss["push_bytes_source"]) == (last_blob, "blob")
    code, out, err = run("history", "--text", "--refs", *map(str, gz))
    text = " ".join(out.split())
    assert f"{last_blob} B compressed to push and pull (21 B uncompressed)" in text, out


def test_history_without_name_lists_the_recorded_repositories(tmp_path: Path) -> None:
    code, out, err = run("history")
    assert (code, err) == (0, "")
    assert out.startswith("No builds recorded in ") and "--refs" in out
    paths = three_builds(tmp_path)
    other = tmp_path / "other.tar"
    image_spec = spec("o1", T1, Inputs())
    write_image(dataclasses.replace(image_spec, repo_tags=["example.test/other/svc:1"]), other,
                "docker-25")  # fmt: skip
    assert run("history", "--json", "--refs", *map(str, paths))[0] == 0
    assert run("inspect", str(other), "--json")[0] == 0  # inspect records too
    code, out, err = run("history")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Recorded repositories in ")
    assert [line.split() for line in lines[1:]] == [  # by name
        ["example.test/other/svc", "1", "build"],
        [REPO, "3", "builds"],
    ]
    code, out, err = run("history", "--json")
    assert json.loads(out)["repositories"] == [
        {"name": "example.test/other/svc", "build_count": 1},
        {"name": REPO, "build_count": 3},
    ]


def test_join_build_log_by_instruction_text(tmp_path: Path) -> None:
    image = load(write(tmp_path, "j", T1, Inputs()))
    log = parse_build_log(plain_log(image.image_id, (False, True, False), 1.25))
    joined = join_build_log(build_record(image), log.steps)
    assert [(layer.log_cached, layer.log_duration_seconds) for layer in joined.layers] == [
        (None, None),
        (False, 1.25),
        (True, None),
        (False, 1.25),
    ]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["history", "app", "--refs", "x.tar"], "not both"),
        (["history", "--tags", "b-*", "--refs", "x.tar"], "--tags needs NAME"),
        (["history", "never/recorded"], "no builds of never/recorded"),
    ],
)
def test_bad_usage_exits_2(argv: list[str], message: str) -> None:
    code, _, err = run(*argv)
    assert code == 2
    assert message in err


def test_unknown_build_log_ref(tmp_path: Path) -> None:
    paths = three_builds(tmp_path)
    log = tmp_path / "x.log"
    log.write_text(plain_log("sha256:" + "0" * 64, (True, True, True), 1.0))
    code, _, err = run("history", "--refs", *map(str, paths), "--build-log", str(log))
    assert code == 2 and "no build of this history matches" in err


def test_sparkline() -> None:
    assert sparkline([0.0, 0.5, 1.0, None], 0.0, 1.0) == "▁▅█·"  # 0.5 * 7 = 3.5 -> round 4
    assert sparkline([3.0, 3.0], 3.0, 3.0) == "▁▁"


def test_export_import_round_trip_merges(tmp_path: Path, store_url: str) -> None:
    paths = three_builds(tmp_path)
    assert run("history", "--json", "--refs", *map(str, paths[:2]))[0] == 0
    exported = tmp_path / "h.jsonl"
    code, _, err = run("history", "export", REPO, "-o", str(exported))
    assert code == 0, err
    lines = exported.read_text().splitlines()
    assert json.loads(lines[0]) == {"format": "layerscope-history", "version": 1}
    docs = [json.loads(line) for line in lines[1:]]
    assert [d["tag"] for d in docs] == ["b1", "b2"]
    assert [len(d["layers"]) for d in docs] == [4, 4]
    assert docs[1]["image_id"] == load(paths[1]).image_id
    # into a second, empty store; twice; then merged with a store that has b3 already
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    code, out, err = run("history", "import", str(exported), "--store", other)
    assert (code, out.split(" (")[0]) == (0, f"imported 2 builds into {tmp_path / 'other.sqlite3'}")
    code, out, _ = run("history", "import", str(exported), "--store", other)
    assert "imported 0 builds" in out and "(2 already recorded)" in out
    assert run("history", "--json", "--refs", str(paths[2]), "--store", other)[0] == 0
    code, back, _ = run("history", "export", "--store", other)  # all repositories, to stdout
    assert [json.loads(line)["tag"] for line in back.splitlines()[1:]] == ["b1", "b2", "b3"]
    # and back into the store under test: b3 is new there, b1 and b2 merge
    (tmp_path / "all.jsonl").write_text(back)
    code, out, _ = run("history", "import", str(tmp_path / "all.jsonl"))
    assert "imported 1 build into" in out and "(2 already recorded)" in out
    code, out, err = run("history", "--json", REPO)
    assert [b["hit_ratio"] for b in json.loads(out)["builds"]] == [None, 0.75, 0.25]


def test_prune_keep_and_older_than(tmp_path: Path, store_url: str) -> None:
    paths = three_builds(tmp_path)
    assert run("history", "--json", "--refs", *map(str, paths))[0] == 0
    exported = tmp_path / "h.jsonl"
    assert run("history", "export", "-o", str(exported))[0] == 0
    # an old build of another repository, recorded 100 days ago
    lines = exported.read_text().splitlines()
    old = json.loads(lines[1]) | {"repository": "docker.io/team/old", "recorded_at": 1000.0}
    (tmp_path / "old.jsonl").write_text(lines[0] + "\n" + json.dumps(old) + "\n")
    assert run("history", "import", str(tmp_path / "old.jsonl"))[0] == 0
    code, out, err = run("history", "prune", "--older-than", "90d")
    assert (code, out.strip()) == (0, f"pruned 1 build from {_shown(store_url)}; 3 left"), err
    code, out, err = run("history", "prune", REPO, "--keep", "2")
    assert code == 0 and "pruned 1 build of" in out and "; 2 left" in out
    code, out, _ = run("history", "--json", REPO)
    assert [b["tag"] for b in json.loads(out)["builds"]] == ["b2", "b3"]
    assert run("history", "prune", "--keep", "0")[1].startswith("pruned 2 builds")
    assert run("history", REPO)[0] == 2  # nothing left


def _shown(url: str) -> str:
    from layerscope.store.location import parse_store_url

    return parse_store_url(url).shown


@pytest.mark.parametrize(
    "argv,message",
    [
        (["history", "prune"], "give --keep N or --older-than AGE"),
        (["history", "prune", "--keep", "-1"], "--keep must be 0 or more"),
        (["history", "prune", "--older-than", "soon"], "not a duration like 30d"),
        (["history", "prune", "--keep", "1", "--older-than", "9d"], "not allowed with"),
        (["history", "import"], "give the FILE to import"),
        (["history", "import", "/nonexistent/h.jsonl"], "cannot read /nonexistent/h.jsonl"),
        (["history", "export", "--refs", "x.tar"], "--refs does not apply"),
        (["history", "prune", "--keep", "1", "--html"], "--html does not apply"),
        (["history", "app", "--keep", "3"], "go with 'history prune'"),
        (["history", "export", "never/recorded"], "no builds of never/recorded"),
    ],
)
def test_store_upkeep_bad_usage_exits_2(argv: list[str], message: str) -> None:
    code, _, err = run(*argv)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "empty file"),
        ('{"format": "other"}\n', "not a layerscope history export"),
        ('{"format": "layerscope-history", "version": 9}\n', "version 9 is newer"),
        ('{"format": "layerscope-history", "version": 1}\n{"repository": 1}\n', "line 2: "),
        ('{"format": "layerscope-history", "version": 1}\nnot json\n', "line 2: not JSON"),
    ],
)
def test_import_refuses_what_is_not_an_export(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    code, _, err = run("history", "import", str(bad))
    assert code == 2 and message in err, err
