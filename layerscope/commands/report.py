"""``layerscope report REF -o report.html``: one self-contained HTML page about an image."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .common import REF_HELP, Background, Streams, add_source_options, emit
from .inspect import add_image_options, analyse, cache_history_of
from .recording import HistoryAccess
from .settings import ImageSettings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``report``."""
    parser = sub.add_parser(
        "report",
        help="one self-contained HTML page about an image",
        description=(
            "Write one HTML page about an image: sizes, reclaimable bytes by reason, dive "
            "metrics, base vs yours, a layer chart (click a layer for its changes), a zoomable "
            "treemap of the final filesystem coloured by the layer that wrote each file (hidden "
            "bytes shown where they were written), the reclaimable items, the suggestions with "
            "the combined patch, and the build history when builds are recorded. Script, style "
            "and data are inline: the page fetches nothing and opens offline."
        ),
    )
    parser.add_argument("ref", metavar="REF", help=REF_HELP)
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write the page to FILE (else to stdout, not a tty)"
    )
    add_image_options(parser)
    add_source_options(parser)


def run(args: argparse.Namespace, streams: Streams, background: Background) -> int:
    """Load, analyse, write the page."""
    from ..render.html import render_inspect_html

    if not args.output and streams.out.isatty():
        raise UsageError("report writes HTML: give -o FILE (or redirect stdout)")
    settings = ImageSettings.from_args(args)
    recorded = HistoryAccess(settings.store)
    analysis, suggestions = analyse(settings, streams, background, recorded)
    history = cache_history_of(settings, recorded, analysis.image)
    emit(render_inspect_html(analysis, suggestions, history), args.output, streams.out)
    return 0
