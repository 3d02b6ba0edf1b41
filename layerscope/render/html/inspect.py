"""The HTML report of one image (``layerscope report`` and ``inspect --html``)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ...analysis import Analysis, ChangeKind, FileChange
from ...analysis.push import PushSource, image_cost
from ...analysis.suggest import SIZE_KINDS, SuggestionReport
from ...analysis.waste import WasteReason
from ...model import EntryKind, Image
from ..suggest_words import words
from ..text import REASON_HELP, REASON_TEXT, instruction, percent, size
from .fstree import DEFAULT_LEAF_LIMIT, HIDDEN, Leaf, Notes, build_treemap
from .page import (
    CHANGES,
    LAYER_COLOURS,
    REASON_COLOURS,
    card,
    document,
    esc,
    kind_badge,
    layer_colour,
    page_header,
    panel,
    patch_block,
    stacked_bar,
    table,
    treemap_panel,
)

if TYPE_CHECKING:
    from ...analysis.cache import CacheHistory

CHANGES_PER_LAYER = 200
"""File changes the page keeps per layer (largest first); the rest are counted."""
RECLAIMABLE_ROWS = 100
REASONS = tuple(WasteReason)
VISIBLE_COLOUR = "#2f4b7c"


def _reason_bytes(analysis: Analysis) -> list[dict[WasteReason, int]]:
    per_layer: list[dict[WasteReason, int]] = [{} for _ in analysis.image.layers]
    for item in analysis.waste.items:
        slot = per_layer[item.writer_layer_index]
        slot[item.reason] = slot.get(item.reason, 0) + item.size_bytes
    return per_layer


def _stored(image: Image) -> str:
    """The stored size is what a push sends only for compressed blobs: else the estimate."""
    push = image_cost(image)
    if push is not None and push.source is PushSource.ESTIMATE:
        stored = size(image.compressed_size_bytes)
        return card("To push", "≈" + size(push.size_bytes),
                    f"gzip estimated from a sample; {stored} stored uncompressed")  # fmt: skip
    return card("Stored", size(image.compressed_size_bytes), "as pushed and pulled")


def _summary(analysis: Analysis) -> str:
    image, waste, dive, base = analysis.image, analysis.waste, analysis.dive, analysis.base
    layers = len(image.layers)
    cards = [
        card("Image size", size(image.size_bytes), "uncompressed, all layers"),
        _stored(image),
        card("Layers", str(layers), f"{base.count} base · {layers - base.count} yours"),
        card("Final filesystem", size(waste.final_fs_bytes), "what a container sees"),
        card(
            "Reclaimable",
            size(waste.reclaimable_bytes),
            f"{percent(waste.reclaimable_ratio)} hidden by later layers",
            "warn" if waste.reclaimable_bytes else "good",
        ),
        card(
            "dive efficiency",
            percent(dive.efficiency_ratio),
            f"wasted {size(dive.wasted_bytes)} · user {percent(dive.user_wasted_ratio)}",
        ),
    ]
    other = image.size_bytes - waste.final_fs_bytes - waste.reclaimable_bytes
    segments = [("visible in the final filesystem", waste.final_fs_bytes, VISIBLE_COLOUR)]
    segments += [
        (REASON_TEXT[reason], waste.bytes_for(reason), REASON_COLOURS[reason.value])
        for reason in REASONS
    ]
    if other > 0:
        segments.append(("other (hard links, duplicates in one layer)", other, "#c9ced8"))
    hatch = [REASON_TEXT[reason] for reason in REASONS]
    where = stacked_bar(segments, hatch=hatch)
    split = stacked_bar(
        [
            (f"base image ({base.count} layers)", base.base_bytes, "#8d99ab"),
            (f"yours ({layers - base.count} layers)", base.user_bytes, "#f28e2b"),
        ]
    )
    return (
        f'<section class="cards">{"".join(cards)}</section>'
        + '<section class="cols2">'
        + panel("Where the bytes go", where, f"of {size(image.size_bytes)} in the layers")
        + panel("Base image vs yours", split, f"decided by: {base.method.value}")
        + "</section>"
    )


def _layer_chart(analysis: Analysis, reasons: list[dict[WasteReason, int]]) -> str:
    image, base = analysis.image, analysis.base
    largest = max((layer.size_bytes for layer in image.layers), default=0) or 1
    rows = []
    for layer in image.layers:
        i = layer.index
        colour = layer_colour(i, base.count)
        hidden = sum(reasons[i].values())
        survives = max(0, layer.size_bytes - hidden)
        segs = [f'<span style="width:{survives / largest * 100:.3f}%;background:{colour}"></span>']
        for reason in REASONS:
            value = reasons[i].get(reason, 0)
            if value:
                segs.append(
                    f'<span class="hatch r-{reason.value}" style="width:'
                    f'{value / largest * 100:.3f}%" title="{esc(REASON_TEXT[reason])}: '
                    f'{esc(size(value))}"></span>'
                )
        text = instruction(layer.created_by)
        tag = '<span class="tag">base</span>' if i < base.count else ""
        tip = f"{size(layer.size_bytes)}, {size(hidden)} hidden later: {text}"
        rows.append(
            f'<div class="lrow" data-layer="{i}" tabindex="0" title="{esc(tip)}">'
            f'<span class="ix" style="background:{colour}">{i}</span>'
            f'<span class="in">{tag}{esc(text)}</span>'
            f'<span class="sz">{esc(size(layer.size_bytes))}</span>'
            f'<span class="bar">{"".join(segs)}</span></div>'
        )
    swatch = f"background:linear-gradient(90deg,{','.join(LAYER_COLOURS[:4])})"
    legend = (
        f'<div class="legend"><span><i style="{swatch}"></i>survives</span>'
        + "".join(
            f'<span><i class="hatch r-{r.value}"></i>{esc(REASON_TEXT[r])}</span>' for r in REASONS
        )
        + "</div>"
    )
    return panel(
        "Layers",
        f'<div class="layers">{"".join(rows)}</div>{legend}',
        "click a layer for its changes",
    )


def _leaves(analysis: Analysis, notes: Notes) -> list[Leaf]:
    file = EntryKind.FILE
    out = [
        Leaf(path, placed.entry.size_bytes, placed.layer_index)
        for path, placed in analysis.filesystem.final.items()
        if placed.entry.kind is file and placed.entry.size_bytes > 0
    ]
    layers = analysis.image.layers
    note_of: dict[tuple[WasteReason, int], int] = {}
    for item in analysis.waste.items:
        key = (item.reason, item.hider_layer_index)
        note = note_of.get(key)
        if note is None:
            note = note_of[key] = notes.add(
                f"hidden: {REASON_TEXT[item.reason]} by layer {item.hider_layer_index}: "
                f"{instruction(layers[item.hider_layer_index].created_by, 120)}"
            )
        out.append(Leaf(item.path, item.size_bytes, item.writer_layer_index, note, HIDDEN))
    return out


def _files_only(changes: Iterable[FileChange]) -> Iterator[FileChange]:
    """Changes that are not directory-only (FileChange.is_dir, without building lists)."""
    directory = EntryKind.DIR
    for change in changes:
        before, after = change.before, change.after
        if (before is None or before.entry.kind is directory) and (
            after is None or after.entry.kind is directory
        ):
            continue
        yield change


def _changes(analysis: Analysis) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer, changes in zip(analysis.image.layers, analysis.changes, strict=True):
        files = list(_files_only(changes.changes))
        top = heapq.nlargest(CHANGES_PER_LAYER, files, key=lambda c: abs(c.size_delta_bytes))
        top.sort(key=lambda c: (-abs(c.size_delta_bytes), c.path))
        rows = []
        for change in top:
            kind = change.kind.value
            entry = change.after if change.after is not None else change.before
            value = entry.entry.size_bytes if entry is not None else 0
            text = size(value)
            if change.kind is ChangeKind.MODIFIED and change.detail is not None:
                kind = change.detail.value if change.detail.value != "identical" else "timestamp"
                text = (
                    f"{size(change.size_delta_bytes)} change" if change.size_delta_bytes else text
                )
            rows.append([kind, change.path, text])
        hidden = analysis.waste.reclaimable_by_layer[layer.index]
        out[str(layer.index)] = {
            "title": f"Layer {layer.index}",
            "sub": (
                f"{size(layer.size_bytes)} · {changes.added:,} added · {changes.modified:,} "
                f"modified · {changes.removed:,} removed · {size(hidden)} hidden later"
            ),
            "instr": instruction(layer.created_by),
            "rows": rows,
            "more": max(0, len(files) - CHANGES_PER_LAYER),
        }
    return out


def _reclaimable(analysis: Analysis) -> str:
    waste = analysis.waste
    if not waste.items:
        return panel("Reclaimable", '<p class="empty">Nothing: every stored byte is visible.</p>')
    rows = [
        [
            kind_badge(item.reason.value),
            esc(item.path),
            esc(size(item.size_bytes)),
            f"{item.writer_layer_index}: {esc(instruction(item.writer_created_by, 60))}",
            f"{item.hider_layer_index}: {esc(instruction(item.hider_created_by, 60))}",
        ]
        for item in waste.items[:RECLAIMABLE_ROWS]
    ]
    body = table(["why", "path", "size", "written by", "hidden by"], rows, numeric=(2,), paths=(1,))
    more = len(waste.items) - RECLAIMABLE_ROWS
    if more > 0:
        body += f'<p class="muted">and {more:,} smaller items</p>'
    why = " ".join(f"<b>{esc(REASON_TEXT[r])}</b>: {esc(REASON_HELP[r])}." for r in REASONS)
    body += f'<p class="muted" style="font-size:12px">{why}</p>'
    note = f"{size(waste.reclaimable_bytes)} in {len(waste.items):,} stored copies"
    return panel("Reclaimable", body, note)


def suggestions_panel(report: SuggestionReport | None) -> str:
    """The suggestions with their savings, and the combined patch when there is one."""
    if report is None:
        return ""
    if not report.suggestions:
        return panel("Suggestions", '<p class="empty">No change to suggest.</p>')
    items = []
    for s in report.suggestions:
        if s.kind in SIZE_KINDS:
            saving = f"saves {size(s.estimated_saving_bytes)}"
        elif s.estimated_saving_rebuilds:
            saving = f"{s.estimated_saving_rebuilds} fewer rebuilds"
        else:
            saving = ""
        where = ("layer " if len(s.layers) == 1 else "layers ") + ", ".join(map(str, s.layers))
        where = where if s.layers else ""
        own = (
            f"<details><summary>patch</summary>{patch_block(s.patch)}</details>" if s.patch else ""
        )
        said = words(s)
        items.append(
            f'<div class="sugg"><span class="sv">{esc(saving)}</span><div class="t">'
            f'{esc(said.title)}</div><div class="d">{esc(said.detail)}</div>'
            '<div class="muted" style="font-size:12px">'
            f"{esc(where)}</div>{own}</div>"
        )
    body = "".join(items)
    if report.patch:
        body += (
            f"<h2 style='margin-top:14px'>Combined patch <small>{len(report.applied)} suggestions"
            f", saves {esc(size(report.applied_saving_bytes))}</small></h2>"
            + patch_block(report.patch)
        )
    note = f"{size(report.total_saving_bytes)} to save, each stored file counted once"
    return panel("Suggestions", body, note)


def render_inspect_html(
    analysis: Analysis,
    suggestions: SuggestionReport | None = None,
    history: CacheHistory | None = None,
    *,
    leaf_limit: int = DEFAULT_LEAF_LIMIT,
) -> str:
    """One self-contained page about one image."""
    from .history import history_sections

    image = analysis.image
    reasons = _reason_bytes(analysis)
    notes = Notes()
    treemap = build_treemap(_leaves(analysis, notes), limit=leaf_limit)
    cats = [
        [f"layer {layer.index}", instruction(layer.created_by, 160),
         layer_colour(layer.index, analysis.base.count)]
        for layer in image.layers
    ]  # fmt: skip
    folded = (
        f" · {treemap.folded_files:,} smaller files ({size(treemap.folded_bytes)}) folded into "
        "their directories"
        if treemap.folded_files
        else ""
    )
    legend = (
        "<span>colour: the layer that wrote the file (grey = base image)</span>"
        '<span><i class="hatch" style="background-color:#8d99ab"></i>striped: hidden by a later '
        "layer, shown where it was written</span><span>click to zoom in</span>"
    )
    tm = treemap_panel(
        "Filesystem", f"{treemap.leaves:,} files{folded}", hidden_toggle=True, legend=legend
    )
    body = (
        _summary(analysis)
        + f'<div class="grid2"><div>{_layer_chart(analysis, reasons)}{CHANGES}</div>{tm}</div>'
        + _reclaimable(analysis)
        + suggestions_panel(suggestions)
        + (history_sections(history) if history is not None and len(history.builds) > 1 else "")
    )
    meta = [
        image.image_id[:19],
        str(image.platform),
        f"created {image.created}" if image.created else "",
        f"from {image.source}" if image.source else "",
    ]
    data = {
        "tree": treemap.tree,
        "cats": cats,
        "notes": notes.texts,
        "changes": _changes(analysis),
        "changesHint": "Click a layer on the left to list the files it added, modified and "
        "removed; its files light up in the treemap.",
        "folded": treemap.folded_files,
    }
    header = page_header("image report", image.ref, meta)
    return document(f"layerscope: {image.ref}", header, body, data)
