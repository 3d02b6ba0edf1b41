"""Terse builders of in-memory FileEntry / Layer / Image objects for analysis and tree tests."""

from __future__ import annotations

from collections.abc import Sequence

from layerscope.model import (
    Digest,
    EntryKind,
    FileEntry,
    HistoryEntry,
    Image,
    ImageConfig,
    Layer,
    Platform,
)


def f(
    path: str,
    size: int = 0,
    *,
    content: str | None = None,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    mtime: float = 0.0,
    xattrs: tuple[tuple[str, str], ...] = (),
) -> FileEntry:
    """A regular file; its content hash is ``content`` (default: derived from path and size)."""
    return FileEntry(
        path,
        EntryKind.FILE,
        size,
        mode,
        uid,
        gid,
        mtime,
        content_hash=content if content is not None else f"{path}#{size}",
        xattrs=xattrs,
    )


def d(path: str, *, mode: int = 0o755, uid: int = 0, gid: int = 0, mtime: float = 0.0) -> FileEntry:
    """A directory."""
    return FileEntry(path, EntryKind.DIR, 0, mode, uid, gid, mtime)


def sym(path: str, target: str, *, mode: int = 0o777) -> FileEntry:
    """A symlink."""
    return FileEntry(path, EntryKind.SYMLINK, 0, mode, 0, 0, 0.0, link_target=target)


def hl(path: str, target: str, *, mode: int = 0o644) -> FileEntry:
    """A hardlink (size 0, target an absolute archive path)."""
    return FileEntry(path, EntryKind.HARDLINK, 0, mode, 0, 0, 0.0, link_target=target)


def wh(path: str) -> FileEntry:
    """A whiteout of ``path``."""
    return FileEntry(path, EntryKind.WHITEOUT, 0, 0o644, 0, 0, 0.0)


def opq(path: str) -> FileEntry:
    """An opaque marker for directory ``path``."""
    return FileEntry(path, EntryKind.OPAQUE, 0, 0o644, 0, 0, 0.0)


def layer(
    index: int,
    entries: Sequence[FileEntry],
    *,
    created_by: str = "",
    diff_id: str | None = None,
) -> Layer:
    """A layer whose size_bytes is the sum of its regular files' sizes."""
    size = sum(e.size_bytes for e in entries if e.kind is EntryKind.FILE)
    return Layer(
        index=index,
        diff_id=Digest(diff_id or f"sha256:{index:064x}"),
        digest=None,
        media_type=None,
        compressed_size_bytes=None,
        size_bytes=size,
        tar_size_bytes=0,
        history=HistoryEntry(created_by=created_by or f"step {index}"),
        entries=tuple(entries),
    )


def image(
    *layers: Sequence[FileEntry],
    diff_ids: Sequence[str] | None = None,
    labels: Sequence[tuple[str, str]] = (),
    annotations: Sequence[tuple[str, str]] = (),
) -> Image:
    """An image with one layer per entry list, oldest first."""
    built = tuple(
        layer(i, entries, diff_id=diff_ids[i] if diff_ids else None)
        for i, entries in enumerate(layers)
    )
    return Image(
        ref="test:latest",
        image_id=Digest("sha256:" + "ab" * 32),
        platform=Platform("linux", "amd64"),
        created=None,
        config=ImageConfig(labels=tuple(labels)),
        history=tuple(lay.history for lay in built if lay.history is not None),
        layers=built,
        annotations=tuple(annotations),
    )
