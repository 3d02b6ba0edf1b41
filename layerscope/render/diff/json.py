"""The ``layerscope diff --json`` document (schema in docs/json-schema.md, "diff")."""

from __future__ import annotations

from typing import Any

from ... import __version__
from ...analysis.align import PairStatus
from ...analysis.diff import FileCounts, FileDiff, ImageDiff, PairDiff
from ...analysis.package_index import Package, PackageChange, PackageChangeKind
from ...model import FileEntry, Image, Layer

DIFF_SCHEMA_VERSION = 1


def _image(image: Image, final_fs_bytes: int) -> dict[str, Any]:
    return {
        "ref": image.ref,
        "source": image.source,
        "image_id": image.image_id,
        "manifest_digest": image.manifest_digest,
        "platform": str(image.platform),
        "created": image.created,
        "layer_count": len(image.layers),
        "size_bytes": image.size_bytes,
        "compressed_size_bytes": image.compressed_size_bytes,
        "final_fs_bytes": final_fs_bytes,
    }


def _counts(counts: FileCounts) -> dict[str, int]:
    return {
        "added": counts.added,
        "removed": counts.removed,
        "content": counts.content,
        "metadata": counts.metadata,
        "timestamp": counts.timestamp,
        "added_bytes": counts.added_bytes,
        "removed_bytes": counts.removed_bytes,
        "size_delta_bytes": counts.size_delta_bytes,
    }


def _entry(entry: FileEntry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "kind": entry.kind.value,
        "size_bytes": entry.size_bytes,
        "mode": f"{entry.mode:04o}",
        "uid": entry.uid,
        "gid": entry.gid,
        "mtime": entry.mtime,
        "link_target": entry.link_target,
        "content_hash": entry.content_hash,
    }


def _file(change: FileDiff) -> dict[str, Any]:
    return {
        "path": change.path,
        "change": change.kind.value,
        "size_delta_bytes": change.size_delta_bytes,
        "old": _entry(change.old),
        "new": _entry(change.new),
        "old_layer_index": change.old_layer_index,
        "new_layer_index": change.new_layer_index,
        "pair_index": change.pair_index,
    }


def _layer(layer: Layer | None) -> dict[str, Any] | None:
    if layer is None:
        return None
    return {
        "index": layer.index,
        "diff_id": layer.diff_id,
        "created_by": layer.created_by,
        "size_bytes": layer.size_bytes,
        "compressed_size_bytes": layer.compressed_size_bytes,
    }


def _pair(diff: ImageDiff, index: int, item: PairDiff) -> dict[str, Any]:
    pair = item.pair
    old = diff.old.layers[pair.old_index] if pair.old_index is not None else None
    new = diff.new.layers[pair.new_index] if pair.new_index is not None else None
    return {
        "index": index,
        "status": pair.status.value,
        "old": _layer(old),
        "new": _layer(new),
        "similarity_ratio": pair.similarity_ratio,
        "same_instruction": pair.same_instruction,
        "size_delta_bytes": item.size_delta_bytes,
        "compressed_size_delta_bytes": item.compressed_delta_bytes,
        "files": _counts(item.counts),
        "changes": [_file(change) for change in item.files],
    }


def _package(package: Package | None) -> dict[str, Any] | None:
    if package is None:
        return None
    return {
        "version": package.version,
        "architecture": package.architecture,
        "location": package.location,
        "size_bytes": package.size_bytes,
        "size_source": package.size_source,
        "layer_index": package.layer_index,
    }


def _package_change(change: PackageChange, pair_index: int) -> dict[str, Any]:
    return {
        "ecosystem": change.ecosystem,
        "name": change.name,
        "change": change.kind.value,
        "old": _package(change.old),
        "new": _package(change.new),
        "size_delta_bytes": change.size_delta_bytes,
        "pair_index": pair_index,
    }


def diff_document(diff: ImageDiff) -> dict[str, Any]:
    """The ``layerscope diff --json`` document."""
    alignment = diff.alignment
    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "tool": {"name": "layerscope", "version": __version__},
        "semantic": diff.semantic,
        "differs": diff.differs,
        "old": _image(diff.old, diff.old_final_fs_bytes),
        "new": _image(diff.new, diff.new_final_fs_bytes),
        "summary": {
            "size_delta_bytes": diff.size_delta_bytes,
            "compressed_size_delta_bytes": diff.compressed_delta_bytes,
            "final_fs_delta_bytes": diff.new_final_fs_bytes - diff.old_final_fs_bytes,
            "layers": {status.value: alignment.count(status) for status in PairStatus},
            "files": _counts(diff.counts),
            "packages": {
                kind.value: sum(1 for change in diff.packages if change.kind is kind)
                for kind in PackageChangeKind
            },
            "config_changes": len(diff.config),
        },
        "layers": {
            "shared_count": alignment.shared_count,
            "pairs": [_pair(diff, i, item) for i, item in enumerate(diff.pairs)],
        },
        "files": [_file(change) for change in diff.files],
        "config": [
            {
                "field": change.field,
                "key": change.key,
                "old": list(change.old) if isinstance(change.old, tuple) else change.old,
                "new": list(change.new) if isinstance(change.new, tuple) else change.new,
            }
            for change in diff.config
        ],
        "packages": [
            _package_change(change, pair)
            for change, pair in zip(diff.packages, diff.package_pairs, strict=True)
        ],
    }
