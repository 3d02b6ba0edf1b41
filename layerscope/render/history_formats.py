"""``layerscope history``'s output formats: name -> renderer (the seam is ``render/formats.py``);
one table for a repository's builds, one for the list of recorded repositories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .formats import Format, FormatTable, Target

if TYPE_CHECKING:
    from ..analysis.cache import CacheHistory


@dataclass(frozen=True, slots=True)
class HistorySubject:
    """What ``history NAME`` (or ``--refs``, ``--tags``) prints."""

    history: CacheHistory
    repository: str | None
    top: int = 10
    """Changed paths to list per miss."""


def _text(subject: HistorySubject, target: Target) -> str:
    from .history_text import render_history

    return render_history(subject.history, repository=subject.repository, top=subject.top,
                          width=target.width, color=target.color)  # fmt: skip


def _json(subject: HistorySubject, target: Target) -> str:
    from .history_json import history_document
    from .json import dumps

    document = history_document(subject.history, repository=subject.repository)
    return dumps(document, indent=2 if target.terminal else None)


def _html(subject: HistorySubject, target: Target) -> str:
    from .html import render_history_html

    return render_history_html(subject.history, repository=subject.repository)


HISTORY_FORMATS = FormatTable(
    Format("text", _text, "the builds, timeline and misses", shorthand="text"),
    Format("json", _json, "a document (docs/json-schema.md)", shorthand="JSON"),
    Format("html", _html, "a self-contained page with charts"),
)


@dataclass(frozen=True, slots=True)
class RepositoriesSubject:
    """What ``history`` without NAME prints: the recorded repositories."""

    store: str
    """The store as shown to people (a path, or a URL without its password)."""
    repositories: Sequence[tuple[str, int]]
    """Each repository's name and number of recorded builds."""


def _repositories_text(subject: RepositoriesSubject, target: Target) -> str:
    if not subject.repositories:
        return (
            f"No builds recorded in {subject.store} yet: inspect, diff, suggest and check record "
            "every image they read (or give --refs REF...)."
        )
    lines = [f"Recorded repositories in {subject.store} (layerscope history NAME shows one):"]
    width = max(len(name) for name, _ in subject.repositories)
    lines += [
        f"  {name:<{width}}  {n} build{'s' if n != 1 else ''}" for name, n in subject.repositories
    ]
    return "\n".join(lines)


def _repositories_json(subject: RepositoriesSubject, target: Target) -> str:
    from .json import dumps

    document = {
        "schema_version": 1,
        "store": subject.store,
        "repositories": [{"name": name, "build_count": n} for name, n in subject.repositories],
    }
    return dumps(document, indent=2 if target.terminal else None)


REPOSITORY_FORMATS = FormatTable(
    Format("text", _repositories_text, "the recorded repositories", shorthand="text"),
    Format("json", _repositories_json, "a document (docs/json-schema.md)", shorthand="JSON"),
)
