"""One composer for every patch: changes (``Op``) applied to the build model, rendered back to
Dockerfile and .dockerignore text, and checked against the dependency graph before a patch is
offered."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from layerscope.dockerfile import Dockerfile, DockerfileError, Instruction, parse_dockerfile

from .buildmodel import Violation, broken, met
from .model import LeftOut, LeftOutReason, Op, OpKind, Suggestion, SuggestionKind
from .patching import DOCKERFILE, DOCKERIGNORE, append_command, join_runs, unified

_NEEDS_CHOICE = frozenset(
    {
        SuggestionKind.MULTI_STAGE,
        SuggestionKind.PIN_BASE,
        SuggestionKind.DUPLICATE_FILES,
        SuggestionKind.LARGE_MODEL_FILES,
    }
)


def _reparse(text: str) -> Instruction | None:
    try:
        return parse_dockerfile("FROM scratch\n" + text).instructions[1]
    except (DockerfileError, IndexError):
        return None


def _groups(ops: Sequence[Op]) -> list[tuple[int, int]]:
    """MERGE blocks, overlapping ones joined."""
    out: list[list[int]] = []
    for lo, hi in sorted((op.index, op.target) for op in ops if op.kind is OpKind.MERGE):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(a, b) for a, b in out]


def _once(dockerfile: Dockerfile, ops: Sequence[Op]) -> list[Op]:
    """Each op once; an instruction inserted above several steps of one stage (the ``ENV
    PYTHONDONTWRITEBYTECODE=1`` of two cleanups) only above the first of them."""
    stage_of = {i.index: i.stage_index for i in dockerfile.instructions}
    first: dict[tuple[tuple[str, ...], int | None], int] = {}
    for op in ops:
        if op.kind is OpKind.INSERT_BEFORE:
            where = (op.lines, stage_of.get(op.target))
            first[where] = min(first.get(where, op.target), op.target)
    return [
        op for op in dict.fromkeys(ops)
        if op.kind is not OpKind.INSERT_BEFORE
        or first[(op.lines, stage_of.get(op.target))] == op.target
    ]  # fmt: skip


def render_dockerfile(dockerfile: Dockerfile, ops: Sequence[Op]) -> str | None:
    """The Dockerfile text with ``ops`` applied; None when an op cannot be applied."""
    ops = _once(dockerfile, ops)
    by_index = {i.index: i for i in dockerfile.instructions}
    text = {i: ins.source for i, ins in by_index.items()}
    for op in ops:
        if op.kind is OpKind.SET:
            text[op.index] = "\n".join(op.lines)
    for op in ops:
        if op.kind is OpKind.REPLACE and not by_index[op.index].heredocs:
            text[op.index] = re.sub(op.pattern, op.replacement, text[op.index], count=1)
    appended: dict[int, list[str]] = {}
    for op in ops:
        if op.kind is OpKind.APPEND and op.lines[0] not in appended.setdefault(op.index, []):
            appended[op.index].append(op.lines[0])
    for index, added in appended.items():
        ins = _reparse(text[index])
        fresh = [c for c in added if c not in text[index]]
        if ins is None or ins.keyword != "RUN":
            return None
        if fresh:
            grown = append_command(ins, " && ".join(fresh))
            if grown is None:
                return None
            text[index] = "\n".join(grown)
    chunk: dict[int, list[str]] = {i: t.splitlines() for i, t in text.items()}
    before: dict[int, list[str]] = {}
    after: dict[int, list[str]] = {}
    last_of: dict[int, int] = {}
    first_of: dict[int, int] = {}
    deleted = {op.index for op in ops if op.kind is OpKind.DELETE}
    for lo, hi in _groups(ops):
        members = [i for i in sorted(by_index) if lo <= i <= hi and i not in deleted]
        runs = [i for i in members if by_index[i].keyword == "RUN"]
        parsed = [_reparse(text[i]) for i in runs]
        if any(p is None for p in parsed):
            return None
        joined = join_runs([p for p in parsed if p is not None])
        if joined is None:
            return None
        chunk[runs[0]] = list(joined)
        for i in members:
            last_of[i], first_of[i] = hi, runs[0]
            if i != runs[0]:
                chunk[i] = []
            if by_index[i].keyword != "RUN":
                after.setdefault(hi, []).extend(text[i].splitlines())
    for i in deleted:
        chunk[i] = []
    for op in ops:
        if op.kind is OpKind.MOVE_AFTER:
            moved, chunk[op.index] = chunk[op.index], []
            after.setdefault(last_of.get(op.target, op.target), []).extend(moved)
        elif op.kind is OpKind.INSERT_BEFORE:
            before.setdefault(first_of.get(op.target, op.target), []).extend(op.lines)
    lines = dockerfile.text.splitlines()
    starts = {ins.start_line: ins for ins in dockerfile.instructions}
    out: list[str] = []
    n = 1
    while n <= len(lines):
        ins = starts.get(n)
        if ins is None:
            out.append(lines[n - 1])
            n += 1
            continue
        out += before.get(ins.index, []) + chunk[ins.index] + after.get(ins.index, [])
        n = ins.end_line + 1
    return "\n".join(out) + ("\n" if out else "")


def render_ignore(existing: str | None, ops: Sequence[Op]) -> str | None:
    """The .dockerignore with the patterns of ``ops`` added (None: nothing to add)."""
    have = (existing or "").splitlines()
    new = [p for op in ops if op.kind is OpKind.IGNORE for p in op.lines]
    new = [p for p in dict.fromkeys(new) if p not in have]
    if not new:
        return None
    return "\n".join([*have, *new]) + "\n"


@dataclass(frozen=True, slots=True)
class Files:
    """The files a patch changes: their texts before and the paths the diff names."""

    dockerfile: Dockerfile
    dockerignore: str | None
    dockerfile_path: str = DOCKERFILE
    """Path of the Dockerfile in the diff (relative to where the patch is applied)."""
    dockerignore_path: str = DOCKERIGNORE
    """Path of the build context's .dockerignore in the diff."""
    copied: Mapping[str, frozenset[str]] | None = None
    """COPY text -> top-level names it brought in (from its layer), for the dependency graph."""
    met: frozenset[tuple[str, str]] | None = None
    """The needs the original Dockerfile meets (worked out once; None: on each check)."""

    def checked(self) -> Files:
        """The same files with the original's met needs worked out."""
        if self.met is not None:
            return self
        return replace(self, met=met(self.dockerfile, self.copied or {}))


@dataclass(frozen=True, slots=True)
class Patch:
    """A rendered patch: the diff, the new texts by file role, and what it broke (if anything)."""

    diff: str
    texts: dict[str, str]
    violations: tuple[Violation, ...]


def make_patch(files: Files, ops: Sequence[Op]) -> Patch | None:
    """Apply ``ops``; None when they cannot be applied or the Dockerfile no longer parses."""
    out: list[str] = []
    texts: dict[str, str] = {}
    violations: tuple[Violation, ...] = ()
    if any(op.kind is not OpKind.IGNORE for op in ops):
        new = render_dockerfile(files.dockerfile, ops)
        if new is None:
            return None
        try:
            patched = parse_dockerfile(new)
        except DockerfileError:
            return None
        violations = broken(files.dockerfile, patched, files.copied or {}, files.met)
        if new != files.dockerfile.text:
            texts[DOCKERFILE] = new
            out.append(unified(files.dockerfile_path, files.dockerfile.text, new))
    ignore = render_ignore(files.dockerignore, ops)
    if ignore is not None:
        texts[DOCKERIGNORE] = ignore
        new_file = files.dockerignore is None
        old = files.dockerignore or ""
        out.append(unified(files.dockerignore_path, old, ignore, created=new_file))
    if not texts:
        return None
    return Patch("".join(out), texts, violations)


def _claims(dockerfile: Dockerfile, op: Op) -> tuple[set[int], set[int], set[int]]:
    """(instructions whose text it sets, whose position it changes, that it touches at all)."""
    keywords = {i.index: i.keyword for i in dockerfile.instructions}
    if op.kind is OpKind.SET:
        return {op.index}, set(), {op.index}
    if op.kind is OpKind.DELETE:
        return {op.index}, {op.index}, {op.index}
    if op.kind is OpKind.MOVE_AFTER:
        return set(), {op.index}, {op.index, op.target}
    if op.kind is OpKind.MERGE:
        block = set(range(op.index, op.target + 1))
        return set(), {i for i in block if keywords.get(i) != "RUN"}, block
    if op.kind is OpKind.INSERT_BEFORE:
        return set(), set(), {op.target}
    if op.kind in (OpKind.REPLACE, OpKind.APPEND):
        return set(), set(), {op.index}
    return set(), set(), set()


def conflicts(dockerfile: Dockerfile, a: Sequence[Op], b: Sequence[Op]) -> bool:
    """True when two change lists cannot both apply: both set the text of one instruction,
    both move one, or one deletes what the other touches."""
    for x in a:
        sx, px, tx = _claims(dockerfile, x)
        for y in b:
            sy, py, ty = _claims(dockerfile, y)
            if sx & sy or px & py:
                return True
            if OpKind.DELETE in (x.kind, y.kind) and tx & ty:
                return True
    return False


@dataclass(frozen=True, slots=True)
class Combined:
    """The combined patch and the account of what it left out."""

    patch: Patch | None
    applied: tuple[str, ...]
    left_out: tuple[LeftOut, ...]


def combine(
    items: Sequence[Suggestion], files: Files, failed: Mapping[str, str] | None = None
) -> Combined:
    """Take every suggestion (largest first) whose changes neither conflict with those taken
    before nor break a need of the build; say why each other one was left out. ``failed``
    (id -> what a real build said) are left out as build failures."""
    taken: list[Op] = []
    owners: list[tuple[str, tuple[Op, ...]]] = []
    applied: list[str] = []
    left: list[LeftOut] = []
    for s in items:
        if failed and s.id in failed:
            left.append(LeftOut(s.id, LeftOutReason.BUILD_FAILED, detail=failed[s.id]))
            continue
        if not s.ops:
            choice = s.kind in _NEEDS_CHOICE
            reason = LeftOutReason.NEEDS_CHOICE if choice else LeftOutReason.NO_PATCH
            left.append(LeftOut(s.id, reason, notes=s.patch_notes))
            continue
        clash = tuple(i for i, ops in owners if conflicts(files.dockerfile, ops, s.ops))
        if clash:
            left.append(LeftOut(s.id, LeftOutReason.CONFLICT, clash))
            continue
        made = make_patch(files, [*taken, *s.ops])
        if made is None:
            left.append(LeftOut(s.id, LeftOutReason.NO_DOCKERFILE_FIT))
            continue
        if made.violations:
            broken = LeftOutReason.BREAKS_DEPENDENCY
            left.append(LeftOut(s.id, broken, violations=made.violations))
            continue
        taken.extend(s.ops)
        owners.append((s.id, s.ops))
        applied.append(s.id)
    patch = make_patch(files, taken) if taken else None
    return Combined(patch, tuple(applied), tuple(left))
