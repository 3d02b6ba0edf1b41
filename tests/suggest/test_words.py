"""Every suggestion kind and every note kind has its words (render/suggest_words.py), and every
format that shows suggestions (text, JSON, the HTML report, the TUI pane) shows those words."""

from __future__ import annotations

import html

from rich.console import Console

from layerscope.analysis.suggest import (
    FACTS_OF,
    Evidence,
    LeftOut,
    LeftOutReason,
    Suggestion,
    SuggestionFacts,
    SuggestionKind,
    SuggestionReport,
)
from layerscope.analysis.suggest.buildmodel import Violation
from layerscope.analysis.suggest.facts import (
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
    RecommendedPackage,
    RecommendsFacts,
    ReorderFacts,
    ReproducibleFacts,
)
from layerscope.analysis.suggest.notes import NoteKind, PatchNote
from layerscope.render.html.inspect import suggestions_panel
from layerscope.render.suggest import render_suggest_text, suggest_document
from layerscope.render.suggest_words import (
    NOTE_WORDS,
    WORDS,
    left_out_detail,
    note_words,
    words,
)
from layerscope.tui.widgets.suggestions import suggestion_details

SAMPLES: dict[SuggestionKind, SuggestionFacts] = {
    SuggestionKind.MERGE_RUN: MergeFacts((2, 3), 2, 3, 4),
    SuggestionKind.SAME_LAYER_CLEANUP: CleanupFacts(
        3, (CacheKind.APT_LISTS,), 2,
        (CleanupFix(CacheKind.APT_LISTS, "apt-get clean", after_line=5, run_from_line=4),),
    ),
    SuggestionKind.NO_INSTALL_RECOMMENDS: RecommendsFacts(
        2, 1, (RecommendedPackage("extra", ("python3",)),), roots_guessed=True
    ),
    SuggestionKind.MULTI_STAGE: MultiStageFacts(("gcc-12", "make")),
    SuggestionKind.COPY_CHMOD: CopyChmodFacts(4, 5, 10),
    SuggestionKind.REORDER_FOR_CACHE: ReorderFacts(
        "COPY . /app", "COPY", 4, 7, 2, misses=3, builds=5, manifests=("requirements.txt",),
        install_line=6, blocker_line=9, blocker_needs_sources=True,
    ),
    SuggestionKind.DOCKERIGNORE: DockerignoreFacts((".git", "a", "b", "c"), (".git", "a"), True),
    SuggestionKind.DUPLICATE_FILES: DuplicateFacts(("/usr/lib/x.so", "/opt/x.so")),
    SuggestionKind.LARGE_MODEL_FILES: ModelFacts(3, 1, ("/m.pt",), others=2),
    SuggestionKind.PIN_BASE: PinBaseFacts("debian", latest=True, moved=True),
    SuggestionKind.NON_REPRODUCIBLE: ReproducibleFacts(2, "RUN make", only_timestamps=False),
}  # fmt: skip


def _suggestion(kind: SuggestionKind) -> Suggestion:
    return Suggestion(
        id=f"{kind.value}-1",
        kind=kind,
        facts=SAMPLES[kind],
        layers=(1,),
        instructions=("RUN x",),
        lines=(),
        evidence=(Evidence("/f", 1000, 1),),
        estimated_saving_bytes=1000,
        patch_notes=(PatchNote(NoteKind.MIXED_MODES),),
    )


def test_every_kind_has_facts_and_words() -> None:
    assert set(SAMPLES) == set(SuggestionKind) == set(FACTS_OF) == set(WORDS)
    for kind, facts in SAMPLES.items():
        assert type(facts) is FACTS_OF[kind], kind
        said = words(_suggestion(kind))
        assert said.title and said.detail and "{" not in said.title + said.detail, kind


def test_every_format_shows_the_words_of_every_kind() -> None:
    items = tuple(_suggestion(kind) for kind in SuggestionKind)
    report = SuggestionReport(items, 1000, None, (), ())
    text = render_suggest_text(report, ref="app", width=0)  # 0: never wrapped
    document = suggest_document(report, ref="app", dockerfile=None)
    page = suggestions_panel(report)
    for s, item in zip(items, document["suggestions"], strict=True):
        said = words(s)
        assert f"[{s.id}] {said.title}" in text and said.detail in text
        assert (item["title"], item["detail"]) == (said.title, said.detail)
        assert item["patch_note"] == NOTE_WORDS[NoteKind.MIXED_MODES]
        assert html.escape(said.title) in page and html.escape(said.detail) in page
        console = Console(width=1000, color_system=None)
        with console.capture() as pane:
            console.print(suggestion_details(s, report))
        assert said.title in pane.get() and said.detail in pane.get()


def test_every_note_kind_has_words() -> None:
    assert set(NOTE_WORDS) == set(NoteKind)
    cause = PatchNote(NoteKind.STEPS_BETWEEN, steps=((4, "WORKDIR"),))
    full = dict(
        line=7, cache=CacheKind.APT_LISTS, first_line=3, last_line=7, cause=cause,
        steps=((4, "ENV"),), by_hand=True, mode=0o755, message="step 3 is missing",
        violations=(Violation("pip install", "file:/app/r.txt", 5),),
    )  # fmt: skip
    for kind in NoteKind:
        said = note_words(PatchNote(kind, **full))  # type: ignore[arg-type]
        assert said and "{" not in said, kind
    assert note_words(PatchNote(NoteKind.STILL_NEEDED, **full)) == (  # type: ignore[arg-type]
        "line 7 still needs the apt lists: line 4 (WORKDIR) sits between them; merge lines 3-7 "
        "and clean up at the end by hand"
    )
    broke = LeftOut("x-1", LeftOutReason.BREAKS_DEPENDENCY, violations=full["violations"])  # type: ignore[arg-type]
    assert left_out_detail(broke) == "line 5 `pip install` would run without /app/r.txt"
