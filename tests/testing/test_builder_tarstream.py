"""Layer tar bytes: Go-compatible headers, PAX, special entries, hostile members, content."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zlib

import pytest

from layerscope.testing import (
    EMPTY_TAR_DIFF_ID,
    Device,
    Dir,
    Fifo,
    File,
    Hardlink,
    LayerSpec,
    Opaque,
    RawBytes,
    RawMember,
    Symlink,
    Synthetic,
    Whiteout,
    add_parent_dirs,
    write_layer,
)
from layerscope.testing.content import iter_content
from layerscope.testing.tarstream import header_block


def layer_bytes(*entries: object, **kw: object) -> bytes:
    buf = io.BytesIO()
    write_layer(LayerSpec(list(entries), **kw), buf)  # type: ignore[arg-type]
    return buf.getvalue()


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
        return tf.getmembers()


def test_empty_layer_is_go_empty_tar() -> None:
    data = layer_bytes()
    assert data == bytes(1024)
    assert "sha256:" + hashlib.sha256(data).hexdigest() == EMPTY_TAR_DIFF_ID


def test_no_record_padding() -> None:
    # header 512 + 5 data bytes padded to 512 + two zero blocks = 2048 (Python pads to 10240)
    data = layer_bytes(File("/a", b"hello"))
    assert len(data) == 512 + 512 + 1024
    assert data.endswith(bytes(1024))


def test_header_matches_python_ustar_except_dev_fields() -> None:
    ti = tarfile.TarInfo("etc/passwd")
    ti.size, ti.mode, ti.mtime, ti.uid, ti.gid = 5, 0o644, 1700000000, 1000, 100
    py = ti.tobuf(tarfile.USTAR_FORMAT)
    me = header_block(
        b"etc/passwd", typeflag=b"0", size=5, mode=0o644, uid=1000, gid=100, mtime=1700000000
    )
    # Go writes devmajor/devminor as "0000000\0" for every entry; Python leaves NULs.
    assert me[329:345] == b"0000000\x00" * 2
    assert py[:148] == me[:148] and py[156:329] == me[156:329] and py[345:] == me[345:]


def test_entries_read_back() -> None:
    data = layer_bytes(
        Dir("/etc", mode=0o755, uid=0),
        File("/etc/passwd", b"root\n", mode=0o600, uid=1, gid=2, mtime=123),
        Symlink("/etc/link", "../escape/out"),
        Hardlink("/etc/hard", "/etc/passwd"),
        Device("/dev/null", 1, 3),
        Device("/dev/sda", 8, 0, kind="block"),
        Fifo("/run/fifo"),
        Whiteout("/usr/share/doc"),
        Whiteout("/top"),
        Dir("/var/cache"),
        Opaque("/var/cache"),
        mtime=77,
    )
    ms = {m.name: m for m in members(data)}
    assert list(ms) == [
        "etc", "etc/passwd", "etc/link", "etc/hard", "dev/null", "dev/sda", "run/fifo",
        "usr/share/.wh.doc", ".wh.top", "var/cache", "var/cache/.wh..wh..opq",
    ]  # fmt: skip
    assert ms["etc"].isdir() and ms["etc"].mtime == 77
    p = ms["etc/passwd"]
    assert (p.mode, p.uid, p.gid, p.mtime, p.size) == (0o600, 1, 2, 123, 5)
    assert ms["etc/link"].issym() and ms["etc/link"].linkname == "../escape/out"
    assert ms["etc/hard"].islnk() and ms["etc/hard"].linkname == "etc/passwd"
    assert ms["etc/hard"].size == 0
    assert ms["dev/null"].ischr() and (ms["dev/null"].devmajor, ms["dev/null"].devminor) == (1, 3)
    assert ms["dev/sda"].isblk()
    assert ms["run/fifo"].isfifo()
    assert ms["usr/share/.wh.doc"].isfile() and ms["usr/share/.wh.doc"].size == 0
    # directory names carry a trailing slash in the raw header (Docker style)
    assert data[0:4] == b"etc/"


def test_long_names_xattrs_and_big_ids_use_pax() -> None:
    long = "/" + "/".join(["d" * 60] * 3) + "/file"
    target = "/" + "t" * 150
    data = layer_bytes(
        File(long, b"x", xattrs={"security.capability": b"\x01\x00\x00\x02", "user.k": "v"}),
        Symlink("/s", target),
        File("/ü-name", b"", uid=2**22, uname="u" * 40),
    )
    ms = members(data)
    assert ms[0].name == long.lstrip("/")
    assert ms[0].pax_headers["SCHILY.xattr.user.k"] == "v"
    assert "SCHILY.xattr.security.capability" in ms[0].pax_headers
    assert ms[1].linkname == target
    assert ms[2].name == "ü-name" and ms[2].uid == 2**22 and ms[2].uname == "u" * 40
    # first header is a PAX 'x' header, the real one follows
    assert data[156:157] == b"x"


def test_name_prefix_and_missing_parents() -> None:
    data = layer_bytes(File("/a/b/c.txt", b"1"), name_prefix="./")
    assert [m.name for m in members(data)] == ["./a/b/c.txt"]
    with_parents = add_parent_dirs([File("/a/b/c.txt"), File("/a/d")])
    assert [type(e).__name__ for e in with_parents] == ["Dir", "Dir", "File", "File"]
    assert [getattr(e, "path", None) for e in with_parents[:2]] == ["/a", "/a/b"]


def test_raw_members_are_verbatim() -> None:
    data = layer_bytes(
        RawMember("g", typeflag=b"g", pax={"comment": "global"}),
        RawMember("../../etc/passwd", b"evil"),
        RawMember("/abs/path", b"x"),
        RawMember("link", typeflag=b"2", linkname="../../../../etc/shadow"),
    )
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
        ms = tf.getmembers()
        names = [m.name for m in ms]
        assert tf.pax_headers.get("comment") == "global"
    assert names[:3] == ["../../etc/passwd", "/abs/path", "link"]
    assert ms[2].linkname == "../../../../etc/shadow"


def test_absurd_size_and_truncation() -> None:
    data = layer_bytes(RawMember("huge", b"only-this", size=10**11, pad=False), terminate=False)
    assert len(data) == 512 + len(b"only-this")
    assert data[124] == 0x80 and int.from_bytes(data[125:136], "big") == 10**11  # GNU base-256
    with pytest.raises(tarfile.ReadError):
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
            for m in tf:
                tf.extractfile(m).read()  # type: ignore[union-attr]
    garbage = layer_bytes(File("/ok", b"1"), RawBytes(b"\xff" * 512))
    assert garbage[1024:1536] == b"\xff" * 512


def test_synthetic_content() -> None:
    a = b"".join(iter_content(Synthetic(3 * 1024 * 1024 + 7, seed=5)))
    assert len(a) == 3 * 1024 * 1024 + 7
    assert a == b"".join(iter_content(Synthetic(3 * 1024 * 1024 + 7, seed=5)))
    assert a != b"".join(iter_content(Synthetic(3 * 1024 * 1024 + 7, seed=6)))
    text = b"".join(iter_content(Synthetic(1 << 20, seed=1, kind="text")))
    ratio_text = len(text) / len(zlib.compress(text, 6))
    ratio_bin = len(a) / len(zlib.compress(a, 6))
    assert ratio_text > 2.0 and ratio_bin < 1.01
    assert b"".join(iter_content(Synthetic(10, kind="zeros"))) == bytes(10)
    big = layer_bytes(File("/big", Synthetic(1_500_000, seed=5)))
    with tarfile.open(fileobj=io.BytesIO(big), mode="r:") as tf:
        got = tf.extractfile("big").read()  # type: ignore[union-attr]
    assert got == b"".join(iter_content(Synthetic(1_500_000, seed=5)))
    assert gzip.decompress(gzip.compress(got)) == got
