"""Small analysed images for the TUI tests (built with the project's image builder)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from layerscope.analysis import Analysis, analyze
from layerscope.analysis.diff import ImageDiff, diff_images
from layerscope.sources import load_image
from layerscope.testing import Dir, Entry, File, ImageSpec, LayerSpec, Whiteout, write_image

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo" / "demo-app.tar"


def small_spec() -> ImageSpec:
    """Three layers whose every file size is chosen so the expected rows are easy to work out.

    Layer 0 (base): /etc/a.conf 100 B, /usr/bin/tool 5000 B, /usr/lib/libx.so 3000 B,
    /usr/lib/liby.so 2000 B, /var/tmp/junk 700 B.
    Layer 1: libx.so rewritten with 3500 B (content change), a.conf same bytes with mode 0600
    (metadata only), /var/tmp/junk deleted, /opt/big.bin 9000 B added.
    Layer 2: /opt/small.txt 10 B added.
    """
    base: list[Entry] = [
        Dir("/etc"),
        File("/etc/a.conf", b"a" * 100),
        Dir("/usr"),
        Dir("/usr/bin"),
        File("/usr/bin/tool", b"t" * 5000, mode=0o755),
        Dir("/usr/lib"),
        File("/usr/lib/libx.so", b"x" * 3000),
        File("/usr/lib/liby.so", b"y" * 2000),
        Dir("/var"),
        Dir("/var/tmp"),
        File("/var/tmp/junk", b"j" * 700),
    ]
    second: list[Entry] = [
        Dir("/etc"),
        File("/etc/a.conf", b"a" * 100, mode=0o600),
        Dir("/opt"),
        File("/opt/big.bin", b"B" * 9000),
        Dir("/usr"),
        Dir("/usr/lib"),
        File("/usr/lib/libx.so", b"X" * 3500),
        Whiteout("/var/tmp/junk"),
    ]
    third: list[Entry] = [Dir("/opt"), File("/opt/small.txt", b"s" * 10)]
    return ImageSpec(
        layers=[
            LayerSpec(base, created_by="/bin/sh -c #(nop) ADD file:0123456789abcdef in / "),
            LayerSpec(second, created_by="/bin/sh -c ./update.sh && rm /var/tmp/junk"),
            LayerSpec(third, created_by="/bin/sh -c #(nop) COPY file:fedcba9876543210 in /opt "),
        ],
        repo_tags=["example.com/small:1"],
    )


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tui-images") / "small.tar"
    write_image(small_spec(), path, format="docker-25")
    return path


@pytest.fixture(scope="session")
def small(small_archive: Path) -> Analysis:
    return analyze(load_image(str(small_archive)))


@pytest.fixture(scope="session")
def demo() -> Analysis:
    if not DEMO.is_file():
        pytest.fail("fixtures/demo/demo-app.tar is missing (fixtures/build_fixtures.py builds it)")
    return analyze(load_image(str(DEMO)))


def small_v2_spec() -> ImageSpec:
    """A rebuild of small_spec: layers 0-1 unchanged (shared), layer 2 (same COPY) now writes
    /opt/small.txt with 25 B (was 10 B) and adds /opt/new.txt 40 B, and a new layer 3 adds
    /usr/bin/extra 300 B and rewrites /etc/a.conf with the same bytes and mode but mtime 1000
    (timestamp only). The config gains Env A=1.
    """
    old = small_spec()
    third: list[Entry] = [
        Dir("/opt"),
        File("/opt/small.txt", b"S" * 25),
        File("/opt/new.txt", b"n" * 40),
    ]
    fourth: list[Entry] = [
        Dir("/etc"),
        File("/etc/a.conf", b"a" * 100, mode=0o600, mtime=1000),
        Dir("/usr"),
        Dir("/usr/bin"),
        File("/usr/bin/extra", b"e" * 300, mode=0o755),
    ]
    return ImageSpec(
        layers=[
            *old.layers[:2],
            LayerSpec(third, created_by=old.layers[2].created_by),
            LayerSpec(fourth, created_by="/bin/sh -c touch /etc/a.conf && make extra"),
        ],
        config={"Env": ["A=1"]},
        repo_tags=["example.com/small:2"],
    )


@pytest.fixture(scope="session")
def small_diff(tmp_path_factory: pytest.TempPathFactory, small_archive: Path) -> ImageDiff:
    """small.tar -> small-v2.tar, both under fixed refs (for stable snapshots)."""
    path = tmp_path_factory.mktemp("tui-images") / "small-v2.tar"
    write_image(small_v2_spec(), path, format="docker-25")
    old = dataclasses.replace(load_image(str(small_archive)), ref="small.tar")
    new = dataclasses.replace(load_image(str(path)), ref="small-v2.tar")
    return diff_images(old, new)
