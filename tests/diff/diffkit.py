"""In-memory images for the diff unit tests, and syrupy single-file snapshot extensions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from layerscope.model import (
    Digest,
    EntryKind,
    FileEntry,
    HistoryEntry,
    Image,
    ImageConfig,
    Layer,
    Platform,
)
from tests.analysis.imagekit import d, wh
from tests.analysis.imagekit import f as file_entry

Cli = Callable[..., tuple[int, str, str]]
"""``run_cli(*args)`` -> (exit code, stdout, stderr)."""


def f(path: str, size: int = 10, **attrs: Any) -> FileEntry:
    """A regular file (imagekit's, 10 bytes unless told): the diff tests want non-empty files."""
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
    built = []
    for i, (created_by, entries, diff_id) in enumerate(layers):
        built.append(
            Layer(
                index=i,
                diff_id=Digest(diff_id) if diff_id else _diff_id("", entries),
                digest=None,
                media_type=None,
                compressed_size_bytes=None,
                size_bytes=sum(e.size_bytes for e in entries if e.kind is EntryKind.FILE),
                tar_size_bytes=0,
                history=HistoryEntry(created_by=created_by),
                entries=tuple(entries),
            )
        )
    cfg = config or ImageConfig(labels=tuple(labels))
    return Image(
        ref=ref,
        image_id=Digest(
            "sha256:"
            + hashlib.sha256(repr((ref, cfg, [b.diff_id for b in built])).encode()).hexdigest()
        ),
        platform=Platform("linux", "amd64"),
        created=None,
        config=cfg,
        history=tuple(b.history for b in built if b.history is not None),
        layers=tuple(built),
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
