"""The store: layerscope's SQLite layer index cache and its content-addressed blob cache.

``LayerCache`` implements ``model.LayerIndex``; ``BlobCache`` keeps verified blobs
(``--keep-blobs``); ``cache_info``/``prune_cache`` serve ``layerscope cache info|prune``;
``rebuild_image`` turns a recorded build back into an ``Image`` from the layer cache.
"""

from __future__ import annotations

from .blob_cache import BlobCache, BlobCacheInfo, BlobPruneResult, BlobWriter
from .codec import ENCODING_VERSION, decode_entries, encode_entries
from .db import DB_FILENAME, MIGRATIONS, Database, Migration, default_path
from .layer_cache import LayerCache, LayerCacheInfo, LayerPruneResult
from .maintenance import CacheInfo, PruneResult, cache_info, prune_cache
from .rebuild import rebuild_image

__all__ = [
    "BlobCache",
    "BlobCacheInfo",
    "BlobPruneResult",
    "BlobWriter",
    "CacheInfo",
    "DB_FILENAME",
    "Database",
    "ENCODING_VERSION",
    "LayerCache",
    "LayerCacheInfo",
    "LayerPruneResult",
    "MIGRATIONS",
    "Migration",
    "PruneResult",
    "cache_info",
    "decode_entries",
    "default_path",
    "encode_entries",
    "prune_cache",
    "rebuild_image",
]
