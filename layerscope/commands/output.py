"""A command's output through its format table (``render/formats.py``): the ``--format``
options made from the table, and the one dispatch (with ``--html FILE`` beside it)."""

from __future__ import annotations

import argparse
from typing import TypeVar

from ..render.formats import FormatTable, Target
from .common import Streams, text_width, use_color
from .htmlout import HtmlPlan, html_plan, link, write_beside

S = TypeVar("S")


def add_format_options(parser: argparse.ArgumentParser, table: FormatTable[S]) -> None:
    """``--format`` with the table's choices, its shorthands (``--json``...) and ``--output``."""
    group = parser.add_mutually_exclusive_group()
    for entry in table:
        if entry.shorthand is not None:
            group.add_argument(
                f"--{entry.name}",
                dest="format",
                action="store_const",
                const=entry.name,
                help=f"print {entry.shorthand} (short for --format {entry.name})",
            )
    group.add_argument("--format", dest="format", choices=table.names, help=table.help())
    parser.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")


def target_of(args: argparse.Namespace, streams: Streams) -> Target:
    """Where the output goes: stdout (a terminal or a pipe) or the ``--output`` file."""
    to_file = bool(args.output)
    return Target(
        width=text_width(streams.out, to_file=to_file),
        color=use_color(streams.out) and not to_file,
        terminal=streams.out.isatty() and not to_file,
    )


def render_output(
    args: argparse.Namespace, streams: Streams, table: FormatTable[S], subject: S
) -> str:
    """The chosen format of ``subject``; the HTML page written beside it for ``--html FILE``
    (the text and Markdown outputs then link it)."""
    if "html" in table.names:
        plan = html_plan(args, table.default)
    else:  # a command without --html (suggest)
        plan = HtmlPlan(args.format or table.default, None)
    target = target_of(args, streams)
    if plan.beside:
        write_beside(plan.beside, table.render("html", subject, target))
    text = table.render(plan.format, subject, target)
    note = link(plan.beside, plan.format) if plan.beside else ""
    return text.rstrip("\n") + "\n" + note if note else text
