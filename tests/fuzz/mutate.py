"""A small deterministic mutator (the suite's fixed-seed stand-in for libFuzzer's)."""

from __future__ import annotations

import random
from collections.abc import Iterator

INTERESTING = (
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"0",
    b"9",
    b"-1",
    b"\n",
    b"..",
    b"/",
    b"4294967296",
    b"99999999999999999999",
    b'"',
    b"{",
    b"[",
    b"}",
    b"]",
    b"=",
)


def mutate(data: bytes, rng: random.Random, corpus: list[bytes], max_len: int = 1 << 16) -> bytes:
    """One to four edits: flip, set, insert, delete, cut, duplicate, splice, interesting bytes."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        at = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif op == 2:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            del out[at : at + rng.randint(1, 64)]
        elif op == 4:
            del out[at:]
        elif op == 5 and out:
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 256)]
        elif op == 6:
            other = rng.choice(corpus)
            cut = rng.randrange(len(other) + 1)
            out = out[:at] + bytearray(other[cut:])
        else:
            token = rng.choice(INTERESTING)
            out[at : at + len(token)] = token
    return bytes(out[:max_len])


def cases(seeds: list[bytes], count: int, seed: int) -> Iterator[bytes]:
    """The seeds themselves, then ``count`` mutants (each of a seed or of an earlier mutant)."""
    rng = random.Random(seed)
    pool = list(seeds) or [b""]
    yield from pool
    for _ in range(count):
        parent = rng.choice(pool)
        child = mutate(parent, rng, pool)
        if len(pool) < 256 and rng.random() < 0.2:
            pool.append(child)
        yield child
