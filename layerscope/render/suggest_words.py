"""The words of every suggestion kind, written once: a title and a detail from the facts the rule
found (``analysis/suggest/facts.py``). Text, JSON, the HTML report and the TUI all use them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..analysis.suggest import LeftOut, Suggestion, SuggestionKind
from ..analysis.suggest.buildmodel import Violation
from ..analysis.suggest.facts import (
    FACTS_OF,
    CacheKind,
    CleanupFacts,
    CleanupFix,
    CopyChmodFacts,
    DockerignoreFacts,
    DuplicateFacts,
    MergeFacts,
    ModelFacts,
    MultiStageFacts,
    PinBaseFacts,
    RecommendsFacts,
    ReorderFacts,
    ReproducibleFacts,
    SuggestionFacts,
)
from ..analysis.suggest.notes import NoteKind, PatchNote
from .units import counted


class Words(NamedTuple):
    """What a suggestion proposes (one line) and why, in full."""

    title: str
    detail: str


def _layer_list(layers: tuple[int, ...]) -> str:
    """``4 and 6``, ``3-5`` (all of them RUN), ``2, 4 and 5``."""
    if len(layers) > 2 and layers[-1] - layers[0] == len(layers) - 1:
        return f"{layers[0]}-{layers[-1]}"
    return ", ".join(map(str, layers[:-1])) + f" and {layers[-1]}"


def _merge(f: MergeFacts) -> Words:
    return Words(
        f"merge the RUN steps of layers {_layer_list(f.run_layers)}",
        f"layer {f.last_layer} deletes or rewrites {counted(f.files, 'file')} that layer "
        f"{f.first_layer}{'' if len(f.run_layers) == 2 else ' onwards'} wrote; in one RUN "
        f"{'it is' if f.files == 1 else 'they are'} never stored.",
    )


CACHE_WORDS = {
    CacheKind.APT_LISTS: "apt lists",
    CacheKind.APT_ARCHIVES: "apt archives",
    CacheKind.APK: "apk cache",
    CacheKind.YUM: "yum cache",
    CacheKind.DNF: "dnf cache",
    CacheKind.PIP: "pip cache",
    CacheKind.NPM: "npm cache",
    CacheKind.YARN: "yarn cache",
    CacheKind.PYCACHE: "__pycache__",
}
"""Each cache's name."""


def _fix(fix: CleanupFix) -> str:
    cache = CACHE_WORDS[fix.cache]
    if fix.cache is CacheKind.PYCACHE:
        if fix.flag:
            return f"{fix.command} (or ENV PYTHONDONTWRITEBYTECODE=1) for __pycache__"
        return f"`{fix.command}` for __pycache__"
    if fix.flag:
        return f"{fix.command} for the {cache}"
    if fix.after_line is not None:
        return (
            f"`{fix.command}` for the {cache}, after line {fix.after_line} that still "
            f"needs {'it' if cache.endswith('cache') else 'them'} (one RUN from line "
            f"{fix.run_from_line})"
        )
    return f"`{fix.command}` for the {cache}"


def _cleanup(f: CleanupFacts) -> Words:
    return Words(
        f"{', '.join(CACHE_WORDS[c] for c in f.caches)} left in layer {f.layer}",
        f"{counted(f.files, 'cache file')} {'stays' if f.files == 1 else 'stay'} in the image; "
        "clean up in the same RUN: "
        + "; ".join(_fix(fix) for fix in f.fixes)
        + " (or mount the cache directory with RUN --mount=type=cache).",
    )


def _recommends(f: RecommendsFacts) -> Words:
    why = [f"{p.name} (recommended by {', '.join(p.recommended_by) or '?'})" for p in f.shown]
    return Words(
        f"{f.packages} packages installed only as Recommends in layer {f.layer}",
        "apt-get install --no-install-recommends would leave out: "
        + "; ".join(why)
        + (" (apt's extended_states not available: roots guessed)" if f.roots_guessed else ""),
    )


def _multi_stage(f: MultiStageFacts) -> Words:
    return Words(
        "build toolchain left in the final image",
        "build in a first stage (FROM ... AS build) and COPY --from=build only the built "
        "artifacts: " + ", ".join(f.packages),
    )


def _copy_chmod(f: CopyChmodFacts) -> Words:
    return Words(
        f"set mode/owner in the COPY of layer {f.copy_layer}, not in layer {f.run_layer}",
        f"layer {f.run_layer} stores {counted(f.files, 'file')} of layer {f.copy_layer} again "
        "only to change their mode or owner; COPY --chmod/--chown does it in one copy.",
    )


def _reorder(f: ReorderFacts) -> Words:
    how = (
        f"it missed the cache in {f.misses} of {f.builds} recorded builds"
        if f.misses is not None
        else "it copies the build context, which changes with every edit"
    )
    steps = counted(f.runs, "RUN step")
    if f.manifests:
        names = ", ".join(f.manifests)
        title = f"copy {names} first, install, then copy the rest (line {f.copy_line})"
        plan = (
            f"copy {names} alone before line {f.install_line} and the rest below line "
            f"{f.last_line}: the {steps} in between (the dependency install too) stay cached "
            "when only the sources change"
        )
    else:
        title = f"move line {f.copy_line} ({f.copy_keyword}) below line {f.last_line}"
        plan = (
            f"the {steps} after it {'does' if f.runs == 1 else 'do'} not read what it copies, "
            f"so {'it' if f.runs == 1 else 'they'} can stay cached when only the copied files "
            "change"
        )
    blocker = ""
    if f.blocker_line is not None:
        blocker = f"; line {f.blocker_line} reads the copied files"
        if f.blocker_needs_sources:
            blocker += " (an editable or local install builds the project: it needs the sources)"
    return Words(
        title,
        f"{f.copy_text}: {how}; {plan}{blocker} (constraint graph: files written and read, "
        "WORKDIR, ENV/ARG, USER).",
    )


def _listed(names: tuple[str, ...]) -> str:
    """``.git, __pycache__``; more than three: the first three and how many more."""
    if len(names) <= 3:
        return ", ".join(names)
    return ", ".join(names[:3]) + f" and {len(names) - 3} more"


def _dockerignore(f: DockerignoreFacts) -> Words:
    folded = "; the files then never reach the later steps that rewrite them" if f.folded else ""
    return Words(
        f"keep {_listed(f.names)} out of the image (.dockerignore)",
        "add to .dockerignore (largest first): " + ", ".join(f.patterns) + folded,
    )


def _duplicates(f: DuplicateFacts) -> Words:
    return Words(
        f"{len(f.paths)} identical copies of {f.paths[0].rsplit('/', 1)[-1]}",
        "same content at " + ", ".join(f.paths) + ": keep one (a symlink, or install it once: "
        "e.g. CUDA/BLAS from the system or from the wheel, not both)",
    )


def _models(f: ModelFacts) -> Words:
    where = (
        f"it missed the cache in {f.misses} of {f.builds} builds"
        if f.misses is not None
        else f"it shares the layer with {f.others} other files"
        if f.others
        else "layers below it change"
    )
    return Words(
        f"{f.files} model/data files in layer {f.layer}",
        f"{', '.join(f.shown)} ride in layer {f.layer} ({where}): give them an early layer of "
        "their own (COPY them first), a separate stage, or mount them as a volume at run time",
    )


def _pin_base(f: PinBaseFacts) -> Words:
    why = "the history shows the base image changed between builds" if f.moved else ""
    if f.latest:
        why = (why + "; " if why else "") + f"{f.base} follows `latest`"
    return Words(
        f"pin the base image {f.base} by digest",
        f"{why}: write FROM {f.base.split('@')[0]}@sha256:<digest> (with an explicit tag) so "
        "every build starts from the same layers.",
    )


def _reproducible(f: ReproducibleFacts) -> Words:
    fix = (
        "set SOURCE_DATE_EPOCH (BuildKit rewrite-timestamp) or order COPY of sources after the "
        "install"
        if f.only_timestamps
        else "PYTHONDONTWRITEBYTECODE=1 or pip --no-compile, remove logs/caches in the same "
        "step, and SOURCE_DATE_EPOCH"
    )
    what = "timestamps" if f.only_timestamps else "files that embed timestamps"
    return Words(
        f"layer {f.layer} was rebuilt but differs only in {what}",
        f"{f.instruction}: same files as the previous build; {fix}.",
    )


WORDS: dict[SuggestionKind, Callable[[Any], Words]] = {
    SuggestionKind.MERGE_RUN: _merge,
    SuggestionKind.SAME_LAYER_CLEANUP: _cleanup,
    SuggestionKind.NO_INSTALL_RECOMMENDS: _recommends,
    SuggestionKind.MULTI_STAGE: _multi_stage,
    SuggestionKind.COPY_CHMOD: _copy_chmod,
    SuggestionKind.REORDER_FOR_CACHE: _reorder,
    SuggestionKind.DOCKERIGNORE: _dockerignore,
    SuggestionKind.DUPLICATE_FILES: _duplicates,
    SuggestionKind.LARGE_MODEL_FILES: _models,
    SuggestionKind.PIN_BASE: _pin_base,
    SuggestionKind.NON_REPRODUCIBLE: _reproducible,
}
"""The words of each kind, from its facts (``analysis.suggest.facts.FACTS_OF``)."""


_KIND_OF = {cls: kind for kind, cls in FACTS_OF.items()}


def kind_words(kind: SuggestionKind) -> str:
    """A kind in words: ``same layer cleanup``."""
    return kind.value.replace("_", " ")


def facts_words(facts: SuggestionFacts) -> Words:
    """The title and detail said by ``facts`` (the kind follows from their class)."""
    return WORDS[_KIND_OF[type(facts)]](facts)


def words(s: Suggestion) -> Words:
    """A suggestion's title and detail."""
    return facts_words(s.facts)


def covered_titles(s: Suggestion) -> tuple[str, ...]:
    """The titles of the advice folded into ``s`` (same files, said once)."""
    return tuple(facts_words(f).title for f in s.covers)


NOTE_WORDS: dict[NoteKind, str] = {
    NoteKind.PYCACHE_COMPILES: "Python then compiles on first import (slower first start, "
    "unless it can write)",
    NoteKind.PYCACHE_REWRITTEN: "line {line} runs Python again, which would write the bytecode "
    "back into its own layer: the patch sets ENV PYTHONDONTWRITEBYTECODE=1 above it (it holds "
    "at run time too)",
    NoteKind.STILL_NEEDED: "line {line} still needs the {cache}: {cause}; merge lines "
    "{first_line}-{last_line} and clean up at the end by hand",
    NoteKind.STEPS_BETWEEN: "{steps} sits between them{by_hand}",
    NoteKind.MERGE_BY_HAND: "exec-form, heredoc or differently-flagged RUNs: merge them by hand",
    NoteKind.RUNS_NOT_FOUND: "the RUN steps could not be found in the Dockerfile",
    NoteKind.SOME_FILES_CHANGED: "the RUN changes only some of the copied files: split the COPY "
    "by hand",
    NoteKind.MIXED_MODES: "the copied files end with different modes or owners",
    NoteKind.RUN_DOES_MORE: "the RUN does more than chmod/chown: edit it by hand",
    NoteKind.CLASSIC_BUILDER: "COPY --chmod needs BuildKit and this image was built by the "
    "classic builder: build with DOCKER_BUILDKIT=1, then use COPY --chmod={mode:04o}",
    NoteKind.NEEDS_BUILDKIT: "--chmod needs BuildKit (DOCKER_BUILDKIT=1)",
    NoteKind.CONTEXT_SHRINKS: "also shrinks the build context sent to the builder",
    NoteKind.ARTIFACTS_CHOICE: "no automatic patch: which artifacts the final stage needs is yours",
    NoteKind.CHECK_RECOMMENDS: "check that nothing at run time needs the recommended packages",
    NoteKind.HEURISTIC_ORDER: "the graph reads commands heuristically: check that the moved "
    "steps do not use the copied files",
    NoteKind.DIGEST_CHOICE: "no patch: the digest to pin is the one you have tested (docker "
    "buildx imagetools inspect NAME shows it)",
    NoteKind.EDIT_WOULD_NOT_PARSE: "the edit would not parse: none offered",
    NoteKind.BREAKS_ALONE: "alone, its patch would break the build: {violations}",
    NoteKind.DOCKERFILE_MISFIT: "the Dockerfile does not fit the image ({message}); no patches",
}
"""The words of each note kind; ``{field}`` is filled from the note."""


def violation_words(violations: tuple[Violation, ...]) -> str:
    """Needs a patch would break, in words: ``line 5 `pip install` would run without ...``."""
    return "; ".join(
        f"line {v.line} `{v.command}` would run without {v.resource.removeprefix('file:')}"
        for v in violations
    )


def note_words(n: PatchNote) -> str:
    """One note in words."""
    return NOTE_WORDS[n.kind].format(
        line=n.line,
        cache=CACHE_WORDS[n.cache] if n.cache is not None else "",
        first_line=n.first_line,
        last_line=n.last_line,
        cause=note_words(n.cause) if n.cause is not None else "",
        steps=", ".join(f"line {line} ({keyword})" for line, keyword in n.steps),
        by_hand=": move the deletion into the first RUN by hand" if n.by_hand else "",
        mode=n.mode,
        violations=violation_words(n.violations),
        message=n.message,
    )


def notes_words(notes: tuple[PatchNote, ...]) -> str | None:
    """A suggestion's notes in one sentence (None: none)."""
    return "; ".join(note_words(n) for n in notes) or None


def left_out_detail(item: LeftOut) -> str:
    """The detail of a suggestion left out of the patch: what the build said, the needs it
    would break, or its own notes ("" when there is none)."""
    return item.detail or violation_words(item.violations) or notes_words(item.notes) or ""
