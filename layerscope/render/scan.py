"""``scan`` output: text, JSON (schema_version 1, docs/json-schema.md) and Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis.registry import BaseFamily, ImageSummary, RegistryReport
from .markdown import cell
from .scan_words import FINDING_TITLES
from .suggest_words import kind_words
from .units import size

SCAN_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class LayerFailure:
    """A layer blob the scan could not read, and the images that list it."""

    digest: str
    repository: str
    message: str
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScanStats:
    """How the scan went: what it read, and what it could not."""

    registry: str
    layers_read: int
    layers_cached: int
    bytes_read: int
    seconds: float
    executor: str
    failures: tuple[LayerFailure, ...] = ()
    problems: tuple[tuple[str, str], ...] = ()
    stages: tuple[tuple[str, float], ...] = ()
    """(stage, seconds): ``listing``, ``reading`` (images are analysed meanwhile), ``report``."""


def scan_document(report: RegistryReport, stats: ScanStats) -> dict[str, Any]:
    """The JSON document of a scan."""
    t = report.totals
    return {
        "schema_version": SCAN_SCHEMA_VERSION,
        "registry": stats.registry,
        "repositories": t.repositories,
        "tags": t.tags,
        "images": t.images,
        "unique_layers": t.unique_layers,
        "stored_compressed_bytes": t.stored_compressed_bytes,
        "referenced_compressed_bytes": t.referenced_compressed_bytes,
        "shared_compressed_bytes": t.shared_compressed_bytes,
        "scan": {
            "executor": stats.executor,
            "layers_read": stats.layers_read,
            "layers_cached": stats.layers_cached,
            "bytes_read": stats.bytes_read,
            "seconds": round(stats.seconds, 3),
            "stages": {name: round(seconds, 3) for name, seconds in stats.stages},
        },
        "image_list": [_image(i) for i in report.images],
        "bases": [_base(f) for f in report.bases],
        "findings": [
            {
                "kind": f.kind,
                "title": FINDING_TITLES[f.kind],
                "total_bytes": f.total_bytes,
                "image_count": len(f.images),
                "images": [
                    {"image": i.image, "bytes": i.bytes, "examples": list(i.examples)}
                    for i in f.images
                ],
            }
            for f in report.findings
        ],
        "top_suggestions": [
            {
                "kind": s.kind.value,
                "total_bytes": s.total_bytes,
                "image_count": len(s.images),
                "images": list(s.images),
            }
            for s in report.suggestions
        ],
        "failures": [
            {
                "digest": f.digest,
                "repository": f.repository,
                "message": f.message,
                "images": list(f.images),
            }
            for f in stats.failures
        ],
        "problems": [{"subject": s, "message": m} for s, m in stats.problems],
    }


def _image(i: ImageSummary) -> dict[str, Any]:
    """One image of the scan document's ``image_list``."""
    return {
        "repository": i.repository,
        "tags": list(i.tags),
        "manifest_digest": i.manifest_digest,
        "platform": i.platform,
        "created": i.created,
        "layer_count": i.layer_count,
        "size_bytes": i.size_bytes,
        "stored_compressed_bytes": i.stored_compressed_bytes,
        "exclusive_compressed_bytes": i.exclusive_compressed_bytes,
        "reclaimable_bytes": i.reclaimable_bytes,
        "efficiency": i.efficiency,
        "base": i.base,
        "error": i.error,
    }


def _base(f: BaseFamily) -> dict[str, Any]:
    """One base family of the scan document's ``bases``, with its versions."""
    return {
        "name": f.name,
        "named_by": f.named_by,
        "stale_images": f.stale_images,
        "versions": [
            {
                "version": v.version,
                "layer_count": v.layer_count,
                "top_digest": v.top_digest,
                "created": v.created,
                "stale": v.stale,
                "image_count": len(v.images),
                "images": list(v.images),
            }
            for v in f.versions
        ],
    }


def local_name(name: str, registries: str) -> str:
    """``name`` without the scanned registry's host (the report's first line names it)."""
    for host in registries.split(", "):
        if name.startswith(host + "/"):
            return name[len(host) + 1 :]
    return name


def short_name(name: str, registries: str) -> str:
    """``repo@abcdef123456`` for a table."""
    repo, _, digest = name.partition("@")
    repo = local_name(repo, registries)
    return f"{repo}@{digest[7:19]}" if digest else repo


def image_label(
    repository: str, tags: tuple[str, ...], digest: str, platform: str, registries: str
) -> str:
    tag = ",".join(tags) if tags else digest[7:19]
    suffix = f" ({platform})" if platform else ""
    return f"{local_name(repository, registries)}:{tag}{suffix}"


def merged_versions(fam: BaseFamily) -> list[tuple[str, bool, int, int, str | None]]:
    """(version, stale, images, layers, created) per version name: the platforms of one
    version are one line."""
    merged: dict[str, tuple[str, bool, int, int, str | None]] = {}
    for v in fam.versions:
        seen = merged.get(v.version)
        count = len(v.images) + (seen[2] if seen else 0)
        merged[v.version] = (v.version, v.stale, count, v.layer_count, v.created)
    return list(merged.values())


def percent_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _fit(line: str, width: int) -> str:
    return line if width <= 0 or len(line) <= width else line[: width - 1] + "…"


def render_scan_text(
    report: RegistryReport, stats: ScanStats, *, top: int = 20, width: int = 100
) -> str:
    """A summary for a person: totals, the images deleting would free most, bases, findings;
    no line is wider than ``width`` (image names are cut from the left; 0: nothing is cut)."""
    t = report.totals
    labels = [
        image_label(i.repository, i.tags, i.manifest_digest, i.platform, stats.registry)
        for i in report.images[:top]
    ]
    # width 0 (a pipe or a file): as wide as the longest image name, nothing cut
    name_width = max(20, width - 53) if width > 0 else max([20, *map(len, labels)])
    multi = {
        (i.repository, i.tags)
        for i in report.images
        for j in report.images
        if i is not j and (i.repository, i.tags) == (j.repository, j.tags)
    }
    lines = [
        f"Registry {stats.registry}: {t.repositories} repositories, {t.tags} tags, "
        f"{t.images} images, {t.unique_layers} unique layers",
        f"  stored {size(t.stored_compressed_bytes)}, referenced "
        f"{size(t.referenced_compressed_bytes)}, shared {size(t.shared_compressed_bytes)}",
        f"  read {stats.layers_read} layers ({size(stats.bytes_read)}), "
        f"{stats.layers_cached} from the layer cache, in {stats.seconds:.1f} s ({stats.executor})",
        "",
        f"Images (largest exclusive bytes first; {min(top, len(report.images))} of "
        f"{len(report.images)}):",
        f"  {'image':<{name_width}} {'size':>8} {'stored':>8} {'frees':>8} {'reclaim':>8} "
        f"{'effic.':>7} {'layers':>6}",
    ]
    for i in report.images[:top]:
        label = image_label(
            i.repository,
            i.tags,
            i.manifest_digest,
            i.platform if (i.repository, i.tags) in multi else "",
            stats.registry,
        )
        if len(label) > name_width:
            label = "…" + label[-(name_width - 1) :]
        lines.append(
            f"  {label:<{name_width}} {size(i.size_bytes):>8} {size(i.stored_compressed_bytes):>8} "
            f"{size(i.exclusive_compressed_bytes):>8} {size(i.reclaimable_bytes):>8} "
            f"{percent_or_dash(i.efficiency):>7} {i.layer_count:>6}"
        )
        if i.error:
            lines.append(f"    not analysed: {i.error}")
    lines += ["", "Bases (stale versions first):"]
    if not report.bases:
        lines.append("  no layer prefix is shared")
    for fam in report.bases:
        lines.append(f"  {local_name(fam.name, stats.registry)} ({fam.named_by})")
        for version, stale, count, layers, created in merged_versions(fam):
            mark = "stale  " if stale else "current" if fam.named_by != "prefix" else "       "
            lines.append(
                f"    {mark} {version:<24} {count:>4} images  {layers} layers  {created or '-'}"
            )
    lines += ["", "Findings across the registry:"]
    if not report.findings:
        lines.append("  none")
    for f in report.findings:
        lines.append(f"  {FINDING_TITLES[f.kind]}: {len(f.images)} images, {size(f.total_bytes)}")
        for img in f.images[:5]:
            example = f"  e.g. {img.examples[0]}" if img.examples else ""
            lines.append(f"    {short_name(img.image, stats.registry)}  {size(img.bytes)}{example}")
    lines += ["", "Top suggestions by total bytes:"]
    if not report.suggestions:
        lines.append("  none")
    for s in report.suggestions:
        lines.append(f"  {kind_words(s.kind)}: {size(s.total_bytes)} over {len(s.images)} images")
    if stats.failures or stats.problems:
        lines += ["", "Not read:"]
        for fail in stats.failures:
            lines.append(f"  layer {fail.digest[:19]} ({len(fail.images)} images): {fail.message}")
        for subject, message in stats.problems:
            lines.append(f"  {subject}: {message}")
    return "\n".join(_fit(line, width) for line in lines) + "\n"


def render_scan_markdown(report: RegistryReport, stats: ScanStats, *, top: int = 50) -> str:
    """The same report as Markdown tables (for a CI summary or a wiki page)."""
    t = report.totals
    out = [
        f"# Registry scan: {cell(stats.registry)}",
        "",
        "| repositories | tags | images | unique layers | stored | referenced | shared |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {t.repositories} | {t.tags} | {t.images} | {t.unique_layers} | "
        f"{size(t.stored_compressed_bytes)} | {size(t.referenced_compressed_bytes)} | "
        f"{size(t.shared_compressed_bytes)} |",
        "",
        "## Images",
        "",
        "| image | platform | size | stored | frees | reclaimable | efficiency | layers |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for i in report.images[:top]:
        tag = ",".join(i.tags) if i.tags else i.manifest_digest[7:19]
        out.append(
            f"| {cell(i.repository + ':' + tag)} | {i.platform} | {size(i.size_bytes)} | "
            f"{size(i.stored_compressed_bytes)} | {size(i.exclusive_compressed_bytes)} | "
            f"{size(i.reclaimable_bytes)} | {percent_or_dash(i.efficiency)} | {i.layer_count} |"
        )
    out += ["", "## Bases", "", "| base | version | images | state |", "|---|---|---:|---|"]
    for fam in report.bases:
        for version, stale, count, _layers, _created in merged_versions(fam):
            state = "stale" if stale else "current" if fam.named_by != "prefix" else ""
            out.append(f"| {cell(fam.name)} | {cell(version)} | {count} | {state} |")
    out += ["", "## Findings", "", "| finding | images | bytes |", "|---|---:|---:|"]
    for f in report.findings:
        out.append(f"| {cell(FINDING_TITLES[f.kind])} | {len(f.images)} | {size(f.total_bytes)} |")
    out += ["", "## Top suggestions", "", "| suggestion | images | bytes |", "|---|---:|---:|"]
    for s in report.suggestions:
        out.append(f"| {cell(kind_words(s.kind))} | {len(s.images)} | {size(s.total_bytes)} |")
    if stats.failures or stats.problems:
        out += ["", "## Not read", ""]
        for fail in stats.failures:
            out.append(f"- layer `{fail.digest}`: {cell(fail.message)}")
        for subject, message in stats.problems:
            out.append(f"- {cell(subject)}: {cell(message)}")
    return "\n".join(out) + "\n"
