"""A Debian bookworm base image for apt-based test builds, made with debootstrap.

``debootstrap --variant=minbase bookworm`` runs once per machine: its root filesystem is
trimmed as Debian's own images are (no apt lists, no downloaded .debs, no docs) and kept as a
tarball in the test cache directory (``$LAYERSCOPE_TEST_CACHE``, default
``~/.cache/layerscope-tests``), which survives between runs and clean clones. Each test session
``docker import``s the tarball into its private engine once (under a lock shared by the xdist
workers). Builds FROM it need ``--network host`` to reach Debian's mirror.

A missing debootstrap or an unreachable mirror fails the test loudly (scripts/test installs
debootstrap); nothing is skipped.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEBIAN_TAG = "layerscope-test/debian:bookworm"
MIRROR = "http://deb.debian.org/debian"
TARBALL = "debian-bookworm-minbase.tar"
TRIM = (
    "var/lib/apt/lists", "var/cache/apt/archives", "usr/share/doc", "usr/share/man",
    "usr/share/locale", "usr/share/info",
)  # fmt: skip
"""Directories emptied before the root filesystem is archived (Debian's images ship without
apt lists; the rest only costs copying time on the engine's vfs storage)."""


def test_cache_dir() -> Path:
    """The machine-wide cache of test inputs that are slow to make (created on demand)."""
    default = Path.home() / ".cache" / "layerscope-tests"
    path = Path(os.environ.get("LAYERSCOPE_TEST_CACHE") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


test_cache_dir.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _checked(argv: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{what}: {exc}", pytrace=False)
    if done.returncode != 0:
        pytest.fail(f"{what} exited {done.returncode}:\n{done.stderr[-3000:]}", pytrace=False)


def debian_tarball() -> Path:
    """The cached minbase tarball, made with debootstrap the first time (about a minute)."""
    cache = test_cache_dir()
    tarball = cache / TARBALL
    with open(cache / (TARBALL + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.is_file():
            return tarball
        debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
        if not Path(debootstrap).is_file():
            pytest.fail("debootstrap not found: apt-get install debootstrap (scripts/test does)")
        root = cache / f"debootstrap.{os.getpid()}"
        shutil.rmtree(root, ignore_errors=True)
        try:
            _checked(
                [debootstrap, "--variant=minbase", "bookworm", str(root), MIRROR],
                f"debootstrap bookworm from {MIRROR}",
                900,
            )
            for rel in TRIM:
                target = root / rel
                if target.is_dir():
                    for child in target.iterdir():
                        if child.is_dir() and not child.is_symlink():
                            shutil.rmtree(child)
                        elif child.name != "lock":
                            child.unlink()
            partial = cache / (TARBALL + f".{os.getpid()}.part")
            _checked(
                ["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."],
                "tar of the debootstrap root",
                600,
            )
            partial.rename(tarball)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return tarball


def import_debian(docker_cli: str, shared_dir: Path) -> str:
    """``docker import`` the tarball as DEBIAN_TAG once per session; returns the tag."""
    with open(shared_dir / "debian.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = shared_dir / "debian.imported"
        if not marker.exists():
            tarball = debian_tarball()
            _checked(
                [docker_cli, "import", "--change", 'CMD ["bash"]', str(tarball), DEBIAN_TAG],
                "docker import of the Debian base",
                600,
            )
            marker.write_text(DEBIAN_TAG)
    return DEBIAN_TAG
