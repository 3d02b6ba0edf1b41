"""layerscope: why container images are big and why builds miss the cache, measured.

The public Python API is the names in ``__all__`` (docs/api.md); every other module and name
is private. They load on first use, so ``import layerscope`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from layerscope.analysis import (
        Analysis,
        BaseMethod,
        BaseSplit,
        ChangeKind,
        FileChange,
        LayerChanges,
        WasteItem,
        WasteReason,
        WasteReport,
    )
    from layerscope.analysis.budget import BudgetReport, Outcome, RuleResult
    from layerscope.analysis.cache import BuildCache, CacheHistory
    from layerscope.analysis.diff import FileChangeKind, FileDiff, ImageDiff
    from layerscope.analysis.dive import DiveMetrics
    from layerscope.analysis.suggest import Suggestion, SuggestionKind, SuggestionReport
    from layerscope.api import (
        analyze,
        diff_images,
        evaluate_budget,
        list_repositories,
        load_image,
        read_history,
        record_build,
        suggest,
    )
    from layerscope.errors import (
        BadReferenceError,
        ConfigError,
        DaemonUnavailableError,
        DigestMismatchError,
        ImageFormatError,
        LayerFormatError,
        LayerscopeError,
        NotFoundError,
        RegistryUnavailableError,
        SourceUnavailableError,
        StoreError,
        StoreUnavailableError,
        UnsafePathError,
        UsageError,
    )
    from layerscope.model import (
        BuildRecord,
        EntryKind,
        FileEntry,
        HistoryEntry,
        Image,
        ImageConfig,
        Layer,
        LayerRecord,
        Platform,
        Progress,
    )

_FROM = {
    "layerscope.api": (
        "analyze diff_images evaluate_budget list_repositories load_image read_history "
        "record_build suggest"
    ),
    "layerscope.model": (
        "BuildRecord EntryKind FileEntry HistoryEntry Image ImageConfig Layer LayerRecord "
        "Platform Progress"
    ),
    "layerscope.analysis": (
        "Analysis BaseMethod BaseSplit ChangeKind FileChange LayerChanges WasteItem "
        "WasteReason WasteReport"
    ),
    "layerscope.analysis.dive": "DiveMetrics",
    "layerscope.analysis.diff": "FileChangeKind FileDiff ImageDiff",
    "layerscope.analysis.suggest": "Suggestion SuggestionKind SuggestionReport",
    "layerscope.analysis.budget": "BudgetReport Outcome RuleResult",
    "layerscope.analysis.cache": "BuildCache CacheHistory",
    "layerscope.errors": (
        "BadReferenceError ConfigError DaemonUnavailableError DigestMismatchError "
        "ImageFormatError LayerFormatError LayerscopeError NotFoundError "
        "RegistryUnavailableError SourceUnavailableError StoreError StoreUnavailableError "
        "UnsafePathError UsageError"
    ),
}
_MODULE_OF = {name: module for module, names in _FROM.items() for name in names.split()}

__all__ = [
    "Analysis",
    "BadReferenceError",
    "BaseMethod",
    "BaseSplit",
    "BudgetReport",
    "BuildCache",
    "BuildRecord",
    "CacheHistory",
    "ChangeKind",
    "ConfigError",
    "DaemonUnavailableError",
    "DigestMismatchError",
    "DiveMetrics",
    "EntryKind",
    "FileChange",
    "FileChangeKind",
    "FileDiff",
    "FileEntry",
    "HistoryEntry",
    "Image",
    "ImageConfig",
    "ImageDiff",
    "ImageFormatError",
    "Layer",
    "LayerChanges",
    "LayerFormatError",
    "LayerRecord",
    "LayerscopeError",
    "NotFoundError",
    "Outcome",
    "Platform",
    "Progress",
    "RegistryUnavailableError",
    "RuleResult",
    "SourceUnavailableError",
    "StoreError",
    "StoreUnavailableError",
    "Suggestion",
    "SuggestionKind",
    "SuggestionReport",
    "UnsafePathError",
    "UsageError",
    "WasteItem",
    "WasteReason",
    "WasteReport",
    "analyze",
    "diff_images",
    "evaluate_budget",
    "list_repositories",
    "load_image",
    "read_history",
    "record_build",
    "suggest",
]


if not TYPE_CHECKING:  # type checkers see the imports above; a module __getattr__ would hide
    # from them that other names (the compiled _tarwalk, say) may be missing

    def __getattr__(name: str) -> object:
        """Load a public name on first use (PEP 562)."""
        module = _MODULE_OF.get(name)
        if module is None:
            raise AttributeError(f"module 'layerscope' has no attribute {name!r}")
        value = getattr(import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*globals(), *__all__])
