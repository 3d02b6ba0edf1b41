"""Frozen types of Dockerfile suggestions: kinds, evidence, edits, the report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..prove import Proof
    from .buildmodel import Violation
    from .facts import SuggestionFacts
    from .notes import PatchNote


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


class OpKind(Enum):
    """What one change to the build model does (see ``Op``)."""

    SET = "set"
    """Replace the instruction's text with ``lines``."""
    REPLACE = "replace"
    """Substitute the regex ``pattern`` by ``replacement`` once in the instruction's text."""
    APPEND = "append"
    """Append the command ``lines[0]`` (``&& command``) to the RUN."""
    MERGE = "merge"
    """Join the RUNs of the block ``index``..``target`` into one; the other instructions of the
    block move below it."""
    MOVE_AFTER = "move_after"
    """Move the instruction below ``target`` (below its merged RUN when ``target`` is merged)."""
    INSERT_BEFORE = "insert_before"
    """Insert ``lines`` (a new instruction) above instruction ``target``."""
    DELETE = "delete"
    """Remove the instruction."""
    IGNORE = "ignore"
    """Add the patterns ``lines`` to the build context's ``.dockerignore``."""


@dataclass(frozen=True, slots=True)
class Op:
    """One change to the build model: instructions are named by ``Instruction.index``, so
    changes from several suggestions compose (a flag, an appended cleanup and a merge of the
    same RUN all apply) instead of fighting over line numbers."""

    kind: OpKind
    index: int = -1
    target: int = -1
    lines: tuple[str, ...] = ()
    pattern: str = ""
    replacement: str = ""


class EstimateBasis(Enum):
    """Where a cache suggestion's figures come from."""

    HISTORY = "history"
    """Recorded builds of the image: rebuilds, bytes and seconds saved over them."""
    STEP_ORDER = "step_order"
    """Expected from the step order alone (no recorded history): per source edit."""


class LeftOutReason(Enum):
    """Why a suggestion is not in the combined patch."""

    NO_PATCH = "no_patch"
    """It has no automatic patch (``patch_notes`` say why)."""
    NEEDS_CHOICE = "needs_choice"
    """It needs a choice only the user can make (which artifacts, which digest...)."""
    CONFLICT = "conflict"
    """Its changes touch what a larger suggestion already in the patch changes."""
    BREAKS_DEPENDENCY = "breaks_dependency"
    """Combined with the rest it would take from a step something that step needs."""
    NO_DOCKERFILE_FIT = "no_dockerfile_fit"
    """The edited Dockerfile would not parse."""
    BUILD_FAILED = "build_failed"
    """A real build of the patch failed at a step it changed (``suggest --prove``); ``detail``
    says which step and how."""


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A suggestion the combined patch leaves out, and why."""

    id: str
    reason: LeftOutReason
    with_ids: tuple[str, ...] = ()
    """The suggestions in the patch it conflicts with."""
    detail: str = ""
    """What a real build of the patch said (build_failed)."""
    notes: tuple[PatchNote, ...] = ()
    """The suggestion's own notes (no_patch, needs_choice)."""
    violations: tuple[Violation, ...] = ()
    """The needs the patch would break (breaks_dependency)."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One proposed change with what it is measured to save. It carries what was found
    (``facts``, one class per kind), never words: ``render/suggest_words.py`` writes its title
    and detail."""

    id: str
    kind: SuggestionKind
    facts: SuggestionFacts
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
    ops: tuple[Op, ...] = ()
    """Its changes to the build model (empty: no automatic patch)."""
    patch: str | None = None
    """Unified diff of this suggestion alone, against the given files."""
    patch_notes: tuple[PatchNote, ...] = ()
    """Why there is no patch, or what to check before applying it."""
    overlaps_with: tuple[str, ...] = ()
    """Ids of suggestions whose evidence shares stored files with this one."""
    estimated_saving_rebuild_bytes: int | None = None
    """Cache kinds: bytes of layers no longer rebuilt (and pushed) — per source edit when
    ``estimate_basis`` is step_order, over the recorded builds when it is history."""
    estimate_basis: EstimateBasis | None = None
    covers: tuple[SuggestionFacts, ...] = ()
    """Facts of duplicate advice about the same files folded into this suggestion."""
    measured_saving_bytes: int | None = None
    """Filled in by a real build of the patched Dockerfile (``suggest --prove``): the measured
    bytes beside the estimate. None: not measured."""
    measured_note: str | None = None
    """What the proving build found for this suggestion (e.g. the step it broke)."""


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
    notes: tuple[PatchNote, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    """Every suggestion not in the combined patch, with the reason (only with a Dockerfile)."""
    measured_patch_saving_bytes: int | None = None
    """Filled in by ``suggest --prove``: the measured saving of the whole patch."""
    proof: Proof | None = None
    """The proof whose figures are filled in (``analysis.prove.apply_proof``): the whole patch,
    the cache experiment, the suggestions dropped; ``proof.recorded_at`` says when the figures
    come from an earlier proof."""


@dataclass(frozen=True, slots=True)
class PatchPaths:
    """The paths a patch names, relative to the directory it is applied in (``patch -p1``)."""

    dockerfile: str = "Dockerfile"
    dockerignore: str = ".dockerignore"
    """The .dockerignore at the root of the build context."""


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
