"""Reorder for the cache: COPY steps that change often moved below stable, expensive RUNs.

Instructions form a constraint graph (networkx): an edge a -> b means b must stay after a
because b reads what a wrote, both write the same paths, or a sets something b uses (WORKDIR,
ENV/ARG, USER, SHELL). A move is proposed only when the new order keeps every edge.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layerscope.dockerfile import Dockerfile, Instruction, Stage
from layerscope.model import EntryKind

if TYPE_CHECKING:
    import networkx as nx

from .buildmodel import commands, reads, workdirs
from .context import Context, under
from .dockerignore import copy_parts, workdir_at
from .facts import ReorderFacts
from .manifests import implied_reads, is_manifest, with_companions
from .model import EstimateBasis, LineSpan, Op, OpKind, Suggestion, SuggestionKind
from .notes import NoteKind, note

_BUILD_TOOLS = re.compile(
    r"\b(pip3?\s+install|npm\s+(ci|install|run)|yarn|pnpm|poetry|make|go\s+(build|mod)|cargo|"
    r"mvn|gradle|bundle|composer|python3?\s+\S+\.py|setup\.py)\b"
)
_EDITABLE = re.compile(r"\bpip3?\s+install\b[^&;|]*\s(-e|--editable)[\s=]")
_VAR = re.compile(r"\$\{?([A-Za-z_]\w*)")


def _writes(ctx: Context, layer: int | None) -> set[str]:
    if layer is None:
        return set()
    return {e.path for e in ctx.image.layers[layer].entries if e.kind is not EntryKind.DIR}


def _names(ins: Instruction) -> set[str]:
    names = {m.group(1) for m in _VAR.finditer(ins.text)}
    return names


def _defines(ins: Instruction) -> set[str]:
    if ins.keyword not in ("ENV", "ARG"):
        return set()
    return {w.split("=", 1)[0] for w in ins.words if w}


class OrderGraph:
    """Order constraints among one stage's instructions."""

    def __init__(self, ctx: Context, dockerfile: Dockerfile, stage: Stage) -> None:
        self.ctx = ctx
        self.dockerfile = dockerfile
        self.stage = stage
        self.layer = {ins.index: layer for layer, ins in ctx.instruction_of.items()}
        import networkx as nx  # loaded only when a Dockerfile is given (~0.3 s)

        self.graph: nx.DiGraph = nx.DiGraph()
        items = list(stage.instructions)
        self.graph.add_nodes_from(ins.index for ins in items)
        for n, a in enumerate(items):
            for b in items[n + 1 :]:
                if self.constrained(a, b):
                    self.graph.add_edge(a.index, b.index)

    def top_names(self, copy: Instruction) -> set[str]:
        _, dest = copy_parts(self.dockerfile, copy)
        names = {dest}
        for path in _writes(self.ctx, self.layer.get(copy.index)):
            if under(path, dest) and path != dest:
                names.add(posixpath.relpath(path, dest).split("/")[0])
        return names

    def reads(self, run: Instruction, copy: Instruction, names: set[str] | None = None) -> set[str]:
        """Names of ``copy``'s output that ``run`` seems to use (empty: independent)."""
        _, dest = copy_parts(self.dockerfile, copy)
        names = self.top_names(copy) if names is None else names
        words = set(re.split(r"[\s;&|()<>='\"]+", run.arguments))
        used = {n for n in names if n in words or (n.startswith("/") and n in run.arguments)}
        used |= {
            n for n in names if any(w.endswith("/" + n) or w.startswith(n + "/") for w in words)
        }
        if under(workdir_at(self.dockerfile, run), dest):
            if "." in words or "./" in run.arguments:
                used.add(".")
            if _BUILD_TOOLS.search(run.arguments) and not used:
                used.add("(build tool in the copied directory)")
        return used

    def constrained(self, a: Instruction, b: Instruction) -> bool:
        if a.keyword in ("WORKDIR", "USER", "SHELL") and b.keyword in (
            "RUN",
            "COPY",
            "ADD",
            "WORKDIR",
        ):
            return True
        defined = _defines(a)
        if defined and (b.keyword == "RUN" or defined & _names(b)):
            return True  # a RUN sees every variable in scope, referenced or not
        wa, wb = (
            _writes(self.ctx, self.layer.get(a.index)),
            _writes(self.ctx, self.layer.get(b.index)),
        )
        if wa & wb:
            return True
        if a.keyword in ("COPY", "ADD") and b.keyword == "RUN":
            return bool(self.reads(b, a))
        if a.keyword == "RUN" and b.keyword in ("COPY", "ADD"):
            return b.flag("chown") is not None and "passwd" in " ".join(wa)
        return False

    def valid(self, order: list[int]) -> bool:
        pos = {node: n for n, node in enumerate(order)}
        return all(pos[u] < pos[v] for u, v in self.graph.edges if u in pos and v in pos)


def _volatile(ctx: Context, copy: Instruction, layer: int) -> bool:
    stats = ctx.stats(layer)
    sources, dest = copy_parts(ctx.dockerfile, copy) if ctx.dockerfile is not None else ((), "")
    if dest == "/":
        return False  # a root file system: every later step runs its programs
    return (stats is not None and stats.misses > 0) or any(
        s in (".", "./") or s.endswith("/") for s in sources
    )


@dataclass(frozen=True, slots=True)
class _Walk:
    """The steps a context COPY can move below, and the manifests the installs among them read."""

    passed: list[Instruction]
    installs: list[Instruction]
    manifests: set[str]
    blocker: Instruction | None
    needs_sources: bool


def _walk(ctx: Context, graph: OrderGraph, items: list[Instruction], copy: Instruction) -> _Walk:
    _, dest = copy_parts(graph.dockerfile, copy)
    names = frozenset(graph.top_names(copy) - {dest})
    where = workdirs(graph.stage)
    passed: list[Instruction] = []
    installs: list[Instruction] = []
    manifests: set[str] = set()
    for other in items[items.index(copy) + 1 :]:
        if other.keyword == "WORKDIR" or (
            other.keyword in ("ENV", "ARG") and _defines(other) & _names(copy)
        ):
            return _Walk(passed, installs, manifests, other, False)
        if other.keyword != "RUN":
            if graph.graph.has_edge(copy.index, other.index):
                return _Walk(passed, installs, manifests, other, False)
            passed.append(other)
            continue
        if _writes(ctx, graph.layer.get(copy.index)) & _writes(ctx, graph.layer.get(other.index)):
            return _Walk(passed, installs, manifests, other, False)
        used: set[str] = set()
        sources = whole_seen = False
        for command in commands(other):
            got = reads(command, where[other.index], dest, names)
            inside = under(where[other.index], dest)
            whole = (not got and inside and bool(_BUILD_TOOLS.search(command))) or bool(
                dest.rstrip("/") and re.search(re.escape(dest.rstrip("/")) + r"/?(\s|$)", command)
            )  # a build tool in the copied directory, or the destination itself: the sources
            if whole:
                got = {*names, "(the sources)"}
            local = (
                implied_reads(command, names).needs_sources
                or bool(_EDITABLE.search(command) and got)
                or ("setup.py" in got and bool(re.search(r"setup\.py\s+\w", command)))
            )  # the install builds the project itself
            sources = sources or local
            whole_seen = whole_seen or whole
            used |= got
        if not used:
            passed.append(other)
        elif not (sources or whole_seen) and all(is_manifest(n) for n in used):
            passed.append(other)
            installs.append(other)
            manifests |= with_companions(used, names)
        else:
            return _Walk(passed, installs, manifests, other, sources)
    return _Walk(passed, installs, manifests, None, False)


def find_reorders(ctx: Context) -> list[Suggestion]:
    """The context COPY moved below the RUN steps that do not read it, with the dependency
    manifests the installs among them read copied first: one edit, so the installs stay cached
    when only the sources change."""
    if ctx.dockerfile is None:
        return []
    out: list[Suggestion] = []
    stage = ctx.dockerfile.final_stage
    graph = OrderGraph(ctx, ctx.dockerfile, stage)
    items = list(stage.instructions)
    for copy in items:
        layer = graph.layer.get(copy.index)
        if copy.keyword not in ("COPY", "ADD") or copy.flag("from") is not None or layer is None:
            continue
        if not _volatile(ctx, copy, layer):
            continue
        walk = _walk(ctx, graph, items, copy)
        runs = [i for i in walk.passed if i.keyword == "RUN"]
        if not runs:
            continue
        out.append(_suggestion(ctx, graph, copy, runs, walk))
    return out


def _suggestion(
    ctx: Context, graph: OrderGraph, copy: Instruction, runs: list[Instruction], walk: _Walk
) -> Suggestion:
    layers = tuple(graph.layer[i.index] for i in (copy, *runs) if i.index in graph.layer)
    stats = ctx.stats(graph.layer[copy.index])
    misses = stats.misses if stats is not None else None
    per_edit = sum(
        ctx.image.layers[graph.layer[r.index]].size_bytes for r in runs if r.index in graph.layer
    )
    seconds: float | None = None
    step = [ctx.stats(graph.layer[r.index]) for r in runs if r.index in graph.layer]
    if misses is not None and step and all(s is not None and s.seconds is not None for s in step):
        seconds = misses * sum(s.seconds or 0.0 for s in step if s is not None)
    last = runs[-1]
    ops = [Op(OpKind.MOVE_AFTER, copy.index, target=last.index)]
    manifests = sorted(walk.manifests)
    if walk.installs and copy.exec_form is None:
        sources, _ = copy_parts(graph.dockerfile, copy)
        if len(sources) == 1 and not any(ch in sources[0] for ch in "*?["):
            base = "" if sources[0] in (".", "./") else sources[0].rstrip("/") + "/"
            written = copy.words[-1]
            target = written if written.endswith("/") else written + "/"
            flags = " ".join(f.text for f in copy.flags)
            listed = " ".join(base + n for n in manifests)
            first = " ".join(p for p in (copy.keyword, flags, listed, target) if p)
            ops.insert(0, Op(OpKind.INSERT_BEFORE, target=walk.installs[0].index, lines=(first,)))
        else:
            manifests = []
    blocker = walk.blocker
    facts = ReorderFacts(
        copy_text=" ".join(copy.text.split()),
        copy_keyword=copy.keyword,
        copy_line=copy.start_line,
        last_line=last.start_line,
        runs=len(runs),
        misses=misses if stats is not None else None,
        builds=stats.builds if stats is not None else None,
        manifests=tuple(manifests),
        install_line=walk.installs[0].start_line if manifests else None,
        blocker_line=blocker.start_line if blocker is not None else None,
        blocker_needs_sources=blocker is not None and walk.needs_sources,
    )
    return Suggestion(
        id="",
        kind=SuggestionKind.REORDER_FOR_CACHE,
        facts=facts,
        layers=layers,
        instructions=tuple(" ".join(i.text.split()) for i in (copy, *runs)),
        lines=(
            LineSpan(copy.start_line, copy.end_line),
            *(LineSpan(r.start_line, r.end_line) for r in runs),
        ),
        evidence=(),
        estimated_saving_bytes=0,
        estimated_saving_rebuilds=misses * len(runs) if misses is not None else None,
        estimated_saving_seconds=seconds,
        estimated_saving_rebuild_bytes=misses * per_edit if misses is not None else per_edit,
        estimate_basis=EstimateBasis.HISTORY if misses is not None else EstimateBasis.STEP_ORDER,
        ops=tuple(ops),
        patch_notes=(note(NoteKind.HEURISTIC_ORDER),),
    )
