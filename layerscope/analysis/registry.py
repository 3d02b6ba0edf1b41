"""A registry's images at once (``scan``): sharing, what deleting an image frees, bases and
their versions, and findings summed over every image. Pure: the images come in loaded.

Definitions (docs/json-schema.md, "scan"):

- an *image* is one distinct manifest digest (each platform of an index is one image);
- *stored* bytes count each distinct layer blob once (its compressed size, as the registry
  keeps it); *referenced* bytes count a blob once per image that lists it; *shared* is the
  difference;
- an image's *exclusive* bytes are its blobs no other image lists: what deleting it frees;
- a *base* is a layer prefix: the longest image in the scan whose blobs are a proper prefix of
  another's, else the longest prefix shared with another image; its name comes from that base
  image's repository, else the ``org.opencontainers.image.base.name`` label; the versions of a
  named base are its distinct prefixes, newest by the last base layer's history time; the
  others are stale.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..model import Digest, Image
from . import analyze
from .base import BASE_NAME_KEY
from .suggest.model import SuggestionKind

TOOLCHAIN_RE = re.compile(
    r"^/usr/(local/)?bin/(gcc|g\+\+|cc|c\+\+|cpp|clang|clang\+\+|ld|ld\.bfd|ld\.gold|as|make|"
    r"cmake|rustc|cargo|javac|go)(-[0-9.]+)?$"
    r"|^/usr/(lib|libexec)/gcc(-cross)?/"
    r"|^/usr/local/go/(bin|pkg/tool)/"
    r"|^/usr/lib/llvm-[0-9]+/bin/"
    r"|^/(root|home/[^/]+)/\.rustup/toolchains/"
)
PACKAGE_CACHE_RE = re.compile(
    r"^/var/cache/apt/archives/.+\.deb$"
    r"|^/var/lib/apt/lists/[^/]+_(Packages|Sources|Release|InRelease|Translation)[^/]*$"
    r"|^/var/cache/(apk|yum|dnf|zypp)/.+"
    r"|^/(root|home/[^/]+)/\.cache/(pip|pypoetry|uv)/.+"
    r"|^/(root|home/[^/]+)/\.npm/_cacache/.+"
    r"|^/usr/local/share/\.cache/yarn/.+"
    r"|^/(root|home/[^/]+)/\.cache/yarn/.+"
)
PYCACHE_RE = re.compile(r"/__pycache__/[^/]+\.pyc$")


class FindingKind(StrEnum):
    """What a registry-wide finding is about (its words: ``render.scan_words``). The order is
    the report's order among findings of equal bytes."""

    TOOLCHAIN = "toolchain"
    PACKAGE_CACHE = "package_cache"
    PYCACHE = "pycache"
    DUPLICATE_FILES = "duplicate_files"
    MODEL_FILES = "model_files"


FINDING_SUGGESTIONS = {
    FindingKind.DUPLICATE_FILES: SuggestionKind.DUPLICATE_FILES,
    FindingKind.MODEL_FILES: SuggestionKind.LARGE_MODEL_FILES,
}


@dataclass(frozen=True, slots=True)
class ScannedImage:
    """One distinct manifest of the scan. ``image`` is None when a layer could not be read."""

    repository: str
    """``HOST/REPO``."""
    tags: tuple[str, ...]
    manifest_digest: Digest
    platform: str
    created: str | None
    blobs: tuple[tuple[Digest, int], ...]
    """Layer blobs (digest, compressed size), oldest first."""
    image: Image | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RegistryTotals:
    repositories: int
    tags: int
    images: int
    unique_layers: int
    stored_compressed_bytes: int
    referenced_compressed_bytes: int
    shared_compressed_bytes: int


@dataclass(frozen=True, slots=True)
class ImageSummary:
    repository: str
    tags: tuple[str, ...]
    manifest_digest: Digest
    platform: str
    created: str | None
    layer_count: int
    stored_compressed_bytes: int
    """Its distinct blobs' compressed sizes."""
    exclusive_compressed_bytes: int
    """Blobs no other image lists: what deleting it frees."""
    size_bytes: int | None
    """Uncompressed layer bytes (None when a layer could not be read)."""
    reclaimable_bytes: int | None
    efficiency: float | None
    """dive's efficiency score."""
    base: str | None
    """``name@version`` of the base it sits on."""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class BaseVersion:
    version: str
    """A tag of the base image, the label's tag or digest, or the prefix's last blob digest."""
    layer_count: int
    top_digest: Digest
    """The last blob of the prefix."""
    created: str | None
    images: tuple[str, ...]
    """``HOST/REPO@digest`` of every image on it."""
    stale: bool


@dataclass(frozen=True, slots=True)
class BaseFamily:
    name: str
    named_by: str
    """``registry`` (a base image in the scan), ``label``, or ``prefix`` (no name known)."""
    versions: tuple[BaseVersion, ...]
    """Stale first (oldest first), the current version last."""

    @property
    def stale_images(self) -> int:
        return sum(len(v.images) for v in self.versions if v.stale)


@dataclass(frozen=True, slots=True)
class FindingImage:
    image: str
    """``HOST/REPO@digest``."""
    bytes: int
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    total_bytes: int
    images: tuple[FindingImage, ...]
    """Largest first."""


@dataclass(frozen=True, slots=True)
class SuggestionTotal:
    kind: SuggestionKind
    total_bytes: int
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegistryReport:
    totals: RegistryTotals
    images: tuple[ImageSummary, ...]
    """Largest exclusive bytes first."""
    bases: tuple[BaseFamily, ...]
    findings: tuple[Finding, ...]
    suggestions: tuple[SuggestionTotal, ...]
    """By total estimated saving, largest first."""


def _name(item: ScannedImage) -> str:
    return f"{item.repository}@{item.manifest_digest}"


def registry_totals(images: Sequence[ScannedImage], repositories: int, tags: int) -> RegistryTotals:
    """The registry-wide byte figures (each manifest digest counted once)."""
    stored: dict[Digest, int] = {}
    referenced = 0
    for item in images:
        distinct = dict(item.blobs)
        referenced += sum(distinct.values())
        stored.update(distinct)
    total = sum(stored.values())
    return RegistryTotals(
        repositories=repositories,
        tags=tags,
        images=len(images),
        unique_layers=len(stored),
        stored_compressed_bytes=total,
        referenced_compressed_bytes=referenced,
        shared_compressed_bytes=referenced - total,
    )


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What one image contributes to the report (``image_facts``): computed once per image,
    as soon as its layers are read, while other layers are still being read."""

    size_bytes: int
    reclaimable_bytes: int
    efficiency: float
    findings: tuple[tuple[FindingKind, int, tuple[str, ...]], ...]
    """(finding kind, bytes, example paths)."""
    suggestions: tuple[tuple[SuggestionKind, int], ...]
    """(suggestion kind, estimated saving bytes)."""


def image_facts(image: Image) -> ImageFacts:
    """Analyse one image for the registry report: sizes, waste, findings, suggestions."""
    from .suggest import suggest

    analysis = analyze(image)
    findings = [
        (kind, found[0], found[1])
        for kind, found in _path_findings(analysis.filesystem.final.items()).items()
    ]
    suggestions = []
    for suggestion in suggest(analysis).suggestions:
        kind = suggestion.kind
        suggestions.append((kind, suggestion.estimated_saving_bytes))
        for finding, wanted in FINDING_SUGGESTIONS.items():
            if kind is wanted:
                paths = tuple(e.path for e in suggestion.evidence[:3])
                findings.append((finding, suggestion.estimated_saving_bytes, paths))
    return ImageFacts(
        size_bytes=image.size_bytes,
        reclaimable_bytes=analysis.waste.reclaimable_bytes,
        efficiency=analysis.dive.efficiency_ratio,
        findings=tuple(findings),
        suggestions=tuple(suggestions),
    )


def registry_report(
    images: Sequence[ScannedImage],
    *,
    repositories: int,
    tags: int,
    top: int = 10,
    facts: Mapping[Digest, ImageFacts] | None = None,
) -> RegistryReport:
    """Everything ``scan`` reports; ``images`` hold distinct manifest digests. ``facts`` by
    manifest digest are used where given (else computed here)."""
    totals = registry_totals(images, repositories, tags)
    users: dict[Digest, int] = {}
    for item in images:
        for digest in {d for d, _s in item.blobs}:
            users[digest] = users.get(digest, 0) + 1
    bases, base_of = _bases(images)
    summaries: list[ImageSummary] = []
    per_kind: dict[FindingKind, list[FindingImage]] = {k: [] for k in FindingKind}
    suggestion_bytes: dict[SuggestionKind, tuple[int, list[str]]] = {}
    for item in images:
        distinct = dict(item.blobs)
        fact = None
        if item.image is not None:
            fact = (facts or {}).get(item.manifest_digest) or image_facts(item.image)
        summaries.append(
            ImageSummary(
                repository=item.repository,
                tags=item.tags,
                manifest_digest=item.manifest_digest,
                platform=item.platform,
                created=item.created,
                layer_count=len(item.blobs),
                stored_compressed_bytes=sum(distinct.values()),
                exclusive_compressed_bytes=sum(
                    s for d, s in distinct.items() if users.get(d, 0) == 1
                ),
                size_bytes=fact.size_bytes if fact else None,
                reclaimable_bytes=fact.reclaimable_bytes if fact else None,
                efficiency=fact.efficiency if fact else None,
                base=base_of.get(item.manifest_digest),
                error=item.error,
            )
        )
        if fact is None:
            continue
        for kind, size, examples in fact.findings:
            per_kind[kind].append(FindingImage(_name(item), size, examples))
        for suggested, saving in fact.suggestions:
            total, names = suggestion_bytes.get(suggested, (0, []))
            if _name(item) not in names:
                names.append(_name(item))
            suggestion_bytes[suggested] = (total + saving, names)
    findings = tuple(
        Finding(
            kind,
            sum(f.bytes for f in found),
            tuple(sorted(_merge(found), key=lambda f: (-f.bytes, f.image))),
        )
        for kind, found in per_kind.items()
        if found
    )
    suggestions = sorted(
        (
            SuggestionTotal(kind, total, tuple(names))
            for kind, (total, names) in suggestion_bytes.items()
        ),
        key=lambda s: (-s.total_bytes, s.kind.value),
    )
    summaries.sort(key=lambda s: (-s.exclusive_compressed_bytes, s.repository, s.manifest_digest))
    return RegistryReport(
        totals,
        tuple(summaries),
        bases,
        tuple(sorted(findings, key=lambda f: -f.total_bytes)),
        tuple(suggestions[:top]),
    )


def _merge(found: list[FindingImage]) -> list[FindingImage]:
    """One entry per image (a suggestion kind can fire twice on one image)."""
    merged: dict[str, FindingImage] = {}
    for f in found:
        seen = merged.get(f.image)
        if seen is None:
            merged[f.image] = f
        else:
            merged[f.image] = FindingImage(
                f.image, seen.bytes + f.bytes, (seen.examples + f.examples)[:3]
            )
    return list(merged.values())


def path_finding(path: str) -> FindingKind | None:
    """The finding a regular file at ``path`` belongs to, if any."""
    if PYCACHE_RE.search(path):
        return FindingKind.PYCACHE
    if PACKAGE_CACHE_RE.match(path):
        return FindingKind.PACKAGE_CACHE
    if TOOLCHAIN_RE.match(path):
        return FindingKind.TOOLCHAIN
    return None


def _path_findings(final: object) -> dict[FindingKind, tuple[int, tuple[str, ...]]]:
    sums: dict[FindingKind, int] = {}
    examples: dict[FindingKind, list[str]] = {}
    for path, node in final:  # type: ignore[attr-defined]
        kind = path_finding(path)
        if kind is None or node.entry.kind.value not in ("file", "hardlink"):
            continue
        sums[kind] = sums.get(kind, 0) + node.entry.size_bytes
        kept = examples.setdefault(kind, [])
        if len(kept) < 3:
            kept.append(path)
    return {k: (v, tuple(examples[k])) for k, v in sums.items()}


# --- bases -------------------------------------------------------------------------------------


def _label_base(item: ScannedImage) -> tuple[str, str] | None:
    """(name, version) from the base-name label or annotation: ``repo:tag`` / ``repo@digest``."""
    if item.image is None:
        return None
    found = dict(item.image.config.labels)
    found.update(item.image.annotations)
    text = found.get(BASE_NAME_KEY, "").strip()
    if not text:
        return None
    if "@" in text:
        name, version = text.split("@", 1)
    else:
        slash = text.rfind("/")
        colon = text.rfind(":")
        name, version = (text[:colon], text[colon + 1 :]) if colon > slash else (text, "latest")
    return name, version


def _prefix_created(item: ScannedImage, count: int) -> str | None:
    if item.image is None or count == 0 or count > len(item.image.layers):
        return item.created
    entry = item.image.layers[count - 1].history
    return entry.created if entry is not None and entry.created else item.created


def _bases(images: Sequence[ScannedImage]) -> tuple[tuple[BaseFamily, ...], dict[Digest, str]]:
    seqs = {item.manifest_digest: tuple(d for d, _s in item.blobs) for item in images}
    by_digest = {item.manifest_digest: item for item in images}
    # images whose blobs are a proper prefix of another image's: base images in the scan
    prefixes: dict[tuple[Digest, ...], list[ScannedImage]] = {}
    for item in images:
        prefixes.setdefault(seqs[item.manifest_digest], []).append(item)
    counts: dict[tuple[Digest, ...], int] = {}
    for seq in seqs.values():
        for n in range(1, len(seq) + 1):
            counts[seq[:n]] = counts.get(seq[:n], 0) + 1
    # (family name, named_by) and version per prefix
    groups: dict[tuple[Digest, ...], list[Digest]] = {}
    named: dict[tuple[Digest, ...], tuple[str, str, str]] = {}
    for item in images:
        seq = seqs[item.manifest_digest]
        prefix: tuple[Digest, ...] | None = None
        for n in range(len(seq) - 1, 0, -1):
            if seq[:n] in prefixes:
                prefix = seq[:n]
                base = sorted(prefixes[prefix], key=lambda b: (b.repository, b.tags))[0]
                version = ",".join(base.tags) or base.manifest_digest[:19]
                named.setdefault(prefix, (base.repository, "registry", version))
                break
        if prefix is None:
            for n in range(len(seq) - 1, 0, -1):
                if counts.get(seq[:n], 0) >= 2:
                    prefix = seq[:n]
                    break
        if prefix is None:
            continue
        groups.setdefault(prefix, []).append(item.manifest_digest)
        label = _label_base(item)
        if label is not None and prefix not in named:
            named[prefix] = (label[0], "label", label[1])
    families: dict[tuple[str, str], list[BaseVersion]] = {}
    base_of: dict[Digest, str] = {}
    for prefix, members in groups.items():
        first = by_digest[members[0]]
        name, named_by, version = named.get(
            prefix, (f"unnamed base {prefix[-1][7:19]}", "prefix", prefix[-1][:19])
        )
        created = _prefix_created(first, len(prefix))
        names = tuple(sorted(_name(by_digest[m]) for m in members))
        families.setdefault((name, named_by), []).append(
            BaseVersion(version, len(prefix), prefix[-1], created, names, False)
        )
        for m in members:
            base_of[m] = f"{name}@{version}"
    out: list[BaseFamily] = []
    for (name, named_by), versions in families.items():
        versions.sort(key=lambda v: (v.created or "", v.version))
        if named_by != "prefix" and len(versions) > 1:
            newest = versions[-1].version  # each platform of a base is one prefix of a version
            versions = [
                BaseVersion(
                    v.version, v.layer_count, v.top_digest, v.created, v.images, v.version != newest
                )
                for v in versions
            ]
            versions.sort(key=lambda v: (not v.stale, v.created or "", v.version))
        out.append(BaseFamily(name, named_by, tuple(versions)))
    out.sort(key=lambda f: (-f.stale_images, -sum(len(v.images) for v in f.versions), f.name))
    return tuple(out), base_of
