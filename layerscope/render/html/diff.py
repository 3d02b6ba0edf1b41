"""The HTML report of ``layerscope diff OLD NEW --html``: both images side by side, the size
change per instruction (click one for its files), a treemap of what changed, the changed files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...analysis.align import PairStatus
from ...analysis.diff import FileChangeKind, ImageDiff
from ...model import Image
from ..diff.text import CHANGE_TEXT, STATUS_TEXT, pair_instruction, pair_label, signed, top_files
from ..text import size
from .fstree import DEFAULT_LEAF_LIMIT, Leaf, Notes, build_treemap
from .page import CHANGES, card, document, esc, kind_badge, page_header, panel, table, treemap_panel

KIND_COLOURS = {
    FileChangeKind.ADDED: "#3f9b5a",
    FileChangeKind.REMOVED: "#d64545",
    FileChangeKind.CONTENT: "#e8743b",
    FileChangeKind.METADATA: "#8e63c7",
    FileChangeKind.TIMESTAMP: "#c9a227",
}
KINDS = tuple(FileChangeKind)
FILE_ROWS = 200
"""Changed files listed in the table and per aligned pair (largest effect first)."""


def _sides(diff: ImageDiff) -> str:
    """Both images in one table, old and new side by side, with the change."""
    old, new = diff.old, diff.new

    def delta(a: int | None, b: int | None, shown: Callable[[int], str] = signed) -> str:
        if a is None or b is None or a == b:
            return ""
        cls = "up" if b > a else "down"
        return f'<span class="delta {cls}">{esc(shown(b - a))}</span>'

    def ident(image: Image) -> str:
        return f'<span class="mono">{esc(image.image_id[:19])}</span>'

    rows = [
        ["Reference", f'<span class="mono">{esc(old.ref)}</span>',
         f'<span class="mono">{esc(new.ref)}</span>', ""],
        ["Size", esc(size(old.size_bytes)), esc(size(new.size_bytes)),
         delta(old.size_bytes, new.size_bytes)],
        ["Stored", esc(size(old.compressed_size_bytes)), esc(size(new.compressed_size_bytes)),
         delta(old.compressed_size_bytes, new.compressed_size_bytes)],
        ["Final filesystem", esc(size(diff.old_final_fs_bytes)),
         esc(size(diff.new_final_fs_bytes)),
         delta(diff.old_final_fs_bytes, diff.new_final_fs_bytes)],
        ["Layers", str(len(old.layers)), str(len(new.layers)),
         delta(len(old.layers), len(new.layers), lambda n: f"{n:+d}")],
        ["Platform", esc(old.platform), esc(new.platform), ""],
        ["Created", esc(old.created or "–"), esc(new.created or "–"), ""],
        ["ID", ident(old), ident(new), ""],
    ]  # fmt: skip
    return panel("The two images", table(["", "old", "new", "change"], rows, numeric=(3,)))


def _pair_chart(diff: ImageDiff) -> str:
    deltas = [abs(p.size_delta_bytes) for p in diff.pairs]
    largest = max(deltas, default=0) or 1
    rows = []
    for i, item in enumerate(diff.pairs):
        pair = item.pair
        delta = item.size_delta_bytes
        colour = "#d64545" if delta > 0 else "#3f9b5a" if delta < 0 else "#c9ced8"
        width = abs(delta) / largest * 50
        left = 50 - width if delta < 0 else 50
        bar = (
            '<span style="width:100%;position:relative;background:#eef0f4">'
            f'<span style="position:absolute;left:{left:.3f}%;width:{width:.3f}%;height:100%;'
            f'background:{colour}"></span><span style="position:absolute;left:50%;width:1px;'
            'height:100%;background:#9aa3b2"></span></span>'
        )
        status = STATUS_TEXT[pair.status]
        tag = f'<span class="tag">{esc(status)}</span>'
        text = pair_instruction(diff, pair)
        muted = pair.status in (PairStatus.SHARED, PairStatus.IDENTICAL)
        ix_colour = "#8d99ab" if muted else colour if delta else "#4e79a7"
        rows.append(
            f'<div class="lrow" data-layer="{i}" tabindex="0" title="{esc(pair_label(pair))}: '
            f'{esc(text)}"><span class="ix" style="background:{ix_colour}">{i}</span>'
            f'<span class="in">{tag}{esc(text)}</span><span class="sz delta '
            f'{"up" if delta > 0 else "down" if delta < 0 else ""}">{esc(signed(delta))}</span>'
            f'<span class="bar">{bar}</span></div>'
        )
    legend = (
        '<div class="legend"><span><i style="background:#d64545"></i>grew</span>'
        '<span><i style="background:#3f9b5a"></i>shrank</span><span>bars to scale, '
        "centre line = no change</span></div>"
    )
    return panel(
        "Size change per instruction",
        f'<div class="layers">{"".join(rows)}</div>{legend}',
        "click an instruction for its files",
    )


def _pair_changes(diff: ImageDiff) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, item in enumerate(diff.pairs):
        files = top_files(item.files, FILE_ROWS)
        rows = [[CHANGE_TEXT[f.kind], f.path, signed(f.size_delta_bytes)] for f in files]
        counts = item.counts
        out[str(i)] = {
            "title": f"{STATUS_TEXT[item.pair.status].capitalize()} {pair_label(item.pair)}",
            "sub": (
                f"{signed(item.size_delta_bytes)} · {counts.added:,} added · {counts.removed:,} "
                f"removed · {counts.content:,} content · {counts.metadata:,} metadata · "
                f"{counts.timestamp:,} timestamp"
            ),
            "instr": pair_instruction(diff, item.pair),
            "rows": rows,
            "more": max(0, len(item.files) - len(files)),
        }
    return out


def _leaves(diff: ImageDiff, notes: Notes) -> list[Leaf]:
    out = []
    for f in diff.files:
        old = f.old.size_bytes if f.old is not None else 0
        new = f.new.size_bytes if f.new is not None else 0
        note = -1
        if f.pair_index is not None:
            pair = diff.pairs[f.pair_index].pair
            note = notes.add(f"{pair_label(pair)}: {pair_instruction(diff, pair)[:160]}")
        extra = f"{size(old)} → {size(new)}" if f.old is not None and f.new is not None else None
        out.append(
            Leaf(
                f.path,
                max(old, new),
                KINDS.index(f.kind),
                note,
                key=-1 if f.pair_index is None else f.pair_index,
                extra=extra,
            )
        )
    return out


def _files(diff: ImageDiff) -> str:
    shown = top_files(diff.files, FILE_ROWS)
    rows = [
        [
            kind_badge(CHANGE_TEXT[f.kind]),
            esc(f.path),
            esc(size(f.old.size_bytes)) if f.old is not None else "–",
            esc(size(f.new.size_bytes)) if f.new is not None else "–",
            esc(signed(f.size_delta_bytes)),
            esc(pair_label(diff.pairs[f.pair_index].pair)) if f.pair_index is not None else "",
        ]
        for f in shown
    ]
    body = table(["change", "path", "old", "new", "Δ", "layers"], rows, numeric=(2, 3, 4),
                 paths=(1,))  # fmt: skip
    if len(shown) < len(diff.files):
        body += f'<p class="muted">and {len(diff.files) - len(shown):,} smaller changes</p>'
    if not diff.files:
        body = '<p class="empty">The final filesystems are the same.</p>'
    return panel("Changed files", body, f"{len(diff.files):,} paths differ")


def _extras(diff: ImageDiff) -> str:
    out = ""
    if diff.config:

        def show(value: str | tuple[str, ...] | None) -> str:
            if value is None:
                return '<span class="muted">(none)</span>'
            return esc(" ".join(value) if isinstance(value, tuple) else value)

        rows = [
            [esc(c.field + (f" {c.key}" if c.key is not None else "")), show(c.old), show(c.new)]
            for c in diff.config
        ]
        out += panel("Config", table(["field", "old", "new"], rows, paths=(1, 2)))
    if diff.packages:
        rows = []
        for change in diff.packages[:FILE_ROWS]:
            before = change.old.version if change.old else ""
            after = change.new.version if change.new else ""
            rows.append(
                [
                    kind_badge(change.kind.value),
                    esc(f"{change.ecosystem}:{change.name}"),
                    esc(f"{before} → {after}" if before and after else before or after),
                    esc(signed(change.size_delta_bytes)),
                ]
            )
        out += panel("Packages", table(["change", "package", "version", "Δ"], rows, numeric=(3,)))
    return out


def render_diff_html(diff: ImageDiff, *, leaf_limit: int = DEFAULT_LEAF_LIMIT) -> str:
    """One self-contained page comparing two images."""
    old, new = diff.old, diff.new
    notes = Notes()
    treemap = build_treemap(_leaves(diff, notes), limit=leaf_limit)
    cats = [[CHANGE_TEXT[k], "", KIND_COLOURS[k]] for k in KINDS]
    counts = diff.counts
    cards = [
        card("Size change", signed(diff.size_delta_bytes), f"{size(old.size_bytes)} → "
             f"{size(new.size_bytes)}", "warn" if diff.size_delta_bytes > 0 else "good"),
        card("Stored change", signed(diff.compressed_delta_bytes), "compressed blobs"),
        card("Files changed", f"{counts.total:,}", f"{counts.added:,} added · "
             f"{counts.removed:,} removed"),
        card("Content / metadata", f"{counts.content:,} / {counts.metadata:,}",
             f"{counts.timestamp:,} timestamp-only"),
        card("Layers", f"{len(old.layers)} → {len(new.layers)}",
             f"{diff.alignment.shared_count} shared"),
        card("Packages", f"{len(diff.packages):,}", "added, removed or at another version"),
    ]  # fmt: skip
    legend = (
        "".join(
            f'<span><i style="background:{KIND_COLOURS[k]}"></i>{esc(CHANGE_TEXT[k])}</span>'
            for k in KINDS
        )
        + "<span>area: the larger of the old and new size · click to zoom in</span>"
    )
    folded = (
        f" · {treemap.folded_files:,} smaller changes folded into their directories"
        if treemap.folded_files
        else ""
    )
    tm = treemap_panel(
        "What changed", f"{treemap.leaves:,} paths{folded}", hidden_toggle=False,
        legend=legend,
    )  # fmt: skip
    body = (
        f'<section class="cards">{"".join(cards)}</section>'
        + f'<div class="grid2"><div>{_pair_chart(diff)}{CHANGES}</div>{tm}</div>'
        + _sides(diff)
        + _files(diff)
        + _extras(diff)
    )
    verdict = "the images differ" if diff.differs else "no differences"
    if diff.semantic:
        verdict += " (semantic: timestamps ignored)"
    header = page_header("diff", f"{old.ref} → {new.ref}", [verdict])
    data = {
        "tree": treemap.tree,
        "cats": cats,
        "notes": notes.texts,
        "changes": _pair_changes(diff),
        "changesHint": "Click an instruction on the left to list the files its layers changed;"
        " the paths it changed light up in the treemap.",
        "folded": treemap.folded_files,
        "keyed": True,
    }
    return document(f"layerscope diff: {old.ref} → {new.ref}", header, body, data)
