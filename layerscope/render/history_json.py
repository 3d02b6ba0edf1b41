"""The ``history --json`` document (schema: docs/json-schema.md, "history")."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..analysis.cache import BuildCache, CacheHistory, InstructionTimeline
from ..analysis.push import PushCost
from .json import ratio

HISTORY_SCHEMA_VERSION = 1


def _miss(result: BuildCache) -> dict[str, Any] | None:
    cause = result.cause
    if cause is None:
        return None
    return {
        "reason": cause.reason.value,
        "layer_index": cause.layer_index,
        "instruction": cause.instruction,
        "previous_instruction": cause.previous_instruction,
        "paths": [
            {"path": p.path, "change": p.kind.value, "size_bytes": p.size_bytes}
            for p in cause.paths
        ],
        "rebuilt_layer_indexes": list(result.rebuilt_layers),
        "rebuilt_bytes": result.rebuilt_bytes,
        "rebuilt_compressed_bytes": result.rebuilt_compressed_bytes,
        "rebuilt_seconds": result.rebuilt_seconds,
        **_push(result.rebuilt_push_cost),
        "rebuilt_layers": [{"index": index, **_push(cost)} for index, cost in result.rebuilt_push],
    }


def _push(cost: PushCost | None) -> dict[str, Any]:
    """``push_bytes`` and where it comes from: ``blob`` (measured) or ``estimate`` (gzip of a
    layer stored uncompressed, from a sample); both null when unknown."""
    return {
        "push_bytes": None if cost is None else cost.size_bytes,
        "push_bytes_source": None if cost is None else cost.source.value,
    }


def _build(result: BuildCache) -> dict[str, Any]:
    build = result.build
    return {
        "position": result.position,
        "repository": build.repository,
        "tag": build.tag,
        "image_id": build.image_id,
        "created": build.created,
        "ref": build.ref,
        "size_bytes": build.size_bytes,
        "compressed_size_bytes": build.compressed_size_bytes,
        "layer_count": build.layer_count,
        "hit_count": result.hit_count,
        "hit_ratio": ratio(result.hit_ratio),
        "has_build_log": build.has_build_log,
        "layers": [
            {
                "index": layer.index,
                "diff_id": layer.diff_id,
                "chain_id": layer.chain_id,
                "size_bytes": layer.size_bytes,
                "compressed_size_bytes": layer.compressed_size_bytes,
                "gzip_estimate_bytes": layer.gzip_estimate_bytes,
                "instruction": layer.instruction,
                "is_base": layer.is_base,
                "hit": None if result.hits is None else result.hits[layer.index],
                "log_cached": layer.log_cached,
                "log_duration_seconds": layer.log_duration_seconds,
                "log_disagrees": layer.index in result.log_disagreements,
            }
            for layer in build.layers
        ],
        "miss": _miss(result),
    }


def _instruction(item: InstructionTimeline) -> dict[str, Any]:
    return {
        "index": item.index,
        "instruction": item.instruction,
        "timeline": [state.value for state in item.states],
        "hits": item.hits,
        "misses": item.misses,
        "miss_rate": ratio(item.miss_rate),
    }


def history_document(history: CacheHistory, *, repository: str | None) -> dict[str, Any]:
    """The JSON document of ``layerscope history``."""
    return {
        "schema_version": HISTORY_SCHEMA_VERSION,
        "tool": {"name": "layerscope", "version": __version__},
        "repository": repository,
        "builds": [_build(result) for result in history.builds],
        "instructions": [_instruction(item) for item in history.instructions],
    }


__all__ = ["HISTORY_SCHEMA_VERSION", "history_document"]
