"""In-memory images for the diff unit tests, and syrupy single-file snapshot extensions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from layerscope.model import Digest, FileEntry, Image, ImageConfig
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry, memory_image, memory_layer
from layerscope.testing.memory import whiteout_entry as wh

__all__ = ["Cli", "L", "copy", "d", "f", "image", "run", "wh"]

Cli = Callable[..., tuple[int, str, str]]
"""``run_cli(*args)`` -> (exit code, stdout, stderr)."""


def f(path: str, size: int = 10, **attrs: Any) -> FileEntry:
    """A regular file, 10 bytes unless told: the diff tests want non-empty files."""
    return file_entry(path, size, **attrs)


def L(
    created_by: str, *entries: FileEntry, diff_id: str | None = None
) -> tuple[str, tuple[FileEntry, ...], str | None]:  # noqa: N802
    """One layer: its created_by, entries and (optionally) an explicit diff_id."""
    return (created_by, entries, diff_id)


def _diff_id(created_by: str, entries: Sequence[FileEntry]) -> Digest:
    text = repr(
        (
            created_by,
            [
                (e.path, e.kind.value, e.size_bytes, e.mode, e.uid, e.mtime, e.content_hash)
                for e in entries
            ],
        )
    )
    return Digest("sha256:" + hashlib.sha256(text.encode()).hexdigest())


def image(
    *layers: tuple[str, tuple[FileEntry, ...], str | None],
    ref: str = "img",
    config: ImageConfig | None = None,
    labels: Sequence[tuple[str, str]] = (),
) -> Image:
    """An image; a layer's diff_id hashes its entries (not its instruction) unless given."""
    built = [
        memory_layer(i, entries, created_by=created_by, diff_id=diff_id or _diff_id("", entries))
        for i, (created_by, entries, diff_id) in enumerate(layers)
    ]
    cfg = config or ImageConfig(labels=tuple(labels))
    named = repr((ref, cfg, [b.diff_id for b in built])).encode()
    return memory_image(
        *built, ref=ref, config=cfg, image_id="sha256:" + hashlib.sha256(named).hexdigest()
    )


def run(body: str) -> str:
    return f"/bin/sh -c {body}"


def copy(seed: str, dest: str) -> str:
    return f"/bin/sh -c #(nop) COPY file:{hashlib.sha256(seed.encode()).hexdigest()} in {dest} "


class TextSnapshot(SingleFileSnapshotExtension):
    """A golden text file (``.txt``)."""

    _write_mode = WriteMode.TEXT
    _file_extension = "txt"


class JsonSnapshot(SingleFileSnapshotExtension):
    """A golden JSON file."""

    _write_mode = WriteMode.TEXT
    _file_extension = "json"


class MarkdownSnapshot(SingleFileSnapshotExtension):
    """A golden Markdown file."""

    _write_mode = WriteMode.TEXT
    _file_extension = "md"
