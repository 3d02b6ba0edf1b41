"""History charts (size, cache-hit ratio, rebuilt bytes per build) and the per-instruction
timeline, as page sections; and the page of ``layerscope history --html``."""

from __future__ import annotations

from ...analysis.cache import BuildCache, CacheHistory, LayerState
from ..history_text import SHORT_REASON, push_figure
from ..text import instruction, percent, size
from .page import bar_chart, card, document, esc, kind_badge, page_header, panel, table

TIMELINE_BUILDS = 40
"""Most recent builds shown in the timeline grid."""
PUSH_NOTE = "to push and pull: the rebuilt blobs; ≈ a gzip size estimated from a sample"


def _label(build: BuildCache, history: CacheHistory) -> str:
    """The build's tag when no other build has it, else its short image id."""
    record = build.build
    tags = [b.build.tag for b in history.builds]
    if record.tag and tags.count(record.tag) == 1:
        return record.tag
    return record.image_id.split(":", 1)[-1][:8]


def _charts(history: CacheHistory) -> str:
    builds = history.builds
    labels = [_label(b, history) for b in builds]
    return (
        '<div class="cols3">'
        + "".join(
            [
                bar_chart(
                    "Image size",
                    labels,
                    [b.build.size_bytes for b in builds],
                    formatter=lambda v: size(int(v)),
                    colour="#4e79a7",
                ),
                bar_chart(
                    "Cache-hit ratio",
                    labels,
                    [b.hit_ratio for b in builds],
                    formatter=lambda v: percent(v),
                    colour="#59a14f",
                    top=1.0,
                ),
                bar_chart(
                    "Rebuilt bytes",
                    labels,
                    [b.rebuilt_bytes for b in builds],
                    formatter=lambda v: size(int(v)),
                    colour="#e8743b",
                ),
            ]
        )
        + "</div>"
    )


def _timeline(history: CacheHistory) -> str:
    count = len(history.builds)
    start = max(0, count - TIMELINE_BUILDS)
    head = "".join(
        f'<th title="{esc(_label(b, history))}" style="padding:2px">{b.position}</th>'
        for b in history.builds[start:]
    )
    rows = []
    for line in history.instructions:
        cells = "".join(
            f'<td class="c {state.value}" title="build {start + i}: {state.value}"></td>'
            for i, state in enumerate(line.states[start:])
        )
        rate = percent(line.miss_rate) if line.miss_rate is not None else "–"
        rows.append(
            f'<tr><td class="n">{line.index}</td><td class="p">'
            f"{esc(instruction(line.instruction, 70))}</td>"
            f'<td class="n">{esc(rate)}</td>{cells}</tr>'
        )
    legend = "".join(
        f'<span><i class="{s.value}" style="background:var(--{c})"></i>{s.value}</span>'
        for s, c in ((LayerState.HIT, "ok"), (LayerState.MISS, "bad"))
    )
    return (
        '<div style="overflow:auto"><table class="timeline"><tr><th class="n">#</th>'
        f'<th>instruction</th><th class="n">misses</th>{head}</tr>{"".join(rows)}</table></div>'
        f'<div class="legend">{legend}</div>'
    )


def _builds_table(history: CacheHistory) -> str:
    rows = []
    for b in history.builds:
        cause = ""
        if b.cause is not None:
            cause = f"layer {b.cause.layer_index}: {SHORT_REASON[b.cause.reason]}"
        rows.append(
            [
                str(b.position),
                esc(_label(b, history)),
                esc(b.build.created or "–"),
                esc(size(b.build.size_bytes)),
                str(b.build.layer_count),
                esc(percent(b.hit_ratio)),
                esc(size(b.rebuilt_bytes)),
                esc(push_figure(b.rebuilt_push_cost) if b.hits is not None else "–"),
                esc(cause),
            ]
        )
    return table(
        ["#", "build", "created", "size", "layers", "hits", "rebuilt", "to push and pull",
         "first miss"],
        rows,
        numeric=(0, 3, 4, 5, 6, 7),
    )  # fmt: skip


def history_sections(history: CacheHistory) -> str:
    """Charts, timeline and builds of a recorded history, as panels."""
    note = f"{len(history.builds)} recorded builds"
    return (
        panel("Build history", _charts(history), note)
        + panel("Cache hits per instruction", _timeline(history), "one column per build")
        + panel("Builds", _builds_table(history), PUSH_NOTE)
    )


def render_history_html(history: CacheHistory, *, repository: str | None) -> str:
    """The page of ``layerscope history --html``."""
    builds = history.builds
    if not repository:
        names = sorted({b.build.repository for b in builds})
        repository = ", ".join(names) if names else "builds"
    compared = [b for b in builds if b.hit_ratio is not None]
    mean = sum(b.hit_ratio or 0.0 for b in compared) / len(compared) if compared else None
    rebuilt = sum(b.rebuilt_bytes or 0 for b in builds)
    last = builds[-1].build if builds else None
    cards = [
        card("Builds", str(len(builds)), "in creation order"),
        card(
            "Latest size",
            size(last.size_bytes) if last else "–",
            _label(builds[-1], history) if builds else "",
        ),
        card("Mean hit ratio", percent(mean), "layers reused from the build before"),
        card("Rebuilt", size(rebuilt), "bytes rebuilt over all builds"),
    ]
    misses = [b for b in builds if b.cause is not None]
    worst = ""
    if misses:
        rows = [
            [
                esc(_label(b, history)),
                kind_badge("miss"),
                esc(SHORT_REASON[b.cause.reason]) if b.cause else "",
                esc(instruction(b.cause.instruction, 80)) if b.cause else "",
            ]
            for b in misses
        ]
        worst = panel("Why builds missed", table(["build", "", "reason", "instruction"], rows))
    body = (
        f'<section class="cards">{"".join(cards)}</section>'
        + (history_sections(history) if builds else panel("Builds", "<p class=empty>none</p>"))
        + worst
    )
    header = page_header("build history", repository, [f"{len(builds)} builds"])
    return document(f"layerscope history: {repository}", header, body)
