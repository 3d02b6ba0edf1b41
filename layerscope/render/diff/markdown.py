"""Markdown rendering of ``layerscope diff``: fits a pull-request comment, details collapsed."""

from __future__ import annotations

from ...analysis.align import PairStatus
from ...analysis.diff import ImageDiff
from ..markdown import code as _code
from ..markdown import plain
from ..text import size
from .text import (
    CHANGE_TEXT,
    STATUS_TEXT,
    contributors,
    file_counts,
    layer_counts,
    package_counts,
    pair_instruction,
    pair_label,
    signed,
    top_files,
    verdict,
)


def _details(summary: str, lines: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *lines, "", "</details>", ""]


def _delta_row(label: str, old: int | None, new: int | None) -> str:
    delta = None if old is None or new is None else new - old
    return f"| {label} | {size(old)} | {size(new)} | {signed(delta)} |"


def _show(value: str | tuple[str, ...] | None) -> str:
    if value is None:
        return "*(none)*"
    return _code(" ".join(value) if isinstance(value, tuple) else value) or '""'


def _config_lines(diff: ImageDiff) -> list[str]:
    lines = ["| Field | Old | New |", "|---|---|---|"]
    for change in diff.config:
        name = f"{change.field} {change.key}" if change.key is not None else change.field
        lines.append(f"| {plain(name)} | {_show(change.old)} | {_show(change.new)} |")
    return lines


def _package_lines(diff: ImageDiff) -> list[str]:
    lines = ["| Change | Package | Version | Δ bytes | Layers |", "|---|---|---|---:|---|"]
    for change, pair_index in zip(diff.packages, diff.package_pairs, strict=True):
        before = change.old.version if change.old else ""
        after = change.new.version if change.new else ""
        version = f"{before} → {after}" if before and after else before or after
        lines.append(
            f"| {change.kind.value} | {plain(change.ecosystem + ':' + change.name)} "
            f"| {plain(version)} | {signed(change.size_delta_bytes)} "
            f"| {pair_label(diff.pairs[pair_index].pair)} |"
        )
    return lines


def _file_lines(diff: ImageDiff, top: int) -> list[str]:
    shown = top_files(diff.files, top)
    lines = ["| Change | Δ size | Path | Layers |", "|---|---:|---|---|"]
    for file in shown:
        where = pair_label(diff.pairs[file.pair_index].pair) if file.pair_index is not None else ""
        lines.append(
            f"| {CHANGE_TEXT[file.kind]} | {signed(file.size_delta_bytes)} "
            f"| {_code(file.path)} | {where} |"
        )
    if len(shown) < len(diff.files):
        lines += ["", f"… and {len(diff.files) - len(shown)} more (see `--json`)."]
    return lines


def render_diff_markdown(diff: ImageDiff, *, top: int = 50) -> str:
    """The ``diff --markdown`` report."""
    old, new = diff.old, diff.new
    out = [
        f"### layerscope diff: {_code(old.ref)} → {_code(new.ref)}",
        "",
        f"**{verdict(diff).capitalize()}.**",
        "",
        "| | old | new | Δ |",
        "|---|---:|---:|---:|",
        _delta_row("Size (uncompressed)", old.size_bytes, new.size_bytes),
        _delta_row("Size (stored)", old.compressed_size_bytes, new.compressed_size_bytes),
        _delta_row("Final filesystem", diff.old_final_fs_bytes, diff.new_final_fs_bytes),
        f"| Layers | {len(old.layers)} | {len(new.layers)} | |",
        "",
        f"- **Layers:** {layer_counts(diff)}",
        f"- **Files:** {file_counts(diff.counts)}",
        f"- **Config:** {len(diff.config)} change{'s' if len(diff.config) != 1 else ''}",
        f"- **Packages:** {package_counts(diff)}",
        "",
    ]
    rows = contributors(diff)
    if rows:
        out += [
            "**Biggest contributors**",
            "",
            "| Δ size | Layers | Instruction |",
            "|---:|---|---|",
        ]
        for delta, index in rows:
            pair = diff.pairs[index].pair
            out.append(
                f"| {signed(delta)} | {pair_label(pair)} {STATUS_TEXT[pair.status]} "
                f"| {_code(pair_instruction(diff, pair, 80))} |"
            )
        out.append("")

    shared = diff.alignment.shared_count
    layer_lines = ["| Old | New | Status | Δ size | Files +/~/- | Instruction |"]
    layer_lines.append("|---:|---:|---|---:|---:|---|")
    if shared:
        span = f"0-{shared - 1}" if shared > 1 else "0"
        layer_lines.append(
            f"| {span} | {span} | shared | | | same base / cache hit "
            f"({shared} layer{'s' if shared != 1 else ''}) |"
        )
    for item in diff.pairs[shared:]:
        pair = item.pair
        counts = item.counts
        modified = counts.content + counts.metadata + counts.timestamp
        files = f"{counts.added}/{modified}/{counts.removed}" if counts.total else ""
        layer_lines.append(
            f"| {pair.old_index if pair.old_index is not None else '-'} "
            f"| {pair.new_index if pair.new_index is not None else '-'} "
            f"| {STATUS_TEXT[pair.status]} | {signed(item.size_delta_bytes)} | {files} "
            f"| {_code(pair_instruction(diff, pair, 100))} |"
        )
    changed = len(diff.pairs) - shared - diff.alignment.count(PairStatus.IDENTICAL)
    out += _details(f"Layers ({len(diff.pairs)} aligned, {changed} differ)", layer_lines)

    if diff.config:
        out += _details(f"Config changes ({len(diff.config)})", _config_lines(diff))
    if diff.packages:
        out += _details(f"Package changes ({len(diff.packages)})", _package_lines(diff))
    if diff.files:
        shown = min(top, len(diff.files))
        out += _details(
            f"File changes ({shown} of {len(diff.files)}, biggest first)", _file_lines(diff, top)
        )
    return "\n".join(out).rstrip() + "\n"
