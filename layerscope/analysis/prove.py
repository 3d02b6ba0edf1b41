"""What ``suggest --prove`` measured: frozen results, and the pure work on them: which subset
of the suggestions a build tries (its texts composed by the suggest composer), which one most
likely broke a failing build, the line the cache experiment appends, the figures of a proof
folded back into the suggestion report."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..dockerfile import Dockerfile
    from .suggest import Suggestion, SuggestionReport
    from .suggest.compose import Files

from .suggest.model import SuggestionKind


@dataclass(frozen=True, slots=True)
class SuggestionProof:
    """One suggestion: its estimate, and what its own patch saved when built (``--prove=each``)."""

    id: str
    kind: SuggestionKind
    estimated_saving_bytes: int
    measured_saving_bytes: int | None = None
    """None when it was not built on its own (only with ``--prove=each``)."""
    builds: bool | None = None
    """Whether the Dockerfile with only this suggestion applied built (None: not tried)."""


@dataclass(frozen=True, slots=True)
class DroppedSuggestion:
    """A suggestion taken out of the combined patch because the patched build failed."""

    id: str
    step: str
    """The failing step as the builder printed it."""
    log_tail: tuple[str, ...]
    """The last lines of the failing build's log."""
    reason: str


@dataclass(frozen=True, slots=True)
class CacheRun:
    """One rebuild after the touch: which steps hit the cache, what had to be rebuilt."""

    steps: int
    steps_hit: int
    layers: int
    layers_rebuilt: int
    bytes_rebuilt: int
    seconds: float
    first_miss: str | None
    """The first step that ran instead of hitting the cache (None: everything hit)."""
    ran: tuple[str, ...] = ()
    """Every step that ran, in order."""


@dataclass(frozen=True, slots=True)
class CacheExperiment:
    """A one-line edit to a source file, rebuilt with the original and the patched Dockerfile."""

    touched: str
    """The file appended to, relative to the context."""
    original: CacheRun
    patched: CacheRun


@dataclass(frozen=True, slots=True)
class Proof:
    """The result of building the original and the patched Dockerfile."""

    builder: str
    original_bytes: int
    patched_bytes: int
    estimated_saving_bytes: int
    """Union of the evidence of the size suggestions in the final patch."""
    applied: tuple[str, ...]
    """Suggestions in the final patch, which built."""
    patch: str | None
    """The final patch (it built)."""
    patch_builds: bool
    original_seconds: float
    patched_seconds: float
    suggestions: tuple[SuggestionProof, ...] = ()
    dropped: tuple[DroppedSuggestion, ...] = ()
    cache: CacheExperiment | None = None
    notes: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    """Every image tag the builds made (all removed afterwards)."""
    recorded_at: str | None = None
    """When the figures come from an earlier proof (kept in the data directory): when it ran
    (UTC, ISO 8601). None: proved by this run."""

    @property
    def measured_saving_bytes(self) -> int:
        return self.original_bytes - self.patched_bytes


def relative_error(estimate: int, measured: int) -> float | None:
    """|measured - estimate| / estimate (None when nothing was estimated)."""
    if estimate <= 0:
        return None
    return abs(measured - estimate) / estimate


def rebuilt_layers(
    before: Sequence[tuple[str, int]], after: Sequence[tuple[str, int]]
) -> tuple[int, int]:
    """(layers, bytes) of ``after`` that are not the layer at the same place in ``before``: what a
    rebuild made anew and a push would upload (once a layer differs, every later one is new)."""
    count = size = 0
    same = True
    for n, (diff_id, nbytes) in enumerate(after):
        same = same and n < len(before) and before[n][0] == diff_id
        if not same:
            count += 1
            size += nbytes
    return count, size


@dataclass(frozen=True, slots=True)
class Subset:
    """The texts of the Dockerfile and .dockerignore with some of the suggestions applied."""

    patch: str | None
    """The unified diff (None: no suggestion applied)."""
    dockerfile: str
    dockerignore: str | None


def compose_subset(
    files: Files, suggestions: Mapping[str, Suggestion], ids: Sequence[str]
) -> Subset | None:
    """The files with the changes of ``ids`` (in that order) made by the suggest composer; the
    files as they are for no ids; None if the changes do not make a patch."""
    from .suggest.compose import make_patch
    from .suggest.patching import DOCKERFILE, DOCKERIGNORE

    if not ids:
        return Subset(None, files.dockerfile.text, files.dockerignore)
    ops = [op for i in ids for op in suggestions[i].ops]
    made = make_patch(files, ops) if ops else None
    if made is None:
        return None
    return Subset(
        made.diff,
        made.texts.get(DOCKERFILE, files.dockerfile.text),
        made.texts.get(DOCKERIGNORE, files.dockerignore),
    )


def union_saving(suggestions: Mapping[str, Suggestion], ids: Sequence[str]) -> int:
    """The estimated saving of the size suggestions ``ids`` together (evidence counted once)."""
    from .suggest import SIZE_KINDS

    chosen: dict[tuple[str, int], int] = {}
    for i in ids:
        s = suggestions[i]
        if s.kind in SIZE_KINDS:
            for e in s.evidence:
                chosen[(e.path, e.layer_index)] = e.size_bytes
    return sum(chosen.values())


def apply_proof(report: SuggestionReport, proof: Proof) -> SuggestionReport:
    """The report with the measured figures beside the estimates: each suggestion's own saving
    (``--prove=each``, or the whole patch's when it holds one suggestion), a note on each one
    dropped, the measured saving of the whole patch and the proof itself. When the proof
    dropped suggestions, the report's combined patch is the one that built, and the dropped
    ones are left out as build failures."""
    from .suggest.model import LeftOut, LeftOutReason

    measured = {s.id: s.measured_saving_bytes for s in proof.suggestions}
    if len(proof.applied) == 1:
        measured[proof.applied[0]] = proof.measured_saving_bytes
    notes = {d.id: d.reason for d in proof.dropped}
    items = tuple(
        replace(s, measured_saving_bytes=measured.get(s.id), measured_note=notes.get(s.id))
        for s in report.suggestions
    )
    out = replace(
        report,
        suggestions=items,
        measured_patch_saving_bytes=proof.measured_saving_bytes,
        proof=proof,
    )
    if proof.dropped:
        failed = tuple(
            LeftOut(d.id, LeftOutReason.BUILD_FAILED, detail=d.reason) for d in proof.dropped
        )
        out = replace(
            out,
            patch=proof.patch,
            applied=proof.applied,
            applied_saving_bytes=proof.estimated_saving_bytes,
            left_out=(*failed, *(x for x in report.left_out if x.id not in notes)),
        )
    return out


def normal_step(text: str) -> str:
    """A build step's text on one line, runs of blanks and line continuations folded."""
    return " ".join(re.sub(r"\\\s*\n", " ", text).split())


def short_step(step: str, limit: int = 80) -> str:
    text = normal_step(step)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def suspects(
    dockerfile: Dockerfile, step: str, kept: Sequence[str], suggestions: Mapping[str, Suggestion]
) -> list[str]:
    """Kept suggestions, most likely culprit of a build failing at ``step`` first: those
    changing the failing step itself or the nearest instruction above it, then the rest
    (largest first, as the composer took them)."""
    needle = normal_step(step)[:60]
    index = None
    for ins in dockerfile.instructions:
        if needle and normal_step(ins.source).startswith(needle):
            index = ins.index
            break

    def rank(i: str) -> tuple[int, float]:
        ops = [op for op in suggestions[i].ops if op.kind.name != "IGNORE"]
        if needle and any(needle in normal_step("\n".join(op.lines)) for op in ops):
            return (0, 0.0)
        touched = [n for op in ops for n in (op.index, op.target) if n >= 0]
        if index is not None:
            above = [index - n for n in touched if n <= index]
            if above:
                return (1, float(min(above)))
        return (2, 0.0)

    return sorted(kept, key=rank)


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
