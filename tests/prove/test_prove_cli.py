"""``layerscope suggest IMAGE --dockerfile F --prove`` against the real engine: the ML shape
(estimated vs measured bytes, the cache experiment, a final patch that builds, the JSON), a
patch that breaks a build (the classic builder has no ``COPY --chmod``), and the errors."""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path

import pytest

from layerscope import cli
from layerscope.tui.formatting import short_size
from tests.prove.corpus import APK, BBX, CHMOD, ML, Case, pseudo_random, write_context
from tests.prove.kit import apply_patch, must_build, size_of
from tests.tui.tmuxkit import tmux_session


def _layerscope(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _scratch_left(cache: Path) -> list[Path]:
    return sorted(cache.glob("prove-*")) if cache.is_dir() else []


def _prove_images(docker_cli: str) -> list[str]:
    from tests.integration.conftest import run

    out = run([docker_cli, "images", "--format", "{{.Repository}}:{{.Tag}}"])
    return [line for line in out.splitlines() if line.startswith("layerscope-prove/")]


@pytest.mark.docker
def test_prove_on_the_ml_shape(
    docker_cli: str, corpus_bases: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = write_context(ML, tmp_path / "ctx")
    before = {p.relative_to(ctx): p.read_bytes() for p in ctx.rglob("*") if p.is_file()}
    tag = f"layerscope-test/prove-ml-{uuid.uuid4().hex[:8]}:naive"
    must_build(docker_cli, ctx, tag, builder="buildkit", network="host")
    monkeypatch.chdir(ctx)
    monkeypatch.setenv("LAYERSCOPE_DOCKER_CLI", docker_cli)
    monkeypatch.setenv("LAYERSCOPE_DATA_DIR", str(tmp_path / "data"))
    base = ["suggest", f"docker://{tag}", "--dockerfile", "Dockerfile", "--prove",
            "--network", "host", "--builder", "buildkit"]  # fmt: skip
    code, text, err = _layerscope([*base, "--output", str(tmp_path / "proof.json"), "--json"])
    assert code == 0, err
    assert "building original" in err  # progress on stderr
    doc = json.loads((tmp_path / "proof.json").read_text())
    proof = doc["proof"]
    # nothing written in the user's context, no scratch copy left, no image left behind
    after = {p.relative_to(ctx): p.read_bytes() for p in ctx.rglob("*") if p.is_file()}
    assert after == before
    assert _scratch_left(Path(os.environ["LAYERSCOPE_CACHE_DIR"])) == []
    assert proof["images_removed"] and not set(proof["images_removed"]) & set(
        _prove_images(docker_cli)
    )

    assert proof["builder"] == "buildkit"
    assert proof["patch_builds"] is True
    # the original's size is the engine's own figure for the image built the same way
    assert proof["original_bytes"] == size_of(docker_cli, tag)
    assert proof["measured_saving_bytes"] == proof["original_bytes"] - proof["patched_bytes"]
    assert proof["estimated_saving_bytes"] > 0
    assert abs(proof["measured_saving_bytes"] - proof["estimated_saving_bytes"]) <= (
        0.10 * proof["estimated_saving_bytes"]
    )
    ids = {s["id"] for s in doc["suggestions"]}
    assert set(proof["applied"]) <= ids
    assert {s["id"] for s in proof["suggestions"]} >= set(proof["applied"])

    cache = proof["cache_experiment"]
    assert cache["touched"] in {"model/net.py", "serve.py", "train.py", "model/__init__.py"}
    original, patched = cache["original"], cache["patched"]
    # the naive order re-runs the pip install after a source edit; the patched one does not
    assert any("pip install" in s for s in original["steps_run"]), cache
    assert not any("pip install" in s for s in patched["steps_run"]), patched
    assert patched["steps_hit"] > original["steps_hit"] - 1
    assert patched["bytes_rebuilt"] < original["bytes_rebuilt"]
    for run_doc in (original, patched):
        assert 0 < run_doc["layers_rebuilt"] <= run_doc["layers"]
        assert run_doc["steps_hit"] + len(run_doc["steps_run"]) == run_doc["steps"]

    # each suggestion alone (--prove=each) is measured by benchmarks/bench_prove.py, not here:
    # on the vfs engine of the suite its nine extra Debian builds cost minutes and gigabytes

    # the final patch builds, checked independently: apply it with GNU patch and build it
    check = write_context(ML, tmp_path / "check")
    apply_patch(check, proof["patch"])
    must_build(docker_cli, check, f"{tag}-check", builder="classic", network="host")

    # text (the proof kept in the data directory, shown by inspect without building again):
    # estimated vs measured, the cache experiment, ends with the patch that builds
    code, text, err = _layerscope(["inspect", f"docker://{tag}", "--dockerfile", "Dockerfile",
                                   "--text"])  # fmt: skip
    assert code == 0, err
    proof_text = text[text.index("Proof (an earlier run, ") :]
    assert "measured" in proof_text and "estimated" in proof_text
    assert "cache experiment: appended a line to" in proof_text
    assert "builds with buildkit" in proof_text
    assert proof_text.rstrip("\n").endswith(proof["patch"].rstrip("\n").splitlines()[-1])


STAMP = Case(
    name="stamp",
    base=BBX,
    dockerfile=f"""\
FROM {BBX}
WORKDIR /app
COPY . /app
RUN sh stamp.sh
RUN dd if=/dev/zero of=/tmp/big.bin bs=1024 count=1024 2>/dev/null
RUN rm /tmp/big.bin
CMD ["cat", "/app/VERSION"]
""",
    files={
        "stamp.sh": b"cat .git/HEAD > /app/VERSION\n",
        ".git/HEAD": b"ref: refs/heads/main\n",
        ".git/objects/pack/pack-1.pack": pseudo_random(400 * 1024, "stamp-git"),
    },
    touch="stamp.sh",
    dependency_step="stamp.sh",
)
"""A build that reads .git through a script: the .dockerignore entry for .git breaks it, and
nothing in the Dockerfile says so."""


@pytest.mark.docker
def test_a_suggestion_that_breaks_the_build_is_dropped(
    docker_cli: str, corpus_bases: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prove names the failing step and the suggestion, shows the log's tail, drops it, and
    ends with a patch that builds (and still holds the other suggestions)."""
    ctx = write_context(STAMP, tmp_path / "ctx")
    tag = f"layerscope-test/prove-stamp-{uuid.uuid4().hex[:8]}:naive"
    must_build(docker_cli, ctx, tag, builder="buildkit", network="none")
    monkeypatch.chdir(ctx)
    monkeypatch.setenv("LAYERSCOPE_DOCKER_CLI", docker_cli)
    monkeypatch.setenv("LAYERSCOPE_DATA_DIR", str(tmp_path / "data"))  # where tmux looks
    argv = ["suggest", f"docker://{tag}", "--dockerfile", "Dockerfile", "--prove"]
    code, out, err = _layerscope(
        [*argv, "--builder", "buildkit", "--network", "none", "--json", "--quiet"]
    )
    assert code == 0, err
    doc = json.loads(out)
    proof = doc["proof"]
    ignore_ids = {s["id"] for s in doc["suggestions"] if s["kind"] == "dockerignore"}
    assert proof["patch_builds"] is True
    assert [d["id"] for d in proof["dropped"]] == sorted(ignore_ids)
    # the report's patch is the one that built; the dropped one is left out as a build failure
    assert doc["patch"] == proof["patch"] and doc["patch_applies"] == proof["applied"]
    failed = [x for x in doc["left_out"] if x["reason"] == "build_failed"]
    assert [x["id"] for x in failed] == sorted(ignore_ids), doc["left_out"]
    dropped = proof["dropped"][0]
    assert "stamp.sh" in dropped["step"]
    assert any(".git/HEAD" in line for line in dropped["log_tail"]), dropped["log_tail"]
    assert dropped["id"] not in proof["applied"]
    assert proof["applied"], "the other suggestions stay in the patch"
    by_id = {s["id"]: s for s in doc["suggestions"]}
    assert by_id[dropped["id"]]["measured_note"] == dropped["reason"]
    assert ".dockerignore" not in (proof["patch"] or "")
    check = write_context(STAMP, tmp_path / "check")
    apply_patch(check, proof["patch"])
    must_build(docker_cli, check, f"{tag}-check", builder="classic", network="none")

    # the kept proof in a real 80x24 terminal: inspect --dockerfile (no --prove) shows the
    # measured saving of the patch that built, equal to the engine's sizes of the naive image
    # and of the final patch built independently the same way (BuildKit)
    must_build(docker_cli, check, f"{tag}-bk", builder="buildkit", network="none")
    independent = size_of(docker_cli, tag) - size_of(docker_cli, f"{tag}-bk")
    assert independent == proof["measured_saving_bytes"] > 0
    argv = ["inspect", f"docker://{tag}", "--dockerfile", str(ctx / "Dockerfile")]
    with tmux_session(argv, tmp_path, width=80, height=24) as tui:
        shown = tui.wait_text(f"· {short_size(independent)} measured")
        assert "earlier proof" in shown, shown
        # the suggestion the build dropped: "failed" in the Built column of its row
        tui.wait_for(
            lambda screen: any("dockerignore" in line and "failed" in line
                               for line in screen.splitlines()),
            "the dropped .dockerignore suggestion marked failed",
        )  # fmt: skip
        # p writes the patch that built, its paths named from where inspect runs
        tui.keys("s")
        tui.wait_text("Suggest   ")  # the pane has the focus: its details show
        tui.keys("p")
        tui.wait_text("Combined patch written")
        tui.keys("q")
        assert tui.exit_code() == 0
    written = (ctx / "Dockerfile.layerscope.patch").read_text()
    assert "+++ b/ctx/Dockerfile" in written and ".dockerignore" not in written, written


DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


def test_prove_without_an_engine_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = write_context(CHMOD, tmp_path / "ctx")
    monkeypatch.chdir(ctx)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    argv = ["suggest", str(DEMO / "demo-app.tar"), "--dockerfile", str(ctx / "Dockerfile")]
    code, out, err = _layerscope([*argv, "--prove", "--builder", "classic"])
    assert code == 3, err
    assert len(err.strip().splitlines()) == 1 and "Docker engine" in err, err
    assert _scratch_left(Path(os.environ["LAYERSCOPE_CACHE_DIR"])) == []


def test_prove_bad_input_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = write_context(CHMOD, tmp_path / "ctx")
    monkeypatch.chdir(ctx)
    image = str(DEMO / "demo-app.tar")
    code, _, err = _layerscope(["suggest", image, "--prove"])
    assert code == 2 and "--dockerfile" in err, err
    argv = ["suggest", image, "--dockerfile", str(ctx / "Dockerfile"), "--prove"]
    code, _, err = _layerscope([*argv, "--touch", "missing.txt"])
    assert code == 2 and "missing.txt" in err and len(err.strip().splitlines()) == 1, err
    code, _, err = _layerscope([*argv, "--builder", "kaniko"])
    assert code == 2 and "kaniko" in err, err


@pytest.mark.docker
def test_prove_with_buildah(
    docker_host: str, corpus_bases: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Daemonless: buildah builds both Dockerfiles (its base copied from the engine by skopeo)."""
    from tests.integration.conftest import run

    run(["skopeo", "copy", "-q", "--src-daemon-host", docker_host, f"docker-daemon:{APK.base}",
         f"containers-storage:docker.io/{APK.base}"])  # fmt: skip
    ctx = write_context(APK, tmp_path / "ctx")
    tag = f"localhost/layerscope-test/prove-buildah-{uuid.uuid4().hex[:8]}:naive"
    run(["buildah", "bud", "--layers", "-q", "--network", "none", "-t", tag, str(ctx)])
    try:
        # scripts/test's DOCKER_CONFIG has no config.json, which buildah push would read
        run(["env", "-u", "DOCKER_CONFIG", "buildah", "push", "-q", tag,
             f"docker-archive:{tmp_path / 'naive.tar'}"])  # fmt: skip
    finally:
        run(["buildah", "rmi", "-f", tag])
    monkeypatch.chdir(ctx)
    argv = ["suggest", str(tmp_path / "naive.tar"), "--dockerfile", "Dockerfile", "--prove"]
    code, out, err = _layerscope([*argv, "--builder", "buildah", "--network", "none", "--json",
                                  "--quiet"])  # fmt: skip
    assert code == 0, err
    proof = json.loads(out)["proof"]
    assert proof["builder"] == "buildah" and proof["patch_builds"] is True
    estimate, measured = proof["estimated_saving_bytes"], proof["measured_saving_bytes"]
    assert estimate > 0 and abs(measured - estimate) <= 0.10 * estimate, (measured, estimate)
    patched = proof["cache_experiment"]["patched"]
    assert not any("apk add" in s for s in patched["steps_run"]), patched
    assert patched["steps_run"], patched  # the edited file's COPY ran again
    left = run(["buildah", "images", "--format", "{{.Name}}:{{.Tag}}"]).split()
    assert proof["images_removed"]
    assert not [n for n in left if n.removeprefix("localhost/") in proof["images_removed"]]
