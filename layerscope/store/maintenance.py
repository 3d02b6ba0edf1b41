"""``cache info`` and ``cache prune`` over the layer index and the blob cache together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .blob_cache import BlobCache, BlobCacheInfo, BlobPruneResult
from .layer_cache import LayerCache, LayerCacheInfo, LayerPruneResult


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Everything ``layerscope cache info`` reports."""

    layers: LayerCacheInfo
    blobs: BlobCacheInfo

    @property
    def disk_bytes(self) -> int:
        return self.layers.disk_bytes + self.blobs.blob_bytes


@dataclass(frozen=True, slots=True)
class PruneResult:
    """Everything ``layerscope cache prune`` removed."""

    layers: LayerPruneResult
    blobs: BlobPruneResult

    @property
    def bytes_freed(self) -> int:
        return self.layers.bytes_freed + self.blobs.bytes_freed


def cache_info(layer_cache: LayerCache, blob_cache: BlobCache) -> CacheInfo:
    """Sizes, counts and use times of both caches."""
    return CacheInfo(layer_cache.info(), blob_cache.info())


def prune_cache(
    layer_cache: LayerCache,
    blob_cache: BlobCache,
    older_than: timedelta | None = None,
    *,
    now: float | None = None,
) -> PruneResult:
    """Remove layers and blobs unused for longer than ``older_than`` (None: everything)."""
    return PruneResult(
        layer_cache.prune(older_than, now=now), blob_cache.prune(older_than, now=now)
    )


__all__ = ["CacheInfo", "PruneResult", "cache_info", "prune_cache"]
