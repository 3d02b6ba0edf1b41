"""Text (rich) report of ``layerscope history``: builds, per-instruction timelines, why each
build missed and what it cost, and a small size / hit-ratio chart."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from rich import box
from rich.cells import cell_len
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from ..analysis.cache import (
    BuildCache,
    CacheHistory,
    LayerState,
    MissReason,
    PathChangeKind,
    history_series,
)
from ..analysis.push import PushCost, PushSource
from .text import instruction, percent, print_report, size

BARS = "▁▂▃▄▅▆▇█"
GLYPHS = {
    LayerState.HIT: ("●", "green"),
    LayerState.MISS: ("○", "red"),
    LayerState.NEW: ("·", "dim"),
    LayerState.ABSENT: (" ", ""),
}
REASON_TEXT = {
    MissReason.BASE_IMAGE: "the base image moved (its layers changed: an unpinned tag?)",
    MissReason.INSTRUCTION_CHANGED: "the instruction changed",
    MissReason.FILES_CHANGED: "files it copies changed",
    MissReason.NON_REPRODUCIBLE: "same step, same inputs, different output (non-reproducible)",
    MissReason.METADATA_ONLY: "only timestamps / metadata changed (a non-reproducible step)",
    MissReason.LAYER_ADDED: "a new layer on top of the previous build's",
    MissReason.UNKNOWN: "the layers' files are no longer known (not in the layer cache)",
}
SHORT_REASON = {
    MissReason.BASE_IMAGE: "base image",
    MissReason.INSTRUCTION_CHANGED: "instruction",
    MissReason.FILES_CHANGED: "files changed",
    MissReason.NON_REPRODUCIBLE: "non-reproducible",
    MissReason.METADATA_ONLY: "metadata only",
    MissReason.LAYER_ADDED: "layer added",
    MissReason.UNKNOWN: "unknown",
}


def sparkline(values: Sequence[float | None], low: float, high: float) -> str:
    """One block character per value, scaled between ``low`` and ``high``; ``·`` for None."""
    out = []
    for value in values:
        if value is None:
            out.append("·")
            continue
        span = high - low
        level = 0 if span <= 0 else round((value - low) / span * (len(BARS) - 1))
        out.append(BARS[max(0, min(len(BARS) - 1, level))])
    return "".join(out)


def _label(result: BuildCache) -> str:
    build = result.build
    short = build.image_id.split(":")[-1][:12]
    return f"{build.tag} ({short})" if build.tag else short


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


# Columns of the builds table, and the order they give way in when the terminal is narrow.
_BUILD_COLUMNS = ("#", "Build", "Created", "Size", "Layers", "Hits", "Hit ratio", "Rebuilt",
                  "Time", "First miss")  # fmt: skip
_LEFT = {"Build", "Created", "First miss"}
_DROP_FIRST = ("Time", "Rebuilt", "Layers", "Created")


def _builds(history: CacheHistory, width: int, *, plain: bool = False) -> RenderableType:
    rows = []
    for r in history.builds:
        hits = "-" if r.hit_count is None else f"{r.hit_count}/{r.build.layer_count}"
        rebuilt = "-" if r.rebuilt_bytes is None else size(r.rebuilt_bytes)
        miss = (
            f"{SHORT_REASON[r.cause.reason]} @{r.cause.layer_index}" if r.cause is not None else ""
        )
        created = (r.build.created or "-")[:16].replace("T", " ")
        rows.append((
            str(r.position), r.build.tag or _label(r), created, size(r.build.size_bytes),
            str(r.build.layer_count), hits, percent(r.hit_ratio), rebuilt,
            _seconds(r.rebuilt_seconds), miss,
        ))  # fmt: skip
    natural = {
        name: max([len(name), *(len(row[i]) for row in rows)])
        for i, name in enumerate(_BUILD_COLUMNS)
    }
    shown = list(_BUILD_COLUMNS)
    # A box edge on each side and 3 between columns; Build and First miss may wrap to 12.
    squeezed = {**natural, "Build": min(natural["Build"], 12)}
    squeezed["First miss"] = min(natural["First miss"], 12)
    for name in _DROP_FIRST:
        if sum(squeezed[n] for n in shown) + 3 * (len(shown) - 1) + 2 <= width:
            break
        shown.remove(name)
    keep = [_BUILD_COLUMNS.index(name) for name in shown]
    if plain and sum(natural[n] for n in shown) + 3 * (len(shown) - 1) + 2 <= width:
        return _plain_table(shown, [[row[i] for i in keep] for row in rows], natural)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in shown:
        wraps = name in ("Build", "First miss")
        table.add_column(
            name,
            justify="left" if name in _LEFT else "right",
            no_wrap=not wraps,
            min_width=min(natural[name], 12) if wraps else natural[name],
        )
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


def _plain_table(names: Sequence[str], rows: Sequence[Sequence[str]],
                 widths: dict[str, int]) -> Text:  # fmt: skip
    """What rich prints for the builds table when every cell fits its column (no colour), as
    one Text: a thousand-row table renders in a tenth of the time. ``tests`` hold it to
    rich's output."""

    def line(cells: Sequence[str]) -> str:
        return " " + "   ".join(
            cell.ljust(widths[name]) if name in _LEFT else cell.rjust(widths[name])
            for name, cell in zip(names, cells, strict=True)
        )

    rule = " " + "─" * (sum(widths[n] for n in names) + 3 * (len(names) - 1))
    lines = ["", line(names), rule, *(line(row) for row in rows), ""]
    return Text("\n".join(text.rstrip() for text in lines), no_wrap=True)


def _timelines(history: CacheHistory, width: int) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column(
        "Instruction", overflow="ellipsis", no_wrap=True, max_width=max(20, width // 2)
    )
    table.add_column("Timeline", no_wrap=True)
    table.add_column("Miss rate", justify="right")
    for item in history.instructions:
        line = Text()
        for state, run in itertools.groupby(item.states):  # one span per run of a state
            glyph, style = GLYPHS[state]
            line.append(glyph * len(list(run)), style=style)
        table.add_row(str(item.index), instruction(item.instruction), line, percent(item.miss_rate))
    return table


def _why(history: CacheHistory, top: int) -> list[Text]:
    return [Text(line, style=style) for line, style in _why_lines(history, top)]


def _why_lines(history: CacheHistory, top: int) -> list[tuple[str, str]]:
    """(line, rich style) of the reasons section; plain strings, so a long history that needs
    no colour skips a Text per line."""
    out: list[tuple[str, str]] = []
    for r in history.builds:
        if r.cause is None and not r.log_disagreements:
            continue
        lines = [(f"build {r.position} {_label(r)}", "bold")]
        if r.cause is not None:
            cause = r.cause
            step = instruction(cause.instruction)
            lines.append((f"  first miss: layer {cause.layer_index} {step}", ""))
            lines.append((f"  why: {REASON_TEXT[cause.reason]}", ""))
            if (
                cause.reason is MissReason.INSTRUCTION_CHANGED
                and cause.previous_instruction is not None
            ):
                lines.append((f"    was: {instruction(cause.previous_instruction)}", ""))
            for change in cause.paths[:top]:
                detail = (
                    ""
                    if change.kind is PathChangeKind.TIMESTAMP
                    else f" ({size(change.size_bytes)})"
                )
                lines.append((f"    {change.kind.value:<9} {change.path}{detail}", ""))
            if len(cause.paths) > top:
                lines.append((f"    … {len(cause.paths) - top} more paths", "dim"))
            moved = push_words(r)
            layers = len(r.rebuilt_layers)
            cost = f"  cost: {layers} layer{'s' if layers != 1 else ''} rebuilt, {moved}"
            if r.rebuilt_seconds is not None:
                cost += f", {r.rebuilt_seconds:.1f} s of build steps"
            elif r.build.has_build_log and layers:
                cost += ", build-step time unknown (no step times in the build log)"
            lines.append((cost, ""))
        if r.log_disagreements and r.hits is not None:
            for index in r.log_disagreements:
                said = "cached" if r.build.layers[index].log_cached else "ran"
                verdict = "hit" if r.hits[index] else "miss"
                lines.append((
                    f"  build log says layer {index} {said}; chain IDs say {verdict} "
                    "(chain IDs decide the ratio)", "yellow",
                ))  # fmt: skip
        out.extend(lines)
    return out


def push_figure(cost: PushCost | None) -> str:
    """A push/pull figure in a table cell: ``≈`` marks an estimate, ``-`` an unknown one."""
    if cost is None:
        return "-"
    return ("≈" if cost.source is PushSource.ESTIMATE else "") + size(cost.size_bytes)


def push_words(r: BuildCache) -> str:
    """What the rebuilt layers cost to push and pull, saying whether it was measured."""
    push = r.rebuilt_push_cost
    if push is not None and push.source is PushSource.BLOB:
        return (
            f"{size(push.size_bytes)} compressed to push and pull "
            f"({size(r.rebuilt_bytes)} uncompressed)"
        )
    if push is not None:  # some layer is stored uncompressed: what a push sends is estimated
        return (
            f"≈{size(push.size_bytes)} to push and pull (gzip estimated from a sample; "
            f"stored uncompressed here: {size(r.rebuilt_bytes)})"
        )
    # recorded before estimates were kept (or a blob size unknown): say so, never pass it off
    return (
        f"{size(r.rebuilt_bytes)} uncompressed to push and pull "
        "(stored uncompressed here: the compressed size is unknown)"
    )


def _chart(history: CacheHistory) -> RenderableType:
    series = history_series(history)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(no_wrap=True)
    grid.add_column(style="dim")
    if series.size_bytes:
        low, high = min(series.size_bytes), max(series.size_bytes)
        grid.add_row(
            "size", sparkline([float(v) for v in series.size_bytes], low, high),
            f"{size(low)} … {size(high)}",
        )  # fmt: skip
        grid.add_row("hit ratio", sparkline(series.hit_ratio, 0.0, 1.0), "0 … 100%")
    return grid


def render_history(
    history: CacheHistory,
    *,
    repository: str | None,
    top: int = 10,
    width: int | None = None,
    color: bool = False,
) -> str:
    """The ``history`` text report."""

    def build(effective: int) -> list[RenderableType | None]:
        count = len(history.builds)
        title = Text(f"History of {repository or 'the given images'}", style="bold")
        title.append(f"  ({count} build{'s' if count != 1 else ''}, oldest first)", style="")
        parts: list[RenderableType | None] = [title, _builds(history, effective, plain=not color)]
        if history.instructions:
            parts += [Text("Per layer position", style="bold"), _timelines(history, effective)]
            parts.append(Text("● hit  ○ miss  · first build", style="dim"))
        why = _why_lines(history, top)
        if why:
            # one Text of many lines renders as the lines would one by one, but rich's cost is
            # per renderable: a thousand builds' reasons print in a tenth of the time
            lines = [line for line, _style in why]
            fits = not color and all(cell_len(line) <= effective for line in lines)
            parts += [Text(""), Text("Why builds missed, and what it cost", style="bold"),
                      Text("\n".join(lines), no_wrap=True) if fits
                      else Text("\n").join(_why(history, top))]  # fmt: skip
        parts += [Text(""), _chart(history)]
        return parts

    return print_report(build, width=width, color=color)


__all__ = ["push_figure", "push_words", "render_history", "sparkline"]
