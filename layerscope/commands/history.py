"""``layerscope history NAME``: cache hits across the rebuilds of one repository.

Also the store's upkeep: ``history export [NAME] -o FILE``, ``history import FILE`` and
``history prune [NAME] --keep N | --older-than 90d``.
"""

from __future__ import annotations

import argparse
import fnmatch
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..analysis.cache import BuildRecord
from ..errors import NotFoundError, UsageError
from ..model import Digest, FileEntry, Image
from ..render.history_formats import (
    HISTORY_FORMATS,
    REPOSITORY_FORMATS,
    HistorySubject,
    RepositoriesSubject,
)

if TYPE_CHECKING:
    from ..store.history import HistoryStore
from .common import (
    REF_HELP,
    STORE_HELP,
    Background,
    SourceSession,
    Streams,
    add_source_options,
    emit,
    layer_files,
    sources_for,
)
from .htmlout import add_html_option, html_plan
from .output import add_format_options, render_output, target_of
from .settings import SourceSettings


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
            "it cost: rebuilt bytes, and bytes to push and pull (the compressed blobs; for "
            "layers stored uncompressed, as in docker save archives, their gzip size estimated "
            "from a sample, marked ≈). Builds come from the history store (inspect, diff, suggest "
            "and check record them), from --refs, or from a registry repository's tags (--tags). "
            "'history export [NAME] -o FILE' writes the store's builds (of NAME, or all) as "
            "JSON lines; 'history import FILE' merges such a file into the store (importing "
            "twice adds nothing); 'history prune [NAME] --keep N' keeps the N most recently "
            "recorded builds of each repository, '--older-than 90d' removes older ones. "
            "--html: a self-contained page with the size, hit-ratio and rebuilt-bytes charts."
        ),
    )
    parser.add_argument(
        "name",
        metavar="NAME",
        nargs="?",
        help="repository whose recorded builds to show (with --tags: a registry repository); "
        "or export, import, prune; without NAME or --refs: list the recorded repositories",
    )
    parser.add_argument(
        "target",
        metavar="ARG",
        nargs="?",
        help="after export or prune: the repository (default: all); after import: the FILE",
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
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)
    retention = parser.add_mutually_exclusive_group()
    retention.add_argument(
        "--keep", type=int, metavar="N", help="prune: keep the N newest builds per repository"
    )
    retention.add_argument(
        "--older-than",
        metavar="AGE",
        help="prune: remove builds recorded more than AGE ago (90d, 12h, 2w)",
    )
    parser.add_argument(
        "--top", type=int, default=10, metavar="N", help="changed paths to list per miss"
    )
    add_format_options(parser, HISTORY_FORMATS)
    add_html_option(parser)
    add_source_options(parser)


def _load_series(
    refs: Sequence[str],
    name: str | None,
    tag_glob: str | None,
    settings: SourceSettings,
    sources: SourceSession,
) -> list[tuple[str, Image]]:
    """The images of --refs, then those of registry repository NAME's tags matching --tags."""
    refs = list(refs)
    if tag_glob and name:
        from ..refs import split_name
        from ..sources.registry import list_tags

        bare = name.split("://", 1)[1] if "://" in name else name
        registry, repository, _tag, _digest = split_name(bare)
        tags = [t for t in list_tags(bare, insecure=settings.insecure_registries)
                if fnmatch.fnmatchcase(t, tag_glob)]  # fmt: skip
        if not tags:
            raise NotFoundError(f"no tag of {registry}/{repository} matches {tag_glob!r}")
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


def _apply_logs(
    specs: Sequence[str], records: list[BuildRecord], store: HistoryStore | None
) -> None:
    """Join each --build-log to the build it names (and keep it in the store, if there is one)."""
    from ..analysis.cache_logs import join_build_log
    from ..buildlogs import parse_build_log

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
        if store is not None:
            store.attach_build_log(records[index])


def _list_repositories(args: argparse.Namespace, streams: Streams) -> int:
    """``history`` without NAME: the repositories recorded, each with its number of builds."""
    from ..store.history import HistoryStore

    with HistoryStore(args.store) as store:
        repositories, path = store.repositories(), store.shown
    # the list has no page: with --format html or --html it prints its text, as it always has
    fmt = args.format if args.format in REPOSITORY_FORMATS else None
    subject = RepositoriesSubject(str(path), repositories)
    text = REPOSITORY_FORMATS.render(fmt, subject, target_of(args, streams))
    emit(text, args.output, streams.out)
    return 0


def run(args: argparse.Namespace, streams: Streams, background: Background) -> int:
    """Gather the builds, join build logs, analyse, print."""
    from ..analysis.cache import cache_history
    from ..store.history import HistoryStore, build_record, repository_name

    if args.name in ACTIONS:
        return ACTIONS[args.name](args, streams)
    if args.target is not None:
        raise UsageError(f"history: unexpected argument {args.target!r}")
    if args.keep is not None or args.older_than is not None:
        raise UsageError("history: --keep and --older-than go with 'history prune'")
    if args.refs and args.name:
        raise UsageError("history: give NAME or --refs, not both")
    if args.tags and not args.name:
        raise UsageError("history: --tags needs NAME, the registry repository")
    if not args.refs and not args.name:
        return _list_repositories(args, streams)
    html_plan(args)  # a conflicting --html / --format is refused before the images are read
    settings = SourceSettings.from_args(args)
    with sources_for(settings, streams, background) as sources:
        series = bool(args.refs or args.tags)
        # a series is analysed from the images: recording it is a side effect that may fail
        store = _store_for_recording(args, streams) if series else HistoryStore(args.store)
        try:
            loaded: dict[Digest, tuple[FileEntry, ...]] = {}
            if series:
                records = []
                for ref, image in _load_series(args.refs or (), args.name, args.tags,
                                               settings, sources):  # fmt: skip
                    records.append(build_record(image, ref=ref))
                    loaded.update((layer.diff_id, layer.entries) for layer in image.layers)
                if store is not None and not _recorded(store, records, streams):
                    store.close()
                    store = None
                repository = args.name
            else:
                assert store is not None  # opened above; a failure there was raised
                records = list(store.builds(args.name))
                if not records:
                    raise NotFoundError(
                        f"no builds of {args.name} recorded in {store.shown} (inspect, diff, "
                        "suggest and check record them; or give --refs)"
                    )
                repository = repository_name(args.name) or args.name
            _apply_logs(args.build_log, records, store)
            history = cache_history(records, files=_files(records, loaded, sources))
        finally:
            if store is not None:
                _warn(store.warnings, streams)
                store.close()
    subject = HistorySubject(history, repository=repository, top=args.top)
    text = render_output(args, streams, HISTORY_FORMATS, subject)
    emit(text, args.output, streams.out)
    return 0


def _files(
    records: Sequence[BuildRecord],
    loaded: dict[Digest, tuple[FileEntry, ...]],
    sources: SourceSession,
) -> Callable[[Digest], tuple[FileEntry, ...] | None]:
    """Layer files from the images loaded now or the layer cache, asking the cache once which
    layers it holds (a thousand recorded builds would otherwise be thousands of lookups)."""
    files = layer_files(loaded, sources.layer_cache)
    if sources.layer_cache is None:
        return files
    wanted = {layer.diff_id for record in records for layer in record.layers} - loaded.keys()
    cached = sources.layer_cache.known(wanted)
    return lambda diff_id: files(diff_id) if diff_id in loaded or diff_id in cached else None


def _store_for_recording(args: argparse.Namespace, streams: Streams) -> HistoryStore | None:
    from ..errors import StoreError
    from ..store.history import HistoryStore

    try:
        return HistoryStore(args.store)
    except StoreError as exc:
        print(f"layerscope: warning: builds not recorded: {exc.message}", file=streams.err)
        return None


def _recorded(store: HistoryStore, records: Sequence[BuildRecord], streams: Streams) -> bool:
    from ..errors import StoreError

    try:
        store.record_many(records)
    except StoreError as exc:
        print(f"layerscope: warning: builds not recorded: {exc.message}", file=streams.err)
        return False
    return True


def _export(args: argparse.Namespace, streams: Streams) -> int:
    """``history export [NAME] [-o FILE]``: JSON lines (stdout without -o)."""
    from ..store.history import HistoryStore
    from ..store.history_file import dump

    _only(args, "export", store=True)
    with HistoryStore(args.store) as store:
        builds = store.builds(args.target)
        _warn(store.warnings, streams)
    if args.target is not None and not builds:
        raise NotFoundError(f"no builds of {args.target} recorded in {store.shown}")
    emit("".join(dump(builds)), args.output, streams.out)
    if args.output:
        print(f"exported {_builds(len(builds))} to {args.output}", file=streams.err)
    return 0


def _import(args: argparse.Namespace, streams: Streams) -> int:
    """``history import FILE``: merge an export into the store."""
    from ..store.history import HistoryStore
    from ..store.history_file import load

    _only(args, "import", store=True)
    if args.target is None:
        raise UsageError("history import: give the FILE to import")
    try:
        with open(args.target, encoding="utf-8") as handle:
            builds = load(handle, args.target)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read {args.target}: {reason}") from exc
    with HistoryStore(args.store) as store:
        added = store.record_many(builds)
        _warn(store.warnings, streams)
    print(f"imported {_builds(added)} into {store.shown} ({len(builds) - added} already "
          "recorded)", file=streams.out)  # fmt: skip
    return 0


def _prune(args: argparse.Namespace, streams: Streams) -> int:
    """``history prune [NAME] --keep N | --older-than AGE``."""
    import time

    from ..store.history import HistoryStore
    from .cache import parse_duration

    _only(args, "prune", store=True, retention=True)
    if args.keep is None and args.older_than is None:
        raise UsageError("history prune: give --keep N or --older-than AGE (e.g. 90d)")
    if args.keep is not None and args.keep < 0:
        raise UsageError("history prune: --keep must be 0 or more")
    before = None
    if args.older_than is not None:
        before = time.time() - parse_duration(args.older_than).total_seconds()
    with HistoryStore(args.store) as store:
        removed, left = store.prune(args.target, keep=args.keep, before=before)
        _warn(store.warnings, streams)
    scope = f" of {args.target}" if args.target else ""
    print(f"pruned {_builds(removed)}{scope} from {store.shown}; {left} left", file=streams.out)
    return 0


def _only(args: argparse.Namespace, action: str, *, store: bool, retention: bool = False) -> None:
    """Refuse the analysis options an upkeep action does not take."""
    given = [flag for flag, value in (("--refs", args.refs), ("--tags", args.tags),
                                      ("--build-log", args.build_log)) if value]  # fmt: skip
    if not retention:
        given += [flag for flag, value in (("--keep", args.keep),
                                           ("--older-than", args.older_than))
                  if value is not None]  # fmt: skip
    if args.format is not None:
        given.append("--format")
    if args.html is not None:
        given.append("--html")
    if action != "export" and args.output:
        given.append("--output")
    if given:
        raise UsageError(f"history {action}: {', '.join(given)} does not apply")


def _warn(notes: Sequence[str], streams: Streams) -> None:
    for note in notes:
        print(f"layerscope: warning: {note}", file=streams.err)


def _builds(count: int) -> str:
    return f"{count} build" + ("" if count == 1 else "s")


ACTIONS = {"export": _export, "import": _import, "prune": _prune}
"""``history ACTION``: a repository named like an action is written in full
(``docker.io/library/export``)."""
