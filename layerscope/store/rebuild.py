"""An ``Image`` rebuilt from a recorded build and the layer cache (no source is read)."""

from __future__ import annotations

from ..model import BuildRecord, HistoryEntry, Image, ImageConfig, Layer, LayerIndex, Platform


def rebuild_image(build: BuildRecord, layers: LayerIndex) -> Image | None:
    """The image of a recorded build, each layer's files from ``layers`` (the layer cache);
    None when a layer of it is no longer there. The platform, config and digests were not
    recorded: the image serves comparisons of files and instructions, not a report."""
    rebuilt = []
    for record in build.layers:
        contents = layers.get(record.diff_id)
        if contents is None:
            return None
        rebuilt.append(
            Layer(
                index=record.index,
                diff_id=record.diff_id,
                digest=None,
                media_type=None,
                compressed_size_bytes=record.compressed_size_bytes,
                size_bytes=contents.size_bytes,
                tar_size_bytes=contents.tar_size_bytes,
                history=HistoryEntry(created_by=record.created_by),
                entries=contents.entries,
                contents=contents.contents,
                gzip_estimate_bytes=record.gzip_estimate_bytes,
            )
        )
    return Image(
        ref=build.ref,
        image_id=build.image_id,
        platform=Platform("linux", "unknown"),
        created=build.created,
        config=ImageConfig(),
        history=tuple(layer.history for layer in rebuilt if layer.history is not None),
        layers=tuple(rebuilt),
    )
