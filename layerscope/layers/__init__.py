"""Stream one layer blob: sniff its compression, walk its tar headers, hash file contents.

Nothing is extracted and nothing is written. The walker is our own (``tarfile`` costs about 2 s per
100k entries): it reads 512-byte headers from a buffer and feeds file contents to xxh3 without
copying when the blob is an uncompressed slice of a memory-mapped archive. Its hot loop is
compiled when a C compiler was there at install time (``native.py``); the pure-Python walk is
its definition.

Modules: ``compression`` (sniffing, decompressors), ``streams`` (counting, hashing, peeked
streams), ``window`` (the walker's view of the stream), ``headers`` (tar header fields),
``walk`` (the loop: the common case only), ``filedata`` (file data the loop does not hash
inline), ``rare`` (PAX, long names, sparse files, devices, whiteouts, hard links), ``native``
(the compiled loop), ``scan`` (``scan_layer`` and its result) and ``gzip_estimate`` (the gzip
size of a blob stored uncompressed, from a sample).
"""

from __future__ import annotations

from .compression import decompressor, sniff_compression
from .gzip_estimate import estimate_gzip_bytes
from .native import NATIVE_WALK
from .scan import LayerScan, scan_layer
from .streams import BackgroundSha256, prefixed
from .window import FileSpan

__all__ = [
    "BackgroundSha256",
    "FileSpan",
    "LayerScan",
    "NATIVE_WALK",
    "decompressor",
    "estimate_gzip_bytes",
    "prefixed",
    "scan_layer",
    "sniff_compression",
]
