"""``layerscope scan REGISTRY_REF``: every image of a registry at once, each layer read once."""

from __future__ import annotations

import argparse
import time
from typing import IO, TYPE_CHECKING

from ..render.scan_formats import SCAN_FORMATS, ScanSubject
from .common import (
    Streams,
    emit,
)
from .htmlout import add_html_option, html_plan
from .output import add_format_options, render_output

if TYPE_CHECKING:
    from ..analysis.registry import ImageFacts, ScannedImage
    from ..credentials import Credentials
    from ..model import Digest, Platform
    from ..sources.registry_scan import BlobRef, LayerOutcome, LayerTask, RegistryListing

SCAN_TARGET_HELP = (
    "registry://HOST (every repository in its catalog) or registry://HOST/NAMESPACE "
    "(the repositories under it); leave out with --refs"
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``scan``."""
    parser = sub.add_parser(
        "scan",
        help="a whole registry at once: sharing, bases, findings; each layer read once",
        description=(
            "Analyse every image of a registry (or a list of references) at once: how much is "
            "shared, what deleting each image would free, which bases the images sit on and "
            "which base versions are stale, and findings summed over all images (toolchains, "
            "package caches, __pycache__, duplicate large files, model files in volatile "
            "layers). Each distinct manifest is analysed once and each distinct layer blob read "
            "once, through the layer cache (a second scan reads nothing it already read). "
            "Layers are read in local worker processes (--workers) or on a Dask scheduler "
            "(--dask). Exit 1 when some layers or tags could not be read (the report lists "
            "them and covers everything else). --html: a self-contained page with the totals, "
            "stored against shared bytes, every image, the bases, findings and what was not read."
        ),
    )
    parser.add_argument("target", nargs="?", metavar="REGISTRY_REF", help=SCAN_TARGET_HELP)
    parser.add_argument(
        "--refs",
        metavar="FILE",
        help="scan the images named in FILE (one reference per line, any reference form; "
        "registry://HOST/REPO without a tag means every tag)",
    )
    parser.add_argument("--tags", metavar="GLOB", help="only tags matching GLOB (default: all)")
    parser.add_argument(
        "--latest", type=int, metavar="N", help="only the N newest tags of each repository"
    )
    parser.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="only this platform of multi-platform images (default: every platform)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="read layers in N local worker processes (default 1: in this process)",
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="read layers on the Dask scheduler at ADDRESS (tcp://HOST:PORT), one task per "
        "layer; needs pip install 'layerscope[dask]'",
    )
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="allow plain HTTP / unverified TLS for this registry host (repeatable)",
    )
    parser.add_argument("--creds", metavar="USER:PASSWORD", help="registry credentials")
    parser.add_argument(
        "--no-cache", action="store_true", help="neither read nor fill the layer index cache"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    parser.add_argument(
        "--top", type=int, default=20, metavar="N", help="images listed in the text report"
    )
    add_format_options(parser, SCAN_FORMATS)
    add_html_option(parser)


def _parse_target(text: str) -> tuple[str, str | None]:
    from ..errors import UsageError

    if not text.startswith("registry://"):
        raise UsageError(
            f"scan: {text!r} is not a registry reference (use registry://HOST[/NAMESPACE])"
        )
    body = text.removeprefix("registry://").strip("/")
    host, _, namespace = body.partition("/")
    if not host:
        raise UsageError(f"scan: {text!r} names no registry host")
    return host, namespace or None


def _read_refs(path: str) -> list[str]:
    from pathlib import Path

    from ..errors import UsageError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read --refs file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"--refs file {path} is not UTF-8 text") from exc
    refs = [line.strip() for line in text.splitlines()]
    return [r for r in refs if r and not r.startswith("#")]


STAGES: dict[str, float] = {}
"""Seconds spent listing, reading layers (images are analysed meanwhile) and reporting."""


class ScanProgress:
    """One status line on stderr: images and layers done of total, bytes read, rate."""

    def __init__(self, err: IO[str], images: int, layers: int) -> None:
        self._err = err
        self.images_total = images
        self.layers_total = layers
        self.images_done = 0
        self.layers_done = 0
        self.bytes = 0
        self._start = time.monotonic()
        self._shown = 0.0

    def update(self, *, layers: int = 0, images: int = 0, read: int = 0) -> None:
        from ..render.text import size

        self.layers_done += layers
        self.images_done += images
        self.bytes += read
        now = time.monotonic()
        if now - self._shown < 0.1 and self.layers_done < self.layers_total:
            return
        self._shown = now
        rate = self.bytes / max(now - self._start, 1e-6)
        self._err.write(
            f"\rimages {self.images_done}/{self.images_total} · layers "
            f"{self.layers_done}/{self.layers_total} · {size(self.bytes)} read · "
            f"{size(int(rate))}/s \x1b[K"
        )
        self._err.flush()

    def close(self) -> None:
        self._err.write("\r\x1b[K")
        self._err.flush()


def run(args: argparse.Namespace, streams: Streams) -> int:
    """List, read each unique layer once (fanned out), analyse, report."""
    from ..credentials import parse_user_pass
    from ..errors import UsageError
    from ..platforms import parse_platform

    if not args.target and not args.refs:
        raise UsageError("scan: name a registry (registry://HOST[/NAMESPACE]) or --refs FILE")
    if args.target and args.refs:
        raise UsageError("scan: give a registry or --refs FILE, not both")
    if args.latest is not None and args.latest < 1:
        raise UsageError("scan: --latest must be at least 1")
    if args.workers < 1:
        raise UsageError("scan: --workers must be at least 1")
    html_plan(args)  # a conflicting --html / --format is refused before the registry is read
    platform = parse_platform(args.platform) if args.platform else None
    creds = parse_user_pass(args.creds) if args.creds else None
    insecure = tuple(args.insecure_registry or ())
    started = time.monotonic()
    listings, others = _listings(args, platform, insecure, creds)
    STAGES["listing"] = time.monotonic() - started
    return _scan(args, streams, listings, others, insecure, creds, started)


def _listings(
    args: argparse.Namespace,
    platform: Platform | None,
    insecure: tuple[str, ...],
    creds: Credentials | None,
) -> tuple[list[RegistryListing], list[str]]:
    """The registry listings to scan, and the references of other sources (--refs)."""
    from ..errors import StoreError
    from ..model import SourceKind
    from ..refs import parse_ref, split_name
    from ..sources.registry_scan import list_registry
    from ..store import BlobCache

    keeper = None
    if not args.no_cache:
        try:
            keeper = BlobCache()
        except StoreError:
            keeper = None  # configs and manifests are fetched again; nothing else changes
    common = {
        "keeper": keeper,
        "tag_glob": args.tags,
        "latest": args.latest,
        "platform": platform,
        "insecure": insecure,
        "credentials": creds,
    }
    if args.target:
        host, namespace = _parse_target(args.target)
        return [list_registry(host, namespace=namespace, **common)], []
    per_registry: dict[str, list[tuple[str, str | None]]] = {}
    others: list[str] = []
    for text in _read_refs(args.refs):
        ref = parse_ref(text)
        if ref.kind is not SourceKind.REGISTRY:
            others.append(text)
            continue
        registry, repository, tag, digest = split_name(ref.location)
        explicit = digest or (
            tag if ":" in text.removeprefix("registry://").rsplit("/", 1)[-1] else None
        )
        per_registry.setdefault(registry, []).append((repository, explicit))
    listings = [
        list_registry(registry, names=names, **common)
        for registry, names in sorted(per_registry.items())
    ]
    return listings, others


def _scan(
    args: argparse.Namespace,
    streams: Streams,
    listings: list[RegistryListing],
    others: list[str],
    insecure: tuple[str, ...],
    creds: Credentials | None,
    started: float,
) -> int:
    from ..analysis.registry import image_facts, registry_report
    from ..errors import StoreError
    from ..fanout import run_tasks
    from ..sources.registry import _compression_of
    from ..sources.registry_scan import LayerOutcome, LayerTask, image_of, read_layer
    from ..store import LayerCache

    cache = None
    if not args.no_cache:
        try:
            cache = LayerCache()
        except StoreError as exc:
            print(f"layerscope: warning: layer cache not used: {exc.message}", file=streams.err)
    blobs: dict[Digest, tuple[str, str, BlobRef]] = {}
    users: dict[Digest, list[Digest]] = {}
    for listing in listings:
        for info in listing.manifests.values():
            for blob in info.layers:
                blobs.setdefault(blob.digest, (listing.registry, info.repository, blob))
                users.setdefault(blob.digest, []).append(info.manifest_digest)
    outcomes: dict[Digest, LayerOutcome] = {}
    tasks: list[LayerTask] = []
    for digest, (registry, repository, blob) in blobs.items():
        known = cache.get(blob.diff_id) if cache is not None else None
        if known is not None:
            outcomes[digest] = LayerOutcome(
                digest, blob.diff_id, known, _compression_of(blob.media_type), 0
            )
        else:
            tasks.append(LayerTask(registry, repository, blob, insecure, creds))
    image_count = sum(len(listing.manifests) for listing in listings)
    show = not args.quiet and streams.err.isatty()
    progress = ScanProgress(streams.err, image_count, len(tasks)) if show else None
    waiting = {
        m: sum(1 for b in info.layers if b.digest not in outcomes)
        for listing in listings
        for m, info in listing.manifests.items()
    }
    if progress is not None:
        progress.update(images=sum(1 for n in waiting.values() if n == 0))

    infos = {m: info for listing in listings for m, info in listing.manifests.items()}
    facts: dict[Digest, ImageFacts] = {}

    def on_result(i: int, outcome: LayerOutcome) -> None:
        outcomes[outcome.digest] = outcome
        if outcome.contents is not None and cache is not None:
            cache.put(outcome.diff_id, outcome.contents, digest=outcome.digest)
        finished = 0
        for m in set(users[outcome.digest]):
            waiting[m] -= 1
            if waiting[m] == 0:
                finished += 1
                # analysed now, while the workers read other layers
                info = infos[m]
                if all(outcomes[b.digest].error is None for b in info.layers):
                    facts[m] = image_facts(image_of(info, (), outcomes))
        if progress is not None:
            progress.update(layers=1, images=finished, read=outcome.bytes_read)

    def lost(i: int, why: str) -> LayerOutcome:
        task = tasks[i]
        label = f"{task.registry}/{task.repository}@{task.blob.digest}"
        return LayerOutcome(task.blob.digest, task.blob.diff_id, None, "none", 0, f"{label}: {why}")

    executor = (
        f"dask {args.dask}"
        if args.dask
        else f"{args.workers} worker" + ("s" if args.workers != 1 else "")
    )
    reading = time.monotonic()
    try:
        run_tasks(
            read_layer,
            tasks,
            on_result=on_result,
            lost=lost,
            workers=args.workers,
            dask=args.dask,
            names=[t.blob.digest.replace(":", "-") for t in tasks],
        )
    finally:
        if progress is not None:
            progress.close()
    STAGES["reading"] = time.monotonic() - reading
    analysing = time.monotonic()
    scanned = _scanned(listings, outcomes)
    scanned.extend(_local_images(args, streams, others, cache))
    if cache is not None:
        for note in cache.warnings:
            print(f"layerscope: warning: {note}", file=streams.err)
        cache.close()
    repositories = sum(len(listing.repositories) for listing in listings) + len(
        {
            s.repository
            for s in scanned
            if not s.repository.startswith(tuple(listing.registry + "/" for listing in listings))
        }
    )
    tag_count = sum(len(listing.tags) for listing in listings) + len(others)
    report = registry_report(scanned, repositories=repositories, tags=tag_count, facts=facts)
    STAGES["report"] = time.monotonic() - analysing
    text = _render(args, streams, report, listings, outcomes, tasks, users, executor, started)
    emit(text, args.output, streams.out)
    failed = any(o.error for o in outcomes.values()) or any(
        listing.problems for listing in listings
    )
    return 1 if failed else 0


def _scanned(
    listings: list[RegistryListing], outcomes: dict[Digest, LayerOutcome]
) -> list[ScannedImage]:
    from ..analysis.registry import ScannedImage
    from ..sources.registry_scan import image_of

    out: list[ScannedImage] = []
    for listing in listings:
        tags_of: dict[Digest, list[str]] = {}
        for tag in listing.tags:
            for m in tag.manifests:
                tags_of.setdefault(m, []).append(tag.tag)
        for digest, info in sorted(listing.manifests.items()):
            tags = tuple(sorted(tags_of.get(digest, [])))
            errors = [outcomes[b.digest].error for b in info.layers if outcomes[b.digest].error]
            image = None if errors else image_of(info, tags, outcomes)
            plat = info.platform
            out.append(
                ScannedImage(
                    repository=f"{listing.registry}/{info.repository}",
                    tags=tags,
                    manifest_digest=digest,
                    platform=f"{plat.os}/{plat.architecture}"
                    + (f"/{plat.variant}" if plat.variant else ""),
                    created=info.created,
                    blobs=tuple((b.digest, b.size) for b in info.layers),
                    image=image,
                    error=errors[0] if errors else None,
                )
            )
    return out


def _local_images(
    args: argparse.Namespace, streams: Streams, refs: list[str], cache: object
) -> list[ScannedImage]:
    """Images of --refs lines that are not registry references, loaded whole here."""
    if not refs:
        return []
    from ..analysis.registry import ScannedImage
    from ..model import Digest
    from .common import open_sources, say_warnings

    out: list[ScannedImage] = []
    session = open_sources(args)
    try:
        for ref in refs:
            image = session.load(ref, progress=None)
            plat = image.platform
            digest = image.manifest_digest or image.image_id
            out.append(
                ScannedImage(
                    repository=(image.repo_tags[0].rsplit(":", 1)[0] if image.repo_tags else ref),
                    tags=tuple(t.rsplit(":", 1)[-1] for t in image.repo_tags),
                    manifest_digest=Digest(digest),
                    platform=f"{plat.os}/{plat.architecture}",
                    created=image.created,
                    blobs=tuple(
                        (
                            layer.digest or layer.diff_id,
                            layer.compressed_size_bytes or layer.size_bytes,
                        )
                        for layer in image.layers
                    ),
                    image=image,
                )
            )
    finally:
        say_warnings(session, streams.err)
        session.close()
    return out


def _render(
    args: argparse.Namespace,
    streams: Streams,
    report: object,
    listings: list[RegistryListing],
    outcomes: dict[Digest, LayerOutcome],
    tasks: list[LayerTask],
    users: dict[Digest, list[Digest]],
    executor: str,
    started: float,
) -> str:
    from ..analysis.registry import RegistryReport
    from ..render.scan import LayerFailure, ScanStats

    assert isinstance(report, RegistryReport)
    repo_of = {
        b.digest: f"{listing.registry}/{info.repository}"
        for listing in listings
        for info in listing.manifests.values()
        for b in info.layers
    }
    names = {
        info.manifest_digest: f"{listing.registry}/{info.repository}@{info.manifest_digest}"
        for listing in listings
        for info in listing.manifests.values()
    }
    failures = tuple(
        LayerFailure(
            d,
            repo_of.get(d, ""),
            o.error or "",
            tuple(sorted({names[m] for m in users.get(d, []) if m in names})),
        )
        for d, o in sorted(outcomes.items())
        if o.error
    )
    stats = ScanStats(
        registry=", ".join(listing.registry for listing in listings) or "(local)",
        layers_read=sum(1 for t in tasks if outcomes[t.blob.digest].error is None),
        layers_cached=len(outcomes) - len(tasks),
        bytes_read=sum(o.bytes_read for o in outcomes.values()),
        seconds=time.monotonic() - started,
        stages=tuple(STAGES.items()),
        executor=executor,
        failures=failures,
        problems=tuple((p.subject, p.message) for listing in listings for p in listing.problems),
    )
    return render_output(args, streams, SCAN_FORMATS, ScanSubject(report, stats, top=args.top))
