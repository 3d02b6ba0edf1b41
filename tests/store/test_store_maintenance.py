"""cache_info / prune_cache see the layer index and the blob cache together."""

from __future__ import annotations

import hashlib
from pathlib import Path

from storekit import contents_of, diff_id, realistic_entries

from layerscope.model import Digest
from layerscope.store import BlobCache, LayerCache, cache_info, prune_cache


def test_info_and_prune_cover_both_caches(tmp_path: Path) -> None:
    layers = LayerCache(tmp_path / "layerscope.sqlite3")
    blobs = BlobCache(tmp_path)
    layers.put(diff_id(1), contents_of(realistic_entries(7)))
    blob = b"x" * 1234
    with blobs.writer(Digest("sha256:" + hashlib.sha256(blob).hexdigest())) as sink:
        sink.write(blob)
    info = cache_info(layers, blobs)
    assert (info.layers.layer_count, info.layers.entry_count) == (1, 7)
    assert (info.blobs.blob_count, info.blobs.blob_bytes) == (1, 1234)
    assert info.disk_bytes == info.layers.disk_bytes + 1234
    result = prune_cache(layers, blobs, None)
    assert result.layers.layer_count == 1 and result.blobs.blob_count == 1
    assert result.bytes_freed == result.layers.bytes_freed + 1234
    assert cache_info(layers, blobs).layers.layer_count == 0
