"""Assemble an ``Image`` from an image config and what a source found of each layer.

Written once for every source: the archive parser (docker archives, OCI layouts and tars, the
engine's and Podman's exports) and the registry puller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Digest, HistoryEntry, Image, Layer, LayerContents, SourceKind
from .config import align_history, config_platform, history, image_config


@dataclass(frozen=True, slots=True)
class LayerPart:
    """What a source found of one layer: how its blob is stored and what its tar holds."""

    diff_id: Digest
    digest: Digest | None
    media_type: str | None
    compressed_size_bytes: int | None
    contents: LayerContents
    compression: str


def assemble_layers(
    parts: Sequence[LayerPart], per_layer: Sequence[HistoryEntry | None]
) -> tuple[Layer, ...]:
    """The ``Layer``s of ``parts`` in order, each with its history entries (``align_history``)."""
    return tuple(
        Layer(
            index=position,
            diff_id=part.diff_id,
            digest=part.digest,
            media_type=part.media_type,
            compressed_size_bytes=part.compressed_size_bytes,
            size_bytes=part.contents.size_bytes,
            tar_size_bytes=part.contents.tar_size_bytes,
            history=per_layer[position],
            entries=part.contents.entries,
            compression=part.compression,
            contents=part.contents.contents,
            # a compressed blob's size is measured; a cached estimate is for plain copies only
            gzip_estimate_bytes=(
                part.contents.gzip_estimate_bytes if part.compression == "none" else None
            ),
        )
        for position, part in enumerate(parts)
    )


def assemble_image(
    config: dict[str, Any],
    parts: Sequence[LayerPart],
    *,
    ref: str,
    image_id: Digest,
    source: SourceKind,
    repo_tags: tuple[str, ...] = (),
    annotations: tuple[tuple[str, str], ...] = (),
    manifest_digest: Digest | None = None,
) -> Image:
    """The ``Image`` of ``config`` (the parsed config JSON) with these layers, in order."""
    hist = history(config)
    layers = assemble_layers(parts, align_history(hist, len(parts)))
    created = config.get("created")
    return Image(
        ref=ref,
        image_id=image_id,
        platform=config_platform(config),
        created=created if isinstance(created, str) else None,
        config=image_config(config.get("config") or {}),
        history=hist,
        layers=layers,
        repo_tags=repo_tags,
        annotations=annotations,
        source=source,
        manifest_digest=manifest_digest,
    )
