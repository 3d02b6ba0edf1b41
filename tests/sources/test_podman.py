"""The Podman source (``podman://NAME[:TAG]``) against a real podman.

podman runs rootful with vfs storage of its own under a temporary folder
(``CONTAINERS_STORAGE_CONF``, ``CONTAINERS_CONF``), and through a shim on PATH that gives each
podman call a private /var/lib (root's podman keeps a blob-info cache in
/var/lib/containers/cache whatever the storage says), so the machine's podman state is never
touched. The image is built by podman ``FROM scratch`` with Debian's static busybox; what
layerscope reads is compared with what podman itself reports (``podman image inspect``) and
with the files the build copied.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from layerscope.errors import BadReferenceError, NotFoundError, SourceUnavailableError
from layerscope.model import FileEntry, Image
from layerscope.sources import load_image, parse_ref
from layerscope.sources.podman import KIND

BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static
TAG = "layerscope-test/podman-app:1"
NOTE = b"written by tests/sources/test_podman.py\n"
SHIM = """#!/bin/sh
# podman with a private /var/lib: its blob-info cache stays out of the machine's.
exec unshare --mount --propagation private sh -c \
    'mount -t tmpfs tmpfs /var/lib && exec "$0" "$@"' {podman} "$@"
"""


@dataclass(frozen=True)
class Podman:
    env: dict[str, str]
    """The environment that points podman at the test's own storage (and the shim)."""
    inspect: dict[str, Any]
    """``podman image inspect`` of the built image."""

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", *args], capture_output=True, text=True, env=self.env, check=check,
            timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    real = shutil.which("podman")
    if real is None or shutil.which("unshare") is None:
        pytest.fail("podman (and util-linux's unshare) must be installed: run scripts/test")
    if not BUSYBOX.is_file():
        pytest.fail(f"{BUSYBOX} is missing: apt-get install busybox-static")
    base = tmp_path_factory.mktemp("podman")
    (base / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{base / "root"}"\nrunroot = "{base / "run"}"\n'
    )
    (base / "containers.conf").write_text(
        f'[engine]\ntmp_dir = "{base / "tmp"}"\nevents_logger = "none"\n'
    )
    shim = base / "bin" / "podman"
    shim.parent.mkdir()
    shim.write_text(SHIM.format(podman=real))
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "CONTAINERS_STORAGE_CONF": str(base / "storage.conf"),
        "CONTAINERS_CONF": str(base / "containers.conf"),
    }
    context = base / "context"
    context.mkdir()
    shutil.copy2(BUSYBOX, context / "busybox")
    (context / "note.txt").write_bytes(NOTE)
    (context / "Containerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY note.txt /etc/note.txt\n"
    )
    made = Podman(env, {})
    made.run("build", "--network", "none", "-t", TAG, "-f", str(context / "Containerfile"),
             str(context))  # fmt: skip
    info = json.loads(made.run("image", "inspect", "--format", "json", TAG).stdout)[0]
    return Podman(env, info)


@pytest.fixture(autouse=True)
def _podman_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Loads in this process see the test's podman (tests that ask for the fixture)."""
    if "podman" in request.fixturenames:
        env: dict[str, str] = request.getfixturevalue("podman").env
        for key in ("PATH", "CONTAINERS_STORAGE_CONF", "CONTAINERS_CONF"):
            monkeypatch.setenv(key, env[key])
    yield


def _files(image: Image) -> dict[str, FileEntry]:
    return {entry.path: entry for layer in image.layers for entry in layer.entries}


def test_loads_what_podman_reports(podman: Podman) -> None:
    image = load_image(f"podman://{TAG}")
    info = podman.inspect
    assert image.source == KIND == "podman"
    assert image.ref == f"podman://{TAG}"
    assert list(image.diff_ids) == info["RootFS"]["Layers"]
    assert image.image_id == "sha256:" + info["Id"]
    assert list(image.repo_tags) == info["RepoTags"] == [f"localhost/{TAG}"]
    assert str(image.platform) == f"{info['Os']}/{info['Architecture']}"
    assert [layer.created_by for layer in image.layers] == [
        h["created_by"] for h in info["History"] if not h.get("empty_layer")
    ]
    files = _files(image)
    assert files["/bin/busybox"].size_bytes == BUSYBOX.stat().st_size
    assert files["/etc/note.txt"].size_bytes == len(NOTE)
    # the files the two COPYs wrote, and nothing else
    assert image.size_bytes == BUSYBOX.stat().st_size + len(NOTE)


def test_by_image_id_names_the_tags_podman_knows(podman: Podman) -> None:
    image = load_image(f"podman://{podman.inspect['Id']}")
    assert list(image.diff_ids) == podman.inspect["RootFS"]["Layers"]
    assert list(image.repo_tags) == podman.inspect["RepoTags"]


def test_missing_image_is_not_found(podman: Podman) -> None:
    with pytest.raises(NotFoundError) as info:
        load_image("podman://layerscope-test/absent:1")
    assert info.value.message == (
        "podman has no image layerscope-test/absent:1 (podman://layerscope-test/absent:1)"
    )


def test_reference_grammar() -> None:
    ref = parse_ref("podman://app:1")
    assert (ref.kind, ref.location, ref.selector) == (KIND, "app:1", None)
    assert parse_ref("PODMAN://" + "a" * 64).location == "sha256:" + "a" * 64
    with pytest.raises(BadReferenceError) as info:
        parse_ref("podman://App")
    assert info.value.message.startswith("podman://App: invalid image name")


def _cli(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args], capture_output=True, text=True,
        env={**env, "LAYERSCOPE_CACHE_DIR": str(tmp_path / "cache"),
             "LAYERSCOPE_DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_cli_inspect_json(podman: Podman, tmp_path: Path) -> None:
    done = _cli(podman.env, tmp_path, "inspect", f"podman://{TAG}", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["image"]["source"] == "podman"
    assert [layer["diff_id"] for layer in doc["layers"]] == podman.inspect["RootFS"]["Layers"]
    assert not list((tmp_path / "cache").rglob("*.tar")), "the spooled save is removed"


def test_cli_missing_image_is_one_line_exit_2(podman: Podman, tmp_path: Path) -> None:
    done = _cli(podman.env, tmp_path, "inspect", "podman://layerscope-test/absent:1", "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "podman has no image layerscope-test/absent:1" in lines[0], lines


def test_cli_without_podman_is_one_line_exit_3(tmp_path: Path) -> None:
    bare = tmp_path / "empty-bin"
    bare.mkdir()
    env = {**os.environ, "PATH": str(bare)}
    done = _cli(env, tmp_path, "inspect", f"podman://{TAG}", "--json")
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert lines == ["layerscope: error: podman is not installed (apt-get install podman)"]


def test_broken_storage_is_unavailable(podman: Podman, tmp_path: Path) -> None:
    """A podman that cannot open its store: exit 3, podman's reason on one line."""
    conf = tmp_path / "storage.conf"
    root, run = tmp_path / "root", tmp_path / "run"
    conf.write_text(
        f'[storage]\ndriver = "no-such-driver"\ngraphroot = "{root}"\nrunroot = "{run}"\n'
    )
    env = {**podman.env, "CONTAINERS_STORAGE_CONF": str(conf)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONTAINERS_STORAGE_CONF", str(conf))
        with pytest.raises(SourceUnavailableError) as info:
            load_image(f"podman://{TAG}")
    assert info.value.exit_code == 3
    assert "\n" not in info.value.message
    done = _cli(env, tmp_path, "inspect", f"podman://{TAG}", "--json")
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
