"""``--html [FILE]``: the self-contained HTML page as a command's output, or beside it.

``--html`` alone (or ``--format html``) makes the page the output (stdout or ``--output``);
``--html FILE`` writes the page to FILE and keeps the chosen text, JSON or Markdown output, which
then links the page.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

HTML_HELP = (
    "the self-contained HTML report (inline script and style, fetches nothing). Alone it is the "
    "output (stdout or --output); --html FILE writes it to FILE beside the text or Markdown "
    "output, which links it (write --html=FILE, or --html FILE after the image arguments)"
)


class _Html(argparse.Action):
    """``--html [FILE]``, remembering on the parser the word it took as FILE: ``inspect --html
    image.tar`` takes the image as the page's file, and the parser's "REF is required" error
    (``cli._Parser.error``) then says so."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        if values:
            parser.html_took = values  # type: ignore[attr-defined]


def html_took_hint(took: object) -> str:
    """What to add to a "no image given" error when ``--html`` took a word that is not an HTML
    file's name (``inspect --html image.tar``): "" when it did not."""
    if not isinstance(took, str) or not took or took.lower().endswith((".html", ".htm")):
        return ""
    return (
        f"; --html took {took!r} as the page's file: put --html after the image arguments, "
        "or write --html=FILE"
    )


def add_html_option(parser: argparse.ArgumentParser) -> None:
    """Register ``--html [FILE]`` (the command's formats must include ``html``)."""
    parser.add_argument("--html", nargs="?", const="", default=None, metavar="FILE",
                        action=_Html, help=HTML_HELP)  # fmt: skip


@dataclass(frozen=True, slots=True)
class HtmlPlan:
    """What the command prints, and where the page goes besides."""

    format: str
    """The output format: text, json, markdown or html."""
    beside: str | None
    """A file to write the page to in addition to the output."""


def html_plan(args: argparse.Namespace, default: str = "text") -> HtmlPlan:
    """Resolve ``--format`` / ``--html [FILE]``."""
    chosen = args.format
    beside = args.html
    if beside == "":
        if chosen not in (None, "html"):
            shorthand = chosen in ("text", "json", "markdown")
            given = f"--{chosen}" if shorthand else f"--format {chosen}"
            raise UsageError(
                f"--html without FILE makes the page the output, so it cannot go with "
                f"{given}; write it beside with --html FILE"
            )
        return HtmlPlan("html", None)
    if beside is not None and chosen == "html":
        raise UsageError("--format html and --html FILE: give one of them")
    if beside is not None and args.output == beside:
        raise UsageError(f"--html {beside} is also the --output file; name another")
    return HtmlPlan(chosen or default, beside)


def write_beside(path: str, page: str) -> None:
    """Write the page to the file ``--html FILE`` named."""
    try:
        Path(path).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


def link(path: str, fmt: str) -> str:
    """The line that points a text or Markdown report at its HTML page ("" for JSON)."""
    if fmt == "markdown":
        return f"\n[Open the HTML report]({Path(path).as_posix()}) (one self-contained page)\n"
    if fmt == "text":
        return f"\nHTML report: {Path(path).resolve().as_uri()}\n"
    return ""
