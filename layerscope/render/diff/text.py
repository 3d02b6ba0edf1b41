"""Text (rich) rendering of ``layerscope diff``: a summary first, then the details."""

from __future__ import annotations

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from ...analysis.align import LayerPair, PairStatus
from ...analysis.diff import FileChangeKind, FileCounts, FileDiff, ImageDiff
from ...analysis.package_index import PackageChangeKind
from ..text import instruction, print_report, size

STATUS_TEXT = {
    PairStatus.SHARED: "shared",
    PairStatus.IDENTICAL: "identical",
    PairStatus.CHANGED: "changed",
    PairStatus.ADDED: "added",
    PairStatus.REMOVED: "removed",
}
CHANGE_TEXT = {
    FileChangeKind.ADDED: "added",
    FileChangeKind.REMOVED: "removed",
    FileChangeKind.CONTENT: "content",
    FileChangeKind.METADATA: "metadata",
    FileChangeKind.TIMESTAMP: "timestamp",
}


def signed(value: int | None) -> str:
    """A byte delta with its sign (``+1.2 MB``, ``-30 B``, ``0 B``); a dash when unknown."""
    if value is None:
        return "-"
    if value == 0:
        return "0 B"
    return ("+" if value > 0 else "-") + size(abs(value))


def sizes(old: int | None, new: int | None) -> str:
    """``old → new (delta)``."""
    delta = None if old is None or new is None else new - old
    return f"{size(old)} → {size(new)} ({signed(delta)})"


def pair_label(pair: LayerPair) -> str:
    """``#old → #new`` with a dash for a missing side."""
    old = f"#{pair.old_index}" if pair.old_index is not None else "-"
    new = f"#{pair.new_index}" if pair.new_index is not None else "-"
    return f"{old} → {new}"


def pair_instruction(diff: ImageDiff, pair: LayerPair, width: int = 0) -> str:
    """The instruction of a pair: the new side's, or ``old → new`` when the text changed."""
    old = diff.old.layers[pair.old_index].created_by if pair.old_index is not None else None
    new = diff.new.layers[pair.new_index].created_by if pair.new_index is not None else None
    if old is not None and new is not None and not pair.same_instruction:
        half = max(12, (width - 3) // 2) if width else 0
        return f"{instruction(old, half)} → {instruction(new, half)}"
    return instruction(new if new is not None else old or "", width)


def file_counts(counts: FileCounts) -> str:
    """One line of file tallies."""
    return (
        f"{counts.added} added ({signed(counts.added_bytes)}) · "
        f"{counts.removed} removed ({signed(-counts.removed_bytes)}) · "
        f"{counts.content} content · {counts.metadata} metadata-only · "
        f"{counts.timestamp} timestamp-only"
    )


def layer_counts(diff: ImageDiff) -> str:
    """One line of layer tallies."""
    count = diff.alignment.count
    return (
        f"{count(PairStatus.SHARED)} shared (same base / cache hit) · "
        f"{count(PairStatus.IDENTICAL)} identical · {count(PairStatus.CHANGED)} changed · "
        f"{count(PairStatus.ADDED)} added · {count(PairStatus.REMOVED)} removed"
    )


def package_counts(diff: ImageDiff) -> str:
    """One line of package tallies (only the kinds present)."""
    parts = [
        f"{n} {kind.value}"
        for kind in PackageChangeKind
        if (n := sum(1 for change in diff.packages if change.kind is kind))
    ]
    return " · ".join(parts) if parts else "no changes"


def verdict(diff: ImageDiff) -> str:
    """Whether the images differ, as a short sentence."""
    mode = " (semantic: timestamps ignored)" if diff.semantic else ""
    return ("the images differ" if diff.differs else "no differences") + mode


def contributors(diff: ImageDiff, top: int = 5) -> list[tuple[int, int]]:
    """The pairs that change the size most: (delta, pair index), biggest first."""
    ranked = [
        (item.size_delta_bytes, i)
        for i, item in enumerate(diff.pairs)
        if item.pair.status not in (PairStatus.SHARED, PairStatus.IDENTICAL)
        and item.size_delta_bytes
    ]
    ranked.sort(key=lambda pair: (-abs(pair[0]), pair[1]))
    return ranked[:top]


def top_files(files: tuple[FileDiff, ...], top: int) -> list[FileDiff]:
    """The file changes with the biggest size effect first (then by path)."""
    return sorted(files, key=lambda c: (-abs(c.size_delta_bytes), c.path))[:top]


def _table(title: str) -> Table:
    return Table(
        box=box.SIMPLE_HEAD, pad_edge=False, title=title, title_justify="left", title_style="bold"
    )


def _summary(diff: ImageDiff) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, image in (("Old", diff.old), ("New", diff.new)):
        grid.add_row(label, Text(f"{image.ref}  ({image.source}, {image.platform})"))
    grid.add_row("Size", f"{sizes(diff.old.size_bytes, diff.new.size_bytes)} uncompressed")
    grid.add_row(
        "", f"{sizes(diff.old.compressed_size_bytes, diff.new.compressed_size_bytes)} stored"
    )
    grid.add_row("Final filesystem", sizes(diff.old_final_fs_bytes, diff.new_final_fs_bytes))
    grid.add_row("Layers", f"{len(diff.old.layers)} → {len(diff.new.layers)}: {layer_counts(diff)}")
    grid.add_row("Files", file_counts(diff.counts))
    grid.add_row("Config", f"{len(diff.config)} change{'s' if len(diff.config) != 1 else ''}")
    grid.add_row("Packages", package_counts(diff))
    grid.add_row("Verdict", verdict(diff))
    return grid


def _contributors(diff: ImageDiff, width: int) -> RenderableType | None:
    rows = contributors(diff)
    if not rows:
        return None
    table = _table("Biggest contributors")
    table.add_column("Δ Size", justify="right", no_wrap=True)
    table.add_column("Layers", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Instruction", no_wrap=True, overflow="ellipsis")
    room = max(20, width - 40)
    for delta, index in rows:
        pair = diff.pairs[index].pair
        table.add_row(
            signed(delta),
            pair_label(pair),
            STATUS_TEXT[pair.status],
            pair_instruction(diff, pair, room),
        )
    return table


def _fit(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 1] + "…"


def _layers(diff: ImageDiff, width: int) -> RenderableType:
    table = _table("Layers")
    table.add_column("Old", justify="right", no_wrap=True)
    table.add_column("New", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Δ Size", justify="right", no_wrap=True)
    table.add_column("Files +/~/-", justify="right", no_wrap=True)
    table.add_column("Instruction", no_wrap=True, overflow="ellipsis")
    room = max(20, width - 52)
    shared = diff.alignment.shared_count
    if shared:
        shared_bytes = sum(layer.size_bytes for layer in diff.new.layers[:shared])
        table.add_row(
            f"0-{shared - 1}" if shared > 1 else "0",
            f"0-{shared - 1}" if shared > 1 else "0",
            "shared",
            "",
            "",
            # the Old/New columns give the layers; this has to fit the instruction's room
            _fit(f"{size(shared_bytes)} in both: same base / cache hit", room),
            style="dim",
        )
    for item in diff.pairs[shared:]:
        pair = item.pair
        counts = item.counts
        modified = counts.content + counts.metadata + counts.timestamp
        table.add_row(
            str(pair.old_index) if pair.old_index is not None else "-",
            str(pair.new_index) if pair.new_index is not None else "-",
            STATUS_TEXT[pair.status],
            signed(item.size_delta_bytes),
            f"{counts.added}/{modified}/{counts.removed}" if counts.total else "",
            pair_instruction(diff, pair, room),
            style="dim" if pair.status is PairStatus.IDENTICAL else "",
        )
    return table


def _config(diff: ImageDiff) -> RenderableType | None:
    if not diff.config:
        return None
    table = _table("Config changes")
    table.add_column("Field", no_wrap=True)
    table.add_column("Old", overflow="fold")
    table.add_column("New", overflow="fold")

    def show(value: str | tuple[str, ...] | None) -> str:
        if value is None:
            return "(none)"
        return " ".join(value) if isinstance(value, tuple) else value

    for change in diff.config:
        name = f"{change.field} {change.key}" if change.key is not None else change.field
        table.add_row(name, show(change.old), show(change.new))
    return table


def _packages(diff: ImageDiff, top: int, width: int) -> RenderableType | None:
    if not diff.packages:
        return None
    ranked = sorted(
        zip(diff.packages, diff.package_pairs, strict=True),
        key=lambda item: (-abs(item[0].size_delta_bytes or 0), item[0].ecosystem, item[0].name),
    )
    shown = ranked[:top]
    table = _table(f"Package changes ({len(shown)} of {len(ranked)})")
    table.add_column("Change", no_wrap=True)
    table.add_column("Package", no_wrap=True)
    table.add_column("Version", no_wrap=True)
    table.add_column("Δ Bytes", justify="right", no_wrap=True)
    table.add_column("Layer", no_wrap=True, overflow="ellipsis")
    room = max(16, width - 70)
    for change, pair_index in shown:
        old = change.old.version if change.old else ""
        new = change.new.version if change.new else ""
        version = f"{old} → {new}" if old and new else old or new
        pair = diff.pairs[pair_index].pair
        table.add_row(
            change.kind.value,
            f"{change.ecosystem}:{change.name}",
            version,
            signed(change.size_delta_bytes),
            f"{pair_label(pair)} {pair_instruction(diff, pair, room)}",
        )
    return table


def _files(diff: ImageDiff, top: int, width: int) -> RenderableType | None:
    if not diff.files:
        return None
    shown = top_files(diff.files, top)
    table = _table(f"File changes ({len(shown)} of {len(diff.files)}, biggest first)")
    table.add_column("Change", no_wrap=True)
    table.add_column("Δ Size", justify="right", no_wrap=True)
    table.add_column("Path", overflow="fold")
    table.add_column("Layer", no_wrap=True, overflow="ellipsis")
    room = max(16, width // 2 - 12)
    for change in shown:
        pair = diff.pairs[change.pair_index].pair if change.pair_index is not None else None
        table.add_row(
            CHANGE_TEXT[change.kind],
            signed(change.size_delta_bytes),
            change.path,
            f"{pair_label(pair)} {pair_instruction(diff, pair, room)}" if pair else "",
        )
    return table


def render_diff(
    diff: ImageDiff, *, top: int = 20, width: int | None = None, color: bool = False
) -> str:
    """The ``diff`` text report."""

    def build(effective: int) -> list[RenderableType | None]:
        return [
            _summary(diff),
            Text(""),
            _contributors(diff, effective),
            _layers(diff, effective),
            _config(diff),
            _packages(diff, top, effective),
            _files(diff, top, effective),
        ]

    return print_report(build, width=width, color=color)
