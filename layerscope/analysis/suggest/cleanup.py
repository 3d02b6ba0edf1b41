"""Package-manager caches left in the layer that made them (apt, apk, yum, dnf, pip, npm, yarn,
``__pycache__``), with the exact bytes and the same-step fix."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from layerscope.dockerfile import Instruction
from layerscope.model import EntryKind

from .buildmodel import STATES, commands
from .context import Context, under
from .facts import CacheKind, CleanupFacts, CleanupFix
from .merge import merge_instructions
from .model import Evidence, LineSpan, Op, OpKind, Suggestion, SuggestionKind
from .notes import NoteKind, PatchNote, note


@dataclass(frozen=True, slots=True)
class Cache:
    """A cache a tool leaves behind, and how to avoid it in the same RUN."""

    kind: CacheKind
    prefixes: tuple[str, ...]
    cleanup: str
    """Command appended to the RUN."""
    flag_pattern: str | None = None
    """Regex of the command to add a flag to instead (``pip install``), if present."""
    flag_replacement: str = ""
    already: str | None = None
    """Regex that says the RUN already avoids the cache."""


CACHES = (
    Cache(
        CacheKind.APT_LISTS,
        ("/var/lib/apt/lists",),
        "rm -rf /var/lib/apt/lists/*",
    ),
    Cache(CacheKind.APT_ARCHIVES, ("/var/cache/apt",), "apt-get clean"),
    Cache(
        CacheKind.APK,
        ("/var/cache/apk",),
        "rm -rf /var/cache/apk/*",
        r"\bapk(\s+--?[\w-]+)*\s+add\b(?!.*--no-cache)",
        r"\g<0> --no-cache",
    ),
    Cache(CacheKind.YUM, ("/var/cache/yum",), "yum clean all && rm -rf /var/cache/yum"),
    Cache(CacheKind.DNF, ("/var/cache/dnf",), "dnf clean all"),
    Cache(
        CacheKind.PIP,
        ("/root/.cache/pip",),
        "rm -rf /root/.cache/pip",
        r"\bpip3?(\s+--?[\w-]+)*\s+install\b(?!.*--no-cache-dir)",
        r"\g<0> --no-cache-dir",
    ),
    Cache(CacheKind.NPM, ("/root/.npm/_cacache", "/root/.npm"), "npm cache clean --force"),
    Cache(
        CacheKind.YARN,
        ("/usr/local/share/.cache/yarn", "/root/.cache/yarn"),
        "yarn cache clean",
    ),
)
_PYCACHE = "__pycache__"
_RUNS_PYTHON = re.compile(
    r"(^|[\s/;&|(=])(python[\d.]*|pip[\d.]*|pipenv|poetry|pdm|uv|pytest|django-admin)(\s|$)"
)
"""A command that runs Python (and so writes ``__pycache__`` for what it imports)."""
NO_BYTECODE = "ENV PYTHONDONTWRITEBYTECODE=1"
_BY_KIND = {cache.kind: cache for cache in CACHES}
_HOME_CACHE = re.compile(r"^/home/[^/]+/\.cache/pip(/|$)")


_UNDER_ANY = tuple(prefix.rstrip("/") + "/" for cache in CACHES for prefix in cache.prefixes)
_ANY = frozenset(prefix for cache in CACHES for prefix in cache.prefixes)


def _cache_of(path: str) -> Cache | None:
    if path.endswith("/lock") or "/partial" in path:
        return None
    if path in _ANY or path.startswith(_UNDER_ANY):  # (most paths are under none of them)
        for cache in CACHES:
            if any(under(path, prefix) for prefix in cache.prefixes):
                return cache
    if _HOME_CACHE.match(path):
        return _BY_KIND[CacheKind.PIP]
    return None


def _pycache_fix(ctx: Context, layer_index: int, dirs: set[str]) -> tuple[str, str | None]:
    command = ctx.command(layer_index)
    if re.search(r"\bpip3?\s+install\b", command) and "--no-compile" not in command:
        return "pip --no-compile", r"\bpip3?(\s+--?[\w-]+)*\s+install\b"
    roots = sorted({d.split("/__pycache__")[0] or "/" for d in dirs})
    top = sorted({"/" + r.strip("/").split("/")[0] if r != "/" else "/" for r in roots})
    return f"find {' '.join(top)} -name __pycache__ -type d -prune -exec rm -rf {{}} +", None


def find_cleanups(ctx: Context) -> list[Suggestion]:
    """One suggestion per RUN layer that leaves caches, with the bytes they keep in the image."""
    out: list[Suggestion] = []
    for index in range(ctx.first_user_layer, len(ctx.image.layers)):
        if ctx.keyword(index) != "RUN":
            continue
        found: dict[CacheKind, list[Evidence]] = {}
        pycache_dirs: set[str] = set()
        for entry in ctx.visible_files(index):
            cache = _cache_of(entry.path)
            if cache is not None:
                found.setdefault(cache.kind, []).append(
                    Evidence(entry.path, entry.size_bytes, index)
                )
            elif f"/{_PYCACHE}/" in entry.path and entry.path.endswith(".pyc"):
                found.setdefault(CacheKind.PYCACHE, []).append(
                    Evidence(entry.path, entry.size_bytes, index)
                )
                pycache_dirs.add(entry.path.rsplit("/", 1)[0])
        if found:
            out.append(_suggestion(ctx, index, found, pycache_dirs))
    return out


_STATE_OF = {CacheKind.APT_LISTS: "apt lists", CacheKind.APK: "apk index"}
"""Caches that are also package-manager state later steps need (buildmodel.STATES)."""


def _lifecycle(
    ctx: Context, ins: Instruction, cache: CacheKind
) -> tuple[Instruction, tuple[Op, ...], PatchNote | None]:
    """Where a cleanup of ``cache`` made by ``ins`` belongs: after the last later step that
    still needs it (``apt-get install`` after ``apt-get update``), merged into one RUN with
    ``ins`` so the bytes never reach a layer. (that RUN, the merge, why there is none)."""
    state = next((st for st in STATES if st.name == _STATE_OF.get(cache)), None)
    if state is None or ctx.dockerfile is None or ins.stage_index is None:
        return ins, (), None
    consumer = ins
    for other in ctx.dockerfile.stages[ins.stage_index].instructions:
        if other.index <= ins.index:
            continue
        found = commands(other)
        if any(state.needs.search(c) for c in found):
            consumer = other
        if any(state.removes.search(c) or state.writes.search(c) for c in found):
            break
    if consumer is ins:
        return ins, (), None
    ops, why, _ = merge_instructions(ctx, ins, consumer)
    if why is not None:
        why = PatchNote(
            NoteKind.STILL_NEEDED, line=consumer.start_line, cache=cache,
            first_line=ins.start_line, last_line=consumer.end_line, cause=why,
        )  # fmt: skip
    return consumer, ops, why


def _cleanup_command(cache: Cache, command: str) -> str:
    """The cleanup for the tool the step runs (``microdnf clean all`` on UBI minimal)."""
    if cache.kind in (CacheKind.YUM, CacheKind.DNF):
        for tool in ("microdnf", "dnf", "yum"):
            if re.search(rf"\b{tool}\b", command):
                return f"{tool} clean all" + (" && rm -rf /var/cache/yum" if tool == "yum" else "")
    return cache.cleanup


@dataclass(slots=True)
class _Plan:
    """The fixes of one RUN's caches, its changes to the build model and its notes."""

    fixes: list[CleanupFix] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    notes: list[PatchNote] = field(default_factory=list)
    editable: bool = True
    lifecycle: tuple[Instruction, tuple[Op, ...], PatchNote | None] | None = None
    """Where the cleanups go: after the last step that needs the package-manager state."""


def _python_after(ctx: Context, ins: Instruction) -> Instruction | None:
    """The first later RUN of the stage that runs Python, when nothing yet stops it from
    writing bytecode (None: no such step, or PYTHONDONTWRITEBYTECODE is already set)."""
    if ctx.dockerfile is None or ins.stage_index is None:
        return None
    if any(e.startswith("PYTHONDONTWRITEBYTECODE=") for e in ctx.image.config.env):
        return None
    for other in ctx.dockerfile.stages[ins.stage_index].instructions:
        if other.keyword in ("ENV", "ARG") and "PYTHONDONTWRITEBYTECODE" in other.arguments:
            if other.index < ins.index:
                return None
        elif other.index > ins.index and any(_RUNS_PYTHON.search(c) for c in commands(other)):
            return other
    return None


def _pycache(
    ctx: Context, index: int, ins: Instruction | None, dirs: set[str], plan: _Plan
) -> None:
    """``--no-compile`` or a ``find`` cleanup; when a later step runs Python, which would write
    the bytecode back into its own layer, also ``ENV PYTHONDONTWRITEBYTECODE=1`` above it, so
    the bytes counted are the bytes saved."""
    fix, pattern = _pycache_fix(ctx, index, dirs)
    later = _python_after(ctx, ins) if ins is not None else None
    if later is not None:
        plan.ops.append(Op(OpKind.INSERT_BEFORE, target=later.index, lines=(NO_BYTECODE,)))
        plan.notes.append(PatchNote(NoteKind.PYCACHE_REWRITTEN, line=later.start_line))
    if pattern and ins is not None:
        plan.ops.append(
            Op(OpKind.REPLACE, ins.index, pattern=pattern, replacement=r"\g<0> --no-compile")
        )
        plan.fixes.append(CleanupFix(CacheKind.PYCACHE, fix, flag=True))
    else:
        if ins is not None:
            plan.ops.append(Op(OpKind.APPEND, ins.index, lines=(fix,)))
        plan.fixes.append(CleanupFix(CacheKind.PYCACHE, fix))
    plan.notes.append(note(NoteKind.PYCACHE_COMPILES))


def _cache(
    ctx: Context, ins: Instruction | None, kind: CacheKind, found: dict[CacheKind, list[Evidence]],
    command: str, plan: _Plan,
) -> None:  # fmt: skip
    cache = _BY_KIND[kind]
    if cache.flag_pattern is not None and re.search(cache.flag_pattern, command):
        if ins is not None:
            plan.ops.append(
                Op(OpKind.REPLACE, ins.index, pattern=cache.flag_pattern,
                   replacement=cache.flag_replacement)
            )  # fmt: skip
        plan.fixes.append(CleanupFix(kind, cache.flag_replacement.split()[-1], flag=True))
        return
    cleanup = _cleanup_command(cache, command)
    if ins is None:
        plan.fixes.append(CleanupFix(kind, cleanup))
        return
    if plan.lifecycle is None:
        plan.lifecycle = next(
            (got for n in _sorted(found) if (got := _lifecycle(ctx, ins, n))[0] is not ins
             or got[2] is not None),
            (ins, (), None),
        )  # fmt: skip
    where, merge, why = plan.lifecycle
    if why is not None:
        plan.notes.append(why)
        plan.editable = False  # said in the note; no fix listed
    elif where is not ins:
        plan.fixes.append(CleanupFix(kind, cleanup, after_line=where.start_line,
                                     run_from_line=ins.start_line))  # fmt: skip
    else:
        plan.fixes.append(CleanupFix(kind, cleanup))
    plan.ops += [*merge, Op(OpKind.APPEND, where.index, lines=(cleanup,))]


def _carried(
    ctx: Context, index: int, last: Instruction, kinds: set[CacheKind], own: list[Evidence]
) -> list[Evidence]:
    """The evidence of a cleanup that merges its RUN (layer ``index``) with the later ones up
    to ``last`` (the package-manager lifecycle): built alone its edit saves its own caches,
    the files of those caches every RUN of the block writes (``apt-get install`` leaves a copy
    of the lists in its layer), and what the merge itself saves (files one RUN of the block
    writes and a later one rewrites) — the estimate counts exactly what the edit does."""
    first = ctx.instruction_of[index].index
    block = {
        layer for layer, ins in ctx.instruction_of.items()
        if first <= ins.index <= last.index and ctx.keyword(layer) == "RUN"
    }  # fmt: skip
    out = {(e.path, e.layer_index): e for e in own}
    for layer in sorted(block - {index}):
        for entry in ctx.image.layers[layer].entries:
            cache = _cache_of(entry.path) if entry.kind is EntryKind.FILE else None
            if cache is not None and cache.kind in kinds and entry.size_bytes:
                out.setdefault((entry.path, layer), Evidence(entry.path, entry.size_bytes, layer))
    for item in ctx.analysis.waste.items:
        if item.writer_layer_index in block and item.hider_layer_index in block:
            key = (item.path, item.writer_layer_index)
            out.setdefault(key, Evidence(item.path, item.size_bytes, item.writer_layer_index))
    return list(out.values())


def _sorted(found: dict[CacheKind, list[Evidence]]) -> tuple[CacheKind, ...]:
    return tuple(sorted(found, key=lambda kind: kind.value))


def _suggestion(
    ctx: Context, index: int, found: dict[CacheKind, list[Evidence]], pycache_dirs: set[str]
) -> Suggestion:
    ins = ctx.instruction_of.get(index) if ctx.dockerfile is not None else None
    command = ctx.command(index)
    plan = _Plan(editable=ins is not None and not ins.heredocs and ins.exec_form is None)
    for kind in _sorted(found):
        if kind is CacheKind.PYCACHE:
            _pycache(ctx, index, ins, pycache_dirs, plan)
        else:
            _cache(ctx, ins, kind, found, command, plan)
    evidence = [e for items in found.values() for e in items]
    if plan.editable and plan.lifecycle is not None and plan.lifecycle[1]:
        evidence = _carried(ctx, index, plan.lifecycle[0], set(found), evidence)
    spans = tuple(
        LineSpan(i.start_line, i.end_line)
        for i in dict.fromkeys((ins, plan.lifecycle[0] if plan.lifecycle else None))
        if i is not None
    )  # the step that made the cache and the last one that needs it
    return Suggestion(
        id="",
        kind=SuggestionKind.SAME_LAYER_CLEANUP,
        facts=CleanupFacts(index, _sorted(found), len(evidence), tuple(plan.fixes)),
        layers=(index,),
        instructions=(ctx.label(index),),
        lines=spans,
        evidence=tuple(sorted(evidence, key=lambda e: (-e.size_bytes, e.path))),
        estimated_saving_bytes=sum(e.size_bytes for e in evidence),
        ops=tuple(plan.ops) if plan.editable else (),
        patch_notes=tuple(dict.fromkeys(plan.notes)),
    )
