"""``layerscope suggest``'s output formats: name -> renderer (the seam is ``render/formats.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .formats import Format, FormatTable, Target

if TYPE_CHECKING:
    from ..analysis.prove import Proof
    from ..analysis.suggest import SuggestionReport


@dataclass(frozen=True, slots=True)
class SuggestSubject:
    """What ``suggest`` prints."""

    report: SuggestionReport
    ref: str
    dockerfile: str | None = None
    """The ``--dockerfile`` path as given."""
    proof: Proof | None = None
    """The ``--prove`` builds."""


def _text(subject: SuggestSubject, target: Target) -> str:
    from .suggest import render_suggest_text

    text = render_suggest_text(subject.report, ref=subject.ref, width=target.width)
    if subject.proof is not None:
        from .prove import render_proof_text

        text += render_proof_text(subject.proof)
    return text


def _json(subject: SuggestSubject, target: Target) -> str:
    from .json import dumps
    from .suggest import suggest_document

    document = suggest_document(subject.report, ref=subject.ref, dockerfile=subject.dockerfile)
    if subject.proof is not None:
        from .prove import proof_document

        document["proof"] = proof_document(subject.proof)
    return dumps(document, indent=2 if target.terminal else None)


SUGGEST_FORMATS = FormatTable(
    Format("text", _text, "the suggestions for a terminal", shorthand="text"),
    Format("json", _json, "a document (docs/json-schema.md)", shorthand="JSON"),
)
