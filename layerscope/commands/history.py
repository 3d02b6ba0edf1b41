"""``layerscope history NAME``: cache hits across the rebuilds of one repository."""

from __future__ import annotations

import argparse
import fnmatch
from collections.abc import Sequence
from pathlib import Path

from ..analysis.cache import BuildRecord
from ..errors import NotFoundError, UsageError
from ..model import Digest, FileEntry, Image
from .common import (
    REF_HELP,
    SourceSession,
    Streams,
    add_output_options,
    add_source_options,
    emit,
    layer_files,
    sources_for,
    text_width,
    use_color,
)
from .htmlout import add_html_option, html_plan, link, write_beside


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``history``."""
    parser = sub.add_parser(
        "history",
        help="cache hits across the rebuilds of one repository",
        description=(
            "Show the builds of one repository in creation order with their size, layer count "
            "and cache-hit ratio (layer i hits when its chain ID equals layer i's of the build "
            "before), a hit/miss timeline per layer position, why each build missed (files "
            "changed, base image moved, instruction changed, a non-reproducible step) and what "
            "it cost. Builds come from the history store (inspect, diff, suggest "
            "and check record them), from --refs, or from a registry repository's tags (--tags). "
            "--html: a self-contained page with the size, hit-ratio and rebuilt-bytes charts."
        ),
    )
    parser.add_argument(
        "name",
        metavar="NAME",
        nargs="?",
        help="repository whose recorded builds to show (with --tags: a registry repository)",
    )
    parser.add_argument(
        "--refs", nargs="+", metavar="REF", help="analyse these images as a series: " + REF_HELP
    )
    parser.add_argument(
        "--tags",
        metavar="GLOB",
        help="analyse the tags of registry repository NAME that match GLOB (e.g. 'build-*')",
    )
    parser.add_argument(
        "--build-log",
        action="append",
        default=[],
        metavar="REF=FILE",
        help="a build's log (classic builder, BuildKit plain or rawjson, buildah/podman); REF is "
        "a tag, image id or a ref given to --refs; plain FILE uses the image id the log names "
        "(repeatable)",
    )
    parser.add_argument(
        "--store", metavar="PATH", help="history database (default: the data directory's)"
    )
    parser.add_argument(
        "--top", type=int, default=10, metavar="N", help="changed paths to list per miss"
    )
    add_output_options(parser, ("text", "json", "html"))
    add_html_option(parser)
    add_source_options(parser)


def _load_series(args: argparse.Namespace, sources: SourceSession) -> list[tuple[str, Image]]:
    refs: list[str] = list(args.refs or [])
    if args.tags:
        from ..refs import split_name
        from ..sources.registry import list_tags

        name = args.name.split("://", 1)[1] if "://" in args.name else args.name
        registry, repository, _tag, _digest = split_name(name)
        tags = [t for t in list_tags(name, insecure=sources.options.insecure_registries)
                if fnmatch.fnmatchcase(t, args.tags)]  # fmt: skip
        if not tags:
            raise NotFoundError(f"no tag of {registry}/{repository} matches {args.tags!r}")
        refs += [f"registry://{registry}/{repository}:{tag}" for tag in tags]
    return [(ref, sources.load(ref)) for ref in refs]


def _short_hex(text: str) -> str:
    return text.split(":", 1)[1] if text.startswith("sha256:") else text


def _find_build(records: Sequence[BuildRecord], ref: str | None, log_id: str | None) -> int:
    """Index of the record a --build-log names (by ref, tag, repo:tag or image id prefix)."""
    from ..store.history import repository_of_name

    wanted = ref if ref is not None else log_id
    if not wanted:
        raise UsageError("--build-log FILE: the log names no image id; use --build-log REF=FILE")
    named = repository_of_name(wanted)
    for i, record in enumerate(records):
        if wanted in (record.ref, record.tag) or (
            named is not None and named[1] is not None and named == (record.repository, record.tag)
        ):
            return i  # fmt: skip
    hex_part = _short_hex(wanted).lower()
    if len(hex_part) >= 12 and all(c in "0123456789abcdef" for c in hex_part):
        for i, record in enumerate(records):
            if _short_hex(record.image_id).startswith(hex_part):
                return i
    raise UsageError(f"--build-log {wanted}: no build of this history matches it")


def _apply_logs(specs: Sequence[str], records: list[BuildRecord], store: object) -> None:
    from ..analysis.cache_logs import join_build_log
    from ..buildlogs import parse_build_log
    from ..store.history import HistoryStore

    for spec in specs:
        ref: str | None = None
        path = spec
        if "=" in spec and not Path(spec).exists():
            ref, path = spec.split("=", 1)
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read build log {path}: {exc.strerror or exc}") from exc
        log = parse_build_log(text)
        index = _find_build(records, ref, log.image_id)
        records[index] = join_build_log(records[index], log.steps)
        if isinstance(store, HistoryStore):
            store.attach_build_log(records[index])


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Gather the builds, join build logs, analyse, print."""
    from ..analysis.cache import cache_history
    from ..store.history import HistoryStore, build_record, repository_name

    if args.refs and args.name:
        raise UsageError("history: give NAME or --refs, not both")
    if args.tags and not args.name:
        raise UsageError("history: --tags needs NAME, the registry repository")
    if not args.refs and not args.name:
        raise UsageError("history: give NAME, --refs REF..., or NAME --tags GLOB")
    plan = html_plan(args)
    with sources_for(args, streams) as sources:
        store = HistoryStore(args.store)
        try:
            loaded: dict[Digest, tuple[FileEntry, ...]] = {}
            if args.refs or args.tags:
                records = []
                for ref, image in _load_series(args, sources):
                    record = build_record(image, ref=ref)
                    store.record(record)
                    records.append(record)
                    loaded.update((layer.diff_id, layer.entries) for layer in image.layers)
                repository = args.name
            else:
                records = list(store.builds(args.name))
                if not records:
                    raise NotFoundError(
                        f"no builds of {args.name} recorded in {store.path} (inspect, diff, "
                        "suggest and check record them; or give --refs)"
                    )
                repository = repository_name(args.name) or args.name
            _apply_logs(args.build_log, records, store)
            history = cache_history(records, files=layer_files(loaded, sources.layer_cache))
        finally:
            for note in store.warnings:
                print(f"layerscope: warning: {note}", file=streams.err)
            store.close()
    page = None
    if plan.format == "html" or plan.beside:
        from ..render.html import render_history_html

        page = render_history_html(history, repository=repository)
        if plan.beside:
            write_beside(plan.beside, page)
    if plan.format == "html":
        text = page or ""
    elif plan.format == "json":
        from ..render.history_json import history_document
        from ..render.json import dumps

        pretty = streams.out.isatty() and not args.output
        text = dumps(history_document(history, repository=repository), indent=2 if pretty else None)
    else:
        from ..render.history_text import render_history

        color = use_color(streams.out) and not args.output
        width = text_width(streams.out, to_file=bool(args.output))
        text = render_history(history, repository=repository, top=args.top, width=width,
                              color=color)  # fmt: skip
        if plan.beside:
            text = text.rstrip("\n") + "\n" + link(plan.beside, "text")
    emit(text, args.output, streams.out)
    return 0
