"""Read-only panes of the diff screen: the file change under the cursor, and the images'
summary with their config and package changes."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from layerscope.analysis.diff import FileChangeKind, FileDiff, ImageDiff
from layerscope.model import FileEntry
from layerscope.render.diff.text import (
    CHANGE_TEXT,
    file_counts,
    layer_counts,
    pair_instruction,
    pair_label,
    signed,
    sizes,
    verdict,
)
from layerscope.tui.formatting import mode_text, owner_text, size
from layerscope.tui.viewmodel import Row

CHANGE_STYLES = {
    FileChangeKind.ADDED: "green",
    FileChangeKind.REMOVED: "red",
    FileChangeKind.CONTENT: "yellow",
    FileChangeKind.METADATA: "yellow",
    FileChangeKind.TIMESTAMP: "yellow",
}
PACKAGES_SHOWN = 50


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _side(entry: FileEntry | None, layer: int | None) -> str:
    if entry is None:
        return "(absent)"
    where = f", layer {layer}" if layer is not None else ""
    return f"{mode_text(entry)} {owner_text(entry)} {size(entry.size_bytes)}{where}"


def _mtime(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")


def change_details(diff: ImageDiff, row: Row | None, change: FileDiff | None) -> RenderableType:
    """The change under the cursor: kind, both sides, the size delta and the instruction."""
    if row is None:
        return Text("No file changes here.", style="dim")
    grid = _grid()
    grid.add_row("Path", Text(row.path))
    if change is None:
        delta = signed(row.delta_bytes)
        grid.add_row("Below", f"{delta} in the changes under this directory")
        return grid
    grid.add_row(
        "Change",
        Text.assemble(
            (CHANGE_TEXT[change.kind], CHANGE_STYLES[change.kind]),
            f" · {signed(change.size_delta_bytes)}",
        ),
    )
    grid.add_row("Old", _side(change.old, change.old_layer_index))
    grid.add_row("New", _side(change.new, change.new_layer_index))
    if change.kind is FileChangeKind.TIMESTAMP and change.old and change.new:
        grid.add_row("Mtime", f"{_mtime(change.old.mtime)} → {_mtime(change.new.mtime)}")
    if change.pair_index is not None:
        pair = diff.pairs[change.pair_index].pair
        grid.add_row("By", Text(f"{pair_label(pair)} {pair_instruction(diff, pair)}"))
    return grid


def _show(value: str | tuple[str, ...] | None) -> str:
    if value is None:
        return "(none)"
    return " ".join(value) if isinstance(value, tuple) else value


def diff_summary(diff: ImageDiff, pair_index: int | None = None) -> RenderableType:
    """Both images, totals, config changes, and the package changes (of one pair, or all)."""
    grid = _grid()
    for label, image in (("Old", diff.old), ("New", diff.new)):
        grid.add_row(label, Text(f"{image.ref} ({image.platform})"))
    grid.add_row("Size", sizes(diff.old.size_bytes, diff.new.size_bytes))
    grid.add_row("Stored", sizes(diff.old.compressed_size_bytes, diff.new.compressed_size_bytes))
    grid.add_row("Final fs", sizes(diff.old_final_fs_bytes, diff.new_final_fs_bytes))
    grid.add_row("Layers", f"{len(diff.old.layers)} → {len(diff.new.layers)}: {layer_counts(diff)}")
    grid.add_row("Files", file_counts(diff.counts))
    grid.add_row("Verdict", Text(verdict(diff), style="bold"))
    parts: list[RenderableType] = [grid, Text("")]
    config = Table(title="Config changes", title_justify="left", title_style="bold", box=None)
    if diff.config:
        config.add_column("Field", no_wrap=True)
        config.add_column("Old", overflow="fold")
        config.add_column("New", overflow="fold")
        for item in diff.config:
            name = f"{item.field} {item.key}" if item.key is not None else item.field
            config.add_row(name, _show(item.old), _show(item.new))
        parts.append(config)
    else:
        parts.append(Text("Config: no changes", style="bold"))
    parts.append(Text(""))
    parts.append(_packages(diff, pair_index))
    return Group(*parts)


def _packages(diff: ImageDiff, pair_index: int | None) -> RenderableType:
    items = [
        (change, index)
        for change, index in zip(diff.packages, diff.package_pairs, strict=True)
        if pair_index is None or index == pair_index
    ]
    where = "" if pair_index is None else f" of {pair_label(diff.pairs[pair_index].pair)}"
    if not items:
        return Text(f"Packages{where}: no changes", style="bold")
    items.sort(key=lambda it: (-abs(it[0].size_delta_bytes or 0), it[0].ecosystem, it[0].name))
    shown = items[:PACKAGES_SHOWN]
    table = Table(
        title=f"Package changes{where} ({len(shown)} of {len(items)})",
        title_justify="left",
        title_style="bold",
        box=None,
    )
    table.add_column("Change", no_wrap=True)
    table.add_column("Package", overflow="fold")
    table.add_column("Version", overflow="fold")
    table.add_column("Δ", justify="right", no_wrap=True)
    for change, _index in shown:
        old = change.old.version if change.old else ""
        new = change.new.version if change.new else ""
        version = f"{old} → {new}" if old and new else old or new
        table.add_row(
            change.kind.value,
            f"{change.ecosystem}:{change.name}",
            version,
            signed(change.size_delta_bytes),
        )
    return table
