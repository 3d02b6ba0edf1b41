"""The Docker engine source against the real engine that ``scripts/test`` starts.

The oracle for every comparison is the engine itself: the image's ``docker save`` archive (read
by the archive parser), the engine's image ID and its inspect document.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from layerscope.errors import DaemonUnavailableError, NotFoundError
from layerscope.model import Image, Platform, SourceKind
from layerscope.refs import parse_ref
from layerscope.sources import daemon, load_image
from layerscope.sources.context import LoadContext

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
ABSENT = "layerscope-test/absent:1"
NO_ENGINE = "unix:///nonexistent.sock"


def assert_same_as_save(got: Image, want: Image) -> None:
    """Every field an engine export and its ``docker save`` archive share."""
    assert got.image_id == want.image_id
    assert got.diff_ids == want.diff_ids
    for index, (g, w) in enumerate(zip(got.layers, want.layers, strict=True)):
        assert g.entries == w.entries, f"entries of layer {index} differ"
        assert (g.digest, g.size_bytes, g.tar_size_bytes, g.compressed_size_bytes) == (
            w.digest,
            w.size_bytes,
            w.tar_size_bytes,
            w.compressed_size_bytes,
        ), f"layer {index}"
        assert g.history == w.history, f"history of layer {index} differs"
    assert got.history == want.history
    assert got.config == want.config
    assert got.platform == want.platform
    assert got.created == want.created


def saved(built: Any) -> Image:
    return load_image(built.exports["docker-save"])


def cache_files() -> list[Path]:
    root = Path(os.environ["LAYERSCOPE_CACHE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("scheme", ["docker", "daemon"])
def test_load_by_name_equals_docker_save(app_image: Any, scheme: str) -> None:
    ref = parse_ref(f"{scheme}://{app_image.tag}")
    assert ref.kind is SourceKind.DAEMON
    image = daemon.load(ref)
    assert_same_as_save(image, saved(app_image))
    assert image.image_id == app_image.image_id  # the engine's own ID
    assert image.source == "daemon"
    assert image.ref == f"{scheme}://{app_image.tag}"
    assert image.repo_tags == (app_image.tag,)


def test_load_by_image_id(app_image: Any) -> None:
    ref = parse_ref(app_image.image_id)
    assert (ref.kind, ref.location) == (SourceKind.DAEMON, app_image.image_id)
    image = daemon.load(ref)
    assert_same_as_save(image, saved(app_image))
    assert image.image_id == app_image.image_id
    # An export by ID names no tag; the tags come from the engine's inspect (other tests may
    # add tags to this image, so only its own tag is certain).
    assert app_image.tag in image.repo_tags


def test_diff_ids_are_the_engines(buildkit_image: Any, docker_client: Any) -> None:
    image = daemon.load(parse_ref(f"docker://{buildkit_image.tag}"))
    inspect = docker_client.api.inspect_image(buildkit_image.tag)
    assert list(image.diff_ids) == inspect["RootFS"]["Layers"]
    assert str(image.platform) == f"{inspect['Os']}/{inspect['Architecture']}"


def test_has_image(buildkit_image: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert daemon.has_image(parse_ref(buildkit_image.tag).location) is True
    assert daemon.has_image(buildkit_image.image_id) is True
    assert daemon.has_image(parse_ref(ABSENT).location) is False
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    assert daemon.has_image(parse_ref(buildkit_image.tag).location) is None


def test_missing_image_is_not_found(docker_host: str) -> None:
    with pytest.raises(NotFoundError) as info:
        daemon.load(parse_ref(f"docker://{ABSENT}"))
    assert info.value.exit_code == 2
    assert "\n" not in info.value.message
    assert ABSENT in info.value.message
    assert cache_files() == []


def test_unreachable_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    with pytest.raises(DaemonUnavailableError) as info:
        daemon.load(parse_ref("docker://layerscope-test/app:1"))
    assert info.value.exit_code == 3
    assert info.value.message == (
        f"cannot reach the Docker engine at {NO_ENGINE} (no such socket): is it running? "
        "(set DOCKER_HOST)"
    )


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_cli_unreachable_engine_exits_3() -> None:
    done = cli("inspect", "docker://x", "--json", env=dict(os.environ, DOCKER_HOST=NO_ENGINE))
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"cannot reach the Docker engine at {NO_ENGINE}" in lines[0]


def test_cli_missing_image_exits_2(docker_host: str) -> None:
    done = cli("inspect", f"docker://{ABSENT}", "--json", env=dict(os.environ))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"has no image {ABSENT}" in lines[0]


class Recorder:
    """A Progress that records stages and the bytes advanced in each."""

    def __init__(self, stop_at: str | None = None) -> None:
        self.stages: list[tuple[str, int | None, int]] = []
        self.stop_at = stop_at

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        self.stages.append((text, total_bytes, 0))

    def advance(self, done_bytes: int) -> None:
        text, total, done = self.stages[-1]
        self.stages[-1] = (text, total, done + done_bytes)
        if self.stop_at is not None and text.startswith(self.stop_at):
            raise KeyboardInterrupt


def test_progress_counts_the_export(buildkit_image: Any, docker_client: Any) -> None:
    progress = Recorder()
    daemon.load(parse_ref(f"docker://{buildkit_image.tag}"), LoadContext(progress=progress))
    text, total, done = progress.stages[0]
    assert text.startswith("exporting docker://")
    assert total == docker_client.api.inspect_image(buildkit_image.tag)["Size"]
    # The engine's export by name is byte for byte what `docker save` wrote.
    archive = Path(buildkit_image.exports["docker-save"].removeprefix("docker-archive:"))
    assert done == archive.stat().st_size
    assert cache_files() == []


@pytest.mark.parametrize("stop_at", ["exporting", "layer"])
def test_interrupt_removes_the_spool_file(buildkit_image: Any, stop_at: str) -> None:
    with pytest.raises(KeyboardInterrupt):
        daemon.load(
            parse_ref(f"docker://{buildkit_image.tag}"), LoadContext(progress=Recorder(stop_at))
        )
    spool = Path(os.environ["LAYERSCOPE_CACHE_DIR"]) / "spool"
    assert spool.is_dir()  # it was used...
    assert cache_files() == []  # ...and left empty


def test_wrong_platform_is_not_found(buildkit_image: Any) -> None:
    with pytest.raises(NotFoundError) as info:
        daemon.load(
            parse_ref(f"docker://{buildkit_image.tag}"),
            LoadContext(platform=Platform("linux", "s390x")),
        )
    assert "linux/s390x" in info.value.message
    assert "/spool/" not in info.value.message
    assert cache_files() == []


def test_api_version_is_negotiated(docker_client: Any) -> None:
    """The client speaks the engine's own API version (1.41 for Debian's 20.10 engine)."""
    engine = docker_client.version()
    client = daemon.connect()
    try:
        assert client.api.api_version == engine["ApiVersion"]
    finally:
        client.close()
