"""What the recorded build history tells ``suggest``: miss rates, step durations, a moving base."""

from __future__ import annotations

from statistics import median

from layerscope.analysis.cache import CacheHistory, MissReason

from .model import HistoryHints, InstructionStats


def hints_from_history(history: CacheHistory) -> HistoryHints:
    """Per layer position: how often it missed over the compared builds, its typical duration
    from build logs, and whether the base image ever moved."""
    stats: list[InstructionStats] = []
    for timeline in history.instructions:
        compared = timeline.hits + timeline.misses
        if compared == 0:
            continue
        durations = [
            layer.log_duration_seconds
            for build in history.builds
            for layer in build.build.layers
            if layer.index == timeline.index and layer.log_duration_seconds is not None
        ]
        stats.append(
            InstructionStats(
                layer_index=timeline.index,
                instruction=timeline.instruction,
                misses=timeline.misses,
                builds=compared,
                seconds=median(durations) if durations else None,
            )
        )
    base_moved = any(
        build.cause is not None and build.cause.reason is MissReason.BASE_IMAGE
        for build in history.builds
    )
    return HistoryHints(tuple(stats), base_moved)
