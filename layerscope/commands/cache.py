"""``layerscope cache info|prune``: the layer index cache and the blob cache."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta
from typing import Any

from ..errors import UsageError
from .common import Background, Streams, add_output_options, emit

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s`` -> timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"--older-than: {text!r} is not a duration like 30d, 12h, 90m or 2w")
    return timedelta(**{_UNIT[match.group(2)]: float(match.group(1))})


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``cache info`` and ``cache prune``."""
    parser = sub.add_parser(
        "cache",
        help="show or prune the layer index cache",
        description=(
            "layerscope keeps the file index of every layer it has read, keyed by diff_id, in "
            "an SQLite database in its cache directory (LAYERSCOPE_CACHE_DIR), so a layer is "
            "read once however many images share it; --keep-blobs also keeps verified "
            "registry blobs there. The stored layer indexes are kept under "
            "LAYERSCOPE_CACHE_MAX (default 2GB; e.g. 500MB, 0 for no bound): beyond it the "
            "least recently used layers are dropped."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    info = actions.add_parser("info", help="where the cache is, how big, how many layers")
    add_output_options(info, ("text", "json"))
    prune = actions.add_parser("prune", help="remove cached layers and blobs")
    prune.add_argument(
        "--older-than",
        metavar="AGE",
        help="only those unused for longer than AGE (e.g. 30d, 12h); default: everything",
    )
    add_output_options(prune, ("text", "json"))


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def run(args: argparse.Namespace, streams: Streams, background: Background) -> int:
    """Report or prune (reads no image: ``background`` stays empty)."""
    from ..render.json import dumps
    from ..render.text import size
    from ..store import BlobCache, LayerCache, cache_info, prune_cache

    with LayerCache() as layers:
        blobs = BlobCache()
        if args.action == "info":
            info = cache_info(layers, blobs)
            doc: dict[str, Any] = {
                "schema_version": 1,
                "path": str(info.layers.path),
                "disk_bytes": info.disk_bytes,
                "layers": {
                    "count": info.layers.layer_count,
                    "entries": info.layers.entry_count,
                    "disk_bytes": info.layers.disk_bytes,
                    "oldest_used_at": _when(info.layers.oldest_used_at),
                    "newest_used_at": _when(info.layers.newest_used_at),
                },
                "blobs": {
                    "path": str(info.blobs.path),
                    "count": info.blobs.blob_count,
                    "bytes": info.blobs.blob_bytes,
                },
            }
            text = (
                f"Layer index cache  {doc['path']}\n"
                f"  {info.layers.layer_count} layers, {info.layers.entry_count} file entries, "
                f"{size(info.layers.disk_bytes)} on disk\n"
                f"  last used between {_when(info.layers.oldest_used_at) or '-'} and "
                f"{_when(info.layers.newest_used_at) or '-'}\n"
                f"Blob cache         {info.blobs.path}\n"
                f"  {info.blobs.blob_count} blobs, {size(info.blobs.blob_bytes)}\n"
            )
        else:
            older = parse_duration(args.older_than) if args.older_than else None
            result = prune_cache(layers, blobs, older)
            doc = {
                "schema_version": 1,
                "older_than_seconds": older.total_seconds() if older else None,
                "layers_removed": result.layers.layer_count,
                "entries_removed": result.layers.entry_count,
                "blobs_removed": result.blobs.blob_count,
                "bytes_freed": result.bytes_freed,
            }
            scope = f"unused for more than {args.older_than}" if older else "all"
            text = (
                f"Pruned {scope}: {result.layers.layer_count} layers "
                f"({result.layers.entry_count} file entries), {result.blobs.blob_count} blobs; "
                f"{size(result.bytes_freed)} freed\n"
            )
        for note in layers.warnings:
            print(f"layerscope: warning: {note}", file=streams.err)
    emit(dumps(doc) if args.format == "json" else text, args.output, streams.out)
    return 0
