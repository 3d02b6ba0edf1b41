"""The suggestions pane: Dockerfile suggestions with their measured saving (shown only when
there is at least one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from layerscope.render.suggest_words import Words, covered_titles, notes_words
from layerscope.render.suggest_words import words as default_words
from layerscope.render.text import counted
from layerscope.tui.formatting import short_size, size
from layerscope.tui.widgets.fitted import FittedTable

if TYPE_CHECKING:
    from layerscope.analysis.prove import Proof
    from layerscope.analysis.suggest import Suggestion, SuggestionReport

EVIDENCE_SHOWN = 10

SuggestionWords = Callable[["Suggestion"], Words]
"""A suggestion's title and detail (``render.suggest_words.words``)."""


def kind_word(suggestion: Suggestion) -> str:
    """A short word for the kind (the id's prefix: ``merge``, ``cleanup``...)."""
    prefix = str(getattr(suggestion, "id", "") or "").split("-")[0]
    if prefix:
        return prefix
    return str(getattr(getattr(suggestion, "kind", None), "value", "?"))


def saving_text(suggestion: Suggestion) -> str:
    """Bytes saved, else rebuilds avoided, else a dash."""
    saved = getattr(suggestion, "estimated_saving_bytes", 0) or 0
    if saved > 0:
        return short_size(saved)
    rebuilds = getattr(suggestion, "estimated_saving_rebuilds", None)
    if rebuilds:
        return counted(rebuilds, "rebuild")
    return "-"


def measured_text(suggestion: Suggestion, proof: Proof | None = None) -> str:
    """The saving a real build measured for it alone, ``failed`` when the proof dropped it
    because it broke the build (empty: not measured)."""
    measured = getattr(suggestion, "measured_saving_bytes", None)
    if measured is not None:
        return short_size(measured)
    if proof is not None and any(d.id == suggestion.id for d in proof.dropped):
        return "failed"
    return ""


def suggestion_layer(suggestion: Suggestion) -> int | None:
    """The layer to show for a suggestion: its first layer, else its first evidence's layer."""
    layers = tuple(getattr(suggestion, "layers", ()) or ())
    if layers:
        return int(layers[0])
    evidence = tuple(getattr(suggestion, "evidence", ()) or ())
    return int(evidence[0].layer_index) if evidence else None


def patch_status(suggestion: Suggestion, report: SuggestionReport | None) -> Text | None:
    """Whether the suggestion is in the combined patch, and if not, why (None: no patch at all,
    as without a Dockerfile)."""
    if report is None or report.patch is None and not report.left_out:
        return None
    if suggestion.id in report.applied:
        return Text("in the combined patch", style="green")
    for item in report.left_out:
        if item.id == suggestion.id:
            from layerscope.render.suggest import left_out_words

            return Text("left out: " + left_out_words(item), style="yellow")
    return None


def hunk_text(patch: str) -> Text:
    """A unified diff with added lines green and removed ones red (long lines cut with an
    ellipsis, never wrapped: a wrapped line would read as a context line)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    for n, line in enumerate(patch.rstrip("\n").splitlines()):
        if n:
            out.append("\n")
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        out.append(line, style=style)
    return out


def suggestion_details(
    suggestion: Suggestion,
    report: SuggestionReport | None = None,
    words: SuggestionWords = default_words,
) -> RenderableType:
    """What a suggestion proposes, why, what it saves, the files behind the figure, its hunk of
    the patch and whether the combined patch has it."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    said = words(suggestion)
    grid.add_row("Suggest", Text(said.title, style="bold"))
    saved = suggestion.estimated_saving_bytes
    what = [f"{suggestion.kind.value}"]
    if saved:
        what.append(f"saves about {size(saved)}")
    if suggestion.estimated_saving_rebuilds:
        what.append(f"avoids {counted(suggestion.estimated_saving_rebuilds, 'rebuild')}")
    grid.add_row("Kind", f"{suggestion.id}: " + " · ".join(what))
    proof = getattr(report, "proof", None)
    measured = getattr(suggestion, "measured_saving_bytes", None)
    if measured is not None:
        estimate = f"estimated {size(saved)}" if saved else "no estimate"
        grid.add_row(
            "Measured",
            f"{size(measured)} ({measured:,} bytes) saved by a real build ({estimate})",
        )
    elif proof is not None and suggestion.id in proof.applied:
        grid.add_row("Measured", Text("not built alone (--prove=each builds each one)", "dim"))
    if getattr(suggestion, "measured_note", None):
        grid.add_row("Build", Text(str(suggestion.measured_note), style="yellow"))
    if proof is not None:
        for label, text in proof_rows(proof):
            grid.add_row(label, text)
    rebuild = getattr(suggestion, "estimated_saving_rebuild_bytes", None)
    if rebuild is not None:
        from layerscope.render.suggest import cache_figures

        grid.add_row("Cache", Text(cache_figures(suggestion) or ""))
    if suggestion.layers:
        grid.add_row("Layers", ", ".join(str(i) for i in suggestion.layers))
    if suggestion.lines:
        spans = ", ".join(
            str(s.start) if s.start == s.end else f"{s.start}-{s.end}" for s in suggestion.lines
        )
        grid.add_row("Lines", f"Dockerfile {spans}")
    grid.add_row("Why", Text(said.detail))
    evidence = suggestion.evidence
    if evidence:
        shown = evidence[:EVIDENCE_SHOWN]
        lines = Text()
        for i, item in enumerate(shown):
            if i:
                lines.append("\n")
            lines.append(f"{short_size(item.size_bytes):>8}  ", style="bold")
            lines.append(item.path)
            lines.append(f"  (layer {item.layer_index})", style="dim")
        count = getattr(suggestion, "evidence_count", None) or len(evidence)
        grid.add_row(f"Files ({count})" if count > len(shown) else "Files", lines)
    covers = covered_titles(suggestion)
    if covers:
        grid.add_row("Covers", Text("; ".join(covers)))
    if suggestion.patch_notes:
        grid.add_row("Note", Text(notes_words(suggestion.patch_notes) or "", style="italic"))
    status = patch_status(suggestion, report)
    if status is not None:
        grid.add_row("Patch", status)
    if getattr(suggestion, "patch", None):
        grid.add_row("Hunk", hunk_text(str(suggestion.patch)))
    return grid


def proof_headline(count: int, proof: Proof, patch: bool) -> tuple[str, str]:
    """The pane's title and subtitle after a proof: what the whole patch saved when built
    (short enough for an 80-column terminal), and whether the proof is an earlier one."""
    title = f"Suggestions ({count}) · {short_size(proof.measured_saving_bytes)} measured"
    said = "earlier proof" if proof.recorded_at else "proved"
    return title, f"{said} · p: write patch" if patch else f"{said} · enter: go to layer"


def proof_rows(proof: Proof) -> list[tuple[str, Text]]:
    """What the real builds measured for the whole patch: estimated vs measured, whether it
    builds, the cache experiment, the suggestions dropped, and when the proof ran if earlier."""
    from layerscope.analysis.prove import relative_error

    measured, estimated = proof.measured_saving_bytes, proof.estimated_saving_bytes
    error = relative_error(estimated, measured)
    off = f", {error * 100:.1f}% off" if error is not None else ""
    verdict = "builds" if proof.patch_builds else "does not build"
    whole = Text(f"whole patch: {size(measured)} ({measured:,} bytes) measured, ")
    whole.append(f"{size(estimated)} estimated{off}; it {verdict} with {proof.builder}")
    if proof.recorded_at:
        whole.append(f"\nfrom an earlier proof ({proof.recorded_at})", style="italic")
    rows = [("Proof", whole)]
    if proof.cache is not None:
        c = proof.cache
        said = Text(f"one-line edit of {c.touched}:")
        for label, run in (("original", c.original), ("patched", c.patched)):
            said.append(
                f"\n{label}: {run.steps - run.steps_hit} of {run.steps} steps ran, "
                f"{size(run.bytes_rebuilt)} rebuilt, {run.seconds:.1f} s"
            )
        rows.append(("Edit test", said))
    for d in proof.dropped:
        rows.append(("Dropped", Text(f"{d.id}: {d.reason}", style="yellow")))
    return rows


class SuggestionList(FittedTable):
    """Suggestions, largest saving first; Enter (or a click) selects the suggestion's layer."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Go to layer"),
        Binding("p", "app.write_patch", "Write patch"),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor is on this suggestion."""

        suggestion: Suggestion

    @dataclass
    class Jump(Message):
        """Show this suggestion's first layer (and its first file)."""

        suggestion: Suggestion

    def __init__(
        self,
        report: SuggestionReport,
        *,
        id: str | None = None,
        words: SuggestionWords = default_words,
    ) -> None:
        super().__init__(id=id)
        self.words = words
        self.items: tuple[Suggestion, ...] = tuple(report.suggestions)
        self.total_saving_bytes = report.total_saving_bytes
        self.report = report

    def on_mount(self) -> None:
        self.refill()

    def lay_out(self) -> None:
        # the suggestion's words carry the meaning: kind and saving take what their values need
        kinds = [kind_word(item) for item in self.items]
        savings = [saving_text(item) for item in self.items]
        self.add_column("Kind", key="kind", width=self.fit("Kind", kinds))
        proof = getattr(self.report, "proof", None)
        built = [measured_text(item, proof) for item in self.items]
        saving = "Est." if any(built) else "Saving"
        self.add_column(saving, key="saving", width=self.fit(saving, savings))
        if any(built):  # after --prove=each: the measured saving beside the estimate
            self.add_column("Built", key="built", width=self.fit("Built", built))
        room = self.room()
        self.add_column("Suggestion", key="title", width=room)
        for item, kind, saving, alone in zip(self.items, kinds, savings, built, strict=True):
            cells = [kind, Text(saving, justify="right")]
            if any(built):
                cells.append(Text(alone or "", justify="right"))
            cells.append(Text(self.words(item).title, no_wrap=True, overflow="ellipsis"))
            self.add_row(*cells)

    def current(self) -> Suggestion | None:
        """The suggestion under the cursor."""
        row = self.cursor_row
        return self.items[row] if 0 <= row < len(self.items) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.items):
            self.post_message(self.Highlighted(self.items[event.cursor_row]))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.items):
            self.post_message(self.Jump(self.items[event.cursor_row]))
