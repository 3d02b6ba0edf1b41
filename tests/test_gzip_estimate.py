"""The gzip estimate of a layer stored uncompressed, against the real gzip -6 size of the layer.

Layers of different shapes are written with the project's builder (``layerscope.testing``); the
truth is the whole layer tar compressed here, as one gzip member at level 6 by Python's zlib.
The estimator only sees the bytes it asks for (``read_at``), and the test counts them.

Tolerances (why they are what they are): each sampled chunk is compressed with the 32 KiB
before it as deflate's dictionary, so it compresses as it would inside the stream, except that
it carries a Huffman block header the stream spreads over several chunks' worth of bytes: the
estimate runs about 2% high on text, and a few dozen bytes per chunk high on zero-filled data
(held to 0.4% of the layer's size, not to a share of the ~1000x smaller truth). Uniform layers
(text, random): 4%. Chunks are evenly spread, so a layer whose big files are clustered is sampled
in proportion to its regions, off by about one chunk per region boundary: 6% at 64 chunks. A
layer of small files of every kind is the worst case for sampling: the chunks' ratios spread
widely (coefficient of variation ~0.8), so at 64 chunks the standard error is ~10%: 10%.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Sequence

import pytest

from layerscope.layers.gzip_estimate import (
    CHUNK,
    FIRST,
    GZIP_LEVEL,
    WINDOW,
    compressed_whole,
    estimate_gzip_bytes,
    sample_offsets,
    sample_slots,
)
from layerscope.testing import File, LayerSpec, Synthetic, write_layer

MIB = 1 << 20


def layer_bytes(files: Sequence[File]) -> bytes:
    out = io.BytesIO()
    write_layer(LayerSpec(list(files)), out)
    return out.getvalue()


def text_files(prefix: str, count: int, seed: int, sizes: Sequence[int]) -> list[File]:
    return [
        File(f"/{prefix}/f{i:05d}.py", Synthetic(sizes[i % len(sizes)], f"{seed}-{i}", "text"))
        for i in range(count)
    ]


def shape(name: str) -> bytes:
    """A layer of ~24 MiB, one of the shapes real layers have."""
    if name == "text":  # a source tree / site-packages: many text files of varied sizes
        return layer_bytes(text_files("src", 700, 1, (3_000, 17_000, 40_000, 61_000)))
    if name == "random":  # compressed wheels, media, model weights
        return layer_bytes(
            [File(f"/data/w{i:02d}.bin", Synthetic(600_000, i, "binary")) for i in range(40)]
        )
    if name == "zeros":  # sparse files, preallocated databases
        return layer_bytes([File(f"/var/z{i}", Synthetic(6 * MIB, i, "zeros")) for i in range(4)])
    if name == "clustered":  # small text files, one big model file, more text, a big zero file
        return layer_bytes([
            *text_files("app", 300, 2, (5_000, 30_000)),
            File("/models/weights.bin", Synthetic(8 * MIB, "w", "binary")),
            *text_files("lib", 200, 3, (9_000, 21_000)),
            File("/var/cache.img", Synthetic(5 * MIB, "z", "zeros")),
        ])  # fmt: skip
    if name == "interleaved":  # small files of every kind, mixed (the widest spread per chunk)
        kinds = ("text", "binary", "zeros")
        return layer_bytes(
            [
                File(f"/mix/{i}", Synthetic(4_000 + 13_000 * (i % 5), i, kinds[i % 3]))
                for i in range(900)
            ]
        )
    raise AssertionError(name)


def true_gzip_size(data: bytes) -> int:
    """``gzip -6`` of the whole layer: one gzip member (10-byte header, 8-byte trailer)."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return len(packer.compress(data)) + len(packer.flush())


def reader(data: bytes, seen: list[int]) -> Callable[[int, int], bytes]:
    def read_at(offset: int, length: int) -> bytes:
        seen.append(length)
        return data[offset : offset + length]

    return read_at


TOLERANCE = {"text": 0.04, "random": 0.04, "clustered": 0.06, "interleaved": 0.10}


@pytest.mark.parametrize("name", ["text", "random", "zeros", "clustered", "interleaved"])
def test_estimate_is_close_to_the_real_gzip_size(name: str) -> None:
    data = shape(name)
    truth = true_gzip_size(data)
    seen: list[int] = []
    estimate = estimate_gzip_bytes(reader(data, seen), len(data))
    # a sample, not the layer: at most one chunk and its dictionary per slot
    assert len(seen) <= sample_slots(len(data)) and sum(seen) < len(data) // 4
    assert all(length == CHUNK + WINDOW for length in seen)
    if name == "zeros":
        assert abs(estimate - truth) <= 0.004 * len(data), (estimate, truth)
    else:
        assert abs(estimate - truth) <= TOLERANCE[name] * truth, (estimate, truth, name)


def test_a_small_layer_is_compressed_whole_and_exactly() -> None:
    data = layer_bytes(text_files("s", 20, 7, (5_000, 9_000)))
    assert compressed_whole(len(data))
    seen: list[int] = []
    estimate = estimate_gzip_bytes(reader(data, seen), len(data))
    assert estimate == len(gzip.compress(data, compresslevel=6, mtime=0)) == true_gzip_size(data)
    assert sum(seen) == len(data)


def test_a_uniform_layer_stops_after_the_first_chunks() -> None:
    data = shape("random")
    seen: list[int] = []
    estimate_gzip_bytes(reader(data, seen), len(data))
    assert len(seen) == FIRST


@pytest.mark.parametrize("size", [40 << 20, 3 << 30, 64 << 30])
def test_every_power_of_two_prefix_of_the_chunks_is_evenly_spread(size: int) -> None:
    offsets = sample_offsets(size)
    slots = sample_slots(size)
    assert len(offsets) == slots and len(set(offsets)) == slots
    count = FIRST
    while count <= slots:  # the first `count` chunks: one in each 1/count of the blob
        parts = sorted((o + CHUNK // 2) * count // size for o in offsets[:count])
        assert parts == list(range(count))
        count *= 2


def test_slots_grow_with_the_layer_within_their_bounds() -> None:
    slots = [sample_slots(n) for n in (1 * MIB, 256 * MIB, 1 << 30, 64 << 30)]
    assert slots == sorted(slots) and slots[0] == FIRST
    assert all(n & (n - 1) == 0 for n in slots)  # powers of two
    assert not compressed_whole(FIRST * (CHUNK + WINDOW) + 1)
