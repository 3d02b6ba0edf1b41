"""Versioned JSON documents (schemas documented in docs/json-schema.md)."""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..analysis import Analysis, WasteReason
from ..analysis.push import image_cost
from ..analysis.suggest import SuggestionReport
from ..model import Image, Layer, chain_ids

INSPECT_SCHEMA_VERSION = 1


def dumps(document: dict[str, Any], *, indent: int | None = 2) -> str:
    """Serialise a document in its key order. NaN is refused: figures that cannot be computed are
    None by construction (design.md). ``indent=None`` uses the C encoder (several times faster
    for documents with 100k items)."""
    return json.dumps(document, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def _suggestions(report: SuggestionReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    from .suggest import suggestion_item

    return {
        "total_saving_bytes": report.total_saving_bytes,
        "items": [suggestion_item(s, with_patch=False) for s in report.suggestions],
    }


def ratio(value: float | None) -> float | None:
    """A ratio for JSON: None when it is not a finite number."""
    return value if value is not None and math.isfinite(value) else None


def _layer_ref(image: Image, index: int) -> dict[str, Any]:
    return {"index": index, "created_by": image.layers[index].created_by}


def _push(image: Image) -> dict[str, Any]:
    """What pushing the image sends: ``blob`` (measured) or ``estimate`` (gzip of layers stored
    uncompressed, from a sample); null when unknown."""
    cost = image_cost(image)
    return {
        "push_bytes": None if cost is None else cost.size_bytes,
        "push_bytes_source": None if cost is None else cost.source.value,
    }


def _reclaimable(analysis: Analysis) -> list[dict[str, Any]]:
    # one layer reference object per layer and one word per reason, shared by every item
    # (tens of thousands on a big image): the encoder writes each occurrence the same
    refs = [_layer_ref(analysis.image, index) for index in range(len(analysis.image.layers))]
    words = {reason: reason.value for reason in WasteReason}
    return [
        {
            "path": item.path,
            "reason": words[item.reason],
            "size_bytes": item.size_bytes,
            "writer": refs[item.writer_layer_index],
            "hider": refs[item.hider_layer_index],
        }
        for item in analysis.waste.items
    ]


def _reclaimable_text(analysis: Analysis) -> str:
    """``json.dumps(_reclaimable(analysis), ensure_ascii=False)``, written item by item from
    encoded parts (the layer references and words once): 3x faster for 20k items than the
    encoder's walk over a dict per item."""
    refs = [
        _encode(_layer_ref(analysis.image, index)) for index in range(len(analysis.image.layers))
    ]
    words = {reason: _encode(reason.value) for reason in WasteReason}
    path_of = json.encoder.encode_basestring  # the encoder's own, for ensure_ascii=False
    return (
        "["
        + ", ".join(
            f'{{"path": {path_of(item.path)}, "reason": {words[item.reason]}, '
            f'"size_bytes": {item.size_bytes}, "writer": {refs[item.writer_layer_index]}, '
            f'"hider": {refs[item.hider_layer_index]}}}'
            for item in analysis.waste.items
        )
        + "]"
    )


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def dumps_inspect(
    analysis: Analysis,
    suggestions: SuggestionReport | None = None,
    *,
    indent: int | None,
    extra: dict[str, Any] | None = None,
) -> str:
    """``dumps`` of ``inspect_document(analysis, suggestions)`` with ``extra``'s keys added at
    its end. Compact (``indent=None``), the reclaimable items are not made into dicts: the
    document is encoded with a placeholder there, then their text (``_reclaimable_text``)
    replaces it; the text is the same."""
    placeholder = None if indent is not None else "\x00" + secrets.token_hex(16)
    document = inspect_document(analysis, suggestions, reclaimable_as=placeholder)
    document.update(extra or {})
    text = dumps(document, indent=indent)
    if placeholder is None:
        return text
    return text.replace(_encode(placeholder), _reclaimable_text(analysis), 1)


def image_summary(analysis: Analysis, *, reclaimable_as: str | None = None) -> dict[str, Any]:
    """The ``image`` object of the inspect document (``reclaimable_as``: a placeholder for the
    reclaimable items, see ``dumps_inspect``)."""
    image = analysis.image
    waste = analysis.waste
    dive = analysis.dive
    base = analysis.base
    return {
        "ref": image.ref,
        "source": image.source,
        "image_id": image.image_id,
        "manifest_digest": image.manifest_digest,
        "platform": str(image.platform),
        "created": image.created,
        "repo_tags": list(image.repo_tags),
        "layer_count": len(image.layers),
        "size_bytes": image.size_bytes,
        "compressed_size_bytes": image.compressed_size_bytes,
        **_push(image),
        "final_fs_bytes": waste.final_fs_bytes,
        "efficiency_ratio": ratio(dive.efficiency_ratio),
        "dive_wasted_bytes": dive.wasted_bytes,
        "dive_user_wasted_ratio": ratio(dive.user_wasted_ratio),
        "reclaimable_bytes": waste.reclaimable_bytes,
        "reclaimable_ratio": ratio(waste.reclaimable_ratio),
        "reclaimable_by_reason": {
            "overwritten": waste.overwritten_bytes,
            "deleted": waste.deleted_bytes,
            "metadata_rewrite": waste.metadata_rewrite_bytes,
            "identical_rewrite": waste.identical_rewrite_bytes,
        },
        "base": {
            "layer_count": base.count,
            "method": base.method.value,
            "base_bytes": base.base_bytes,
            "user_bytes": base.user_bytes,
        },
        "reclaimable": _reclaimable(analysis) if reclaimable_as is None else reclaimable_as,
        "config": {
            "env": list(image.config.env),
            "entrypoint": list(image.config.entrypoint)
            if image.config.entrypoint is not None
            else None,
            "cmd": list(image.config.cmd) if image.config.cmd is not None else None,
            "user": image.config.user,
            "workdir": image.config.workdir,
            "exposed_ports": list(image.config.exposed_ports),
            "volumes": list(image.config.volumes),
            "labels": dict(image.config.labels),
        },
    }


def _layer(analysis: Analysis, layer: Layer, chain_id: str) -> dict[str, Any]:
    changes = analysis.changes[layer.index]
    history = layer.history
    return {
        "index": layer.index,
        "digest": layer.digest,
        "diff_id": layer.diff_id,
        "chain_id": chain_id,
        "media_type": layer.media_type,
        "compression": layer.compression,
        "size_bytes": layer.size_bytes,
        "compressed_size_bytes": layer.compressed_size_bytes,
        "gzip_estimate_bytes": layer.gzip_estimate_bytes,
        "created_by": layer.created_by,
        "created": history.created if history else None,
        "comment": history.comment if history else "",
        "is_base": layer.index < analysis.base.count,
        "entries": len(layer.entries),
        "added": changes.added,
        "modified": changes.modified,
        "removed": changes.removed,
        "reclaimable_bytes": analysis.waste.reclaimable_by_layer[layer.index],
    }


def inspect_document(
    analysis: Analysis,
    suggestions: SuggestionReport | None = None,
    *,
    reclaimable_as: str | None = None,
) -> dict[str, Any]:
    """The ``layerscope inspect --json`` document (``reclaimable_as``: see ``image_summary``)."""
    image = analysis.image
    chains = chain_ids(image.diff_ids)
    layer_of_history: list[int | None] = []
    next_layer = 0
    for entry in image.history:
        if entry.empty_layer or next_layer >= len(image.layers):
            layer_of_history.append(None)
        else:
            layer_of_history.append(next_layer)
            next_layer += 1
    return {
        "schema_version": INSPECT_SCHEMA_VERSION,
        "tool": {"name": "layerscope", "version": __version__},
        "image": image_summary(analysis, reclaimable_as=reclaimable_as),
        "layers": [_layer(analysis, layer, chains[layer.index]) for layer in image.layers],
        "suggestions": _suggestions(suggestions),
        "history": [
            {
                "created_by": entry.created_by,
                "created": entry.created,
                "empty_layer": entry.empty_layer,
                "comment": entry.comment,
                "layer_index": layer_of_history[i],
            }
            for i, entry in enumerate(image.history)
        ],
    }


# Reading back what inspect_document writes (``check --baseline FILE.json``).


@dataclass(frozen=True, slots=True)
class ImageTotals:
    """The totals an inspect document records for its image."""

    size_bytes: int
    compressed_size_bytes: int | None
    layer_count: int


class NotAnInspectDocument(ValueError):
    """Text that is not a ``layerscope inspect --json`` document; the message says why when the
    parser did (empty when the fields are there but of the wrong type)."""


def read_image_totals(text: str) -> ImageTotals:
    """The ``image`` totals of an inspect document (any schema version that has them)."""
    try:
        doc = json.loads(text)
        image = doc["image"]
        size = image["size_bytes"]
        compressed = image.get("compressed_size_bytes")
        count = image["layer_count"]
    except (ValueError, KeyError, TypeError) as exc:
        raise NotAnInspectDocument(str(exc)) from exc
    typed = isinstance(size, int) and isinstance(count, int)
    typed = typed and (compressed is None or isinstance(compressed, int))
    if not typed or "schema_version" not in doc:
        raise NotAnInspectDocument("")
    return ImageTotals(size, compressed, count)
