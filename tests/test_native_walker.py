"""The compiled walker (native/tarwalk.c) against its oracle, the pure-Python walker.

Every layer blob of the dive fixtures, the demo fixture, images written by the project's
builder in every format, and a set of edge-case tars written by Python's tarfile and GNU tar are
scanned both ways (as a memory view, as a stream, and as a stream that hands out odd-sized
pieces, so entries straddle every kind of window edge); the entries (compared by ``repr``, so an
int mtime never passes for a float), sizes, kept contents and errors must be identical.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xxhash

from layerscope.analysis.packages import PACKAGE_DATABASES
from layerscope.errors import LayerscopeError
from layerscope.layers import FileSpan, native, scan_layer, sniff_compression
from layerscope.layers import window as window_module
from layerscope.layers.window import MAP_BYTES
from layerscope.testing import FORMATS, write_image
from layerscope.testing.specs import chown_rewrite_spec, demo_spec

from .conftest import DIVE_FIXTURES

REPO = Path(__file__).resolve().parents[1]


class _Dribble(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._step if size is None or size < 0 else min(size, self._step)
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out


def _outcome(blob: Any, pure: bool) -> tuple[Any, ...]:
    try:
        scan = scan_layer(blob, keep=PACKAGE_DATABASES, want_diff_id=True, pure_python=pure)
    except LayerscopeError as exc:
        return ("error", type(exc).__name__, str(exc))
    return (
        [repr(e) for e in scan.entries],
        scan.size_bytes,
        scan.tar_size_bytes,
        scan.compression,
        scan.diff_id,
        scan.contents,
    )


@pytest.fixture
def native_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the entries the compiled walker appended (so no test passes without it)."""
    walk = native.NATIVE_WALK
    if walk is None:
        pytest.fail(
            "layerscope._tarwalk is not used: not built (no C compiler when `pip install -e .` "
            "ran?), LAYERSCOPE_PURE_PYTHON is set, or FileEntry's fields differ from the ones "
            "native/tarwalk.c sets (_tarwalk.FIELDS)"
        )
    counted = [0]

    def counting(*args: Any) -> tuple[int, int, int]:
        pos, added, count = walk(*args)
        counted[0] += count
        return pos, added, count

    monkeypatch.setattr(native, "NATIVE_WALK", counting)
    return counted


def _mapped_outcome(blob: bytes, pure: bool) -> tuple[Any, ...]:
    """The outcome of walking ``blob`` as a FileSpan of a file, at an offset that is not a
    page boundary (no diff_id: a FileSpan is walked without hashing)."""
    with tempfile.TemporaryFile() as handle:
        handle.write(b"x" * 5000 + blob)
        handle.flush()
        span = FileSpan(handle.fileno(), 5000, len(blob))
        try:
            scan = scan_layer(span, keep=PACKAGE_DATABASES, pure_python=pure)
        except LayerscopeError as exc:
            return ("error", type(exc).__name__, str(exc))
    return ([repr(e) for e in scan.entries], scan.size_bytes, scan.tar_size_bytes,
            scan.compression, None, scan.contents)  # fmt: skip


def _check(blob: bytes, name: str) -> bool:
    """Compare both walkers on one blob in three reading modes, and an uncompressed one mapped
    from a file in small windows too; True when it is a tar layer."""
    results = set()
    for make in (
        lambda: memoryview(blob),
        lambda: io.BytesIO(blob),
        lambda: _Dribble(blob, 3001),
        lambda: _Dribble(blob, 512 * 7 + 100),
    ):
        want = _outcome(make(), pure=True)
        got = _outcome(make(), pure=False)
        assert got == want, name
        results.add(want[0] == "error")
    if sniff_compression(blob[:8]) == "none":
        unhashed = want if want[0] == "error" else (*want[:4], None, want[5])
        for pure in (True, False):
            for window in (MAP_BYTES, 5000, 512 * 3 + 7):
                with pytest.MonkeyPatch.context() as patch:
                    patch.setattr(window_module, "MAP_BYTES", window)
                    assert _mapped_outcome(blob, pure) == unhashed, (name, pure, window)
    return results == {False}


def _member_blobs(archive: Path) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile():
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                yield f"{archive.name}:{member.name}", data


def _dir_blobs(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield str(path.relative_to(root)), path.read_bytes()


def _compare_all(blobs: Iterator[tuple[str, bytes]]) -> int:
    layers_seen = 0
    for name, data in blobs:
        if _check(data, name):
            layers_seen += 1
    return layers_seen


def test_dive_fixtures_and_demo_fixture(native_count: list[int]) -> None:
    archives = sorted(DIVE_FIXTURES.glob("*.tar")) + [REPO / "fixtures" / "demo" / "demo-app.tar"]
    assert len(archives) >= 11
    compressions = set()
    with_layers = 0
    for archive in archives:
        seen = 0
        for name, data in _member_blobs(archive):
            if _check(data, name):
                seen += 1
                compressions.add(sniff_compression(data[:8]))
        with_layers += seen > 0
    # (four of dive's fixture archives hold only a README: upstream keeps those images elsewhere)
    assert with_layers >= 7
    assert compressions == {"none", "gzip", "zstd"}
    assert native_count[0] > 1000


@pytest.mark.parametrize("fmt", FORMATS)
def test_builder_images_in_every_format(tmp_path: Path, fmt: str, native_count: list[int]) -> None:
    target = tmp_path / ("img" if fmt == "oci-dir" else "img.tar")
    write_image([demo_spec(), chown_rewrite_spec(files=30)], target, fmt)  # type: ignore[arg-type]
    blobs = _dir_blobs(target) if target.is_dir() else _member_blobs(target)
    assert _compare_all(blobs) >= 4
    assert native_count[0] > 100


def _info(name: str, kind: bytes = tarfile.REGTYPE, **kw: Any) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mtime = kw.pop("mtime", 1_700_000_000)
    for key, value in kw.items():
        setattr(info, key, value)
    return info


def _edge_members() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    big = bytes(range(256)) * 3000  # over the size at which the walker releases the GIL
    deep = "/".join(["d" * 60] * 4)  # ustar splits it into prefix + name
    return [
        (_info("./", tarfile.DIRTYPE), None),
        (_info("etc", tarfile.DIRTYPE, mode=0o755), None),
        (_info("etc/passwd", size=5), b"root\n"),
        (_info("./usr/bin/tool", size=len(big), mode=0o4755, uid=10, gid=20), big),
        (_info("usr//lib/./x.so", size=3), b"elf"),
        (_info("/abs/path", size=1), b"a"),
        (_info("usr/bin/tool-link", tarfile.LNKTYPE, linkname="./usr/bin/tool"), None),
        (_info("usr/bin/dangling-link", tarfile.LNKTYPE, linkname="/not/here"), None),
        (_info("bin/sh", tarfile.SYMTYPE, linkname="/usr/bin/tool", mode=0o777), None),
        (_info("bin/rel", tarfile.SYMTYPE, linkname="../usr/bin/tool"), None),
        (_info("bin/empty-link", tarfile.SYMTYPE, linkname=""), None),
        (_info(deep + "/file", size=2), b"hi"),
        (_info("a" * 130 + "/long", size=4), b"long"),
        (_info("x/../y", size=1), b"y"),
        (_info("etc/.wh.passwd", size=0), b""),
        (_info("opt/.wh..wh..opq", size=0), b""),
        (_info("stargz.index.json", size=2), b"{}"),
        (_info("var/lib/dpkg/status", size=9), b"Package:\n"),
        (_info("var/lib/dpkg/info/x.list", size=2), b"/x"),
        (_info("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3), None),
        (_info("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0), None),
        (_info("dev/wh", tarfile.CHRTYPE), None),
        (_info("run/fifo", tarfile.FIFOTYPE), None),
        (_info("etc/passwd", size=6, mode=0o600), b"root2\n"),
        (_info("empty", size=0), b""),
        (_info("trailing-dir/", tarfile.REGTYPE, size=0), b""),
        (_info("odd-mtime", size=1, mtime=2**33 + 5), b"o"),
        (_info("neg-mtime", size=1, mtime=-5), b"n"),
        (_info("big-uid", size=1, uid=2**22), b"u"),
        (_info("caf\udcc3\udca9-raw", size=1), b"r"),
        (_info("café", size=1), b"c"),
    ]


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_edge_case_tars(fmt: int, native_count: list[int]) -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt, encoding="utf-8") as tar:
        for info, data in _edge_members():
            try:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
            except ValueError:
                continue  # a field this format cannot hold (ustar: long names, big uid)
    blob = out.getvalue()
    assert _check(blob, f"edge-{fmt}")
    assert native_count[0] >= 8
    # a bad checksum in the middle: both walkers name the same offset
    corrupt = bytearray(blob)
    corrupt[512 * 3 + 10] ^= 0xFF
    _check(bytes(corrupt), f"corrupt-{fmt}")
    # truncated inside the big file's data
    _check(blob[: 512 * 6 + 1000], f"truncated-{fmt}")


def test_gnu_tar_with_sparse_and_long_names(tmp_path: Path, native_count: list[int]) -> None:
    gnu_tar = shutil.which("tar")
    assert gnu_tar is not None, "GNU tar is needed (apt-get install tar)"
    src = tmp_path / "src"
    (src / ("n" * 120)).mkdir(parents=True)
    (src / ("n" * 120) / "inside").write_bytes(b"x" * 70_000)
    with open(src / "sparse", "wb") as f:
        f.truncate(1 << 20)
        f.seek(300_000)
        f.write(b"data")
    (src / "hard").hardlink_to(src / ("n" * 120) / "inside")
    for fmt in ("gnu", "posix", "oldgnu"):
        blob = subprocess.run(
            [gnu_tar, "--sparse", f"--format={fmt}", "-C", str(src), "-cf", "-", "."],
            check=True,
            capture_output=True,
        ).stdout
        assert _check(blob, f"gnu-tar-{fmt}")
    assert native_count[0] >= 3


def test_hash_is_xxh3_64_as_the_xxhash_package_computes_it() -> None:
    from layerscope import _tarwalk  # type: ignore[attr-defined]

    for data in (b"", b"abc", bytes(range(256)) * 5000):
        assert _tarwalk.xxh3_hex(data) == xxhash.xxh3_64_hexdigest(data)
