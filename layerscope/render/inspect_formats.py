"""``layerscope inspect``'s output formats: name -> renderer (the seam is ``render/formats.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .formats import Format, FormatTable, Target
from .inspect_csv import FILE_COLUMNS, LAYER_COLUMNS, files_csv, layers_csv

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..analysis.cache import CacheHistory
    from ..analysis.suggest import SuggestionReport


@dataclass(frozen=True, slots=True)
class InspectSubject:
    """What ``inspect`` prints."""

    analysis: Analysis
    suggestions: SuggestionReport | None = None
    top: int = 10
    """Reclaimable files the text summary lists."""
    history: Callable[[], CacheHistory | None] = lambda: None
    """The recorded builds of the image's repository, read only for the HTML page."""


def _text(subject: InspectSubject, target: Target) -> str:
    from .text import render_inspect

    text = render_inspect(subject.analysis, top=subject.top, width=target.width,
                          color=target.color, suggestions=subject.suggestions)  # fmt: skip
    proof = subject.suggestions.proof if subject.suggestions is not None else None
    if proof is not None:  # --prove, or an earlier proof of the same patch
        from .prove import render_proof_text

        text += render_proof_text(proof)
    return text


def _json(subject: InspectSubject, target: Target) -> str:
    from .json import dumps_inspect

    # pretty for a person at a terminal, compact (C encoder, much faster) for pipes and files
    extra = {}
    proof = subject.suggestions.proof if subject.suggestions is not None else None
    if proof is not None:
        from .prove import proof_document

        extra["proof"] = proof_document(proof)
    indent = 2 if target.terminal else None
    return dumps_inspect(subject.analysis, subject.suggestions, indent=indent, extra=extra)


def _html(subject: InspectSubject, target: Target) -> str:
    from .html import render_inspect_html

    return render_inspect_html(subject.analysis, subject.suggestions, subject.history())


INSPECT_FORMATS = FormatTable(
    Format("text", _text, "a summary", shorthand="text"),
    Format("json", _json, "a document (docs/json-schema.md)", shorthand="JSON"),
    Format("html", _html, "a self-contained page (as layerscope report)"),
    Format("csv", lambda s, t: layers_csv(s.analysis),
           "the layer table as CSV (docs/csv.md): " + ", ".join(LAYER_COLUMNS)),
    Format("csv-files", lambda s, t: files_csv(s.analysis),
           "every file each layer changed as CSV: " + ", ".join(FILE_COLUMNS)),
)  # fmt: skip
