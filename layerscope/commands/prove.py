"""``suggest --prove``: build the original and the patched Dockerfile with the real engine and
measure what the patch saves, that it builds, and what a one-line source edit rebuilds.

Everything happens in a scratch directory under the cache directory (two copies of the build
context: one for the original Dockerfile, one with the patch applied), removed afterwards with
every image it tagged. A patched build that fails drops the suggestion that broke it and builds
the rest again, so the patch it ends with always builds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import IO

from ..analysis.prove import (
    CacheExperiment,
    CacheRun,
    DroppedSuggestion,
    Proof,
    SuggestionProof,
    rebuilt_layers,
)
from ..analysis.suggest import SIZE_KINDS, Suggestion, SuggestionReport
from ..analysis.suggest.compose import Files
from ..analysis.suggest.model import PatchPaths
from ..buildlogs import BuildLogError, BuildStep, parse_build_log
from ..config_paths import cache_dir
from ..dockerfile import Dockerfile
from ..errors import LayerscopeError, UsageError
from ..sources.daemon_build import BUILDERS, Builder, BuildOutcome, ImageFacts

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
_STEP_LINE = re.compile(
    r"^(Step \d+/\d+ :|#\d+ \[(\S+ +)?\s*\d+/\d+\]|#\d+ (CACHED|ERROR)|(\[\d+/\d+\] )?STEP \d+)"
)
"""Builder output lines shown as progress: step headers, cache hits, errors."""


def add_prove_options(parser: argparse.ArgumentParser) -> None:
    """--prove[=each], --context, --touch, --builder, --network."""
    group = parser.add_argument_group("proof (real builds)")
    group.add_argument(
        "--prove",
        nargs="?",
        const="patch",
        choices=("patch", "each"),
        help="build the original and the patched Dockerfile with the real engine and report "
        "estimated vs measured bytes, that the patch builds (dropping a suggestion that breaks "
        "it), and a cache experiment; =each also builds every suggestion on its own",
    )
    group.add_argument(
        "--touch",
        metavar="PATH",
        help="the file (relative to the context) the cache experiment appends a line to "
        "(default: the most recently modified source file a COPY/ADD brings in)",
    )
    group.add_argument(
        "--builder",
        choices=BUILDERS,
        default="auto",
        help="auto (BuildKit through the docker client when there is one, else the classic "
        "builder), buildkit, classic (docker SDK) or buildah (daemonless)",
    )
    group.add_argument(
        "--network", metavar="MODE", help="network for RUN steps during the builds (e.g. host)"
    )


@dataclass
class _Run:
    """State of one proof: the scratch copies, the builder, every tag to remove."""

    builder: Builder
    scratch: Path
    dockerfile_rel: str | None
    """The Dockerfile's path inside the context, or None when it lives outside."""
    dockerfile_text: str
    ignore_text: str | None
    sink: Callable[[str], None]
    files: Files
    """The composer's view of the files (to compose a subset of the suggestions)."""
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    tags: list[str] = field(default_factory=list)
    builds: int = 0

    def context(self, which: str) -> Path:
        return self.scratch / which / "context"

    def write(self, which: str, dockerfile: str, ignore: str | None) -> Path:
        """Put the Dockerfile and .dockerignore texts in place; return the Dockerfile path."""
        ctx = self.context(which)
        target = (
            ctx / self.dockerfile_rel
            if self.dockerfile_rel is not None
            else self.scratch / which / "Dockerfile"
        )
        target.write_text(dockerfile, encoding="utf-8")
        ignore_path = ctx / ".dockerignore"
        if ignore is None:
            ignore_path.unlink(missing_ok=True)
        else:
            ignore_path.write_text(ignore, encoding="utf-8")
        return target

    def build(self, which: str, dockerfile: Path, label: str) -> tuple[BuildOutcome, str]:
        self.builds += 1
        tag = f"layerscope-prove/{self.token}:{label}"
        self.tags.append(tag)
        self.sink(f"building {label} ({self.builder.name})")
        outcome = self.builder.build(self.context(which), dockerfile, tag, self._progress(label))
        return outcome, tag

    def _progress(self, label: str) -> Callable[[str], None]:
        def show(line: str) -> None:
            if _STEP_LINE.match(line):
                self.sink(f"  [{label}] {line[:150]}")

        return show


def _progress_sink(args: argparse.Namespace, err: IO[str]) -> Callable[[str], None]:
    if getattr(args, "quiet", False):
        return lambda line: None

    def say(line: str) -> None:
        err.write(line + "\n")
        err.flush()

    return say


@contextmanager
def _scratch() -> Iterator[Path]:
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="prove-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def prove(
    args: argparse.Namespace,
    err: IO[str],
    *,
    report: SuggestionReport,
    dockerfile: Dockerfile,
    dockerfile_path: str,
    paths: PatchPaths | None = None,
) -> Proof:
    """Build, measure, drop what breaks the build, run the cache experiment, clean up."""
    context = Path(args.context) if args.context else Path(dockerfile_path).parent
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
    touch = _touch_target(args.touch, context, dockerfile, ignore_text)
    builder = Builder(args.builder, network=args.network)
    with _scratch() as scratch:
        for which in ("original", "patched"):
            shutil.copytree(context, scratch / which / "context", symlinks=True)
        where = paths or PatchPaths()
        files = Files(dockerfile, ignore_text, where.dockerfile, where.dockerignore)
        run = _Run(builder, scratch, rel, dockerfile.text, ignore_text,
                   _progress_sink(args, err), files)  # fmt: skip
        try:
            return replace(_prove(run, args, report, touch), images=tuple(run.tags))
        finally:
            builder.remove(run.tags)
            builder.close()


def _prove(run: _Run, args: argparse.Namespace, report: SuggestionReport, touch: str) -> Proof:
    by_id = {s.id: s for s in report.suggestions}
    original_df = run.write("original", run.dockerfile_text, run.ignore_text)
    first, original_tag = run.build("original", original_df, "original")
    if not first.ok:
        raise LayerscopeError(
            f"the original Dockerfile does not build with {run.builder.name}: "
            f"{first.error or 'see the log'}"
        )
    original = run.builder.facts(original_tag)
    kept = [i for i in report.applied if i in by_id]
    dropped: list[DroppedSuggestion] = []
    patched, patched_tag, outcome, patch = _build_patched(run, by_id, kept, dropped)
    each: list[SuggestionProof] = []
    for s in report.suggestions:
        if s.id not in kept and s.id not in {d.id for d in dropped}:
            continue
        measured = builds = None
        if args.prove == "each" and s.id in kept:
            if _compose(run, by_id, [s.id]) is not None:
                alone, tag = _build_with(run, by_id, [s.id], f"only-{s.id}")
                builds = alone.ok
                if alone.ok:
                    measured = original.size_bytes - run.builder.facts(tag).size_bytes
        elif s.id in {d.id for d in dropped}:
            builds = False
        estimate = s.estimated_saving_bytes if s.kind in SIZE_KINDS else 0
        each.append(SuggestionProof(s.id, s.kind, estimate, measured, builds))
    cache = _cache_experiment(run, touch, kept, by_id, original, original_tag, patched, patched_tag)
    return Proof(
        builder=run.builder.name,
        original_bytes=original.size_bytes,
        patched_bytes=patched.size_bytes,
        estimated_saving_bytes=_union_saving(by_id, kept),
        applied=tuple(kept),
        patch=patch,
        patch_builds=outcome.ok,
        original_seconds=round(first.seconds, 2),
        patched_seconds=round(outcome.seconds, 2),
        suggestions=tuple(each),
        dropped=tuple(dropped),
        cache=cache,
        notes=tuple(run.builder.notes),
    )


def apply_proof(report: SuggestionReport, proof: Proof) -> SuggestionReport:
    """The report with the measured figures beside the estimates: each suggestion's own saving
    (``--prove=each``, or the whole patch's when it holds one suggestion), a note on each one
    dropped, and the measured saving of the whole patch."""
    measured = {s.id: s.measured_saving_bytes for s in proof.suggestions}
    if len(proof.applied) == 1:
        measured[proof.applied[0]] = proof.measured_saving_bytes
    notes = {d.id: d.reason for d in proof.dropped}
    items = tuple(
        replace(s, measured_saving_bytes=measured.get(s.id), measured_note=notes.get(s.id))
        for s in report.suggestions
    )
    return replace(
        report, suggestions=items, measured_patch_saving_bytes=proof.measured_saving_bytes
    )


def _union_saving(by_id: dict[str, Suggestion], ids: list[str]) -> int:
    chosen: dict[tuple[str, int], int] = {}
    for i in ids:
        s = by_id[i]
        if s.kind in SIZE_KINDS:
            for e in s.evidence:
                chosen[(e.path, e.layer_index)] = e.size_bytes
    return sum(chosen.values())


def _compose(
    run: _Run, by_id: dict[str, Suggestion], ids: list[str]
) -> tuple[str, str, str | None] | None:
    """(patch, Dockerfile text, .dockerignore text) with the changes of ``ids`` (in that order)
    made by the suggest composer; None if they do not make a patch."""
    from ..analysis.suggest.compose import make_patch
    from ..analysis.suggest.patching import DOCKERFILE, DOCKERIGNORE

    ops = [op for i in ids for op in by_id[i].ops]
    made = make_patch(run.files, ops) if ops else None
    if made is None:
        return None
    ignore = made.texts.get(DOCKERIGNORE, run.ignore_text)
    return made.diff, made.texts.get(DOCKERFILE, run.dockerfile_text), ignore


def _build_patched(
    run: _Run, by_id: dict[str, Suggestion], kept: list[str], dropped: list[DroppedSuggestion]
) -> tuple[ImageFacts, str, BuildOutcome, str | None]:
    """Build the combined patch; while it fails, find the suggestion whose removal lets the
    build pass the failing step, drop it, and go on with the rest, until it builds."""
    outcome, tag = _build_with(run, by_id, kept, "patched-1")
    attempt = 1
    while not outcome.ok:
        if not kept:
            raise LayerscopeError(
                f"the Dockerfile without any suggestion failed to build: {outcome.error}"
            )
        step = _failing_step(outcome)
        tail = tuple(outcome.log.rstrip("\n").splitlines()[-LOG_TAIL_LINES:])
        culprit, trial = _find_culprit(run, by_id, kept, step)
        if culprit is None:
            reason = (
                f"the patched build failed at `{_short(step)}` and no single suggestion could be "
                "blamed: every suggestion was left out"
            )
            dropped.extend(DroppedSuggestion(i, step, tail, reason) for i in kept)
            kept.clear()
            attempt += 1
            outcome, tag = _build_with(run, by_id, kept, f"patched-{attempt}")
            continue
        reason = f"the patched build failed at `{_short(step)}`; without {culprit} it gets past it"
        dropped.append(DroppedSuggestion(culprit, step, tail, reason))
        kept.remove(culprit)
        outcome, tag = trial
    texts = _compose(run, by_id, kept) if kept else None
    return run.builder.facts(tag), tag, outcome, texts[0] if texts else None


def _build_with(
    run: _Run, by_id: dict[str, Suggestion], ids: list[str], label: str
) -> tuple[BuildOutcome, str]:
    texts = _compose(run, by_id, ids) if ids else None
    if ids and texts is None:
        raise LayerscopeError(f"the edits of {', '.join(ids)} do not compose")
    df_text, ignore = (texts[1], texts[2]) if texts else (run.dockerfile_text, run.ignore_text)
    df = run.write("patched", df_text, ignore)
    return run.build("patched", df, label)


def _failing_step(outcome: BuildOutcome) -> str:
    try:
        log = parse_build_log(outcome.log)
    except BuildLogError:
        return outcome.error or ""
    failed = [s for s in log.steps if s.error] or [s for s in log.steps if s.cached is False]
    steps: list[BuildStep] = failed or list(log.steps)
    return steps[-1].instruction if steps else (outcome.error or "")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"\\\s*\n", " ", text).split())


def _short(step: str, limit: int = 80) -> str:
    text = _norm(step)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _suspects(run: _Run, step: str, kept: list[str], by_id: dict[str, Suggestion]) -> list[str]:
    """Kept suggestions, most likely culprit first: those changing the failing step itself or
    the nearest instruction above it, then the rest (largest first, as the composer took them)."""
    needle = _norm(step)[:60]
    index = None
    for ins in run.files.dockerfile.instructions:
        if needle and _norm(ins.source).startswith(needle):
            index = ins.index
            break

    def rank(i: str) -> tuple[int, float]:
        ops = [op for op in by_id[i].ops if op.kind.name != "IGNORE"]
        if needle and any(needle in _norm("\n".join(op.lines)) for op in ops):
            return (0, 0.0)
        touched = [n for op in ops for n in (op.index, op.target) if n >= 0]
        if index is not None:
            above = [index - n for n in touched if n <= index]
            if above:
                return (1, float(min(above)))
        return (2, 0.0)

    return sorted(kept, key=rank)


def _find_culprit(
    run: _Run, by_id: dict[str, Suggestion], kept: list[str], step: str
) -> tuple[str | None, tuple[BuildOutcome, str]]:
    """Build without each suspect in turn: the first whose removal builds, or fails at another
    step (it fixed this failure), is the culprit; returns it with that build."""
    last: tuple[BuildOutcome, str] | None = None
    for candidate in _suspects(run, step, kept, by_id)[:BLAME_TRIALS]:
        rest = [i for i in kept if i != candidate]
        last = _build_with(run, by_id, rest, f"without-{candidate}")
        if last[0].ok or _norm(_failing_step(last[0])) != _norm(step):
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


_COMMENTS = (
    ("# ", "", (".py", ".sh", ".rb", ".pl", ".r", ".toml", ".yaml", ".yml", ".txt", ".cfg",
                ".ini", ".conf", ".env", ".mk", ".cmake")),
    ("// ", "", (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".c", ".h", ".cc", ".cpp",
                 ".hpp", ".java", ".kt", ".rs", ".swift", ".scala", ".cs", ".php", ".dart")),
    ("-- ", "", (".sql", ".lua", ".hs")),
    ("<!-- ", " -->", (".html", ".htm", ".xml", ".md", ".svg", ".vue")),
    ("/* ", " */", (".css", ".scss", ".less")),
)  # fmt: skip


def edit_line(path: str, token: str) -> str:
    """The line the cache experiment appends: a comment naming this run in the file's own
    syntax, so no earlier run's build of the same edit is in the cache; for other files (JSON,
    unknown types) a line of spaces and tabs that spells the token, which parsers ignore."""
    name = path.rsplit("/", 1)[-1].lower()
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    for start, end, suffixes in _COMMENTS:
        if suffix in suffixes or (start == "# " and name in ("makefile", "gemfile", "procfile")):
            return f"\n{start}layerscope prove {token}{end}\n"
    bits = bin(int(token[:8], 16))[2:].zfill(32)
    return "\n" + "".join(" " if b == "0" else "\t" for b in bits) + "\n"


def _cache_experiment(
    run: _Run,
    touch: str,
    kept: list[str],
    by_id: dict[str, Suggestion],
    original: ImageFacts,
    original_tag: str,
    patched: ImageFacts,
    patched_tag: str,
) -> CacheExperiment:
    """Append a line to ``touch`` in both scratch contexts, rebuild both, compare."""
    del original_tag, patched_tag
    line = edit_line(touch, run.token)
    for which in ("original", "patched"):
        with open(run.context(which) / touch, "a", encoding="utf-8") as handle:
            handle.write(line)
    original_df = run.write("original", run.dockerfile_text, run.ignore_text)
    before = _rebuild(run, "original", original_df, "original-touched", original)
    texts = _compose(run, by_id, kept) if kept else None
    df_text, ignore = (texts[1], texts[2]) if texts else (run.dockerfile_text, run.ignore_text)
    patched_df = run.write("patched", df_text, ignore)
    after = _rebuild(run, "patched", patched_df, "patched-touched", patched)
    return CacheExperiment(touch, before, after)


def _rebuild(run: _Run, which: str, df: Path, label: str, first: ImageFacts) -> CacheRun:
    outcome, tag = run.build(which, df, label)
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
