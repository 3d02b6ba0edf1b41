"""Go-compatible tar writing (USTAR + PAX, no 10240 padding) and deterministic content."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from layerscope.testing.content import iter_content
from layerscope.testing.spec import (
    Device,
    Dir,
    Entry,
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
)

BLOCK = 512
CHUNK = 1 << 20
_MAX_OCTAL = {8: 0o7777777, 12: 0o77777777777}


class Sink(Protocol):
    """Anything bytes can be written to."""

    def write(self, data: bytes, /) -> object: ...


# ---------------------------------------------------------------------------------------------
# headers


def _octal(value: int, width: int) -> bytes:
    if value < 0 or value >= 1 << (3 * (width - 1)):  # GNU base-256, only reachable via RawMember
        return b"\x80" + (value % (1 << (8 * (width - 1)))).to_bytes(width - 1, "big")
    return (format(value, "o").rjust(width - 1, "0")).encode() + b"\0"


def _field(value: bytes, width: int) -> bytes:
    return value[:width].ljust(width, b"\0")


def pax_records(records: Mapping[str, str | bytes]) -> bytes:
    """Encode PAX extended-header records (``"%d key=value\\n"``), keys sorted as Go does."""
    out = bytearray()
    for key in sorted(records):
        raw = records[key]
        value = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
        body = b" " + key.encode() + b"=" + value + b"\n"
        length = len(body) + 1
        while len(str(length)) + len(body) != length:
            length = len(str(length)) + len(body)
        out += str(length).encode() + body
    return bytes(out)


def header_block(
    name: bytes,
    *,
    typeflag: bytes,
    size: int = 0,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    mtime: int = 0,
    linkname: bytes = b"",
    uname: bytes = b"",
    gname: bytes = b"",
    devmajor: int = 0,
    devminor: int = 0,
) -> bytes:
    """One 512-byte USTAR header block (Go's PAX-format layout); values must already fit."""
    parts = [
        _field(name, 100),
        _octal(mode, 8),
        _octal(uid, 8),
        _octal(gid, 8),
        _octal(size, 12),
        _octal(mtime, 12),
        b" " * 8,
        typeflag[:1].ljust(1, b"0"),
        _field(linkname, 100),
        b"ustar\x0000",
        _field(uname, 32),
        _field(gname, 32),
        _octal(devmajor, 8),
        _octal(devminor, 8),
        bytes(155 + 12),
    ]
    block = bytearray(b"".join(parts))
    chksum = sum(block)
    block[148:156] = format(chksum, "o").rjust(6, "0").encode() + b"\0 "
    return bytes(block)


def _pax_name(name: bytes) -> bytes:
    head, _, tail = name.rstrip(b"/").rpartition(b"/")
    return (head + b"/" if head else b"") + b"PaxHeaders.0/" + tail


class TarWriter:
    """Writes tar members to a sink through a 1 MiB buffer; ``close`` writes two zero blocks."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._buf = bytearray()

    def raw(self, data: bytes) -> None:
        """Append bytes verbatim."""
        self._buf += data
        if len(self._buf) >= CHUNK:
            self._sink.write(bytes(self._buf))
            self._buf.clear()

    def flush(self) -> None:
        """Push buffered bytes to the sink."""
        if self._buf:
            self._sink.write(bytes(self._buf))
            self._buf.clear()

    def _pad(self, size: int) -> None:
        rem = size % BLOCK
        if rem:
            self.raw(bytes(BLOCK - rem))

    def member(
        self,
        name: str,
        *,
        typeflag: bytes,
        content: bytes | Synthetic = b"",
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        linkname: str = "",
        uname: str = "",
        gname: str = "",
        devmajor: int = 0,
        devminor: int = 0,
        xattrs: Mapping[str, bytes | str] | None = None,
    ) -> None:
        """Write one well-formed member, with a PAX header when a value does not fit USTAR."""
        size = content.size if isinstance(content, Synthetic) else len(content)
        pax: dict[str, str | bytes] = {}
        bname = name.encode("utf-8", "surrogateescape")
        blink = linkname.encode("utf-8", "surrogateescape")
        if len(bname) > 100 or not name.isascii():
            pax["path"] = bname
        if len(blink) > 100 or not linkname.isascii():
            pax["linkpath"] = blink
        for key, val, width in (("uid", uid, 8), ("gid", gid, 8), ("size", size, 12)):
            if val > _MAX_OCTAL[width]:
                pax[key] = str(val)
        if mtime < 0 or mtime > _MAX_OCTAL[12]:
            pax["mtime"] = str(mtime)
        if len(uname) > 32 or not uname.isascii():
            pax["uname"] = uname
        if len(gname) > 32 or not gname.isascii():
            pax["gname"] = gname
        for xkey, xval in (xattrs or {}).items():
            pax["SCHILY.xattr." + xkey] = xval
        if pax:
            body = pax_records(pax)
            self.raw(header_block(_pax_name(bname)[:100], typeflag=b"x", size=len(body), mode=0))
            self.raw(body)
            self._pad(len(body))

        def fit(v: int, width: int) -> int:
            return v if 0 <= v <= _MAX_OCTAL[width] else 0

        self.raw(
            header_block(
                bname,
                typeflag=typeflag,
                size=fit(size, 12),
                mode=mode & 0o7777,
                uid=fit(uid, 8),
                gid=fit(gid, 8),
                mtime=fit(mtime, 12),
                linkname=blink,
                uname=uname.encode("utf-8", "surrogateescape"),
                gname=gname.encode("utf-8", "surrogateescape"),
                devmajor=devmajor,
                devminor=devminor,
            )
        )
        for chunk in iter_content(content):
            self.raw(chunk)
        self._pad(size)

    def raw_member(self, m: RawMember) -> None:
        """Write a hostile/unchecked member exactly as described."""
        name = m.name if isinstance(m.name, bytes) else m.name.encode("utf-8", "surrogateescape")
        link = m.linkname if isinstance(m.linkname, bytes) else m.linkname.encode()
        data = m.data
        if m.pax is not None and m.typeflag in (b"x", b"g") and not data:
            data = pax_records(m.pax)
        elif m.pax is not None:
            body = pax_records(m.pax)
            self.raw(header_block(_pax_name(name)[:100], typeflag=b"x", size=len(body), mode=0))
            self.raw(body)
            self._pad(len(body))
        declared = len(data) if m.size is None else m.size
        self.raw(
            header_block(
                name,
                typeflag=m.typeflag,
                size=declared,
                mode=m.mode,
                uid=m.uid,
                gid=m.gid,
                mtime=m.mtime,
                linkname=link,
                devmajor=m.devmajor,
                devminor=m.devminor,
            )
        )
        self.raw(data)
        if m.pad:
            self._pad(len(data))

    def close(self, terminate: bool = True) -> None:
        """End the archive with two zero blocks (1024 bytes) unless ``terminate`` is false."""
        if terminate:
            self.raw(bytes(2 * BLOCK))
        self.flush()


def _name(path: str, prefix: str, is_dir: bool = False) -> str:
    rel = path.lstrip("/")
    if is_dir and rel and not rel.endswith("/"):
        rel += "/"
    return prefix + rel


def _sibling(path: str, marker: str) -> str:
    head, _, tail = path.rstrip("/").rpartition("/")
    return f"{head}/{marker}{tail}" if head else f"{marker}{tail}"


def write_entry(tw: TarWriter, e: Entry, prefix: str, mtime: int) -> None:
    """Write one spec entry as Docker/containerd would."""
    if isinstance(e, RawMember):
        tw.raw_member(e)
    elif isinstance(e, RawBytes):
        tw.raw(e.data)
    elif isinstance(e, File | Dir | Symlink | Hardlink):
        _write_node(tw, e, prefix, mtime)
    elif isinstance(e, Device):
        tw.member(
            _name(e.path, prefix),
            typeflag=b"3" if e.kind == "char" else b"4",
            mode=e.mode,
            uid=e.uid,
            gid=e.gid,
            mtime=_pick(e.mtime, mtime),
            devmajor=e.major,
            devminor=e.minor,
        )
    elif isinstance(e, Fifo):
        tw.member(
            _name(e.path, prefix),
            typeflag=b"6",
            mode=e.mode,
            uid=e.uid,
            gid=e.gid,
            mtime=_pick(e.mtime, mtime),
        )
    elif isinstance(e, Whiteout | Opaque):
        marker = (
            _sibling(e.path, ".wh.")
            if isinstance(e, Whiteout)
            else e.path.rstrip("/") + "/.wh..wh..opq"
        )
        tw.member(_name(marker, prefix), typeflag=b"0", mode=e.mode, mtime=_pick(e.mtime, mtime))
    else:  # pragma: no cover - exhaustive
        raise TypeError(f"not a layer entry: {e!r}")


def _write_node(tw: TarWriter, e: File | Dir | Symlink | Hardlink, prefix: str, mtime: int) -> None:
    """A file, directory or link, with its owner names (and xattrs, for files and dirs)."""
    content: bytes | Synthetic = b""
    linkname = ""
    xattrs: Mapping[str, bytes | str] | None = None
    if isinstance(e, File):
        name, flag, content, xattrs = _name(e.path, prefix), b"0", e.content, e.xattrs
    elif isinstance(e, Dir):
        name, flag, xattrs = _name(e.path, prefix, is_dir=True), b"5", e.xattrs
    else:
        name, flag = _name(e.path, prefix), b"2" if isinstance(e, Symlink) else b"1"
        linkname = e.target if isinstance(e, Symlink) else prefix + e.target.lstrip("/")
    tw.member(
        name,
        typeflag=flag,
        content=content,
        mode=e.mode,
        uid=e.uid,
        gid=e.gid,
        mtime=_pick(e.mtime, mtime),
        linkname=linkname,
        uname=e.uname,
        gname=e.gname,
        xattrs=xattrs,
    )


def _pick(value: int | None, default: int) -> int:
    return default if value is None else value


def write_layer(layer: LayerSpec, sink: Sink, default_mtime: int = 0) -> None:
    """Stream one layer tar (entries in the given order) into ``sink``."""
    tw = TarWriter(sink)
    mtime = _pick(layer.mtime, default_mtime)
    for e in layer.entries:
        write_entry(tw, e, layer.name_prefix, mtime)
    tw.close(layer.terminate)
