"""The public Python API: a thin facade over the internals, re-exported from ``layerscope``.

Everything here is typed and stable (docs/api.md); the modules behind it are private and may
change. Options are keyword-only; every error is a ``LayerscopeError`` subclass. The internals
are imported inside the functions, so ``import layerscope`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .model import Digest, FileEntry, Image, Progress

if TYPE_CHECKING:
    from .analysis import Analysis
    from .analysis.budget import BudgetReport
    from .analysis.cache import CacheHistory, FileLookup
    from .analysis.diff import ImageDiff
    from .analysis.rules import RuleId, RuleSettings
    from .analysis.suggest import SuggestionReport
    from .dockerfile import Dockerfile
    from .store import LayerCache

__all__ = [
    "analyze",
    "diff_images",
    "evaluate_budget",
    "list_repositories",
    "load_image",
    "read_history",
    "record_build",
    "suggest",
]

PathLike = str | os.PathLike[str]
Budget = Mapping[str, Any] | PathLike
"""A budget: the table of a ``.layerscope.toml`` as a mapping, or a file (TOML or dive's
``.dive-ci``)."""


def load_image(
    ref: str,
    *,
    platform: str | None = None,
    verify: bool = False,
    cache: bool = True,
    insecure_registries: Sequence[str] = (),
    progress: Progress | None = None,
) -> Image:
    """Load the image ``ref`` names, in any form the command line takes: a ``docker save``
    archive or OCI layout (a path, ``docker-archive:``, ``oci:``, ``oci-archive:``), the Docker
    engine (``docker://``, ``daemon://``), a registry (``registry://``), or a bare
    ``NAME[:TAG]`` (the engine if it has it, else the registry).

    ``platform`` (``os/arch[/variant]``) picks from a multi-platform index; ``verify`` checks
    every local blob against its digest; ``cache`` reads and fills the layer index cache (in
    ``LAYERSCOPE_CACHE_DIR``); ``insecure_registries`` may be reached over plain HTTP.
    """
    from .sources import LoadContext
    from .sources import load_image as load

    layer_cache = _layer_cache() if cache else None
    try:
        context = LoadContext(
            verify=verify, index=layer_cache, insecure_registries=tuple(insecure_registries)
        )
        return load(ref, context.loading(platform=platform, progress=progress))
    finally:
        if layer_cache is not None:
            layer_cache.close()


def analyze(
    image: Image, *, base: Image | None = None, dockerfile: PathLike | None = None
) -> Analysis:
    """Everything layerscope measures about ``image``: per-layer changes (``changes``), the
    reclaimable bytes with their reasons (``waste``), dive's metrics (``dive``) and which layers
    are the base image's (``base``). ``base`` is the base image (its layers must be a prefix of
    ``image``'s); else the Dockerfile's last ``FROM`` decides; else the first layer, as in dive.
    """
    from .analysis import analyze as run
    from .dockerfile import base_layer_count

    parsed = _dockerfile(dockerfile) if dockerfile is not None and base is None else None
    count = base_layer_count(parsed, image) if parsed is not None else None
    return run(image, base_image=base, dockerfile_base_count=count)


def diff_images(old: Image, new: Image, *, semantic: bool = False) -> ImageDiff:
    """What changed from ``old`` to ``new``: layers aligned by content, file, config and package
    changes. ``semantic`` ignores timestamps and other build noise."""
    from .analysis.diff import diff_images as run

    return run(old, new, semantic=semantic)


def suggest(
    analysis: Analysis,
    *,
    dockerfile: PathLike | None = None,
    context: PathLike | None = None,
    dockerignore: PathLike | None = None,
) -> SuggestionReport:
    """Dockerfile changes with the bytes each saves, measured from the image, largest first.

    With ``dockerfile`` (the file the image was built from), suggestions point at its lines
    and ``patch`` holds the combined unified diff that ``layerscope suggest --patch-only``
    prints (paths relative to the current directory: apply it with ``patch -p1``). The build
    context (``context``, default: the Dockerfile's folder) gives the ``.dockerignore`` read and
    patched; ``dockerignore`` names another one. Unlike the command it reads no build history:
    what it suggests is measured from the image and the files alone.
    """
    from .analysis.suggest import suggest as run
    from .commands.suggest import patch_paths

    parsed, ignore_text, paths = None, None, None
    if dockerfile is not None:
        parsed = _dockerfile(dockerfile)
        folder = Path(context) if context is not None else Path(dockerfile).parent
        ignore = Path(dockerignore) if dockerignore is not None else folder / ".dockerignore"
        ignore_text = _read_text(ignore, ".dockerignore") if ignore.is_file() else None
        paths, _root = patch_paths(Path(dockerfile), ignore)
    elif dockerignore is not None:
        ignore_text = _read_text(Path(dockerignore), ".dockerignore")
    return run(analysis, dockerfile=parsed, dockerignore=ignore_text, paths=paths)


def evaluate_budget(
    analysis: Analysis,
    *,
    budget: Budget | None = None,
    baseline: Image | None = None,
    dockerfile: PathLike | None = None,
) -> BudgetReport:
    """``analysis`` against a size budget, as ``layerscope check`` does: ``report.passed`` is
    False when a rule failed. ``budget`` is a mapping shaped like a ``.layerscope.toml``
    (``{"rules": {"max_size": "250MB"}}``) or a file (TOML, or dive's ``.dive-ci``); None finds
    one in the current directory as ``check`` does, else applies dive's defaults. ``baseline``
    is what the growth rules compare with; a failed or warned rule carries the suggestions
    (with ``dockerfile``: placed at its lines) that would help with it. Unlike the command it
    reads no build history: ``min_cache_hit_ratio`` is skipped (no previous build); and a
    configuration file's ``dockerfile`` / ``baseline`` keys are not read (pass the arguments).
    """
    from .analysis.budget import Baseline, Outcome
    from .analysis.budget import evaluate_budget as run

    settings = _budget_settings(budget)
    against = None
    if baseline is not None:
        against = Baseline(
            baseline.ref,
            "ref",
            baseline.size_bytes,
            baseline.compressed_size_bytes,
            len(baseline.layers),
        )
    report = run(analysis, settings, baseline=against)
    if any(r.outcome in (Outcome.FAIL, Outcome.WARN) for r in report.results):
        found = suggest(analysis, dockerfile=dockerfile).suggestions
        report = run(analysis, settings, baseline=against, suggestions=found)
    return report


def record_build(image: Image, *, ref: str | None = None, store: str | None = None) -> bool:
    """Record ``image`` in the build history store (as every command does with what it
    analyses); False when it was recorded already. ``store`` is a store URL
    (``sqlite:///PATH``, a path, ``postgresql://…``); None: ``LAYERSCOPE_STORE``, the project's
    configuration, else ``history.sqlite3`` in ``LAYERSCOPE_DATA_DIR``."""
    from .store.history import HistoryStore
    from .store.history import record_build as record

    with HistoryStore(store) as history:
        return record(history, image, ref=ref)


def list_repositories(*, store: str | None = None) -> tuple[tuple[str, int], ...]:
    """The repositories in the build history store, each with its number of builds."""
    from .store.history import HistoryStore

    with HistoryStore(store) as history:
        return history.repositories()


def read_history(repository: str, *, store: str | None = None) -> CacheHistory:
    """The recorded builds of ``repository`` in creation order, each with its cache verdict
    against the one before (layer ``i`` hits when its chain ID is unchanged) and, where the
    layer cache still has the layers, the files that changed; as ``layerscope history NAME``."""
    from .analysis.cache import cache_history
    from .store.history import HistoryStore

    with HistoryStore(store) as history:
        builds = history.builds(repository)
    layer_cache = _layer_cache()
    try:
        return cache_history(builds, files=_files_in(layer_cache))
    finally:
        if layer_cache is not None:
            layer_cache.close()


def _files_in(layer_cache: LayerCache | None) -> FileLookup | None:
    """A layer's file entries by diff_id, from the layer cache."""
    if layer_cache is None:
        return None

    def files(diff_id: Digest) -> tuple[FileEntry, ...] | None:
        contents = layer_cache.get(diff_id)
        return contents.entries if contents is not None else None

    return files


def _layer_cache() -> LayerCache | None:
    """The layer index cache; None when it cannot be opened (the analysis goes on without)."""
    from .errors import StoreError
    from .store import LayerCache

    try:
        return LayerCache()
    except StoreError:
        return None


def _budget_settings(budget: Budget | None) -> dict[RuleId, RuleSettings]:
    from .budget_config import load_budget_config

    if budget is None or not isinstance(budget, Mapping):
        return load_budget_config(config=None if budget is None else os.fspath(budget)).settings()
    from .analysis.rules import default_settings
    from .budget_config.toml import read_layerscope_toml

    found = read_layerscope_toml(budget, "budget", defaults=default_settings())
    if found is None:  # pragma: no cover - a mapping is always a table
        raise ConfigError("budget: not a table")
    return {rule.id: rule for rule in found.rules}


def _dockerfile(path: PathLike) -> Dockerfile:
    from .commands.common import read_dockerfile

    return read_dockerfile(os.fspath(path))


def _read_text(path: Path, what: str) -> str:
    from .commands.common import read_text

    return read_text(os.fspath(path), what)
