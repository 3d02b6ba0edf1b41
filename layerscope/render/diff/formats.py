"""``layerscope diff``'s output formats: name -> renderer (the seam is ``render/formats.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..formats import Format, FormatTable, Target

if TYPE_CHECKING:
    from ...analysis.diff import ImageDiff


@dataclass(frozen=True, slots=True)
class DiffSubject:
    """What ``diff`` prints."""

    diff: ImageDiff
    top: int | None = None
    """File and package changes to list; None: 20 in text, 50 in Markdown."""


def _text(subject: DiffSubject, target: Target) -> str:
    from .text import render_diff

    top = 20 if subject.top is None else subject.top
    return render_diff(subject.diff, top=top, width=target.width, color=target.color)


def _json(subject: DiffSubject, target: Target) -> str:
    from ..json import dumps
    from .json import diff_document

    return dumps(diff_document(subject.diff))


def _markdown(subject: DiffSubject, target: Target) -> str:
    from .markdown import render_diff_markdown

    return render_diff_markdown(subject.diff, top=50 if subject.top is None else subject.top)


def _html(subject: DiffSubject, target: Target) -> str:
    from ..html import render_diff_html

    return render_diff_html(subject.diff)


DIFF_FORMATS = FormatTable(
    Format("text", _text, "the report for a terminal", shorthand="text"),
    Format("json", _json, "a document (docs/json-schema.md)", shorthand="JSON"),
    Format("markdown", _markdown, "for a pull-request comment", shorthand="Markdown"),
    Format("html", _html, "a self-contained page"),
)
