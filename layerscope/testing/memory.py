"""In-memory images for unit tests: ``FileEntry``, ``Layer`` and ``Image`` models made directly,
with no archive written or read (the rest of ``layerscope.testing`` writes real archives).

Terse on purpose: a test reads as the layers it stacks, e.g.
``memory_image([dir_entry("/app"), file_entry("/app/a", 10)], [whiteout_entry("/app/a")])``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from layerscope.model import (
    Digest,
    EntryKind,
    FileEntry,
    HistoryEntry,
    Image,
    ImageConfig,
    Layer,
    LayerContents,
    Platform,
)

__all__ = [
    "dir_entry",
    "file_entry",
    "hardlink_entry",
    "layer_contents",
    "made_up_diff_id",
    "memory_image",
    "memory_layer",
    "opaque_entry",
    "realistic_entries",
    "symlink_entry",
    "whiteout_entry",
]

Xattrs = tuple[tuple[str, str], ...]


def file_entry(
    path: str,
    size: int = 0,
    *,
    content: str | None = None,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    mtime: float = 0.0,
    xattrs: Xattrs = (),
) -> FileEntry:
    """A regular file; its content hash is ``content`` (default: derived from path and size)."""
    digest = content if content is not None else f"{path}#{size}"
    return FileEntry(
        path, EntryKind.FILE, size, mode, uid, gid, mtime, content_hash=digest, xattrs=xattrs
    )


def dir_entry(
    path: str, *, mode: int = 0o755, uid: int = 0, gid: int = 0, mtime: float = 0.0
) -> FileEntry:
    """A directory."""
    return FileEntry(path, EntryKind.DIR, 0, mode, uid, gid, mtime)


def symlink_entry(path: str, target: str, *, mode: int = 0o777) -> FileEntry:
    """A symlink to ``target`` (as written in the tar: relative or absolute)."""
    return FileEntry(path, EntryKind.SYMLINK, 0, mode, 0, 0, 0.0, link_target=target)


def hardlink_entry(path: str, target: str, *, mode: int = 0o644) -> FileEntry:
    """A hardlink (size 0, ``target`` an absolute archive path)."""
    return FileEntry(path, EntryKind.HARDLINK, 0, mode, 0, 0, 0.0, link_target=target)


def whiteout_entry(path: str, *, mode: int = 0o644) -> FileEntry:
    """A whiteout of ``path``."""
    return FileEntry(path, EntryKind.WHITEOUT, 0, mode, 0, 0, 0.0)


def opaque_entry(path: str, *, mode: int = 0o644) -> FileEntry:
    """An opaque marker for directory ``path``."""
    return FileEntry(path, EntryKind.OPAQUE, 0, mode, 0, 0, 0.0)


def made_up_diff_id(n: int) -> Digest:
    """A well-formed, made-up sha256 digest numbered ``n``."""
    return Digest(f"sha256:{n:064x}")


def memory_layer(
    index: int,
    entries: Sequence[FileEntry],
    *,
    created_by: str | None = None,
    history: HistoryEntry | None = None,
    diff_id: str | None = None,
) -> Layer:
    """A layer whose ``size_bytes`` is the sum of its regular files' sizes. Its history entry is
    ``history``, else one with ``created_by`` (default ``step INDEX``); its diff_id is
    ``diff_id``, else made up from the index."""
    size = sum(e.size_bytes for e in entries if e.kind is EntryKind.FILE)
    return Layer(
        index=index,
        diff_id=Digest(diff_id) if diff_id else made_up_diff_id(index),
        digest=None,
        media_type=None,
        compressed_size_bytes=None,
        size_bytes=size,
        tar_size_bytes=0,
        history=history or HistoryEntry(f"step {index}" if created_by is None else created_by),
        entries=tuple(entries),
    )


def memory_image(
    *layers: Sequence[FileEntry] | Layer,
    ref: str = "test:latest",
    image_id: str | None = None,
    diff_ids: Sequence[str] | None = None,
    config: ImageConfig | None = None,
    labels: Sequence[tuple[str, str]] = (),
    annotations: Sequence[tuple[str, str]] = (),
    history: Sequence[HistoryEntry] | None = None,
) -> Image:
    """An image with one layer per argument, oldest first: a ``Layer`` as it is, or a list of
    entries made into one (``diff_ids`` names their diff_ids). ``config`` defaults to one with
    ``labels``; ``history`` (empty-layer entries included) to the layers' own entries."""
    built = tuple(
        layer
        if isinstance(layer, Layer)
        else memory_layer(i, layer, diff_id=diff_ids[i] if diff_ids else None)
        for i, layer in enumerate(layers)
    )
    return Image(
        ref=ref,
        image_id=Digest(image_id or "sha256:" + "ab" * 32),
        platform=Platform("linux", "amd64"),
        created=None,
        config=config or ImageConfig(labels=tuple(labels)),
        history=(
            tuple(history)
            if history is not None
            else tuple(layer.history for layer in built if layer.history is not None)
        ),
        layers=built,
        annotations=tuple(annotations),
    )


def layer_contents(entries: Sequence[FileEntry]) -> LayerContents:
    """What a layer scan keeps: the entries, the file sizes summed, a made-up tar size."""
    size = sum(e.size_bytes for e in entries if e.kind is EntryKind.FILE)
    return LayerContents(tuple(entries), size, 512 * (len(entries) + 2) + size)


def realistic_entries(count: int, seed: int = 0) -> list[FileEntry]:
    """``count`` entries shaped like a distro + packages layer: mostly files with xxh3-like
    hashes, some dirs, symlinks, hardlinks, whiteouts, a few devices, xattrs and PAX float
    mtimes. The same ``count`` and ``seed`` give the same entries."""
    rng = random.Random(seed)
    dirs = [
        f"/usr/lib/python3.11/site-packages/pkg{i}/sub{j}" for i in range(400) for j in range(8)
    ]
    return [_realistic_entry(rng, rng.choice(dirs), i) for i in range(count)]


def _realistic_entry(rng: random.Random, parent: str, i: int) -> FileEntry:
    roll = rng.random()
    mtime: float = 1_700_000_000 + rng.randrange(50)
    if roll < 0.05:
        mtime = mtime + rng.random()  # PAX sub-second mtime: a float that must stay a float
    if roll < 0.08:
        return FileEntry(f"{parent}/d{i}", EntryKind.DIR, 0, 0o755, 0, 0, mtime)
    if roll < 0.12:
        target = f"../lib{i % 97}.so"
        return FileEntry(f"{parent}/l{i}.so", EntryKind.SYMLINK, 0, 0o777, 0, 0, mtime, target)
    if roll < 0.13:
        target = f"{parent}/f{i - 1}"
        return FileEntry(f"{parent}/h{i}", EntryKind.HARDLINK, 0, 0o644, 0, 0, mtime, target)
    if roll < 0.135:
        return FileEntry(f"{parent}/gone{i}", EntryKind.WHITEOUT, 0, 0, 0, 0, mtime)
    if roll < 0.136:
        return FileEntry(f"/dev/x{i}", EntryKind.CHAR, 0, 0o666, 0, 0, mtime, device=(1, i % 256))
    xattrs: Xattrs = (("security.capability", "0100000200200000"),) if roll > 0.999 else ()
    return FileEntry(
        f"{parent}/f{i}.py",
        EntryKind.FILE,
        rng.choice((0, rng.randrange(100_000), rng.randrange(1 << 26))),
        rng.choice((0o644, 0o644, 0o755, 0o600)),
        rng.choice((0, 0, 0, 1000)),
        rng.choice((0, 0, 0, 1000)),
        mtime,
        None,
        f"{rng.getrandbits(64):016x}",
        xattrs,
    )
