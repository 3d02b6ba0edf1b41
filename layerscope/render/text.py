"""Text (rich) rendering of analyses. Wording, colour and units live here, not in analysis."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable, Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analysis import Analysis
from ..analysis.push import PushSource, image_cost
from ..analysis.suggest import SuggestionReport
from ..analysis.waste import WasteReason
from ..dockerfile import instruction_from_created_by
from .units import counted as counted  # re-exported: words without rich live in units
from .units import size as size  # re-exported: the one byte formatter lives in units

REASON_TEXT = {
    WasteReason.OVERWRITTEN: "overwritten",
    WasteReason.DELETED: "deleted",
    WasteReason.METADATA_REWRITE: "metadata-only rewrite",
    WasteReason.IDENTICAL_REWRITE: "identical rewrite",
}
REASON_HELP = {
    WasteReason.OVERWRITTEN: "a later layer wrote different content at the same path",
    WasteReason.DELETED: "a later layer deleted it (whiteout or opaque directory)",
    WasteReason.METADATA_REWRITE: "a later layer copied it again only to change mode or owner",
    WasteReason.IDENTICAL_REWRITE: "a later layer wrote the same bytes, mode and owner again",
}


def media_label(media_type: str | None, compression: str) -> str:
    """A short form of a layer's media type: ``oci+gzip``, ``docker``, ``oci+zstd``..."""
    media = media_type or ""
    family = "oci" if "oci" in media else "docker" if "docker" in media else "?"
    suffix = "" if compression == "none" else f"+{compression}"
    if "nondistributable" in media or "foreign" in media:
        family += "-foreign"
    return family + suffix


def percent(ratio: float | None) -> str:
    """A 0-1 ratio as a percentage; ``n/a`` when it cannot be computed."""
    return "n/a" if ratio is None else f"{ratio * 100:.1f}%"


_CONTENT_HASH = re.compile(r"\b(file|dir|multi):([0-9a-f]{12})[0-9a-f]{52}\b")


def instruction(created_by: str, width: int = 0) -> str:
    """One-line instruction text for a layer (content hashes of COPY/ADD shortened)."""
    text = " ".join(instruction_from_created_by(created_by).split()) or "(no history)"
    text = _CONTENT_HASH.sub(r"\1:\2…", text)
    if width and len(text) > width:
        return text[: width - 1] + "…"
    return text


def _summary(analysis: Analysis) -> RenderableType:
    image = analysis.image
    waste = analysis.waste
    dive = analysis.dive
    base = analysis.base
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Image", Text(f"{image.ref}  ({image.source}, {image.platform})"))
    grid.add_row("ID", image.image_id)
    push = image_cost(image)
    stored = f"{size(image.compressed_size_bytes)} stored"
    if push is not None and push.source is PushSource.ESTIMATE:  # some layer stored uncompressed
        stored += f" (≈{size(push.size_bytes)} to push: gzip estimated from a sample)"
    grid.add_row(
        "Size",
        f"{size(image.size_bytes)} uncompressed · {stored} · "
        + counted(len(image.layers), "layer"),
    )
    grid.add_row(
        "Base",
        f"{base.count} layer{'s' if base.count != 1 else ''} ({size(base.base_bytes)}), "
        f"yours {size(base.user_bytes)}  [dim](decided by: {base.method.value})[/dim]",
    )
    grid.add_row("Final filesystem", size(waste.final_fs_bytes))
    grid.add_row(
        "Reclaimable",
        f"[bold]{size(waste.reclaimable_bytes)}[/bold] ({percent(waste.reclaimable_ratio)} of the "
        "layers' bytes are not visible in the final filesystem)",
    )
    grid.add_row(
        "dive metrics",
        f"efficiency {percent(dive.efficiency_ratio)} · wasted {size(dive.wasted_bytes)} · "
        f"user wasted {percent(dive.user_wasted_ratio)}",
    )
    return grid


def _layers(analysis: Analysis) -> RenderableType:
    # the instruction column takes whatever width the numbers leave (rich cuts it with "…")
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        expand=True,
        title="Layers",
        title_justify="left",
        title_style="bold",
    )
    table.add_column("#", justify="right")
    table.add_column("Size", justify="right")
    table.add_column("Stored", justify="right")
    table.add_column("Type", no_wrap=True)
    table.add_column("+", justify="right", header_style="green")
    table.add_column("~", justify="right", header_style="yellow")
    table.add_column("-", justify="right", header_style="red")
    table.add_column("Reclaim", justify="right")
    table.add_column("Instruction", no_wrap=True, overflow="ellipsis", ratio=1)
    for layer in analysis.image.layers:
        changes = analysis.changes[layer.index]
        reclaim = analysis.waste.reclaimable_by_layer[layer.index]
        style = "dim" if layer.index < analysis.base.count else ""
        table.add_row(
            str(layer.index),
            size(layer.size_bytes),
            size(layer.compressed_size_bytes),
            media_label(layer.media_type, layer.compression),
            str(changes.added),
            str(changes.modified),
            str(changes.removed),
            size(reclaim) if reclaim else "",
            instruction(layer.created_by),
            style=style,
        )
    return table


def _reasons(analysis: Analysis) -> RenderableType | None:
    waste = analysis.waste
    if not waste.reclaimable_bytes:
        return None
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title="Reclaimable by reason",
        title_justify="left",
        title_style="bold",
    )
    table.add_column("Reason")
    table.add_column("Bytes", justify="right")
    table.add_column("Meaning")
    for reason in WasteReason:
        amount = waste.bytes_for(reason)
        if amount:
            table.add_row(REASON_TEXT[reason], size(amount), REASON_HELP[reason])
    return table


def _causes(analysis: Analysis, width: int) -> RenderableType | None:
    """Reclaimable bytes grouped by (reason, writer, hider): each group is one Dockerfile fix."""
    groups: dict[tuple[WasteReason, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for item in analysis.waste.items:
        group = groups[(item.reason, item.writer_layer_index, item.hider_layer_index)]
        group[0] += item.size_bytes
        group[1] += 1
    if not groups:
        return None
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title="Where the reclaimable bytes come from",
        title_justify="left",
        title_style="bold",
    )
    table.add_column("Bytes", justify="right", no_wrap=True)
    table.add_column("Files", justify="right", no_wrap=True)
    table.add_column("Reason", no_wrap=True)
    table.add_column("Written by → hidden by", no_wrap=True, overflow="ellipsis")
    layers = analysis.image.layers
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0][1], kv[0][2]))[:10]
    # The two instructions share what the numbers leave (the box's edges take 2 columns and
    # each gap 3), so the figures are never squeezed into "Byt…" at 80 columns.
    numbers = max(len("Bytes"), *(len(size(amount)) for _, (amount, _) in ordered))
    numbers += max(len("Files"), *(len(str(files)) for _, (_, files) in ordered))
    numbers += max(len(REASON_TEXT[reason]) for (reason, _, _), _ in ordered) + 2 + 3 * 3
    marks = len("# → # ") + 2 * len(str(len(layers) - 1)) + 1
    room = max(8, (width - numbers - marks) // 2)
    for (reason, writer, hider), (amount, files) in ordered:
        table.add_row(
            size(amount),
            str(files),
            REASON_TEXT[reason],
            f"#{writer} {instruction(layers[writer].created_by, room)} → "
            f"#{hider} {instruction(layers[hider].created_by, room)}",
        )
    return table


def _items(analysis: Analysis, top: int) -> RenderableType | None:
    items = analysis.waste.items[:top]
    if not items:
        return None
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"Largest reclaimable files ({len(items)} of {len(analysis.waste.items)})",
        title_justify="left",
        title_style="bold",
    )
    table.add_column("Bytes", justify="right")
    table.add_column("Reason", no_wrap=True)
    table.add_column("Layers", no_wrap=True)
    table.add_column("Path", overflow="fold")
    for item in items:
        table.add_row(
            size(item.size_bytes),
            REASON_TEXT[item.reason],
            f"#{item.writer_layer_index} → #{item.hider_layer_index}",
            item.path,
        )
    return table


def _suggestions(report: SuggestionReport | None) -> RenderableType | None:
    if report is None or not report.suggestions:
        return None
    from .suggest_words import kind_words, words  # they import this module's counted

    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_justify="left",
        title_style="bold",
        title=f"Suggestions ({size(report.total_saving_bytes)} to save; "
        "`layerscope suggest --dockerfile FILE` for patches)",
    )
    table.add_column("Saves", justify="right")
    table.add_column("Kind", no_wrap=True)
    table.add_column("What", overflow="fold")
    for item in report.suggestions[:8]:
        saves = (
            size(item.estimated_saving_bytes)
            if item.estimated_saving_bytes
            else (
                counted(item.estimated_saving_rebuilds, "rebuild")
                if item.estimated_saving_rebuilds
                else ""
            )
        )
        table.add_row(saves, kind_words(item.kind), words(item).title)
    return table


UNBOUNDED_COLUMNS = 10_000
"""The width reports are laid out at before they are measured, when no width is set."""


def print_report(
    build: Callable[[int], Sequence[RenderableType | None]],
    *,
    width: int | None = None,
    color: bool = False,
) -> str:
    """Render the renderables ``build(console_width)`` returns (None skipped) as report text:
    ``width`` columns (100 by default; 0: as wide as the widest part needs, for pipes and files),
    ANSI colour only when asked, no trailing spaces."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=(width if width is not None else 100) or UNBOUNDED_COLUMNS,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        legacy_windows=False,
    )
    parts = [part for part in build(console.width) if part is not None]
    if width == 0:
        # Nothing is cut or wrapped: each part gets its natural width (a table its columns'
        # widest cells), and the report is as wide as its widest part.
        console.width = max([console.measure(part).maximum for part in parts] + [1])
    console.print(Group(*parts))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def render_inspect(
    analysis: Analysis,
    *,
    top: int = 10,
    width: int | None = None,
    color: bool = False,
    suggestions: SuggestionReport | None = None,
) -> str:
    """The ``inspect --text`` report."""

    def build(effective: int) -> list[RenderableType | None]:
        return [
            _summary(analysis),
            Text(""),
            _layers(analysis),
            _reasons(analysis),
            _causes(analysis, effective),
            _items(analysis, top),
            _suggestions(suggestions),
        ]

    return print_report(build, width=width, color=color)
