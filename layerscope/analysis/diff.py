"""Differences between two images: aligned layers, files, config and packages.

File changes are reported three ways apart: content (kind, size, hash, link target), metadata
only (mode, owner, xattrs) and timestamp only (mtime). With ``semantic`` the timestamp-only
changes, image and history timestamps are ignored, as diffoci's ``--semantic`` does.

Every file change is attributed to one aligned layer pair: the latest pair among the layers
that wrote or hid the path on either side (the later event decides the outcome).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from layerscope.analysis.align import Alignment, LayerPair, PairStatus, align_layers
from layerscope.analysis.base import base_reference_from_labels
from layerscope.analysis.package_index import (
    PackageChange,
    PackageKey,
    diff_packages,
    find_packages,
)
from layerscope.model import EntryKind, FileEntry, Image, ImageConfig, Layer
from layerscope.tree import FsSnapshot, LayerStack, stack_layers

__all__ = [
    "FileChangeKind",
    "FileDiff",
    "FileCounts",
    "PairDiff",
    "ConfigChange",
    "ImageDiff",
    "diff_images",
    "diff_configs",
]


class FileChangeKind(Enum):
    """How a path differs between the two sides."""

    ADDED = "added"
    REMOVED = "removed"
    CONTENT = "content"
    """Kind, size, content hash, link target or device differ."""
    METADATA = "metadata"
    """Same content; mode, owner or xattrs differ."""
    TIMESTAMP = "timestamp"
    """Same content and metadata; only the mtime differs (or, for a ``.pyc``, only the
    header that embeds the source's mtime and size)."""


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One path that differs."""

    path: str
    kind: FileChangeKind
    old: FileEntry | None
    new: FileEntry | None
    old_layer_index: int | None
    """The old image's layer that wrote the old version (final-filesystem diffs)."""
    new_layer_index: int | None
    """The new image's layer that wrote the new version (final-filesystem diffs)."""
    pair_index: int | None
    """The aligned pair the change is attributed to (index into ``Alignment.pairs``)."""

    @property
    def size_delta_bytes(self) -> int:
        new = self.new.size_bytes if self.new else 0
        old = self.old.size_bytes if self.old else 0
        return new - old


@dataclass(frozen=True, slots=True)
class FileCounts:
    """Tallies of a list of file changes."""

    added: int = 0
    removed: int = 0
    content: int = 0
    metadata: int = 0
    timestamp: int = 0
    added_bytes: int = 0
    removed_bytes: int = 0
    size_delta_bytes: int = 0
    """Bytes after minus bytes before, over every change."""

    @property
    def total(self) -> int:
        return self.added + self.removed + self.content + self.metadata + self.timestamp


def _count(changes: tuple[FileDiff, ...]) -> FileCounts:
    tally = dict.fromkeys(FileChangeKind, 0)
    added_bytes = removed_bytes = delta = 0
    for change in changes:
        tally[change.kind] += 1
        delta += change.size_delta_bytes
        if change.kind is FileChangeKind.ADDED and change.new is not None:
            added_bytes += change.new.size_bytes
        elif change.kind is FileChangeKind.REMOVED and change.old is not None:
            removed_bytes += change.old.size_bytes
    return FileCounts(
        tally[FileChangeKind.ADDED],
        tally[FileChangeKind.REMOVED],
        tally[FileChangeKind.CONTENT],
        tally[FileChangeKind.METADATA],
        tally[FileChangeKind.TIMESTAMP],
        added_bytes,
        removed_bytes,
        delta,
    )


@dataclass(frozen=True, slots=True)
class PairDiff:
    """What differs between the two layers of an aligned pair (what each layer's tar holds)."""

    pair: LayerPair
    files: tuple[FileDiff, ...]
    counts: FileCounts
    size_delta_bytes: int
    """New layer size minus old layer size (a missing side counts 0)."""
    compressed_delta_bytes: int | None


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One config field (or one key of env / labels) that differs; None = absent."""

    field: str
    key: str | None
    old: str | tuple[str, ...] | None
    new: str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class ImageDiff:
    """Everything that differs between ``old`` and ``new``."""

    old: Image
    new: Image
    semantic: bool
    alignment: Alignment
    pairs: tuple[PairDiff, ...]
    """One per aligned pair, same order."""
    files: tuple[FileDiff, ...]
    """Final-filesystem changes, sorted by path."""
    counts: FileCounts
    config: tuple[ConfigChange, ...]
    packages: tuple[PackageChange, ...]
    package_pairs: tuple[int, ...]
    """For each package change, the aligned pair it is attributed to."""
    old_final_fs_bytes: int
    new_final_fs_bytes: int

    @property
    def size_delta_bytes(self) -> int:
        return self.new.size_bytes - self.old.size_bytes

    @property
    def compressed_delta_bytes(self) -> int | None:
        old, new = self.old.compressed_size_bytes, self.new.compressed_size_bytes
        return None if old is None or new is None else new - old

    @property
    def differs(self) -> bool:
        """True when the images differ (ignoring build noise when ``semantic``)."""
        if self.files or self.config or self.packages:
            return True
        if self.semantic:
            return False
        return self.old.image_id != self.new.image_id or self.old.diff_ids != self.new.diff_ids


def _compare(old: FileEntry, new: FileEntry) -> FileChangeKind | None:
    content_same = old.same_content(new)
    # A .pyc whose bytes differ only in its header (the source's mtime and size) is a
    # timestamp-only change: build noise that --semantic drops.
    if not content_same and not old.only_header_differs(new):
        return FileChangeKind.CONTENT
    if not old.same_metadata(new):
        return FileChangeKind.METADATA
    if old.mtime != new.mtime or not content_same:
        return FileChangeKind.TIMESTAMP
    return None


def _keep(
    kind: FileChangeKind, old: FileEntry | None, new: FileEntry | None, semantic: bool
) -> bool:
    """Directories count only for mode/owner changes; timestamps not at all when semantic."""
    if kind is FileChangeKind.TIMESTAMP and semantic:
        return False
    sides = [side for side in (old, new) if side is not None]
    if all(side.kind is EntryKind.DIR for side in sides):
        return kind is FileChangeKind.METADATA
    return True


def _last_removals(stack: LayerStack) -> dict[str, int]:
    out: dict[str, int] = {}
    for applied in stack.applied:
        for removal in applied.removed:
            out[removal.path] = applied.layer_index
    return out


def _final_files(
    old_fs: FsSnapshot,
    new_fs: FsSnapshot,
    old_stack: LayerStack,
    new_stack: LayerStack,
    alignment: Alignment,
    semantic: bool,
) -> tuple[FileDiff, ...]:
    pair_old, pair_new = alignment.pair_of_old(), alignment.pair_of_new()
    old_removed: dict[str, int] | None = None
    new_removed: dict[str, int] | None = None
    out: list[FileDiff] = []
    for path in sorted(old_fs.keys() | new_fs.keys()):
        a, b = old_fs.get(path), new_fs.get(path)
        if a is not None and a.implicit:
            a = None
        if b is not None and b.implicit:
            b = None
        candidates: list[int] = []
        if a is not None and b is not None:
            kind = _compare(a.entry, b.entry)
            if kind is None:
                continue
            candidates = [pair_old[a.layer_index], pair_new[b.layer_index]]
        elif b is not None:
            kind = FileChangeKind.ADDED
            if old_removed is None:
                old_removed = _last_removals(old_stack)
            candidates = [pair_new[b.layer_index]]
            if path in old_removed:
                candidates.append(pair_old[old_removed[path]])
        elif a is not None:
            kind = FileChangeKind.REMOVED
            if new_removed is None:
                new_removed = _last_removals(new_stack)
            candidates = [pair_old[a.layer_index]]
            if path in new_removed:
                candidates.append(pair_new[new_removed[path]])
        else:
            continue
        old_entry = a.entry if a is not None else None
        new_entry = b.entry if b is not None else None
        if not _keep(kind, old_entry, new_entry, semantic):
            continue
        out.append(
            FileDiff(
                path,
                kind,
                old_entry,
                new_entry,
                a.layer_index if a is not None else None,
                b.layer_index if b is not None else None,
                max(candidates),
            )
        )
    return tuple(out)


def _layer_files(
    old: Layer | None, new: Layer | None, pair_index: int, semantic: bool
) -> tuple[FileDiff, ...]:
    def keyed(layer: Layer | None) -> dict[tuple[str, bool], FileEntry]:
        return {(e.path, e.is_marker): e for e in layer.entries} if layer is not None else {}

    before, after = keyed(old), keyed(new)
    old_index = old.index if old is not None else None
    new_index = new.index if new is not None else None
    out: list[FileDiff] = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a is not None and b is not None:
            kind = _compare(a, b)
            if kind is None:
                continue
        else:
            kind = FileChangeKind.ADDED if b is not None else FileChangeKind.REMOVED
        if _keep(kind, a, b, semantic):
            out.append(FileDiff(key[0], kind, a, b, old_index, new_index, pair_index))
    return tuple(out)


def _pair_diff(old: Image, new: Image, index: int, pair: LayerPair, semantic: bool) -> PairDiff:
    a = old.layers[pair.old_index] if pair.old_index is not None else None
    b = new.layers[pair.new_index] if pair.new_index is not None else None
    if pair.status in (PairStatus.SHARED, PairStatus.IDENTICAL):
        files: tuple[FileDiff, ...] = ()  # same diff_id: same tar, nothing to read or compare
    else:
        files = _layer_files(a, b, index, semantic)
    size = (b.size_bytes if b else 0) - (a.size_bytes if a else 0)
    old_stored = a.compressed_size_bytes if a is not None else 0
    new_stored = b.compressed_size_bytes if b is not None else 0
    compressed = None if old_stored is None or new_stored is None else new_stored - old_stored
    return PairDiff(pair, files, _count(files), size, compressed)


def _join(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return tuple(values) if values is not None else None


def _env(config: ImageConfig) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in config.env:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def diff_configs(old: Image, new: Image) -> tuple[ConfigChange, ...]:
    """Config fields that differ: env and labels per key, the rest as whole values."""
    a, b = old.config, new.config
    out: list[ConfigChange] = []
    for name, before, after in (("env", _env(a), _env(b)), ("labels", a.label_map, b.label_map)):
        for key in sorted(before.keys() | after.keys()):
            if before.get(key) != after.get(key):
                out.append(ConfigChange(name, key, before.get(key), after.get(key)))
    scalars: tuple[tuple[str, str | tuple[str, ...] | None, str | tuple[str, ...] | None], ...] = (
        ("entrypoint", _join(a.entrypoint), _join(b.entrypoint)),
        ("cmd", _join(a.cmd), _join(b.cmd)),
        ("user", a.user, b.user),
        ("workdir", a.workdir, b.workdir),
        ("exposed_ports", tuple(sorted(a.exposed_ports)), tuple(sorted(b.exposed_ports))),
        ("volumes", tuple(sorted(a.volumes)), tuple(sorted(b.volumes))),
        ("stop_signal", a.stop_signal, b.stop_signal),
        ("base_image", base_reference_from_labels(old), base_reference_from_labels(new)),
        ("platform", str(old.platform), str(new.platform)),
    )
    for name, x, y in scalars:
        if x != y:
            out.append(ConfigChange(name, None, x, y))
    return tuple(out)


def _fs_bytes(snapshot: FsSnapshot) -> int:
    return sum(
        node.entry.size_bytes for node in snapshot.values() if node.entry.kind is EntryKind.FILE
    )


def _package_pairs(
    changes: tuple[PackageChange, ...], alignment: Alignment, new_removed: dict[PackageKey, int]
) -> tuple[int, ...]:
    """For each package change, the aligned pair it is attributed to."""
    pair_old, pair_new = alignment.pair_of_old(), alignment.pair_of_new()
    out: list[int] = []
    for change in changes:
        candidates: list[int] = []
        if change.old is not None:
            candidates.append(pair_old[change.old.layer_index])
            if change.new is None and change.old.key in new_removed:
                candidates.append(pair_new[new_removed[change.old.key]])
        if change.new is not None:
            candidates.append(pair_new[change.new.layer_index])
        out.append(max(candidates))
    return tuple(out)


def diff_images(old: Image, new: Image, *, semantic: bool = False) -> ImageDiff:
    """Compare two loaded images (no layer is read again: this works on what was loaded)."""
    alignment = align_layers(old, new)
    old_stack, new_stack = stack_layers(old), stack_layers(new)
    files = _final_files(
        old_stack.final, new_stack.final, old_stack, new_stack, alignment, semantic
    )
    pairs = tuple(_pair_diff(old, new, i, pair, semantic) for i, pair in enumerate(alignment.pairs))
    new_packages = find_packages(new, stack=new_stack)
    packages = diff_packages(find_packages(old, stack=old_stack), new_packages)
    return ImageDiff(
        old=old,
        new=new,
        semantic=semantic,
        alignment=alignment,
        pairs=pairs,
        files=files,
        counts=_count(files),
        config=diff_configs(old, new),
        packages=packages,
        package_pairs=_package_pairs(packages, alignment, dict(new_packages.removed_in)),
        old_final_fs_bytes=_fs_bytes(old_stack.final),
        new_final_fs_bytes=_fs_bytes(new_stack.final),
    )
