"""`check --format markdown` (also what goes to $GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

from layerscope.analysis.budget import Note, Outcome
from layerscope.render.check.words import (
    STATUS,
    CheckSubject,
    sentence,
    show_measured,
    show_threshold,
    tally,
)
from layerscope.render.markdown import cell as _cell
from layerscope.render.markdown import code, plain
from layerscope.render.suggest_words import words
from layerscope.render.units import size

__all__ = ["render_check_markdown"]

_ICON = {Outcome.PASS: "✅", Outcome.WARN: "⚠️", Outcome.FAIL: "❌", Outcome.SKIP: "⏭️"}


def render_check_markdown(subject: CheckSubject) -> str:
    """A heading, the verdict, a table of the rules that ran, the matching suggestions."""
    report = subject.report
    verdict = "passed" if report.passed else "failed"
    out = [
        f"## layerscope check: {code(subject.ref)} {verdict}",
        "",
        f"Image `{subject.image_id}`, budget from {plain(subject.config)}.",
        "",
        "| rule | status | measured | threshold | |",
        "|---|---|---|---|---|",
    ]
    disabled = []
    for r in report.results:
        if r.outcome is Outcome.SKIP and r.note is Note.DISABLED:
            disabled.append(f"`{r.id}`")
            continue
        out.append(
            f"| `{r.id}` | {_ICON[r.outcome]} {STATUS[r.outcome]} | {_cell(show_measured(r))} | "
            f"{_cell(show_threshold(r))} | {_cell(sentence(r))} |"
        )
    if disabled:
        out += ["", "Disabled: " + ", ".join(disabled) + "."]
    if report.suggestions:
        out += ["", "### Suggestions", ""]
        for s in report.suggestions:
            saves = f" (saves {size(s.estimated_saving_bytes)})" if s.estimated_saving_bytes else ""
            lines = ", ".join(
                f"{span.start}" if span.start == span.end else f"{span.start}-{span.end}"
                for span in s.lines
            )
            where = f", Dockerfile line{'s' if len(s.lines) > 1 else ''} {lines}" if lines else ""
            out.append(f"- **{plain(words(s).title)}**{saves}{where}")
    out += ["", f"`{tally(report)}`", ""]
    return "\n".join(out)
