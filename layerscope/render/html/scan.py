"""The page of ``layerscope scan --html``: registry totals, stored against shared bytes, every
image (what deleting it frees), the bases and their versions (stale first), findings, top
suggestions and what could not be read. Pure: the report and stats in, one string out."""

from __future__ import annotations

from dataclasses import asdict

from ...analysis.registry import RegistryReport
from ..scan import (
    ScanStats,
    image_label,
    local_name,
    merged_versions,
    percent_or_dash,
    short_name,
)
from ..scan_words import FINDING_TITLES
from ..suggest_words import kind_words
from ..text import size
from .page import bar_chart, card, document, esc, kind_badge, page_header, panel, stacked_bar, table

EXAMPLES = 3
"""Images named under each finding."""
CHART_IMAGES = 10
"""Columns of the freed-bytes chart."""


def _images(report: RegistryReport, stats: ScanStats) -> str:
    if not report.images:
        return "<p class=empty>no images</p>"
    rows = []
    for i in report.images:
        name = image_label(i.repository, i.tags, i.manifest_digest, i.platform, stats.registry)
        note = f'<br><span class="muted">not analysed: {esc(i.error)}</span>' if i.error else ""
        rows.append(
            [
                esc(name) + note,
                esc(size(i.size_bytes)),
                esc(size(i.stored_compressed_bytes)),
                esc(size(i.exclusive_compressed_bytes)),
                esc(size(i.reclaimable_bytes)),
                esc(percent_or_dash(i.efficiency)),
                str(i.layer_count),
                esc(local_name(i.base, stats.registry) if i.base else "–"),
            ]
        )
    return table(
        ["image", "size", "stored", "frees", "reclaimable", "efficiency", "layers", "base"],
        rows,
        numeric=(1, 2, 3, 4, 5, 6),
        paths=(0,),
    )


def _frees_chart(report: RegistryReport, stats: ScanStats) -> str:
    """What deleting each of the images that free the most would free (a chart as wide as
    a third of the page: past 10 columns its labels would collide)."""
    shown = report.images[:CHART_IMAGES]
    labels = [local_name(i.repository, stats.registry).rsplit("/", 1)[-1] for i in shown]
    chart = bar_chart(
        f"Freed by deleting (the {len(shown)} largest)",
        labels,
        [i.exclusive_compressed_bytes for i in shown],
        formatter=lambda v: size(int(v)),
        colour="#e8743b",
    )
    return f'<div style="max-width:620px">{chart}</div>'


def _bases(report: RegistryReport, stats: ScanStats) -> str:
    if not report.bases:
        return "<p class=empty>no layer prefix is shared</p>"
    rows = []
    for fam in report.bases:
        for version, stale, count, layers, created in merged_versions(fam):
            state = "stale" if stale else "current" if fam.named_by != "prefix" else ""
            rows.append(
                [
                    esc(local_name(fam.name, stats.registry)),
                    esc(fam.named_by),
                    esc(version),
                    kind_badge(state) if state else "",
                    str(count),
                    str(layers),
                    esc(created or "–"),
                ]
            )
    return table(
        ["base", "named by", "version", "", "images", "layers", "created"],
        rows,
        numeric=(4, 5),
        paths=(0, 2),
    )


def _findings(report: RegistryReport, stats: ScanStats) -> str:
    if not report.findings:
        return "<p class=empty>none</p>"
    rows = []
    for f in report.findings:
        named = ", ".join(
            f"{short_name(i.image, stats.registry)} ({size(i.bytes)})" for i in f.images[:EXAMPLES]
        )
        more = len(f.images) - EXAMPLES
        if more > 0:
            named += f" and {more} more"
        rows.append(
            [esc(FINDING_TITLES[f.kind]), str(len(f.images)), esc(size(f.total_bytes)), esc(named)]
        )
    return table(["finding", "images", "bytes", "in"], rows, numeric=(1, 2), paths=(3,))


def _suggestions(report: RegistryReport) -> str:
    if not report.suggestions:
        return "<p class=empty>none</p>"
    rows = [
        [esc(kind_words(s.kind)), str(len(s.images)), esc(size(s.total_bytes))]
        for s in report.suggestions
    ]
    return table(["suggestion", "images", "bytes saved"], rows, numeric=(1, 2))


def _not_read(stats: ScanStats) -> str:
    rows = [
        [kind_badge("miss"), esc(f"layer {f.digest}"), esc(f.message), str(len(f.images))]
        for f in stats.failures
    ]
    rows += [[kind_badge("miss"), esc(subject), esc(message), ""] for subject, message in
             stats.problems]  # fmt: skip
    return table(["", "what", "why", "images"], rows, numeric=(3,), paths=(1,))


def render_scan_html(report: RegistryReport, stats: ScanStats) -> str:
    """The page of ``layerscope scan --html``."""
    t = report.totals
    stale = sum(f.stale_images for f in report.bases)
    cards = [
        card("Repositories", str(t.repositories)),
        card("Tags", str(t.tags)),
        card("Images", str(t.images), "manifests (each platform one)"),
        card("Unique layers", str(t.unique_layers)),
        card("Stored", size(t.stored_compressed_bytes), "compressed, each blob once"),
        card("Referenced", size(t.referenced_compressed_bytes), "summed over every image"),
        card("Shared", size(t.shared_compressed_bytes), "saved by sharing layers", "good"),
    ]
    sharing = stacked_bar(
        [
            ("stored", t.stored_compressed_bytes, "#4e79a7"),
            ("shared (referenced again, stored once)", t.shared_compressed_bytes, "#59a14f"),
        ]
    )
    body = (
        f'<section class="cards">{"".join(cards)}</section>'
        + panel("Stored and shared bytes", sharing, "compressed layer blobs")
        + (panel("Deleting one image", _frees_chart(report, stats)) if report.images else "")
        + panel("Images", _images(report, stats), "largest exclusive (freed) bytes first")
        + panel("Bases", _bases(report, stats), "stale versions first")
        + panel("Findings across the registry", _findings(report, stats))
        + panel("Top suggestions", _suggestions(report), "by bytes over all images")
    )
    if stats.failures or stats.problems:
        body += panel("Not read", _not_read(stats), "the report covers everything else")
    meta = [
        f"{t.images} images",
        f"{stale} on stale bases",
        f"{stats.layers_read} layers read, {stats.layers_cached} from the cache",
        f"{stats.seconds:.1f} s ({stats.executor})",
    ]
    data = {
        "kind": "scan",
        "totals": asdict(t),  # the figures of scan --json, exact
        "images": [
            {
                "manifest_digest": i.manifest_digest,
                "exclusive_compressed_bytes": i.exclusive_compressed_bytes,
            }
            for i in report.images
        ],
    }
    header = page_header("registry scan", stats.registry, meta)
    return document(f"layerscope scan: {stats.registry}", header, body, data)
