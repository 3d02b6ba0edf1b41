"""Building blocks of a self-contained HTML page: the document shell (stylesheet, script and
data inline, no network reference of any kind), cards, stacked bars, tables, SVG bar charts.

Every report (inspect, diff, history, and later scan) is assembled from these; a new one needs
only ``document(title, header, body, data)`` and the blocks it wants.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ... import __version__
from ..text import size
from .script import SCRIPT
from .style import CSS

LAYER_COLOURS = (
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
    "#ff9da7", "#9c755f", "#3f8fd2", "#8cd17d", "#d37295", "#499894",
)  # fmt: skip
BASE_COLOURS = ("#8d99ab", "#a9b3c2", "#7b879a", "#bcc4d1")
REASON_COLOURS = {
    "overwritten": "var(--over)",
    "deleted": "var(--del)",
    "metadata_rewrite": "var(--meta)",
    "identical_rewrite": "var(--ident)",
}


def esc(text: object) -> str:
    """Text escaped for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def layer_colour(index: int, base_count: int) -> str:
    """Base-image layers in muted greys, your layers in distinct colours."""
    if index < base_count:
        return BASE_COLOURS[index % len(BASE_COLOURS)]
    return LAYER_COLOURS[(index - base_count) % len(LAYER_COLOURS)]


def data_script(data: dict[str, Any]) -> str:
    """``data`` as an inline JSON block the page's script reads (``</`` cannot end it early)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
    return f'<script type="application/json" id="ls-data">{text}</script>'


def document(title: str, header: str, body: str, data: dict[str, Any] | None = None) -> str:
    """The whole page: everything inline, nothing fetched."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="generator" content="layerscope {esc(__version__)}">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"{header}<main>{body}<footer>Made by layerscope {esc(__version__)} · one "
        "self-contained page: it fetches nothing.</footer></main>"
        f"{data_script(data or {})}<script>{SCRIPT}</script></body></html>\n"
    )


def page_header(kind: str, title: str, meta: Iterable[str]) -> str:
    """The dark band at the top: report kind, the image (or images), facts in one line."""
    spans = "".join(f"<span>{esc(item)}</span>" for item in meta if item)
    return (
        f'<header class="top"><div class="brand">layerscope · {esc(kind)}</div>'
        f'<h1>{esc(title)}</h1><div class="meta">{spans}</div></header>'
    )


def card(label: str, value: str, sub: str = "", tone: str = "") -> str:
    """One summary figure."""
    cls = f"card {tone}".strip()
    return (
        f'<div class="{cls}"><div class="k">{esc(label)}</div><div class="v">{esc(value)}</div>'
        f'<div class="s">{esc(sub)}</div></div>'
    )


def panel(title: str, body: str, note: str = "", attrs: str = "") -> str:
    """A white panel with a heading."""
    small = f"<small>{esc(note)}</small>" if note else ""
    return f'<section class="panel"{attrs}><h2>{esc(title)}{small}</h2>{body}</section>'


def stacked_bar(segments: Sequence[tuple[str, int, str]], *, hatch: Iterable[str] = ()) -> str:
    """A horizontal bar of (label, bytes, colour) segments with a legend giving each share."""
    total = sum(max(0, value) for _, value, _ in segments)
    striped = set(hatch)
    bar, legend = [], []
    for label, value, colour in segments:
        if value <= 0:
            continue
        share = value / total if total else 0.0
        cls = ' class="hatch"' if label in striped else ""
        bar.append(
            f'<span{cls} style="width:{share * 100:.3f}%;background-color:{colour}" '
            f'title="{esc(label)}: {esc(size(value))}"></span>'
        )
        legend.append(
            f'<span><i{cls} style="background-color:{colour}"></i>{esc(label)} '
            f"<b>{esc(size(value))}</b> ({share * 100:.1f}%)</span>"
        )
    return f'<div class="sbar">{"".join(bar)}</div><div class="legend">{"".join(legend)}</div>'


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    paths: Iterable[int] = (),
) -> str:
    """A table of already-escaped cells; columns in ``numeric`` align right, ``paths`` are set
    in monospace and break anywhere."""
    right, mono = set(numeric), set(paths)

    def cls(i: int) -> str:
        return ' class="n"' if i in right else ' class="p"' if i in mono else ""

    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def kind_badge(kind: str) -> str:
    """A small coloured label (added, removed, deleted, content, hit, miss...)."""
    return f'<span class="k {esc(kind)}">{esc(kind.replace("_", " "))}</span>'


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    formatter: Any,
    colour: str = "#4e79a7",
    top: float | None = None,
) -> str:
    """A small SVG column chart, one column per value (None leaves a gap); each column has a
    native tooltip with its label and value."""
    width, height, pad_l, pad_b, pad_t = 420, 170, 8, 22, 16
    known = [v for v in values if v is not None]
    high = top if top is not None else max(known, default=0) or 1
    count = max(1, len(values))
    slot = (width - pad_l * 2) / count
    bar_w = max(2.0, min(38.0, slot * 0.7))
    parts = [
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_l}" y2="{height - pad_b}" '
        'stroke="#c9ced8"/>'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = pad_l + slot * i + (slot - bar_w) / 2
        if value is None:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - pad_b - 4}" font-size="10" '
                f'text-anchor="middle" fill="#9aa3b2">n/a</text>'
            )
            continue
        bar_h = max(1.0, (height - pad_b - pad_t) * (value / high if high else 0))
        y = height - pad_b - bar_h
        text = f"{label}: {formatter(value)}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" rx="2" '
            f'fill="{colour}"><title>{esc(text)}</title></rect>'
        )
        if count <= 16:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="9.5" '
                f'text-anchor="middle" fill="#3a4255">{esc(formatter(value))}</text>'
            )
    if count <= 16:
        for i, label in enumerate(labels):
            x = pad_l + slot * i + slot / 2
            short = label if len(label) <= 10 else label[:9] + "…"
            parts.append(
                f'<text x="{x:.1f}" y="{height - 7}" font-size="9.5" text-anchor="middle" '
                f'fill="#6b7385">{esc(short)}</text>'
            )
    svg = (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">'
        f"{''.join(parts)}</svg>"
    )
    return f'<div class="chart"><div class="t">{esc(title)}</div>{svg}</div>'


def patch_block(patch: str) -> str:
    """A unified diff with added, removed and hunk lines coloured."""
    lines = []
    for line in patch.splitlines():
        cls = ""
        if line.startswith(("+++", "---", "@@")):
            cls = "h"
        elif line.startswith("+"):
            cls = "a"
        elif line.startswith("-"):
            cls = "r"
        text = esc(line)
        lines.append(f'<span class="{cls}">{text}</span>' if cls else text)
    return '<pre class="patch">' + "\n".join(lines) + "</pre>"


CHANGES = '<section class="panel changes" id="ls-changes"></section>'
"""Where the script lists the changes of the selected layer (or aligned pair)."""


def treemap_panel(title: str, note: str, *, hidden_toggle: bool, legend: str) -> str:
    """The treemap's frame; the script draws into ``#ls-tm`` from the page data."""
    toggle = (
        '<label class="muted" style="font-size:12.5px"><input type="checkbox" id="ls-hidden" '
        "checked> hidden bytes</label>"
        if hidden_toggle
        else ""
    )
    body = (
        f'<div class="tmbar"><div class="crumbs" id="ls-crumbs"></div>{toggle}</div>'
        f'<div class="tm" id="ls-tm"></div><div class="legend">{legend}</div>'
    )
    return panel(title, body, note)
