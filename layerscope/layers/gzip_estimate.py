"""What a layer stored uncompressed would weigh as gzip: estimated from a sample of its bytes.

``docker save`` archives, the engine's export and uncompressed OCI layouts keep layer tars as
they are, so their blob sizes say nothing about what ``docker push`` sends: the engine gzips an
uncompressed layer on the way out with Go's ``compress/gzip`` at its default level, which
``compress/flate`` maps to 6 (moby ``distribution/push_v2.go``, ``compress()``:
``gzip.NewWriter``). This module compresses a sample of the blob with zlib at that level and
scales by the sampled ratio.

The sample is ``CHUNK``-byte chunks spread over the whole blob (tars keep a big file's bytes
together, so the start alone says nothing about the rest), each compressed with the ``WINDOW``
bytes before it as the deflate dictionary: what a whole-stream deflate could refer back to at
that point, so a chunk compresses as it would inside the stream. The chunks are taken in
van der Corput order over ``sample_slots`` equal slices of the blob, so every power-of-two
prefix of them is evenly spaced: the first ``FIRST`` are compressed, then twice as many, and so
on, until the ratio's standard error is within ``TARGET`` of it or the slots run out. A
uniform layer (one big model file, a tree of text) stops after ``FIRST`` chunks; a layer of
small files of every kind takes more. A blob no bigger than ``FIRST`` chunks with their
dictionaries is compressed whole. The cost is measured in benchmarks/README.md; the layer cache
keeps the result, so a layer pays it once.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

GZIP_LEVEL = 6
"""zlib level; Go's ``gzip.DefaultCompression`` (what ``docker push`` uses) is level 6."""
WINDOW = 32 << 10
"""Deflate's window: the dictionary each sampled chunk is compressed with."""
CHUNK = 8 << 10
"""Bytes compressed per sampled chunk."""
GZIP_FRAME_BYTES = 18
"""A gzip member's header (10 bytes, no file name) and trailer (CRC-32 and length, 8 bytes)."""
FIRST = 64
"""Chunks compressed before the first look at the spread of their ratios."""
TARGET = 0.015
"""Stop when the ratio's standard error is at most this share of it."""
SLOT_BYTES = 1 << 20
"""At most one chunk per this many bytes of the blob ..."""
MAX_SLOTS = 256
"""... and at most this many chunks in all."""

ReadAt = Callable[[int, int], bytes]
"""read_at(offset, length) -> the blob's bytes there (fewer only at its end)."""


def compressed_whole(size: int) -> bool:
    """Whether a ``size``-byte blob is compressed whole: sampling would read as much."""
    return size <= FIRST * (CHUNK + WINDOW)


def sample_slots(size: int) -> int:
    """How many slices a sampled blob is cut into: a power of two, ``FIRST`` .. ``MAX_SLOTS``."""
    wanted = max(FIRST, min(MAX_SLOTS, size // SLOT_BYTES))
    return 1 << (wanted.bit_length() - 1)


def _reversed_bits(value: int, bits: int) -> int:
    out = 0
    for _ in range(bits):
        out, value = (out << 1) | (value & 1), value >> 1
    return out


def sample_offsets(size: int) -> tuple[int, ...]:
    """Where the chunks start, in the order they are taken: chunk m sits in the middle of slice
    ``reversed_bits(m)``, so the first 2^k chunks are one per 2^k equal parts of the blob."""
    slots = sample_slots(size)
    bits = slots.bit_length() - 1
    return tuple(
        min(
            size - CHUNK,
            max(0, (2 * _reversed_bits(m, bits) + 1) * size // (2 * slots) - CHUNK // 2),
        )
        for m in range(slots)
    )


def _deflated(data: bytes, dictionary: bytes) -> int:
    """Raw deflate bytes of ``data`` after ``dictionary`` (no header or trailer)."""
    packer = (
        zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15, zdict=dictionary)
        if dictionary
        else zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    )
    return len(packer.compress(data)) + len(packer.flush())


def gzip_size(read_at: ReadAt, size: int, piece: int = 4 << 20) -> int:
    """The exact size of the blob as one gzip member at ``GZIP_LEVEL`` (reads it all)."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    out = 0
    for offset in range(0, size, piece):
        out += len(packer.compress(read_at(offset, min(piece, size - offset))))
    return out + len(packer.flush()) + GZIP_FRAME_BYTES


def _settled(packed: list[int]) -> bool:
    """The ratio's standard error (of the mean of equal-sized chunks) within ``TARGET``."""
    mean = sum(packed) / len(packed)
    if mean <= 0:
        return True
    spread = math.sqrt(sum((p - mean) ** 2 for p in packed) / (len(packed) - 1))
    return spread / math.sqrt(len(packed)) <= TARGET * mean


def estimate_gzip_bytes(read_at: ReadAt, size: int) -> int:
    """The gzip size of a ``size``-byte blob: exact when it is small (``compressed_whole``),
    else the sampled chunks' deflate ratio times ``size``, plus the gzip frame."""
    if compressed_whole(size):
        return gzip_size(read_at, size)
    offsets = sample_offsets(size)
    packed: list[int] = []
    check = FIRST
    for offset in offsets:
        start = max(0, offset - WINDOW)
        data = read_at(start, offset + CHUNK - start)
        packed.append(_deflated(data[offset - start :], data[: offset - start]))
        if len(packed) == check:
            if _settled(packed):
                break
            check *= 2
    return round(size * sum(packed) / (CHUNK * len(packed))) + GZIP_FRAME_BYTES


__all__ = [
    "CHUNK",
    "FIRST",
    "GZIP_LEVEL",
    "WINDOW",
    "compressed_whole",
    "estimate_gzip_bytes",
    "gzip_size",
    "sample_offsets",
    "sample_slots",
]
