"""`check` as text: one line per rule (disabled rules on one line), suggestions, dive's tally."""

from __future__ import annotations

import sys
import textwrap

from layerscope.analysis.budget import Note, Outcome
from layerscope.render.check.words import STATUS, CheckSubject, sentence, tally
from layerscope.render.suggest_words import words
from layerscope.render.units import size

__all__ = ["render_check_text", "suggestion_line"]

_COLOURS = {Outcome.PASS: "32", Outcome.WARN: "33", Outcome.FAIL: "1;31", Outcome.SKIP: "2"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def suggestion_line(title: str, saving: int, lines: str) -> str:
    """``title (saves 1.2 MB) [Dockerfile:3-5]``."""
    saves = f" (saves {size(saving)})" if saving > 0 else ""
    where = f" [{lines}]" if lines else ""
    return f"{title}{saves}{where}"


def _spans(subject: CheckSubject, spans: tuple[tuple[int, int], ...]) -> str:
    name = subject.dockerfile or "Dockerfile"
    return ", ".join(f"{name}:{a}" if a == b else f"{name}:{a}-{b}" for a, b in spans)


def render_check_text(subject: CheckSubject, *, width: int = 100, color: bool = False) -> str:
    """The report a person reads in a terminal or a CI log."""
    report = subject.report
    width = width if width > 0 else sys.maxsize  # 0: off a terminal, never wrap
    image = f"  image:  {subject.image_id}"
    if len(image) > width:  # docker's short ID, as `docker images` shows it
        image = f"  image:  {subject.image_id.split(':')[-1][:12]}"
    out = [f"layerscope check {subject.ref}", image]
    out += textwrap.wrap(
        f"  budget: {subject.config}",
        width=width,
        subsequent_indent=" " * 10,
        break_long_words=False,
        break_on_hyphens=False,
    )
    out.append("")
    disabled: list[str] = []
    indent = " " * 8
    numbers = {sug.id: n for n, sug in enumerate(report.suggestions, start=1)}
    for result in report.results:
        if result.outcome is Outcome.SKIP and result.note is Note.DISABLED:
            disabled.append(result.id.value)
            continue
        status = _paint(f"{STATUS[result.outcome]:<4}", _COLOURS[result.outcome], color)
        body = textwrap.fill(
            f"{result.id}: {sentence(result)}",
            width=max(40, width - 8),
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
        lines = body.splitlines()
        out.append(f"  {status}  {lines[0]}")
        out.extend(indent + line for line in lines[1:])
        if result.suggestions:
            ids = ", ".join(str(numbers[sug.id]) for sug in result.suggestions)
            out.append(f"{indent}see suggestion{'s' if len(result.suggestions) > 1 else ''} {ids}")
    if disabled:
        status = _paint("SKIP", _COLOURS[Outcome.SKIP], color)
        wrapped = textwrap.fill(
            "rules disabled: " + ", ".join(disabled),
            width=max(40, width - 8),
            subsequent_indent="  ",
        ).splitlines()
        out.append(f"  {status}  {wrapped[0]}")
        out.extend(indent + line for line in wrapped[1:])
    if report.suggestions:
        out += ["", "Suggestions:"]
        for n, sug in enumerate(report.suggestions, start=1):
            spans = _spans(subject, tuple((span.start, span.end) for span in sug.lines))
            text = f"{n}. " + suggestion_line(words(sug).title, sug.estimated_saving_bytes, spans)
            out.extend(
                textwrap.wrap(
                    text,
                    width=max(40, width),
                    initial_indent="  ",
                    subsequent_indent="     ",
                    break_on_hyphens=False,
                )
            )
    out.append("")
    code = (
        "32"
        if report.passed and not report.count(Outcome.WARN)
        else ("33" if report.passed else "1;31")
    )
    out.append(_paint(tally(report), code, color))
    return "\n".join(out) + "\n"
