"""The output-format seam: per command, one table from format name to renderer.

A command builds one subject (what it found: an analysis, a diff, a report) and one
:class:`Target` (where the text goes), then dispatches once through its :class:`FormatTable`.
The table also makes the command's ``--format`` choices, their help and the ``--json`` /
``--text`` / ``--markdown`` shorthands, so a new output format is one renderer module plus one
:class:`Format` entry in the command's table (and its tests).

Renderers are pure: they return the whole output as a string and never print.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S")
"""A command's subject: everything its renderers draw from."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the output goes, which decides how it looks."""

    width: int = 0
    """Columns for text; 0: as wide as the content needs (a pipe or a file)."""
    color: bool = False
    """Colour (ANSI escapes) allowed."""
    terminal: bool = False
    """A person reads it at a terminal (JSON is indented; pipes and files get it compact)."""


Renderer = Callable[[S, Target], str]
"""Draw a subject for a target: the command's whole output."""


@dataclass(frozen=True, slots=True)
class Format(Generic[S]):
    """One entry of a command's table."""

    name: str
    """The ``--format`` value (``text``, ``json``, ``csv``...)."""
    render: Renderer[S]
    """The renderer."""
    help: str
    """What it prints, a few words for ``--help`` (``a self-contained HTML page``)."""
    shorthand: str | None = None
    """Also offered as ``--NAME``, printing this label (``JSON``): text, json, markdown."""


class FormatTable(Generic[S]):
    """A command's formats in ``--help`` order; the first one is the default."""

    def __init__(self, *formats: Format[S]) -> None:
        if not formats:
            raise ValueError("a format table needs at least one format")
        self._formats = {f.name: f for f in formats}
        if len(self._formats) != len(formats):
            raise ValueError("format names must be unique")

    @property
    def default(self) -> str:
        """The format printed when none is asked for."""
        return next(iter(self._formats))

    @property
    def names(self) -> tuple[str, ...]:
        """The ``--format`` choices."""
        return tuple(self._formats)

    def __iter__(self) -> Iterator[Format[S]]:
        return iter(self._formats.values())

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def __getitem__(self, name: str) -> Format[S]:
        return self._formats[name]

    def render(self, name: str | None, subject: S, target: Target | None = None) -> str:
        """The output in format ``name`` (None: the default)."""
        chosen = self._formats[name or self.default]
        return chosen.render(subject, target or Target())

    def help(self) -> str:
        """One sentence for ``--format``'s help: every choice and what it prints."""
        return "output format: " + "; ".join(
            f"{f.name}{' (default)' if f.name == self.default else ''}, {f.help}" for f in self
        )
