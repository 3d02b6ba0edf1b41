"""Pure analyses of an image: per-layer changes, reclaimable waste, dive metrics, base split."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layerscope.analysis.base import BaseMethod, BaseSplit, base_layers
from layerscope.analysis.changes import (
    ChangeKind,
    FileChange,
    LayerChanges,
    ModifyDetail,
    layer_changes,
)
from layerscope.analysis.waste import WasteItem, WasteReason, WasteReport, find_waste
from layerscope.model import Image
from layerscope.tree import LayerStack, stack_layers

if TYPE_CHECKING:
    from layerscope.analysis.dive import DiveMetrics

__all__ = [
    "Analysis",
    "analyze",
    "BaseMethod",
    "BaseSplit",
    "base_layers",
    "ChangeKind",
    "FileChange",
    "LayerChanges",
    "ModifyDetail",
    "layer_changes",
    "WasteItem",
    "WasteReason",
    "WasteReport",
    "find_waste",
]


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything layerscope measures about one image."""

    image: Image
    changes: tuple[LayerChanges, ...]
    """One per layer, oldest first."""
    waste: WasteReport
    dive: DiveMetrics
    base: BaseSplit
    final_fs_bytes: int
    filesystem: LayerStack
    """The stacked file system: ``final`` and ``at(layer_index)`` for tree views."""


def analyze(
    image: Image,
    *,
    base_image: Image | None = None,
    dockerfile_base_count: int | None = None,
    base_from_label: bool = False,
) -> Analysis:
    """Run every analysis on ``image`` (the layers are stacked once and shared)."""
    # What the analyses build is acyclic (tuples, dicts, frozen dataclasses): the cyclic
    # collector only costs time here (a third of the analysis of a 100k-file image, in full
    # collections over every entry); reference counting frees all of it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyze(image, base_image, dockerfile_base_count, base_from_label)
    finally:
        if was_enabled:
            gc.enable()


def _analyze(
    image: Image,
    base_image: Image | None,
    dockerfile_base_count: int | None,
    base_from_label: bool,
) -> Analysis:
    from layerscope.analysis.dive import dive_metrics

    stack = stack_layers(image)
    waste = find_waste(image, stack=stack)
    changes = layer_changes(image, stack=stack, reclaimable_by_layer=waste.reclaimable_by_layer)
    base = base_layers(
        image,
        base_image,
        dockerfile_base_count,
        base_from_label=base_from_label,
    )
    return Analysis(
        image=image,
        changes=changes,
        waste=waste,
        dive=dive_metrics(image),
        base=base,
        final_fs_bytes=waste.final_fs_bytes,
        filesystem=stack,
    )
