"""Reorder for the cache: COPY steps that change often moved below stable, expensive RUNs.

Instructions form a constraint graph (networkx): an edge a -> b means b must stay after a
because b reads what a wrote, both write the same paths, or a sets something b uses (WORKDIR,
ENV/ARG, USER, SHELL). A move is proposed only when the new order keeps every edge.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from layerscope.dockerfile import Dockerfile, Instruction, Stage
from layerscope.model import EntryKind

if TYPE_CHECKING:
    import networkx as nx

from .context import Context, under
from .dockerignore import copy_parts, workdir_at
from .model import Edit, LineSpan, Suggestion, SuggestionKind, counted
from .patching import DOCKERFILE

MANIFESTS = frozenset(
    "requirements.txt requirements-dev.txt constraints.txt pyproject.toml poetry.lock setup.cfg "
    "Pipfile Pipfile.lock package.json package-lock.json yarn.lock pnpm-lock.yaml go.mod go.sum "
    "Cargo.toml Cargo.lock Gemfile Gemfile.lock composer.json composer.lock pom.xml".split()
)
_BUILD_TOOLS = re.compile(
    r"\b(pip3?\s+install|npm\s+(ci|install|run)|yarn|pnpm|poetry|make|go\s+(build|mod)|cargo|"
    r"mvn|gradle|bundle|composer|python3?\s+\S+\.py|setup\.py)\b"
)
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


def find_reorders(ctx: Context) -> list[Suggestion]:
    """COPY/ADD of the build context placed before RUN steps that do not need it."""
    if ctx.dockerfile is None:
        return []
    out: list[Suggestion] = []
    stage = ctx.dockerfile.final_stage
    graph = OrderGraph(ctx, ctx.dockerfile, stage)
    items = list(stage.instructions)
    for n, copy in enumerate(items):
        layer = graph.layer.get(copy.index)
        if copy.keyword not in ("COPY", "ADD") or copy.flag("from") is not None or layer is None:
            continue
        stats = ctx.stats(layer)
        sources, _ = copy_parts(ctx.dockerfile, copy)
        volatile = (stats is not None and stats.misses > 0) or any(
            s in (".", "./") or s.endswith("/") for s in sources
        )
        if not volatile:
            continue
        passed: list[Instruction] = []
        blocker: Instruction | None = None
        for other in items[n + 1 :]:
            if graph.graph.has_edge(copy.index, other.index):
                blocker = other
                break
            passed.append(other)
        runs = [i for i in passed if i.keyword == "RUN"]
        if not runs:
            split = _manifest_split(ctx, graph, copy, blocker, stats) if blocker else None
            if split is not None:
                out.append(split)
            continue
        order = [i.index for i in items]
        order.remove(copy.index)
        order.insert(order.index(passed[-1].index) + 1, copy.index)
        if not graph.valid(order):
            continue
        out.append(_suggestion(ctx, graph, copy, passed, runs, stats))
    return out


def _suggestion(
    ctx: Context,
    graph: OrderGraph,
    copy: Instruction,
    passed: list[Instruction],
    runs: list[Instruction],
    stats: object,
) -> Suggestion:
    layers = tuple(graph.layer[i.index] for i in (copy, *runs) if i.index in graph.layer)
    misses = getattr(stats, "misses", None)
    seconds: float | None = None
    step_seconds = [ctx.stats(graph.layer[r.index]) for r in runs if r.index in graph.layer]
    if (
        misses is not None
        and step_seconds
        and all(s and s.seconds is not None for s in step_seconds)
    ):
        seconds = misses * sum(s.seconds or 0.0 for s in step_seconds if s)
    text = ctx.dockerfile.text.splitlines() if ctx.dockerfile else []
    last = passed[-1]
    moved = tuple(text[copy.start_line - 1 : copy.end_line])
    edits = (
        Edit(DOCKERFILE, copy.start_line, copy.end_line, ()),
        Edit(DOCKERFILE, last.end_line + 1, last.end_line, moved),
    )
    how = (
        f"it missed the cache in {misses} of {getattr(stats, 'builds', '?')} recorded builds"
        if misses is not None
        else "it copies the build context, which changes with every edit"
    )
    return Suggestion(
        id="",
        kind=SuggestionKind.REORDER_FOR_CACHE,
        title=f"move line {copy.start_line} ({copy.keyword}) below line {last.start_line}",
        detail=(
            f"{' '.join(copy.text.split())}: {how}; the {counted(len(runs), 'RUN step')} after it "
            f"{'does' if len(runs) == 1 else 'do'} not read what it copies (constraint graph: "
            "files written and read, WORKDIR, ENV/ARG, USER), so "
            f"{'it' if len(runs) == 1 else 'they'} can stay cached when only the copied files "
            "change."
        ),
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
        edits=edits,
        patch_note="the graph reads commands heuristically: check that the moved steps do not use "
        "the copied files",
    )


def _manifest_split(
    ctx: Context, graph: OrderGraph, copy: Instruction, run: Instruction, stats: object
) -> Suggestion | None:
    """``COPY src/ dst/`` followed by a RUN that reads only dependency manifests from it: copy the
    manifests first, install, then copy the rest (the install stays cached when sources change)."""
    dockerfile = ctx.dockerfile
    if dockerfile is None or run.keyword != "RUN" or copy.exec_form is not None:
        return None
    sources, dest = copy_parts(dockerfile, copy)
    if len(sources) != 1 or any(ch in sources[0] for ch in "*?["):
        return None
    used = graph.reads(run, copy) - {dest}
    if not used or not used <= MANIFESTS:
        return None
    # the RUN must not read anything else under the destination
    rest = run.arguments
    for name in used:
        rest = rest.replace(posixpath.join(dest, name), "").replace(name, "")
    if dest.rstrip("/") and re.search(re.escape(dest.rstrip("/")) + r"(/|\b)", rest):
        return None
    copied = graph.top_names(copy)
    if not used <= copied:
        return None
    source_dir = "" if sources[0] in (".", "./") else sources[0].rstrip("/") + "/"
    written_dest = copy.words[-1]
    target = written_dest if written_dest.endswith("/") else written_dest + "/"
    flags = " ".join(flag.text for flag in copy.flags)
    manifests = " ".join(source_dir + name for name in sorted(used))
    first = " ".join(part for part in (copy.keyword, flags, manifests, target) if part)
    text = dockerfile.text.splitlines()
    original = tuple(text[copy.start_line - 1 : copy.end_line])
    edits = (
        Edit(DOCKERFILE, copy.start_line, copy.end_line, (first,)),
        Edit(DOCKERFILE, run.end_line + 1, run.end_line, original),
    )
    layer = graph.layer.get(copy.index)
    run_layer = graph.layer.get(run.index)
    misses = getattr(stats, "misses", None)
    run_stats = ctx.stats(run_layer) if run_layer is not None else None
    seconds = (
        misses * run_stats.seconds
        if misses is not None and run_stats is not None and run_stats.seconds is not None
        else None
    )
    names = ", ".join(sorted(used))
    how = (
        f"it missed the cache in {misses} of {getattr(stats, 'builds', '?')} recorded builds"
        if misses is not None
        else "it copies source files, which change with every edit"
    )
    return Suggestion(
        id="",
        kind=SuggestionKind.REORDER_FOR_CACHE,
        title=f"copy {names} first, install, then copy the rest (line {copy.start_line})",
        detail=(
            f"{' '.join(copy.text.split())}: {how}; line {run.start_line} reads only {names} "
            "from it, so copying the dependency manifests before it and the sources after it "
            "keeps the install step cached when only the sources change."
        ),
        layers=tuple(i for i in (layer, run_layer) if i is not None),
        instructions=(" ".join(copy.text.split()), " ".join(run.text.split())),
        lines=(LineSpan(copy.start_line, copy.end_line), LineSpan(run.start_line, run.end_line)),
        evidence=(),
        estimated_saving_bytes=0,
        estimated_saving_rebuilds=misses,
        estimated_saving_seconds=seconds,
        edits=edits,
        patch_note="the sources are copied after the install step; steps after it see the same "
        "files as before",
    )
