"""The layer reader against tars written by independent writers (Python's tarfile, GNU tar)."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import xxhash
import zstandard

from layerscope.errors import LayerFormatError, UnsafePathError
from layerscope.layers import scan_layer, sniff_compression
from layerscope.model import EntryKind, KeptFiles


def _tar(
    members: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def _file(
    name: str,
    data: bytes,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    mtime: int = 1_700_000_000,
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.uid, info.gid, info.mtime = uid, gid, mtime
    return info, data


def _special(
    name: str, kind: bytes, link: str = "", mode: int = 0o755
) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    return info, None


def _both(blob: bytes) -> list:
    """Scan as a stream and as a memoryview; the results must agree."""
    as_stream = scan_layer(io.BytesIO(blob), want_diff_id=True, want_digest=True)
    as_view = scan_layer(memoryview(blob), want_diff_id=True, want_digest=True)
    assert as_stream.entries == as_view.entries
    assert as_stream.size_bytes == as_view.size_bytes
    return [as_stream, as_view]


BASIC = [
    _special("etc/", tarfile.DIRTYPE),
    _file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
    _file("./usr/bin/tool", b"\x7fELF" + bytes(5000), mode=0o4755, uid=10, gid=20),
    _special("usr/bin/tool-link", tarfile.LNKTYPE, "usr/bin/tool"),
    _special("bin/sh", tarfile.SYMTYPE, "/usr/bin/tool", mode=0o777),
    _file("a" * 120 + "/long-name-file", b"long"),
]


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_entries_match_tarfile(fmt: int) -> None:
    members = BASIC if fmt != tarfile.USTAR_FORMAT else BASIC[:5]
    blob = _tar(members, fmt)
    scan = _both(blob)[0]
    by_path = {e.path: e for e in scan.entries}
    assert set(by_path) == {
        "/etc",
        "/etc/passwd",
        "/usr/bin/tool",
        "/usr/bin/tool-link",
        "/bin/sh",
        *(["/" + "a" * 120 + "/long-name-file"] if fmt != tarfile.USTAR_FORMAT else []),
    }
    tool = by_path["/usr/bin/tool"]
    assert (tool.kind, tool.size_bytes, tool.mode, tool.uid, tool.gid, tool.mtime) == (
        EntryKind.FILE,
        5004,
        0o4755,
        10,
        20,
        1_700_000_000,
    )
    assert tool.content_hash == xxhash.xxh3_64_hexdigest(b"\x7fELF" + bytes(5000))
    link = by_path["/usr/bin/tool-link"]
    assert (link.kind, link.size_bytes, link.link_target) == (
        EntryKind.HARDLINK,
        0,
        "/usr/bin/tool",
    )
    assert link.content_hash == tool.content_hash  # a hardlink is the same content, counted once
    assert by_path["/bin/sh"].link_target == "/usr/bin/tool"
    assert by_path["/etc"].kind is EntryKind.DIR
    # layer size = the regular files' bytes (hardlinks are 0): 26 + 5004 (+ 4 for the long name)
    assert scan.size_bytes == 26 + 5004 + (4 if fmt != tarfile.USTAR_FORMAT else 0)
    assert scan.diff_id == "sha256:" + hashlib.sha256(blob).hexdigest()


@pytest.mark.parametrize(
    "compress,kind",
    [
        (lambda b: gzip.compress(b[:3000]) + gzip.compress(b[3000:]), "gzip"),  # multi-member gzip
        (lambda b: _zstd_frames(b), "zstd"),
        (bz2.compress, "bzip2"),
        (lzma.compress, "xz"),
        (lambda b: b, "none"),
    ],
)
def test_compressions_sniffed_by_magic_and_read_to_the_end(compress, kind: str) -> None:  # type: ignore[no-untyped-def]
    raw = _tar([_file(f"f{i}", os.urandom(700)) for i in range(10)])
    blob = compress(raw)
    for scan in _both(blob):
        assert scan.compression == kind
        assert len(scan.entries) == 10
        assert scan.diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
        assert scan.digest == "sha256:" + hashlib.sha256(blob).hexdigest()
        assert scan.blob_bytes == len(blob)


def _zstd_frames(data: bytes) -> bytes:
    cctx = zstandard.ZstdCompressor()
    skippable = b"\x50\x2a\x4d\x18" + (8).to_bytes(4, "little") + b"metadata"
    return cctx.compress(data[:2048]) + cctx.compress(data[2048:]) + skippable


def test_sniff() -> None:
    assert sniff_compression(b"\x1f\x8b\x08") == "gzip"
    assert sniff_compression(b"\x28\xb5\x2f\xfd") == "zstd"
    assert sniff_compression(b"BZh9") == "bzip2"
    assert sniff_compression(b"\xfd7zXZ\x00") == "xz"
    assert sniff_compression(b"ustar") == "none"


def test_whiteouts_opaque_and_format_metadata() -> None:
    blob = _tar(
        [
            _special("app/", tarfile.DIRTYPE),
            _file("app/.wh..wh..opq", b""),
            _file("app/.wh.old.txt", b""),
            _file("app/.wh..wh.plnk", b""),  # AUFS metadata: skipped
            _file("stargz.index.json", b"{}"),
            _file(".prefetch.landmark", b"\x0f"),
            _file("sub/stargz.index.json", b"kept: not at the root"),
        ]
    )
    scan = _both(blob)[0]
    kinds = {(e.path, e.kind) for e in scan.entries}
    assert kinds == {
        ("/app", EntryKind.DIR),
        ("/app", EntryKind.OPAQUE),
        ("/app/old.txt", EntryKind.WHITEOUT),
        ("/sub/stargz.index.json", EntryKind.FILE),
    }


def test_devices_fifo_xattrs_and_pax_overrides() -> None:
    dev = tarfile.TarInfo("dev/null")
    dev.type, dev.devmajor, dev.devminor = tarfile.CHRTYPE, 1, 3
    fifo = tarfile.TarInfo("run/fifo")
    fifo.type = tarfile.FIFOTYPE
    cap = tarfile.TarInfo("usr/bin/ping")
    data = b"ping"
    cap.size = len(data)
    cap.pax_headers = {
        "SCHILY.xattr.security.capability": "\x01\x02",
        "mtime": "1700000000.5",
        "uid": "3000000",
    }
    blob = _tar([(dev, None), (fifo, None), (cap, data)])
    by_path = {e.path: e for e in _both(blob)[0].entries}
    assert by_path["/dev/null"].kind is EntryKind.CHAR and by_path["/dev/null"].device == (1, 3)
    assert by_path["/run/fifo"].kind is EntryKind.FIFO
    ping = by_path["/usr/bin/ping"]
    assert ping.xattrs == (("security.capability", "0102"),)
    assert ping.mtime == 1700000000.5 and ping.uid == 3000000


def test_overlay_char_device_whiteout_is_tolerated() -> None:
    dev = tarfile.TarInfo("etc/gone")
    dev.type, dev.devmajor, dev.devminor = tarfile.CHRTYPE, 0, 0
    (entry,) = _both(_tar([(dev, None)]))[0].entries
    assert (entry.path, entry.kind) == ("/etc/gone", EntryKind.WHITEOUT)


def test_duplicate_paths_last_wins() -> None:
    blob = _tar([_file("x", b"first"), _file("x", b"second!")])
    (entry,) = _both(blob)[0].entries
    assert entry.size_bytes == 7


def test_gnu_sparse_files(tmp_path: Path) -> None:
    """GNU tar (part of every Debian install) writes the sparse formats."""
    assert shutil.which("tar"), "GNU tar is needed to write sparse archives"
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "sparse.img", "wb") as handle:
        handle.seek(1 << 20)
        handle.write(b"data at one MiB")
    for fmt in ("gnu", "posix"):
        out = tmp_path / f"{fmt}.tar"
        subprocess.run(
            ["tar", f"--format={fmt}", "--sparse", "-cf", str(out), "-C", str(src), "sparse.img"],
            check=True,
        )
        (entry,) = _both(out.read_bytes())[0].entries
        assert entry.path == "/sparse.img"
        assert entry.size_bytes == (1 << 20) + len(b"data at one MiB")


def test_absolute_member_names_are_rooted_like_dockers_applier() -> None:
    (entry,) = _both(_tar([_file("/etc/hosts", b"127.0.0.1 localhost\n")]))[0].entries
    assert entry.path == "/etc/hosts"


@pytest.mark.parametrize(
    "members,message",
    [
        ([_file("../escape", b"x")], "escapes the image root"),
        ([_file("a/../../escape", b"x")], "escapes the image root"),
        ([_special("a/link", tarfile.SYMTYPE, "../../etc/shadow")], "escapes the image root"),
        ([_special("hl", tarfile.LNKTYPE, "../outside")], "escapes the image root"),
    ],
)
def test_escaping_paths_and_links_are_rejected(members, message: str) -> None:  # type: ignore[no-untyped-def]
    blob = _tar(members)
    for source in (io.BytesIO(blob), memoryview(blob)):
        with pytest.raises(UnsafePathError, match=message):
            scan_layer(source)


def test_relative_symlink_within_root_is_fine() -> None:
    (entry,) = _both(_tar([_special("usr/lib/x", tarfile.SYMTYPE, "../../lib/x")]))[0].entries
    assert entry.link_target == "../../lib/x"


def test_truncated_and_corrupt_blobs() -> None:
    blob = _tar([_file("big", os.urandom(10_000))])
    with pytest.raises(LayerFormatError, match="truncated"):
        scan_layer(memoryview(blob[:4000]))
    with pytest.raises(LayerFormatError, match="truncated"):
        scan_layer(io.BytesIO(blob[:4000]))
    gz = bytearray(gzip.compress(blob))
    gz[len(gz) // 2] ^= 0xFF
    with pytest.raises(LayerFormatError):
        scan_layer(io.BytesIO(bytes(gz)))
    with pytest.raises(LayerFormatError):
        scan_layer(io.BytesIO(gzip.compress(blob)[:-30]))
    with pytest.raises(LayerFormatError, match="not a tar"):
        scan_layer(memoryview(b"just some text, not a tar " * 40))
    corrupt = bytearray(blob)
    corrupt[10] ^= 0x01  # the name changes, the checksum no longer matches
    with pytest.raises(LayerFormatError, match="checksum"):
        scan_layer(memoryview(bytes(corrupt)))


def test_absurd_declared_sizes_fail_without_allocating() -> None:
    info, _ = _file("huge", b"")
    info.size = 0
    blob = bytearray(_tar([(info, b"")]))
    # declare 8 GiB in octal in the size field and fix the checksum
    blob[124:136] = b"%011o\0" % (8 << 30)
    blob[148:156] = b"        "
    blob[148:156] = b"%06o\0 " % sum(blob[:512])
    with pytest.raises(LayerFormatError, match="truncated"):
        scan_layer(memoryview(bytes(blob)))
    pax = tarfile.TarInfo("p")
    pax.pax_headers = {"size": str(1 << 40)}
    with pytest.raises(LayerFormatError, match="truncated"):
        scan_layer(io.BytesIO(_tar([(pax, b"")])))


def test_empty_go_tar_is_an_empty_layer() -> None:
    scan = scan_layer(memoryview(bytes(1024)), want_diff_id=True)
    assert scan.entries == () and scan.size_bytes == 0
    assert scan.diff_id == "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"


class _Dribble(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read (a slow pipe)."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._pos, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        n = min(len(b), self._step, len(self._data) - self._pos)
        b[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


def test_pyc_files_get_a_second_hash_of_the_bytes_after_the_header() -> None:
    from tests.pyckit import HEADER, compiled_pyc

    small = compiled_pyc(b"X = 1\n", 1000)
    later = compiled_pyc(b"X = 1\n", 2000)
    assert small != later and small[HEADER:] == later[HEADER:]  # the premise: header only
    big = small[:HEADER] + os.urandom(3 * (1 << 20))  # read across several chunks
    blob = _tar([
        _file("app/m.pyc", small),
        _file("app/big.pyc", big),
        _file("app/short.pyc", b"0123456789"),  # shorter than a header: no second hash
        _file("app/m.py", b"X = 1\n"),
        _file("app/m.pyc.txt", small),
        _special("app/m-link.pyc", tarfile.LNKTYPE, "app/m.pyc"),
    ])  # fmt: skip
    expected = {
        "/app/m.pyc": xxhash.xxh3_64_hexdigest(small[HEADER:]),
        "/app/big.pyc": xxhash.xxh3_64_hexdigest(big[HEADER:]),
        "/app/short.pyc": None,
        "/app/m.py": None,
        "/app/m.pyc.txt": None,
        "/app/m-link.pyc": xxhash.xxh3_64_hexdigest(small[HEADER:]),
    }
    scans = [*_both(blob), *(scan_layer(_Dribble(blob, step)) for step in (5, 7, 4096))]
    for scan in scans:
        assert {e.path: e.body_hash for e in scan.entries if e.path in expected} == expected
        whole = {e.path: e.content_hash for e in scan.entries}
        assert whole["/app/big.pyc"] == xxhash.xxh3_64_hexdigest(big)  # unchanged by the split
    again = scan_layer(memoryview(_tar([_file("app/m.pyc", later)])))
    (first,) = (e for e in scans[0].entries if e.path == "/app/m.pyc")
    assert again.entries[0].content_hash != first.content_hash
    assert again.entries[0].only_header_differs(first)


def _keeps_under_etc(path: str) -> bool:
    return path.startswith("/etc/")


def test_the_caller_says_which_files_are_kept() -> None:
    """``keep`` selects by suffix, size bound and predicate; without it nothing is kept. The
    rule here shares no suffix with the package databases, so the compiled walker has to learn
    it (it must stop at those files for the Python walk to keep them)."""
    small, big, other = b"a = 1\n", b"b = 2\n" * 10, b"c = 3\n"
    blob = _tar([
        _file("etc/app.conf", small),
        _file("etc/big.conf", big),  # over the bound
        _file("opt/app.conf", other),  # the predicate says no
        _file("etc/app.ini", other),  # no suffix matches
        _file("var/lib/dpkg/status", b"Package: x\n"),  # a package database: not this rule's
    ])  # fmt: skip
    rule = KeptFiles((".conf",), len(small) + 1, _keeps_under_etc)
    for make in (lambda: memoryview(blob), lambda: io.BytesIO(blob), lambda: _Dribble(blob, 7)):
        for pure in (False, True):
            scan = scan_layer(make(), keep=rule, pure_python=pure)
            assert scan.contents == (("/etc/app.conf", small),)
            assert len(scan.entries) == 5
            assert scan_layer(make(), pure_python=pure).contents == ()
