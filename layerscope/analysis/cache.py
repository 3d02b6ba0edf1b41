"""Cache hits across rebuilds of one repository (design.md, "Metrics, defined once": Cache).

Builds are ordered by image creation time; an image id seen twice counts once. Layer i of
build n is a hit when its chain ID equals the chain ID of layer i of build n-1 (base layers
included); a build's hit ratio is hits / layers. Build-log flags are shown beside the chain-ID
verdict but never change it. The first missing layer of a build is explained (base image moved,
instruction changed, files changed, a non-reproducible step, only timestamps/metadata changed)
and every rebuilt layer is priced in bytes (uncompressed, and to push and pull: the blob, or the
estimated gzip of a layer stored uncompressed, ``analysis.push``) and, with build logs, seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from layerscope.dockerfile.created_by import parse_created_by
from layerscope.model import BuildRecord, Digest, FileEntry, LayerRecord

from .push import PushCost, record_cost, total

__all__ = [
    "BuildCache",
    "BuildRecord",
    "CacheHistory",
    "HistorySeries",
    "InstructionTimeline",
    "LayerRecord",
    "LayerState",
    "MissCause",
    "MissReason",
    "PathChange",
    "PathChangeKind",
    "cache_history",
    "created_sort_key",
    "history_series",
    "layer_file_changes",
    "order_builds",
]

FileLookup = Callable[[Digest], "tuple[FileEntry, ...] | None"]
"""The file entries of the layer with this diff_id, when still known (e.g. the layer cache)."""


class MissReason(Enum):
    """Why the first missing layer of a build missed."""

    BASE_IMAGE = "base_image"
    """A base-image layer changed: the base moved (an unpinned tag)."""
    INSTRUCTION_CHANGED = "instruction_changed"
    """The instruction text (or its build arguments, or a COPY destination) changed."""
    FILES_CHANGED = "files_changed"
    """COPY/ADD copied files whose content, mode or owner changed."""
    NON_REPRODUCIBLE = "non_reproducible"
    """The same step on the same inputs wrote different content (RUN output differs)."""
    METADATA_ONLY = "metadata_only"
    """Only timestamps or metadata changed: a non-reproducible step."""
    LAYER_ADDED = "layer_added"
    """The build has more layers than the one before; the first extra layer is new."""
    UNKNOWN = "unknown"
    """The files of the two layers are no longer known."""


class PathChangeKind(Enum):
    """How one path of a layer differs from the previous build's layer."""

    ADDED = "added"
    REMOVED = "removed"
    CONTENT = "content"
    METADATA = "metadata"
    """Same content; mode, owner or xattrs differ."""
    TIMESTAMP = "timestamp"
    """Same content and metadata; only the mtime differs."""


_CONTENT_KINDS = (PathChangeKind.ADDED, PathChangeKind.REMOVED, PathChangeKind.CONTENT)


@dataclass(frozen=True, slots=True)
class PathChange:
    """One path that differs between the same layer of two builds."""

    path: str
    kind: PathChangeKind
    size_bytes: int
    """Size in the new layer (in the old one for a removed path)."""


@dataclass(frozen=True, slots=True)
class MissCause:
    """Why a build's first missing layer missed."""

    reason: MissReason
    layer_index: int
    instruction: str
    previous_instruction: str | None
    paths: tuple[PathChange, ...] = ()
    """For files_changed / non_reproducible / metadata_only: the paths that differ."""


class LayerState(Enum):
    """One cell of an instruction's timeline."""

    HIT = "hit"
    MISS = "miss"
    NEW = "new"
    """No previous build to compare with (the first build)."""
    ABSENT = "absent"
    """The build has no layer at this position."""


@dataclass(frozen=True, slots=True)
class BuildCache:
    """The cache verdict for one build, in creation order."""

    position: int
    build: BuildRecord
    hits: tuple[bool, ...] | None
    """Per layer; None for the first build (nothing to compare with)."""
    hit_count: int | None
    hit_ratio: float | None
    """hits / layers; None for the first build or a build without layers."""
    cause: MissCause | None
    rebuilt_layers: tuple[int, ...]
    rebuilt_bytes: int | None
    """Uncompressed bytes of every missed layer (to push and pull); None for the first build."""
    rebuilt_compressed_bytes: int | None
    """Their stored blob bytes; None when a blob size is unknown or a layer is stored
    uncompressed (then ``rebuilt_push_cost`` has the estimate)."""
    rebuilt_seconds: float | None
    """Build-log durations of the missed layers; None without a build log, or when the log
    gives no time for one of them (classic-builder logs carry no step times)."""
    log_disagreements: tuple[int, ...]
    """Layers whose build-log cached flag contradicts the chain-ID verdict."""
    rebuilt_push: tuple[tuple[int, PushCost | None], ...] = ()
    """Per missed layer: (index, what pushing and pulling it moves; None when unknown): the
    measured blob, or for a layer stored uncompressed its estimated gzip size."""
    rebuilt_push_cost: PushCost | None = None
    """The sum of ``rebuilt_push`` (an estimate when any part is); None when a part is unknown,
    and for the first build."""


@dataclass(frozen=True, slots=True)
class InstructionTimeline:
    """Hit/miss of one layer position across the builds."""

    index: int
    instruction: str
    """The instruction at this position in the newest build that has it."""
    states: tuple[LayerState, ...]
    hits: int
    misses: int
    miss_rate: float | None
    """misses / (hits + misses); None when never compared."""


@dataclass(frozen=True, slots=True)
class CacheHistory:
    """Every build of a series with its cache verdict, and the per-instruction timelines."""

    builds: tuple[BuildCache, ...]
    instructions: tuple[InstructionTimeline, ...]


@dataclass(frozen=True, slots=True)
class HistorySeries:
    """What a chart of a history plots, one value per build in order."""

    labels: tuple[str, ...]
    size_bytes: tuple[int, ...]
    hit_ratio: tuple[float | None, ...]


_CREATED = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$", re.IGNORECASE
)


def created_sort_key(created: str | None) -> tuple[int, int] | None:
    """(UTC epoch seconds, nanoseconds) of an RFC 3339 time; None when missing or unreadable."""
    if not created:
        return None
    match = _CREATED.match(created.strip())
    if match is None:
        return None
    zone = (match.group(3) or "Z").upper().replace("Z", "+00:00")
    try:
        stamp = datetime.fromisoformat(match.group(1) + zone)
    except ValueError:
        return None
    nanos = int((match.group(2) or "0")[:9].ljust(9, "0"))
    return int(stamp.timestamp()), nanos


def order_builds(builds: Iterable[BuildRecord]) -> tuple[BuildRecord, ...]:
    """Builds by image creation time (unknown times last, then by recording time); an image id
    seen again adds nothing."""
    seen: set[str] = set()
    unique: list[BuildRecord] = []
    for build in builds:
        if build.image_id not in seen:
            seen.add(build.image_id)
            unique.append(build)

    def key(item: tuple[int, BuildRecord]) -> tuple[bool, tuple[int, int], float, int]:
        position, build = item
        created = created_sort_key(build.created)
        return created is None, created or (0, 0), build.recorded_at, position

    return tuple(build for _, build in sorted(enumerate(unique), key=key))


def layer_file_changes(
    old: Sequence[FileEntry], new: Sequence[FileEntry]
) -> tuple[PathChange, ...]:
    """The paths whose entries differ between two layers, sorted by path."""
    before = {entry.path: entry for entry in old}
    after = {entry.path: entry for entry in new}
    out: list[PathChange] = []
    for path in sorted(before.keys() | after.keys()):
        a, b = before.get(path), after.get(path)
        if a is None and b is not None:
            out.append(PathChange(path, PathChangeKind.ADDED, b.size_bytes))
        elif b is None and a is not None:
            out.append(PathChange(path, PathChangeKind.REMOVED, a.size_bytes))
        elif a is not None and b is not None:
            same = a.same_content(b)
            if not same and not a.only_header_differs(b):
                out.append(PathChange(path, PathChangeKind.CONTENT, b.size_bytes))
            elif not a.same_metadata(b):
                out.append(PathChange(path, PathChangeKind.METADATA, b.size_bytes))
            elif a.mtime != b.mtime or not same:  # a .pyc header holds the source's mtime
                out.append(PathChange(path, PathChangeKind.TIMESTAMP, b.size_bytes))
    return tuple(out)


def _instruction_changed(old: LayerRecord, new: LayerRecord) -> bool:
    a = parse_created_by(old.created_by)
    b = parse_created_by(new.created_by)
    if a.keyword != b.keyword or a.build_args != b.build_args:
        return True
    if a.keyword in ("COPY", "ADD"):
        # classic builds record a content hash instead of source paths: compare only paths
        hashed = any(":" in s for s in (*a.sources, *b.sources))
        return a.destination != b.destination or (not hashed and a.sources != b.sources)
    return " ".join(a.body.split()) != " ".join(b.body.split())


def _cause(
    previous: BuildRecord, build: BuildRecord, index: int, files: FileLookup | None
) -> MissCause:
    layer = build.layers[index]
    if index >= len(previous.layers):
        return MissCause(MissReason.LAYER_ADDED, index, layer.instruction, None)
    old = previous.layers[index]
    prev_text = old.instruction
    if layer.is_base or old.is_base:
        return MissCause(MissReason.BASE_IMAGE, index, layer.instruction, prev_text)
    if _instruction_changed(old, layer):
        return MissCause(MissReason.INSTRUCTION_CHANGED, index, layer.instruction, prev_text)
    old_files = files(old.diff_id) if files is not None else None
    new_files = files(layer.diff_id) if files is not None else None
    if old_files is None or new_files is None:
        return MissCause(MissReason.UNKNOWN, index, layer.instruction, prev_text)
    paths = layer_file_changes(old_files, new_files)
    if not any(change.kind in _CONTENT_KINDS for change in paths):
        reason = MissReason.METADATA_ONLY
    elif parse_created_by(layer.created_by).keyword in ("COPY", "ADD"):
        reason = MissReason.FILES_CHANGED
    else:
        reason = MissReason.NON_REPRODUCIBLE
    return MissCause(reason, index, layer.instruction, prev_text, paths)


def _build_cache(
    position: int, previous: BuildRecord | None, build: BuildRecord, files: FileLookup | None
) -> BuildCache:
    layers = build.layers
    if previous is None:
        return BuildCache(position, build, None, None, None, None, (), None, None, None, ())
    before = [layer.chain_id for layer in previous.layers]
    hits = tuple(i < len(before) and layer.chain_id == before[i] for i, layer in enumerate(layers))
    hit_count = sum(hits)
    missed = tuple(i for i, hit in enumerate(hits) if not hit)
    cause = _cause(previous, build, missed[0], files) if missed else None
    rebuilt = [layers[i] for i in missed]
    compressed = [layer.compressed_size_bytes for layer in rebuilt]
    push = tuple((i, record_cost(layers[i])) for i in missed)
    seconds: float | None = None
    durations = [layer.log_duration_seconds for layer in rebuilt]
    if build.has_build_log and None not in durations:
        # A classic-builder log has no step times: unknown (None), never 0.0 s.
        seconds = sum(d or 0.0 for d in durations)
    disagree = tuple(
        i
        for i, layer in enumerate(layers)
        if layer.log_cached is not None and layer.log_cached != hits[i]
    )
    return BuildCache(
        position=position,
        build=build,
        hits=hits,
        hit_count=hit_count,
        hit_ratio=hit_count / len(layers) if layers else None,
        cause=cause,
        rebuilt_layers=missed,
        rebuilt_bytes=sum(layer.size_bytes for layer in rebuilt),
        rebuilt_compressed_bytes=(
            None if any(c is None for c in compressed) else sum(c or 0 for c in compressed)
        ),
        rebuilt_seconds=seconds,
        log_disagreements=disagree,
        rebuilt_push=push,
        rebuilt_push_cost=total(cost for _, cost in push),
    )


def _timelines(results: Sequence[BuildCache]) -> tuple[InstructionTimeline, ...]:
    width = max((r.build.layer_count for r in results), default=0)
    out: list[InstructionTimeline] = []
    for index in range(width):
        states: list[LayerState] = []
        text = ""
        for result in results:
            if index >= result.build.layer_count:
                states.append(LayerState.ABSENT)
                continue
            text = result.build.layers[index].instruction
            if result.hits is None:
                states.append(LayerState.NEW)
            else:
                states.append(LayerState.HIT if result.hits[index] else LayerState.MISS)
        hits = states.count(LayerState.HIT)
        misses = states.count(LayerState.MISS)
        rate = misses / (hits + misses) if hits + misses else None
        out.append(InstructionTimeline(index, text, tuple(states), hits, misses, rate))
    return tuple(out)


def cache_history(
    builds: Iterable[BuildRecord], *, files: FileLookup | None = None
) -> CacheHistory:
    """The cache verdict of every build of a series (ordered and deduplicated here).

    ``files`` gives a layer's file entries by diff_id; without it (or when it answers None) a
    miss that is not explained by the base image or the instruction has reason ``unknown``.
    """
    ordered = order_builds(builds)
    results: list[BuildCache] = []
    for position, build in enumerate(ordered):
        previous = ordered[position - 1] if position else None
        results.append(_build_cache(position, previous, build, files))
    return CacheHistory(tuple(results), _timelines(results))


def history_series(history: CacheHistory) -> HistorySeries:
    """Size and hit ratio per build, for charts (the terminal chart and the TUI History tab)."""
    labels = tuple(r.build.tag or r.build.image_id.split(":")[-1][:12] for r in history.builds)
    return HistorySeries(
        labels,
        tuple(r.build.size_bytes for r in history.builds),
        tuple(r.hit_ratio for r in history.builds),
    )
