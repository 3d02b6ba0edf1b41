"""Messages shared across screens: loading progress and its outcome."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from layerscope.analysis import Analysis


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
