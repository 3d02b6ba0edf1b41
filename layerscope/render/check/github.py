"""`check --format github`: GitHub Actions workflow commands (::error / ::warning / ::notice)."""

from __future__ import annotations

from layerscope.analysis.budget import Outcome
from layerscope.render.check.words import CheckSubject, rule_span, sentence
from layerscope.render.suggest_words import words
from layerscope.render.units import size

__all__ = ["render_check_github"]


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_check_github(subject: CheckSubject) -> str:
    """One annotation per failed or warned rule, one notice per matching suggestion (at their
    Dockerfile lines when a Dockerfile was given)."""
    out: list[str] = []
    for r in subject.report.results:
        if r.outcome not in (Outcome.FAIL, Outcome.WARN):
            continue
        level = "error" if r.outcome is Outcome.FAIL else "warning"
        props = [f"title={_prop(f'layerscope check: {r.id}')}"]
        if subject.dockerfile:  # at the Dockerfile, as SARIF puts it
            span = rule_span(r)
            props.insert(
                0, f"file={_prop(subject.dockerfile)},line={span.start},endLine={span.end}"
            )
        out.append(f"::{level} {','.join(props)}::{_data(sentence(r))}")
    for s in subject.report.suggestions:
        props = [f"title={_prop('layerscope suggestion: ' + s.kind.value)}"]
        if subject.dockerfile and s.lines:
            span = s.lines[0]
            props.insert(
                0, f"file={_prop(subject.dockerfile)},line={span.start},endLine={span.end}"
            )
        saves = f" (saves {size(s.estimated_saving_bytes)})" if s.estimated_saving_bytes else ""
        out.append(f"::notice {','.join(props)}::{_data(words(s).title + saves)}")
    return "\n".join(out) + ("\n" if out else "")
