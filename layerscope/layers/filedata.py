"""A regular file's data: its xxh3 content hash, the hash of a ``.pyc`` body, kept bytes.

The walk hashes a file whose data lies whole in its window inline; ``file_data`` does the
rest: sparse files, files a PAX record describes, and data that runs past the window.
"""

from __future__ import annotations

from typing import Any

import xxhash

from ..model import KeptFiles
from .headers import BLOCK
from .rare import is_sparse, sparse_file
from .window import Window

PYC_SUFFIX = ".pyc"
PYC_HEADER_BYTES = 16
"""A ``.pyc`` file's header: magic, flags, then the source mtime and size (or a source hash).
Its ``FileEntry.body_hash`` is the xxh3-64 of the bytes after it, so two compilations of the
same source at different times compare equal apart from the header."""


class Keeper:
    """A hasher stand-in that feeds xxh3 and keeps a copy of the bytes."""

    __slots__ = ("hasher", "parts")

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.parts: list[bytes] = []

    def update(self, data: Any) -> None:
        self.hasher.update(data)
        self.parts.append(bytes(data))


class PycHasher:
    """A hasher stand-in that feeds the whole file to xxh3 and the bytes after the ``.pyc``
    header to a second xxh3, for files read in several pieces."""

    __slots__ = ("hasher", "body", "seen")

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.body = xxhash.xxh3_64()
        self.seen = 0

    def update(self, data: Any) -> None:
        self.hasher.update(data)
        skip = PYC_HEADER_BYTES - self.seen
        self.seen += len(data)
        if skip <= 0:
            self.body.update(data)
        elif len(data) > skip:
            self.body.update(data[skip:])


def file_data(
    typeflag: bytes, header: memoryview, records: dict[str, str], path: str, size: int,
    view: memoryview, pos: int, source: Window, keep: KeptFiles, kept: dict[str, bytes],
) -> tuple[memoryview, int, str, int, str, str | None]:  # fmt: skip
    """Read a regular file's data and padding the slow way: (view, pos, path, size, content
    hash, body hash). A sparse file's path may change (PAX ``GNU.sparse.name``) and its size is
    the real one; its hash covers its map and stored bytes, and its bytes are never kept."""
    if typeflag == b"S" or is_sparse(records):
        path, real, tag, view, pos = sparse_file(typeflag, header, records, path, view, pos, source)
        view, pos, chash, bhash, _ = _stream(view, pos, size, source, tag, False, False)
    else:
        real = size
        keeps = size <= keep.max_bytes and path.endswith(keep.suffixes) and keep.wants(path)
        pyc = size >= PYC_HEADER_BYTES and path.endswith(PYC_SUFFIX)
        view, pos, chash, bhash, data = _stream(view, pos, size, source, b"", pyc, keeps)
        if data is not None:
            kept[path] = data
    padding = -size & (BLOCK - 1)
    if padding:
        view, pos = source.skip(view, pos, padding)
    return view, pos, path, real, chash, bhash


def _stream(
    view: memoryview, pos: int, size: int, source: Window, tag: bytes, pyc: bool, keep: bool
) -> tuple[memoryview, int, str, str | None, bytes | None]:
    """Hash ``size`` bytes from ``pos`` on, window after window: (view, pos, content hash,
    body hash of a ``.pyc``, the bytes when ``keep``)."""
    hasher = xxhash.xxh3_64()
    hasher.update(tag)
    sink: Any = PycHasher(hasher) if pyc else hasher
    keeper = Keeper(sink) if keep else None
    view, pos = source.consume(view, pos, size, keeper or sink)
    body = sink.body.hexdigest() if pyc else None
    return view, pos, hasher.hexdigest(), body, b"".join(keeper.parts) if keeper else None
