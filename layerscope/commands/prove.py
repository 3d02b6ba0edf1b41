"""``suggest --prove``: build the original and the patched Dockerfile with the real engine and
measure what the patch saves, that it builds, and what a one-line source edit rebuilds.

Everything happens in a scratch directory under the cache directory (two copies of the build
context: one for the original Dockerfile, one with the patch applied; ``sources.build_scratch``),
removed afterwards with every image it tagged. A patched build that fails drops the suggestion
that broke it and builds the rest again, so the patch it ends with always builds. The subsets
tried, the suspects of a failure and the figures are pure work in ``analysis.prove``; this module
runs the builds in order and reads their logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import IO

from ..analysis.prove import (
    CacheExperiment,
    CacheRun,
    DroppedSuggestion,
    Proof,
    SuggestionProof,
    compose_subset,
    edit_line,
    normal_step,
    rebuilt_layers,
    short_step,
    suspects,
    union_saving,
)
from ..analysis.suggest import SIZE_KINDS, Suggestion, SuggestionReport
from ..analysis.suggest.compose import Files
from ..analysis.suggest.model import PatchPaths
from ..buildlogs import BuildLogError, BuildStep, parse_build_log
from ..dockerfile import Dockerfile
from ..errors import LayerscopeError, UsageError
from ..sources.build_scratch import BuildScratch
from ..sources.daemon_build import Builder, BuildOutcome, ImageFacts
from .settings import ProveSettings

LOG_TAIL_LINES = 15
BLAME_TRIALS = 6
"""Builds spent finding the culprit when the failing step's text names no suggestion."""
MANIFEST_NAMES = re.compile(
    r"^(requirements.*\.txt|constraints.*\.txt|pyproject\.toml|poetry\.lock|uv\.lock|pdm\.lock|"
    r"Pipfile(\.lock)?|setup\.(py|cfg)|package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|"
    r"go\.(mod|sum)|Cargo\.(toml|lock)|Gemfile(\.lock)?|composer\.(json|lock)|Dockerfile.*|"
    r"\.dockerignore)$"
)
"""Files the default ``--touch`` never picks: it edits a source file, not a dependency manifest."""


@dataclass(frozen=True, slots=True)
class _Run:
    """One proof: the scratch contexts and their builder, the files as the composer sees them,
    the suggestions by id."""

    scratch: BuildScratch
    files: Files
    by_id: dict[str, Suggestion]

    @property
    def builder(self) -> Builder:
        return self.scratch.builder

    def subset(self, ids: list[str]) -> tuple[str, str | None]:
        """(Dockerfile, .dockerignore) texts with the changes of ``ids``."""
        texts = compose_subset(self.files, self.by_id, ids)
        if texts is None:
            raise LayerscopeError(f"the edits of {', '.join(ids)} do not compose")
        return texts.dockerfile, texts.dockerignore


def _progress_sink(quiet: bool, err: IO[str]) -> Callable[[str], None]:
    if quiet:
        return lambda line: None

    def say(line: str) -> None:
        err.write(line + "\n")
        err.flush()

    return say


def prove(
    settings: ProveSettings,
    err: IO[str],
    *,
    report: SuggestionReport,
    dockerfile: Dockerfile,
    dockerfile_path: str,
    paths: PatchPaths | None = None,
) -> Proof:
    """Build, measure, drop what breaks the build, run the cache experiment, clean up."""
    context = Path(settings.context) if settings.context else Path(dockerfile_path).parent
    if not context.is_dir():
        raise UsageError(f"build context {context} is not a directory")
    try:
        rel: str | None = os.path.relpath(Path(dockerfile_path).resolve(), context.resolve())
    except ValueError:
        rel = None
    if rel is not None and rel.startswith(".."):
        rel = None
    ignore_path = context / ".dockerignore"
    ignore_text = ignore_path.read_text(encoding="utf-8") if ignore_path.is_file() else None
    touch = _touch_target(settings.touch, context, dockerfile, ignore_text)
    builder = Builder(settings.builder, network=settings.network)
    sink = _progress_sink(settings.quiet, err)
    with BuildScratch(builder, context, rel, sink) as scratch:
        where = paths or PatchPaths()
        files = Files(dockerfile, ignore_text, where.dockerfile, where.dockerignore)
        run = _Run(scratch, files, {s.id: s for s in report.suggestions})
        proof = _prove(run, settings.mode == "each", report, touch)
        return replace(proof, images=tuple(scratch.tags))


def _prove(run: _Run, each: bool, report: SuggestionReport, touch: str) -> Proof:
    by_id = run.by_id
    original_df = run.scratch.write("original", run.files.dockerfile.text, run.files.dockerignore)
    first, original_tag = run.scratch.build("original", original_df, "original")
    if not first.ok:
        raise LayerscopeError(
            f"the original Dockerfile does not build with {run.builder.name}: "
            f"{first.error or 'see the log'}"
        )
    original = run.builder.facts(original_tag)
    kept = [i for i in report.applied if i in by_id]
    dropped: list[DroppedSuggestion] = []
    patched, outcome, patch = _build_patched(run, kept, dropped)
    gone = {d.id for d in dropped}
    proofs = [
        _suggestion_proof(run, s, original, measure=each and s.id in kept, dropped=s.id in gone)
        for s in report.suggestions
        if s.id in kept or s.id in gone
    ]
    cache = _cache_experiment(run, touch, kept, original, patched)
    return Proof(
        builder=run.builder.name,
        original_bytes=original.size_bytes,
        patched_bytes=patched.size_bytes,
        estimated_saving_bytes=union_saving(by_id, kept),
        applied=tuple(kept),
        patch=patch,
        patch_builds=outcome.ok,
        original_seconds=round(first.seconds, 2),
        patched_seconds=round(outcome.seconds, 2),
        suggestions=tuple(proofs),
        dropped=tuple(dropped),
        cache=cache,
        notes=tuple(run.builder.notes),
    )


def _suggestion_proof(
    run: _Run, s: Suggestion, original: ImageFacts, *, measure: bool, dropped: bool
) -> SuggestionProof:
    """One suggestion's estimate, and with ``measure`` (``--prove=each``) its own build."""
    measured = builds = None
    if measure:
        if compose_subset(run.files, run.by_id, [s.id]) is not None:
            alone, tag = _build_with(run, [s.id], f"only-{s.id}")
            builds = alone.ok
            if alone.ok:
                measured = original.size_bytes - run.builder.facts(tag).size_bytes
    elif dropped:
        builds = False
    estimate = s.estimated_saving_bytes if s.kind in SIZE_KINDS else 0
    return SuggestionProof(s.id, s.kind, estimate, measured, builds)


def _build_patched(
    run: _Run, kept: list[str], dropped: list[DroppedSuggestion]
) -> tuple[ImageFacts, BuildOutcome, str | None]:
    """Build the combined patch; while it fails, find the suggestion whose removal lets the
    build pass the failing step, drop it, and go on with the rest, until it builds."""
    outcome, tag = _build_with(run, kept, "patched-1")
    attempt = 1
    while not outcome.ok:
        if not kept:
            raise LayerscopeError(
                f"the Dockerfile without any suggestion failed to build: {outcome.error}"
            )
        step = _failing_step(outcome)
        tail = tuple(outcome.log.rstrip("\n").splitlines()[-LOG_TAIL_LINES:])
        culprit, trial = _find_culprit(run, kept, step)
        if culprit is None:
            reason = (
                f"the patched build failed at `{short_step(step)}` and no single suggestion "
                "could be blamed: every suggestion was left out"
            )
            dropped.extend(DroppedSuggestion(i, step, tail, reason) for i in kept)
            kept.clear()
            attempt += 1
            outcome, tag = _build_with(run, kept, f"patched-{attempt}")
            continue
        reason = (
            f"the patched build failed at `{short_step(step)}`; without {culprit} it gets past it"
        )
        dropped.append(DroppedSuggestion(culprit, step, tail, reason))
        kept.remove(culprit)
        outcome, tag = trial
    texts = compose_subset(run.files, run.by_id, kept) if kept else None
    return run.builder.facts(tag), outcome, texts.patch if texts else None


def _build_with(run: _Run, ids: list[str], label: str) -> tuple[BuildOutcome, str]:
    """Build the patched copy with the changes of ``ids``."""
    df_text, ignore = run.subset(ids)
    df = run.scratch.write("patched", df_text, ignore)
    return run.scratch.build("patched", df, label)


def _failing_step(outcome: BuildOutcome) -> str:
    try:
        log = parse_build_log(outcome.log)
    except BuildLogError:
        return outcome.error or ""
    failed = [s for s in log.steps if s.error] or [s for s in log.steps if s.cached is False]
    steps: list[BuildStep] = failed or list(log.steps)
    return steps[-1].instruction if steps else (outcome.error or "")


def _find_culprit(
    run: _Run, kept: list[str], step: str
) -> tuple[str | None, tuple[BuildOutcome, str]]:
    """Build without each suspect in turn: the first whose removal builds, or fails at another
    step (it fixed this failure), is the culprit; returns it with that build."""
    last: tuple[BuildOutcome, str] | None = None
    for candidate in suspects(run.files.dockerfile, step, kept, run.by_id)[:BLAME_TRIALS]:
        rest = [i for i in kept if i != candidate]
        last = _build_with(run, rest, f"without-{candidate}")
        if last[0].ok or normal_step(_failing_step(last[0])) != normal_step(step):
            return candidate, last
    assert last is not None
    return None, last


def _touch_target(
    given: str | None, context: Path, dockerfile: Dockerfile, ignore: str | None
) -> str:
    """The file the cache experiment edits, relative to the context."""
    if given:
        path = Path(given)
        rel = os.path.relpath(path.resolve(), context.resolve()) if path.is_absolute() else given
        if rel.startswith("..") or not (context / rel).is_file():
            raise UsageError(f"--touch {given}: no such file in the build context {context}")
        return rel
    patterns = [p.strip() for p in (ignore or "").splitlines() if p.strip() and p[0] != "#"]
    newest: tuple[float, str] | None = None
    for ins in dockerfile.instructions:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None:
            continue
        words = [w for w in ins.words if not w.startswith("--")]
        for source in words[:-1]:
            for path in _files_under(context, source):
                rel = path.relative_to(context.resolve()).as_posix()
                if MANIFEST_NAMES.match(path.name) or _ignored(rel, patterns):
                    continue
                mtime = path.stat().st_mtime
                if newest is None or (mtime, rel) > newest:
                    newest = (mtime, rel)
    if newest is None:
        raise UsageError(
            "no source file that a COPY/ADD brings in from the context: name one with --touch"
        )
    return newest[1]


def _files_under(context: Path, source: str) -> Iterator[Path]:
    root = context.resolve()
    for match in sorted(root.glob(source.lstrip("/"))) if source not in (".", "./") else [root]:
        if match.is_file() and not match.is_symlink():
            yield match
        elif match.is_dir():
            for dirpath, dirnames, filenames in os.walk(match):
                dirnames[:] = [d for d in dirnames if d != ".git"]
                for name in filenames:
                    path = Path(dirpath) / name
                    if path.is_file() and not path.is_symlink():
                        yield path


def _ignored(rel: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        p = pattern.lstrip("/").rstrip("/")
        if p.startswith("!"):
            continue
        if fnmatch(rel, p) or fnmatch(rel, p + "/*") or rel.split("/")[0] == p:
            return True
        if p.startswith("**/") and fnmatch(rel.rsplit("/", 1)[-1], p[3:]):
            return True
    return False


def _cache_experiment(
    run: _Run, touch: str, kept: list[str], original: ImageFacts, patched: ImageFacts
) -> CacheExperiment:
    """Append a line to ``touch`` in both scratch contexts, rebuild both, compare."""
    run.scratch.append(touch, edit_line(touch, run.scratch.token))
    original_df = run.scratch.write("original", run.files.dockerfile.text, run.files.dockerignore)
    before = _rebuild(run, "original", original_df, "original-touched", original)
    patched_df = run.scratch.write("patched", *run.subset(kept))
    after = _rebuild(run, "patched", patched_df, "patched-touched", patched)
    return CacheExperiment(touch, before, after)


def _rebuild(run: _Run, which: str, df: Path, label: str, first: ImageFacts) -> CacheRun:
    outcome, tag = run.scratch.build(which, df, label)
    if not outcome.ok:
        raise LayerscopeError(f"the {label} rebuild failed: {outcome.error}")
    facts = run.builder.facts(tag)
    steps = _steps(outcome)
    counted = [s for s in steps if s.cached is not None]
    ran = [s for s in counted if not s.cached]
    layers, size = rebuilt_layers(first.layers, facts.layers)
    return CacheRun(
        steps=len(counted),
        steps_hit=len(counted) - len(ran),
        layers=len(facts.layers),
        layers_rebuilt=layers,
        bytes_rebuilt=size,
        seconds=round(outcome.seconds, 2),
        first_miss=ran[0].instruction if ran else None,
        ran=tuple(s.instruction for s in ran),
    )


def _steps(outcome: BuildOutcome) -> tuple[BuildStep, ...]:
    try:
        return parse_build_log(outcome.log).steps
    except BuildLogError:
        return ()
