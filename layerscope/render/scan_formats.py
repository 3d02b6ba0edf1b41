"""``layerscope scan``'s output formats: name -> renderer (the seam is ``render/formats.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .formats import Format, FormatTable, Target

if TYPE_CHECKING:
    from ..analysis.registry import RegistryReport
    from .scan import ScanStats


@dataclass(frozen=True, slots=True)
class ScanSubject:
    """What ``scan`` prints."""

    report: RegistryReport
    stats: ScanStats
    top: int = 20
    """Images listed in the text report."""


def _text(subject: ScanSubject, target: Target) -> str:
    from .scan import render_scan_text

    return render_scan_text(subject.report, subject.stats, top=subject.top, width=target.width)


def _json(subject: ScanSubject, target: Target) -> str:
    from .json import dumps
    from .scan import scan_document

    document = scan_document(subject.report, subject.stats)
    return dumps(document, indent=2 if target.terminal else None)


def _markdown(subject: ScanSubject, target: Target) -> str:
    from .scan import render_scan_markdown

    return render_scan_markdown(subject.report, subject.stats)


def _html(subject: ScanSubject, target: Target) -> str:
    from .html import render_scan_html

    return render_scan_html(subject.report, subject.stats)


SCAN_FORMATS = FormatTable(
    Format("text", _text, "a summary", shorthand="text"),
    Format("json", _json, "a document (docs/json-schema.md)", shorthand="JSON"),
    Format("markdown", _markdown, "a report to paste", shorthand="Markdown"),
    Format("html", _html, "a self-contained page"),
)
