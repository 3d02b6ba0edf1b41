"""Why a suggestion has no patch, or what to check before applying it, as data: a closed set
of note kinds with the facts each needs. ``render/suggest_words.py`` writes the words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .buildmodel import Violation
    from .facts import CacheKind


class NoteKind(Enum):
    """What a note says."""

    PYCACHE_COMPILES = "pycache_compiles"
    """Without ``__pycache__`` Python compiles on first import."""
    PYCACHE_REWRITTEN = "pycache_rewritten"
    """Line ``line`` runs Python again, which would write the bytecode back into its own
    layer: the patch sets ``ENV PYTHONDONTWRITEBYTECODE=1`` above it."""
    STILL_NEEDED = "still_needed"
    """Line ``line`` still needs the ``cache``: merge lines ``first_line``-``last_line`` by
    hand (``cause`` says why the merge is not automatic)."""
    STEPS_BETWEEN = "steps_between"
    """The instructions ``steps`` sit between the RUNs to merge (``by_hand``: move the
    deletion into the first RUN by hand)."""
    MERGE_BY_HAND = "merge_by_hand"
    """Exec-form, heredoc or differently-flagged RUNs."""
    RUNS_NOT_FOUND = "runs_not_found"
    """The RUN steps are not in the Dockerfile."""
    SOME_FILES_CHANGED = "some_files_changed"
    """The RUN re-modes only some of the copied files."""
    MIXED_MODES = "mixed_modes"
    """The copied files end with different modes or owners."""
    RUN_DOES_MORE = "run_does_more"
    """The RUN does more than chmod/chown."""
    CLASSIC_BUILDER = "classic_builder"
    """COPY --chmod (to ``mode``) needs BuildKit; the classic builder made the image."""
    NEEDS_BUILDKIT = "needs_buildkit"
    """The patch uses COPY --chmod, which needs BuildKit."""
    CONTEXT_SHRINKS = "context_shrinks"
    """A .dockerignore also shrinks the build context."""
    ARTIFACTS_CHOICE = "artifacts_choice"
    """Which artifacts the final stage needs is the user's choice."""
    CHECK_RECOMMENDS = "check_recommends"
    """Check that nothing at run time needs the recommended packages."""
    HEURISTIC_ORDER = "heuristic_order"
    """The order graph reads commands heuristically."""
    DIGEST_CHOICE = "digest_choice"
    """The digest to pin is the one the user tested."""
    EDIT_WOULD_NOT_PARSE = "edit_would_not_parse"
    """The suggestion's own edit would not parse."""
    BREAKS_ALONE = "breaks_alone"
    """Alone, its patch breaks the needs ``violations``."""
    DOCKERFILE_MISFIT = "dockerfile_misfit"
    """(A report note) the Dockerfile does not fit the image: ``message`` says how."""


@dataclass(frozen=True, slots=True)
class PatchNote:
    """One note; the fields its kind names are set (see ``NoteKind``)."""

    kind: NoteKind
    line: int = 0
    cache: CacheKind | None = None
    first_line: int = 0
    last_line: int = 0
    cause: PatchNote | None = None
    steps: tuple[tuple[int, str], ...] = ()
    """(line, keyword) of each instruction in the way."""
    by_hand: bool = False
    mode: int = 0
    violations: tuple[Violation, ...] = ()
    message: str = ""


def note(kind: NoteKind) -> PatchNote:
    """A note of a kind that needs no facts."""
    return PatchNote(kind)
