"""Deterministic synthetic file content, generated in chunks."""

from __future__ import annotations

import random
from collections.abc import Iterator

from layerscope.testing.spec import Synthetic

CHUNK = 1 << 20


_WORDS: list[bytes] = []
_TEXT_POOL = b""


def _text_pool() -> bytes:
    """A fixed 256 KiB block of seeded pseudo-text (shared by every ``text`` file)."""
    global _TEXT_POOL
    if not _TEXT_POOL:
        rnd = random.Random("layerscope-text-pool")
        letters = "etaoinshrdlucmfwypvbgkjqxz_"
        words = [
            "".join(rnd.choice(letters) for _ in range(rnd.randint(2, 10))).encode()
            for _ in range(700)
        ]
        _WORDS.extend(words)
        seps = [b" ", b" ", b" ", b" ", b", ", b".\n", b"(", b") ", b" = ", b"\n    ", b": "]
        parts: list[bytes] = []
        total = 0
        while total < 256 * 1024:
            w = rnd.choice(words) + rnd.choice(seps)
            parts.append(w)
            total += len(w)
        _TEXT_POOL = b"".join(parts)[: 256 * 1024]
    return _TEXT_POOL


def iter_content(content: bytes | Synthetic) -> Iterator[bytes]:
    """Yield the bytes of a file's content in chunks of at most 1 MiB."""
    if isinstance(content, bytes):
        if content:
            yield content
        return
    remaining = content.size
    if content.kind == "zeros":
        zeros = bytes(min(CHUNK, remaining))
        while remaining > 0:
            n = min(CHUNK, remaining)
            yield zeros[:n]
            remaining -= n
        return
    rnd = random.Random(f"{content.kind}:{content.seed}")
    if content.kind == "binary":
        while remaining > 0:
            n = min(CHUNK, remaining)
            yield rnd.randbytes(n)
            remaining -= n
        return
    pool = _text_pool()
    span = len(pool) - 4096
    while remaining > 0:
        n = min(CHUNK, remaining)
        pieces = []
        got = 0
        while got < n:
            k = min(rnd.randint(200, 4096), n - got)
            off = rnd.randrange(span)
            pieces.append(pool[off : off + k])
            got += k
        yield b"".join(pieces)
        remaining -= n
