"""What each kind of suggestion found, as data: the typed facts ``render/suggest_words.py`` turns
into a title and a detail (analysis chooses no words). One frozen class per
``SuggestionKind``; ``FACTS_OF`` pins which."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .model import SuggestionKind


@dataclass(frozen=True, slots=True)
class MergeFacts:
    """RUN layers ``first_layer``..``last_layer``: a later one deletes or rewrites ``files``
    files an earlier one wrote."""

    run_layers: tuple[int, ...]
    first_layer: int
    last_layer: int
    files: int


class CacheKind(Enum):
    """A cache a tool leaves in the layer that ran it."""

    APT_LISTS = "apt_lists"
    APT_ARCHIVES = "apt_archives"
    APK = "apk_cache"
    YUM = "yum_cache"
    DNF = "dnf_cache"
    PIP = "pip_cache"
    NPM = "npm_cache"
    YARN = "yarn_cache"
    PYCACHE = "__pycache__"
    """Python bytecode written at install time."""


@dataclass(frozen=True, slots=True)
class CleanupFix:
    """How one cache is avoided in the RUN that made it."""

    cache: CacheKind
    command: str
    """The command appended, or the flag (``--no-cache``) when ``flag`` is True."""
    flag: bool = False
    """A flag added to the installing command instead of a cleanup appended."""
    after_line: int | None = None
    """The cleanup goes after this later line, which still needs the cache."""
    run_from_line: int | None = None
    """With ``after_line``: the first line of the RUN the steps are merged into."""


@dataclass(frozen=True, slots=True)
class CleanupFacts:
    """Package-manager caches left in the RUN layer ``layer`` that made them."""

    layer: int
    caches: tuple[CacheKind, ...]
    """Sorted by value."""
    files: int
    fixes: tuple[CleanupFix, ...]


@dataclass(frozen=True, slots=True)
class RecommendedPackage:
    """A package reachable only through Recommends, and (up to three of) those recommending it."""

    name: str
    recommended_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecommendsFacts:
    """``packages`` packages of layer ``layer`` installed only as Recommends."""

    layer: int
    packages: int
    shown: tuple[RecommendedPackage, ...]
    """The first eight of them."""
    roots_guessed: bool
    """apt's extended_states was not there: the hand-installed packages were guessed."""


@dataclass(frozen=True, slots=True)
class MultiStageFacts:
    """Build toolchain packages left in the final image."""

    packages: tuple[str, ...]
    """Their names, sorted."""


@dataclass(frozen=True, slots=True)
class CopyChmodFacts:
    """The RUN of layer ``run_layer`` stores ``files`` files of the COPY of ``copy_layer`` again
    only to change their mode or owner."""

    copy_layer: int
    run_layer: int
    files: int


@dataclass(frozen=True, slots=True)
class ReorderFacts:
    """A COPY of files that change often, movable below ``runs`` RUN steps that do not read it."""

    copy_text: str
    """The COPY instruction on one line."""
    copy_keyword: str
    copy_line: int
    last_line: int
    """The last RUN it moves below."""
    runs: int
    misses: int | None = None
    """Recorded builds where the COPY missed the cache, of ``builds`` (None: no history)."""
    builds: int | None = None
    manifests: tuple[str, ...] = ()
    """Dependency manifests copied alone before ``install_line`` (empty: no split)."""
    install_line: int | None = None
    blocker_line: int | None = None
    """The line that reads the copied files (the move stops above it)."""
    blocker_needs_sources: bool = False
    """The blocker is an editable or local install: it builds the project."""


@dataclass(frozen=True, slots=True)
class DockerignoreFacts:
    """What a ``.dockerignore`` keeps out of the image."""

    names: tuple[str, ...]
    """What is kept out (``.git``, ``*.pyc``, a file name), largest first."""
    patterns: tuple[str, ...]
    """The patterns to add, largest first."""
    folded: bool = False
    """Cleanups of the same files by a later step are folded in."""


@dataclass(frozen=True, slots=True)
class DuplicateFacts:
    """Identical content at several paths (the first one stays)."""

    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """``files`` model or data files ride in layer ``layer`` with what changes."""

    layer: int
    files: int
    shown: tuple[str, ...]
    """The first five paths."""
    misses: int | None = None
    """The layer missed the cache in ``misses`` of ``builds`` builds (None: not recorded)."""
    builds: int | None = None
    others: int = 0
    """Other files sharing the layer."""


@dataclass(frozen=True, slots=True)
class PinBaseFacts:
    """A FROM without a digest."""

    base: str
    latest: bool
    """It follows ``latest`` (or names no tag)."""
    moved: bool
    """The recorded history saw the base image change."""


@dataclass(frozen=True, slots=True)
class ReproducibleFacts:
    """Layer ``layer`` rebuilt though it differs only in timestamps (or files embedding them)."""

    layer: int
    instruction: str
    only_timestamps: bool


SuggestionFacts = (
    MergeFacts
    | CleanupFacts
    | RecommendsFacts
    | MultiStageFacts
    | CopyChmodFacts
    | ReorderFacts
    | DockerignoreFacts
    | DuplicateFacts
    | ModelFacts
    | PinBaseFacts
    | ReproducibleFacts
)

FACTS_OF: dict[SuggestionKind, type[SuggestionFacts]] = {
    SuggestionKind.MERGE_RUN: MergeFacts,
    SuggestionKind.SAME_LAYER_CLEANUP: CleanupFacts,
    SuggestionKind.NO_INSTALL_RECOMMENDS: RecommendsFacts,
    SuggestionKind.MULTI_STAGE: MultiStageFacts,
    SuggestionKind.COPY_CHMOD: CopyChmodFacts,
    SuggestionKind.REORDER_FOR_CACHE: ReorderFacts,
    SuggestionKind.DOCKERIGNORE: DockerignoreFacts,
    SuggestionKind.DUPLICATE_FILES: DuplicateFacts,
    SuggestionKind.LARGE_MODEL_FILES: ModelFacts,
    SuggestionKind.PIN_BASE: PinBaseFacts,
    SuggestionKind.NON_REPRODUCIBLE: ReproducibleFacts,
}
"""The facts class of each kind."""
