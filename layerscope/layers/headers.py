"""Tar header fields: the block layout, numbers (octal and GNU base-256), checksums, PAX records."""

from __future__ import annotations

import struct

from ..errors import LayerFormatError
from ..model import EntryKind

BLOCK = 512
MAX_META_BYTES = 1 << 20
"""Largest PAX / GNU long-name payload we accept (Go's archive/tar uses the same bound)."""
MAX_SIZE = 2**63 - 1
"""The largest size a file or a layer can have (tar's and SQLite's limit); beyond it a header
lies."""

HEADER = struct.Struct("100s8s8s8s12s12s8sc100s6s82x155s")
"""name, mode, uid, gid, size, mtime, checksum, typeflag, linkname, magic and prefix (version,
uname, gname and the device numbers are skipped: ``device_numbers`` reads the last two)."""
ZERO_BLOCK = bytes(BLOCK)
META_TYPES = frozenset({b"x", b"g", b"L", b"K", b"X"})
"""PAX (per-entry, global, Solaris) and GNU long-name / long-link records: they describe the
next entry, or all of them."""

KIND_BY_TYPE = {
    b"0": EntryKind.FILE,
    b"\0": EntryKind.FILE,
    b"7": EntryKind.FILE,
    b"1": EntryKind.HARDLINK,
    b"2": EntryKind.SYMLINK,
    b"3": EntryKind.CHAR,
    b"4": EntryKind.BLOCK,
    b"5": EntryKind.DIR,
    b"6": EntryKind.FIFO,
    b"S": EntryKind.FILE,  # GNU sparse (old format)
}


def octal(field: bytes | memoryview, what: str) -> int:
    """A numeric header field: octal text, or GNU base-256 (high bit set)."""
    raw = bytes(field)
    if raw and raw[0] & 0x80:  # GNU base-256
        body = bytearray(raw)
        negative = bool(body[0] & 0x40)
        body[0] &= 0x7F
        value = int.from_bytes(bytes(body), "big")
        if negative:
            value -= 1 << (8 * len(body) - 1)
        return value
    text = raw.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise LayerFormatError(f"bad tar header: {what} field {text!r} is not a number") from None


def num(field: bytes, what: str) -> int:
    """A numeric header field, trying the common octal form first."""
    try:
        return int(field.strip(b" \0") or b"0", 8)
    except ValueError:
        return octal(field, what)


def numbers(mode: bytes, uid: bytes, gid: bytes, mtime: bytes) -> tuple[int, int, int, int]:
    """mode (permission bits), uid, gid and mtime of a header whose fields are not all plain
    octal: base-256, or garbage (then the error names the first bad field)."""
    return num(mode, "mode") & 0o7777, num(uid, "uid"), num(gid, "gid"), num(mtime, "mtime")


def device_numbers(header: memoryview) -> tuple[int, int]:
    """The (major, minor) numbers of a device node's header."""
    return num(header[329:337].tobytes(), "devmajor"), num(header[337:345].tobytes(), "devminor")


def checksum_ok(header: memoryview) -> bool:
    """The header's checksum, summed as unsigned bytes or (old tars) as signed ones."""
    try:
        stored = octal(header[148:156], "checksum")
    except LayerFormatError:
        return False
    raw = bytes(header)
    unsigned = sum(raw[:148]) + 256 + sum(raw[156:])
    if unsigned == stored:
        return True
    signed = sum(b - 256 if b > 127 else b for b in raw[:148]) + 256
    signed += sum(b - 256 if b > 127 else b for b in raw[156:])
    return signed == stored


def parse_pax(data: bytes) -> dict[str, str]:
    """The ``length key=value\\n`` records of a PAX header."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise LayerFormatError("bad PAX header record") from None
        if length <= 0 or pos + length > len(data):
            raise LayerFormatError("bad PAX header record length")
        record = data[space + 1 : pos + length]
        if not record.endswith(b"\n") or b"=" not in record:
            raise LayerFormatError("bad PAX header record")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def pax_int(value: str, what: str) -> int:
    """A non-negative integer PAX record."""
    try:
        number = int(value)
    except ValueError:
        raise LayerFormatError(f"bad PAX {what} record {value!r}") from None
    if number < 0:
        raise LayerFormatError(f"bad PAX {what} record {value!r}")
    return number
