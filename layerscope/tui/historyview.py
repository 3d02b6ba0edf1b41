"""Pure pieces of the History screen: unicode bar charts of size and hit ratio per build, and
the per-build table rows (no Textual, no rich)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from layerscope.analysis.cache import BuildCache, CacheHistory

__all__ = ["EIGHTHS", "BuildRow", "bar_levels", "bar_rows", "build_rows", "explain_empty"]

EIGHTHS = " ▁▂▃▄▅▆▇█"
"""A cell filled 0/8 .. 8/8 from the bottom."""


@dataclass(frozen=True, slots=True)
class BuildRow:
    """One build of the table."""

    position: int
    label: str
    created: str
    size_bytes: int
    layers: int
    hits: str
    hit_ratio: float | None
    first_miss: str
    """``reason @layer`` of the first missed layer; empty when nothing missed or first build."""
    current: bool
    """This is the image on screen."""


def bar_levels(
    values: Sequence[float | None], height: int, low: float, high: float, *, floor: bool
) -> list[int | None]:
    """Each value as a bar height in eighths of a row (0 .. 8 * height); None stays None.

    With ``floor`` the smallest value still gets one eighth, so every build shows a bar (for
    sizes, where the chart spans min .. max rather than 0 .. max).
    """
    top = 8 * height
    out: list[int | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        span = high - low
        if span <= 0:
            out.append(top if floor else round(top * max(0.0, min(1.0, value))))
            continue
        share = max(0.0, min(1.0, (value - low) / span))
        out.append(1 + round(share * (top - 1)) if floor else round(share * top))
    return out


def bar_rows(levels: Sequence[int | None], height: int, *, width: int = 2) -> list[str]:
    """The chart as ``height`` text rows, top first: one bar ``width - 1`` cells wide and a
    gap per value; a missing value is ``·`` on the bottom row."""
    rows: list[str] = []
    bar = max(1, width - 1)
    gap = " " * (width - bar)
    for row in range(height - 1, -1, -1):  # row 0 is the bottom
        cells = []
        for level in levels:
            if level is None:
                cell = "·" if row == 0 else " "
            else:
                filled = max(0, min(8, level - 8 * row))
                cell = EIGHTHS[filled]
            cells.append(cell * bar + gap)
        rows.append("".join(cells))
    return rows


def _label(result: BuildCache) -> str:
    build = result.build
    short = build.image_id.split(":")[-1][:12]
    return f"{build.tag} ({short})" if build.tag else short


def build_rows(
    history: CacheHistory, reasons: dict[str, str], current_image_id: str | None = None
) -> list[BuildRow]:
    """The table rows, oldest build first; ``reasons`` maps a MissReason value to its words."""
    out: list[BuildRow] = []
    for r in history.builds:
        build = r.build
        hits = "-" if r.hit_count is None else f"{r.hit_count}/{build.layer_count}"
        miss = ""
        if r.cause is not None:
            miss = (
                f"{reasons.get(r.cause.reason.value, r.cause.reason.value)} @{r.cause.layer_index}"
            )
        out.append(
            BuildRow(
                position=r.position,
                label=_label(r),
                created=(build.created or "-")[:16].replace("T", " "),
                size_bytes=build.size_bytes,
                layers=build.layer_count,
                hits=hits,
                hit_ratio=r.hit_ratio,
                first_miss=miss,
                current=current_image_id is not None and build.image_id == current_image_id,
            )
        )
    return out


def explain_empty(history: CacheHistory | None, available: bool) -> str | None:
    """One line saying why there is nothing (or little) to plot; None when there is enough."""
    if not available:
        return "Build history is not available here (no history store was given)."
    if history is None or not history.builds:
        return (
            "No builds of this repository are recorded yet: layerscope records every image it "
            "opens; open later builds to see size and cache hits across them."
        )
    if len(history.builds) == 1:
        return (
            "Only this build is recorded so far: hit ratios need a previous build of the same "
            "repository (open or build it again to compare)."
        )
    return None
