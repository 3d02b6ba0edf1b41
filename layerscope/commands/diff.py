"""``layerscope diff OLD NEW``: what changed between two images, layer by layer."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ..render.diff.formats import DIFF_FORMATS, DiffSubject
from .common import (
    REF_HELP,
    Background,
    Streams,
    add_source_options,
    add_store_option,
    emit,
    open_sources,
    sources_for,
)
from .htmlout import add_html_option, html_plan
from .output import add_format_options, render_output
from .recording import HistoryAccess
from .settings import DiffSettings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``diff``."""
    parser = sub.add_parser(
        "diff",
        help="what changed between two images",
        description=(
            "Compare two images: layers aligned by content (the shared base shown once, a layer "
            "inserted mid-stack does not misalign the rest), files added / removed / modified "
            "with size deltas and the instruction behind each (content, metadata-only and "
            "timestamp-only changes apart), config and package changes. Text by default; "
            "--json (schema in docs/json-schema.md), --markdown (for a pull-request comment) or "
            "--html (a self-contained page: both images side by side, size change per "
            "instruction, a treemap of what changed)."
        ),
    )
    parser.add_argument("old", metavar="OLD", help="the old image: " + REF_HELP)
    parser.add_argument("new", metavar="NEW", help="the new image (same forms as OLD)")
    add_format_options(parser, DIFF_FORMATS)
    add_html_option(parser)
    add_source_options(parser)
    add_store_option(parser)
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="ignore timestamps and other build noise (file mtimes, image and history dates)",
    )
    parser.add_argument(
        "--exit-code", action="store_true", help="exit 1 when the images differ (0 when not)"
    )
    parser.add_argument(
        "--top",
        type=int,
        default=None,
        metavar="N",
        help="file and package changes to list (default 20 in text, 50 in Markdown)",
    )
    parser.add_argument(
        "--tui",
        action="store_true",
        help="browse the differences in the terminal UI (not with --json, --markdown, --output)",
    )


def run(args: argparse.Namespace, streams: Streams, background: Background) -> int:
    """Load both images, diff, print; 1 with --exit-code when they differ."""
    from ..analysis.diff import diff_images

    if args.top is not None and args.top < 0:
        raise UsageError("--top must be 0 or more")
    if args.tui:
        if args.format is not None or args.output or args.html is not None:
            raise UsageError(
                "--tui cannot be combined with --json, --markdown, --text, --html or --output"
            )
        return _run_tui(DiffSettings.from_args(args), background)
    html_plan(args)  # a conflicting --html / --format is refused before the images are read
    settings = DiffSettings.from_args(args)
    with sources_for(settings.sources, streams, background) as sources:
        old = sources.load(settings.old)
        new = sources.load(settings.new)
    history = HistoryAccess(settings.store)
    history.record(old, streams.err, ref=settings.old)
    history.record(new, streams.err, ref=settings.new)
    diff = diff_images(old, new, semantic=settings.semantic)
    text = render_output(args, streams, DIFF_FORMATS, DiffSubject(diff, top=args.top))
    emit(text, args.output, streams.out)
    return 1 if args.exit_code and diff.differs else 0


def _run_tui(settings: DiffSettings, background: Background) -> int:
    """The Textual diff screen; both images are loaded and compared in its worker thread."""
    import io

    from ..analysis.diff import ImageDiff, diff_images
    from ..model import Progress
    from ..tui import run_diff

    history = HistoryAccess(settings.store)

    def load(progress: Progress) -> ImageDiff:
        # opened in the worker thread; a TUI stays open: big local layers are worth hashing
        session = open_sources(settings.sources, background, lasting=True)
        try:
            images = []
            for which, ref in (("old", settings.old), ("new", settings.new)):
                progress.stage(f"Reading the {which} image {ref}")
                images.append(session.load(ref, progress=progress))
        finally:
            session.close()
        old, new = images
        quiet = io.StringIO()  # a warning must not scribble on the screen
        history.record(old, quiet, ref=settings.old)
        history.record(new, quiet, ref=settings.new)
        progress.stage("Comparing the images")
        return diff_images(old, new, semantic=settings.semantic)

    return run_diff(load, f"{settings.old} → {settings.new}")
