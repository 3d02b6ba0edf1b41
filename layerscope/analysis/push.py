"""What a push (and a later pull) moves for a layer: its stored blob when that is compressed, else
the gzip size a push would send, estimated from a sample (``Layer.gzip_estimate_bytes``); and
which of the two each figure is, so no estimate passes for a measured size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from layerscope.model import Image, Layer, LayerRecord


class PushSource(Enum):
    """Where a push/pull figure comes from."""

    BLOB = "blob"
    """Measured: the stored (compressed) blob is what a push sends."""
    ESTIMATE = "estimate"
    """Stored uncompressed: the gzip a push would send, estimated from a sample of the layer
    (some of the figure, for a total)."""


@dataclass(frozen=True, slots=True)
class PushCost:
    """Bytes a push sends and a pull fetches."""

    size_bytes: int
    source: PushSource


def cost(compressed: int | None, estimate: int | None) -> PushCost | None:
    """A compressed blob's size when known, else the estimate, else None (unknown)."""
    if compressed is not None:
        return PushCost(compressed, PushSource.BLOB)
    if estimate is not None:
        return PushCost(estimate, PushSource.ESTIMATE)
    return None


def record_cost(layer: LayerRecord) -> PushCost | None:
    """A recorded layer's (its ``compressed_size_bytes`` is None when stored uncompressed)."""
    return cost(layer.compressed_size_bytes, layer.gzip_estimate_bytes)


def layer_cost(layer: Layer) -> PushCost | None:
    """A loaded layer's: an uncompressed blob's own size is not what a push sends."""
    return cost(layer.pushed_blob_bytes, layer.gzip_estimate_bytes)


def total(costs: Iterable[PushCost | None]) -> PushCost | None:
    """The sum; an estimate when any part is one; None when any part is unknown."""
    size = 0
    source = PushSource.BLOB
    for item in costs:
        if item is None:
            return None
        size += item.size_bytes
        if item.source is PushSource.ESTIMATE:
            source = PushSource.ESTIMATE
    return PushCost(size, source)


def image_cost(image: Image) -> PushCost | None:
    """Every layer of an image: what pushing it to an empty registry sends."""
    return total(layer_cost(layer) for layer in image.layers)


__all__ = ["PushCost", "PushSource", "cost", "image_cost", "layer_cost", "record_cost", "total"]
