"""Frozen types of Dockerfile suggestions: kinds, evidence, edits, the report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class SuggestionKind(Enum):
    """What a suggestion proposes."""

    MERGE_RUN = "merge_run"
    SAME_LAYER_CLEANUP = "same_layer_cleanup"
    NO_INSTALL_RECOMMENDS = "no_install_recommends"
    COPY_CHMOD = "copy_chmod"
    REORDER_FOR_CACHE = "reorder_for_cache"
    DOCKERIGNORE = "dockerignore"
    MULTI_STAGE = "multi_stage"
    PIN_BASE = "pin_base"
    NON_REPRODUCIBLE = "non_reproducible"
    DUPLICATE_FILES = "duplicate_files"
    LARGE_MODEL_FILES = "large_model_files"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One stored file a suggestion would remove (or move): its path, bytes and layer."""

    path: str
    size_bytes: int
    layer_index: int


@dataclass(frozen=True, slots=True)
class LineSpan:
    """Lines ``start``..``end`` (1-based, inclusive) of the Dockerfile."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace lines ``start``..``end`` of a file with ``lines``.

    ``end == start - 1`` inserts before line ``start`` (``start = len + 1`` appends).
    """

    file: str
    """``Dockerfile`` or ``.dockerignore``."""
    start: int
    end: int
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One proposed change with what it is measured to save."""

    id: str
    kind: SuggestionKind
    title: str
    detail: str
    layers: tuple[int, ...]
    """Indexes of the layers involved."""
    instructions: tuple[str, ...]
    """The instructions involved, as recorded in the image history."""
    lines: tuple[LineSpan, ...]
    """Dockerfile lines involved (when a Dockerfile was given)."""
    evidence: tuple[Evidence, ...]
    estimated_saving_bytes: int
    estimated_saving_rebuilds: int | None = None
    """For cache suggestions: rebuilds of expensive steps avoided over the recorded history."""
    estimated_saving_seconds: float | None = None
    edits: tuple[Edit, ...] = ()
    patch: str | None = None
    """Unified diff of this suggestion alone, against the given files."""
    patch_note: str | None = None
    """Why there is no patch, or what to check before applying it."""
    overlaps_with: tuple[str, ...] = ()
    """Ids of suggestions whose evidence shares stored files with this one."""


@dataclass(frozen=True, slots=True)
class SuggestionReport:
    """Every suggestion for an image, with the total counting each stored file once."""

    suggestions: tuple[Suggestion, ...]
    total_saving_bytes: int
    """Union of the evidence of every size suggestion, per (path, layer)."""
    patch: str | None
    """Unified diff applying every suggestion whose edits do not conflict."""
    patched_files: tuple[tuple[str, str], ...]
    """(file name, new text) of the files the combined patch changes."""
    applied: tuple[str, ...]
    """Ids of the suggestions the combined patch contains."""
    applied_saving_bytes: int = 0
    """Union of the evidence of the size suggestions the combined patch contains."""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InstructionStats:
    """Cache record of one instruction across recorded builds."""

    layer_index: int
    instruction: str
    misses: int
    builds: int
    """Builds compared (hits + misses)."""
    seconds: float | None = None
    """Typical duration of the step when it runs (from build logs)."""


class CacheHints(Protocol):
    """What the build history tells ``suggest``; any object with these attributes will do."""

    @property
    def instructions(self) -> tuple[InstructionStats, ...]: ...

    @property
    def base_moved(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class HistoryHints:
    """A plain CacheHints."""

    instructions: tuple[InstructionStats, ...] = ()
    base_moved: bool = False


def counted(number: int, noun: str) -> str:
    """``1 file``, ``5 files``: a count with its noun in the right number."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
