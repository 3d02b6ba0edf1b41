"""Messages shared across screens: loading progress and its outcome, background results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from layerscope.analysis import Analysis

if TYPE_CHECKING:
    from layerscope.analysis.cache import CacheHistory
    from layerscope.analysis.diff import ImageDiff
    from layerscope.analysis.suggest import SuggestionReport


@dataclass
class LoadProgress(Message):
    """The loader reports a stage or bytes read (floods are coalesced)."""

    stage: str
    done_bytes: int
    total_bytes: int | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LoadProgress)


@dataclass
class AnalysisReady(Message):
    """The image is loaded and analysed."""

    analysis: Analysis


@dataclass
class LoadFailed(Message):
    """Loading or analysing failed; ``message`` is one line for a person."""

    message: str
    exit_code: int


@dataclass
class DiffReady(Message):
    """Both images are loaded and compared."""

    diff: ImageDiff


@dataclass
class SuggestionsReady(Message):
    """The suggestions are computed (None: the suggester failed or is unavailable)."""

    report: SuggestionReport | None


@dataclass
class HistoryReady(Message):
    """The recorded builds of the image's repository (None: nothing recorded or unreadable)."""

    history: CacheHistory | None
    error: str | None = None
