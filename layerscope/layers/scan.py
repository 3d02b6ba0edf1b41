"""Read one layer blob: sniff its compression, walk its tar, hash what was asked for."""

from __future__ import annotations

import gc
import hashlib
import lzma
import os
import sys
from dataclasses import dataclass
from typing import IO, cast

from ..errors import LayerFormatError
from ..model import Digest, FileEntry, KeptFiles, Progress
from . import native as _native
from .compression import decompress_ahead, sniff_compression
from .streams import BackgroundSha256, CountingHashingReader, MemoryReader, peek
from .walk import NOTHING_KEPT, walk
from .window import FileSpan, MappedWindow, Window, describe


@dataclass(frozen=True, slots=True)
class LayerScan:
    """What reading one layer blob found."""

    entries: tuple[FileEntry, ...]
    size_bytes: int
    """Sum of the regular-file sizes in the tar (``docker history`` / dive layer size)."""
    tar_size_bytes: int
    """Bytes of the uncompressed tar stream up to its end-of-archive marker."""
    compression: str
    blob_bytes: int | None
    """Bytes of the stored blob that were read, when they were counted."""
    diff_id: Digest | None
    """sha256 of the uncompressed stream, when asked for."""
    digest: Digest | None
    """sha256 of the stored blob, when asked for."""
    contents: tuple[tuple[str, bytes], ...] = ()
    """(path, bytes) of the files the scan's ``KeptFiles`` selected, sorted by path."""
    gzip_estimate_bytes: int | None = None
    """Set by the source for a blob stored uncompressed (``layers.gzip_estimate``)."""


def scan_layer(
    blob: IO[bytes] | memoryview | FileSpan,
    *,
    keep: KeptFiles | None = None,
    want_diff_id: bool = False,
    want_digest: bool = False,
    progress: Progress | None = None,
    pure_python: bool = False,
) -> LayerScan:
    """Read one layer blob (compressed or not) and return its entries.

    ``blob`` is a stream, or a memoryview of the whole blob (uncompressed blobs are then walked
    without copying), or a ``FileSpan``: an uncompressed blob in a file, walked through memory
    maps of a window at a time (no hash of it is made there: ``want_*`` must be False).
    ``keep`` names the files whose bytes the scan keeps (``contents``; None:
    none). ``want_diff_id`` / ``want_digest`` add sha256 of the uncompressed / stored bytes.
    ``pure_python`` skips the compiled walker (the oracle the tests compare it with).
    """
    # The entries (100k+ for a big layer) hold no cycles: the cyclic collector's full passes
    # over them, as they pile up, cost a third of the walk. Other threads may walk too, so it
    # is switched back on only by a walk that switched it off.
    stopped = gc.isenabled()
    if stopped:
        gc.disable()
    try:
        return _scan(blob, keep, want_diff_id, want_digest, progress, pure_python)
    finally:
        if stopped:
            gc.enable()


def _scan(
    blob: IO[bytes] | memoryview | FileSpan,
    keep: KeptFiles | None,
    want_diff_id: bool,
    want_digest: bool,
    progress: Progress | None,
    pure_python: bool,
) -> LayerScan:
    native = None if pure_python else _native.native_walk(keep)
    rule = keep if keep is not None else NOTHING_KEPT
    advance = progress.advance if progress is not None else None
    if isinstance(blob, FileSpan):
        if want_diff_id or want_digest:
            raise ValueError("scan_layer: a FileSpan is walked without hashing it")
        if sniff_compression(os.pread(blob.fd, min(8, blob.size), blob.offset)) != "none":
            raise ValueError("scan_layer: a FileSpan must hold an uncompressed blob")
        mapped = MappedWindow(blob, advance)
        try:
            entries, size, tar_size, kept = walk(memoryview(b""), mapped, rule, native)
            mapped.drain()
        finally:
            mapped.close()
        return LayerScan(entries, size, tar_size, "none", blob.size, None, None, kept)
    if isinstance(blob, memoryview):
        compression = sniff_compression(blob[:8].tobytes())
        if compression == "none":
            entries, size, tar_size, kept = walk(blob, Window(None, None, None), rule, native)
            if advance is not None:
                advance(len(blob))
            hexd = hashlib.sha256(blob).hexdigest() if (want_diff_id or want_digest) else None
            digest = Digest("sha256:" + hexd) if hexd else None
            return LayerScan(
                entries,
                size,
                tar_size,
                compression,
                len(blob),
                digest if want_diff_id else None,
                digest if want_digest else None,
                kept,
            )
        raw_reader: IO[bytes] = MemoryReader(blob)  # type: ignore[assignment]
    else:
        head, raw_reader = peek(blob)
        compression = sniff_compression(head)
    counter = CountingHashingReader(raw_reader, want_digest)
    stream: IO[bytes] = counter  # type: ignore[assignment]
    if compression != "none":  # decompressed on a thread of its own, ahead of the walk
        stream = decompress_ahead(compression, stream)  # type: ignore[assignment]
    sha = BackgroundSha256() if want_diff_id else None
    source = Window(stream, sha, advance if compression == "none" else None)
    try:
        entries, size, tar_size, kept = walk(memoryview(b""), source, rule, native)
        source.drain()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise LayerFormatError(f"corrupt {compression} layer ({describe(exc)})") from exc
    finally:
        if sha is not None and sys.exc_info()[0] is not None:
            sha.abandon()
        if stream is not cast(IO[bytes], counter):
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a broken decompressor must not mask the error
                pass
    if compression != "none" and advance is not None:
        advance(counter.count)
    digest_hex = counter.hexdigest()
    return LayerScan(
        entries,
        size,
        tar_size,
        compression,
        counter.count,
        Digest("sha256:" + sha.hexdigest()) if sha is not None else None,
        Digest("sha256:" + digest_hex) if digest_hex else None,
        kept,
    )
