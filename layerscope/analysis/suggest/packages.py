"""Packages nobody asked for (reachable only through Recommends) and build toolchains left in
the final image, from the image's own dpkg / apk databases (graph built with networkx)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from layerscope.analysis.package_index import Package, PackageIndex, find_packages, layer_contents
from layerscope.analysis.packages import DPKG_INFO, DPKG_STATUS, parse_dpkg_list
from layerscope.model import EntryKind

if TYPE_CHECKING:
    import networkx as nx

from .context import Context
from .facts import MultiStageFacts, RecommendedPackage, RecommendsFacts
from .model import Evidence, LineSpan, Op, OpKind, Suggestion, SuggestionKind
from .notes import NoteKind, note

EXTENDED_STATES = "/var/lib/apt/extended_states"
_APT_INSTALL = r"\bapt(?:-get)?(\s+-[\w-]+)*\s+install\b(?!.*--no-install-recommends)"
_TOOLCHAIN = re.compile(
    r"^(gcc(-\d+)?|g\+\+(-\d+)?|cpp(-\d+)?|clang(-\d+)?|build-essential|build-base|make|"
    r"binutils.*|libc6-dev|linux-libc-dev|musl-dev|libgcc-\d+-dev|libstdc\+\+-\d+-dev|.+-dev)$"
)


def _stanzas(text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
                continue
            key, sep, value = line.partition(":")
            if sep:
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields:
            out.append(fields)
    return out


def _names(field: str) -> list[list[str]]:
    """``a (>= 1) | b, c:any`` -> [[a, b], [c]]."""
    groups = []
    for group in field.split(","):
        alts = [re.sub(r"[\s(\[].*$", "", a.strip()).split(":")[0] for a in group.split("|")]
        alts = [a for a in alts if a]
        if alts:
            groups.append(alts)
    return groups


def _last_kept(ctx: Context, path: str) -> bytes | None:
    found = None
    for layer in ctx.image.layers:
        data = layer_contents(layer).get(path)
        if data is not None:
            found = data
    return found


def package_graph(status: bytes, extended: bytes | None) -> tuple[nx.DiGraph, set[str]]:
    """(graph of installed packages with ``kind`` = depends/recommends edges, root packages).

    Roots are the packages installed by hand (apt's extended_states), else those nothing
    depends on or recommends, plus Essential / required ones.
    """
    import networkx as nx  # imported when a package graph is needed (it costs ~0.3 s to load)

    graph: nx.DiGraph = nx.DiGraph()
    providers: dict[str, set[str]] = {}
    stanzas = [
        s for s in _stanzas(status.decode("utf-8", "replace"))
        if s.get("package") and s.get("status", "").endswith(" installed")
    ]  # fmt: skip
    for s in stanzas:
        graph.add_node(
            s["package"],
            essential=s.get("essential") == "yes" or s.get("priority") in ("required", "important"),
        )
        providers.setdefault(s["package"], set()).add(s["package"])
        for group in _names(s.get("provides", "")):
            providers.setdefault(group[0], set()).add(s["package"])
    for s in stanzas:
        for field, kind in (
            ("pre-depends", "depends"),
            ("depends", "depends"),
            ("recommends", "recommends"),
        ):
            for group in _names(s.get(field, "")):
                for alt in group:
                    for target in providers.get(alt, ()):
                        if target != s["package"] and not (
                            graph.has_edge(s["package"], target)
                            and graph.edges[s["package"], target]["kind"] == "depends"
                        ):
                            graph.add_edge(s["package"], target, kind=kind)
    auto: set[str] | None = None
    if extended is not None:
        auto = {
            s["package"] for s in _stanzas(extended.decode("utf-8", "replace"))
            if s.get("package") and s.get("auto-installed") == "1"
        }  # fmt: skip
    roots = {n for n, essential in graph.nodes(data="essential") if essential}
    if auto is not None:
        roots |= {n for n in graph.nodes if n not in auto}
    else:
        roots |= {n for n in graph.nodes if graph.in_degree(n) == 0}
    return graph, roots


def recommends_only(graph: nx.DiGraph, roots: set[str]) -> set[str]:
    """Packages reachable from the roots, but not through Depends / Pre-Depends alone."""
    import networkx as nx

    hard = graph.edge_subgraph([(u, v) for u, v, k in graph.edges(data="kind") if k == "depends"])
    needed = set(roots)
    every = set(roots)
    for root in roots:
        every |= nx.descendants(graph, root)
        if root in hard:
            needed |= nx.descendants(hard, root)
    return every - needed


def _files(ctx: Context, name: str, arch: str) -> tuple[str, ...]:
    for key in (f"{name}:{arch}", name):
        data = _last_kept(ctx, f"{DPKG_INFO}{key}.list")
        if data is not None:
            return parse_dpkg_list(data)
    return ()


ARCHIVES = "/var/cache/apt/archives/"


def _evidence(ctx: Context, package: Package, with_install: bool = False) -> list[Evidence]:
    """The package's files in the final image; ``with_install``: also what installing it left
    in its layer, which a step that does not install it does not write either: its dpkg
    database files and the ``.deb`` apt downloaded (both go with --no-install-recommends)."""
    final = ctx.analysis.filesystem.final
    out = []
    for path in sorted(set(_files(ctx, package.name, package.architecture))):
        node = final.get(path)
        if node is not None and node.entry.size_bytes:
            out.append(Evidence(path, node.entry.size_bytes, node.layer_index))
    if not out and package.size_bytes:
        out.append(Evidence(f"(package {package.name})", package.size_bytes, package.layer_index))
    if with_install:
        listed = {e.path for e in out}
        out += [
            Evidence(path, size, package.layer_index)
            for path, size in _install_files(ctx, package)
            if path not in listed
        ]
    return out


def _install_files(ctx: Context, package: Package) -> list[tuple[str, int]]:
    """(path, bytes) of the dpkg info files and downloaded .deb of ``package`` in its layer."""
    prefixes = (f"{package.name}.", f"{package.name}:{package.architecture}.")
    out = []
    for entry in ctx.image.layers[package.layer_index].entries:
        if entry.kind is not EntryKind.FILE or not entry.size_bytes:
            continue
        path = entry.path
        if path.startswith(DPKG_INFO):
            name = path[len(DPKG_INFO) :]
            rest = next((name[len(p) :] for p in prefixes if name.startswith(p)), None)
            if rest is not None and "." not in rest and "/" not in rest:
                out.append((path, entry.size_bytes))
        elif path.startswith(ARCHIVES + package.name + "_") and path.endswith(".deb"):
            out.append((path, entry.size_bytes))
    return out


def find_package_suggestions(ctx: Context, packages: PackageIndex | None) -> list[Suggestion]:
    """--no-install-recommends per installing RUN, and multi-stage for toolchains."""
    index = (
        packages
        if packages is not None
        else find_packages(ctx.image, stack=ctx.analysis.filesystem)
    )
    debs: Mapping[str, Package] = {p.name: p for p in index.packages if p.ecosystem == "deb"}
    out: list[Suggestion] = []
    status = _last_kept(ctx, DPKG_STATUS)
    if status is not None and debs:
        extended = _last_kept(ctx, EXTENDED_STATES)
        graph, roots = package_graph(status, extended)
        extra = recommends_only(graph, roots)
        by_layer: dict[int, list[Package]] = {}
        for name in sorted(extra):
            p = debs.get(name)
            if p is not None and p.layer_index >= ctx.first_user_layer:
                by_layer.setdefault(p.layer_index, []).append(p)
        for layer, items in sorted(by_layer.items()):
            out.append(_recommends(ctx, layer, items, graph, extended is not None))
    tools = [
        p for p in index.packages
        if p.ecosystem in ("deb", "apk") and _TOOLCHAIN.match(p.name)
        and p.layer_index >= ctx.first_user_layer
    ]  # fmt: skip
    if tools:
        evidence = [e for p in tools for e in _evidence(ctx, p)]
        layers = tuple(sorted({p.layer_index for p in tools}))
        out.append(
            Suggestion(
                id="",
                kind=SuggestionKind.MULTI_STAGE,
                facts=MultiStageFacts(tuple(sorted(p.name for p in tools))),
                layers=layers,
                instructions=tuple(ctx.label(i) for i in layers),
                lines=_spans(ctx, layers),
                evidence=tuple(evidence),
                estimated_saving_bytes=sum(e.size_bytes for e in evidence),
                patch_notes=(note(NoteKind.ARTIFACTS_CHOICE),),
            )
        )
    return out


def _spans(ctx: Context, layers: tuple[int, ...]) -> tuple[LineSpan, ...]:
    return tuple(
        LineSpan(ins.start_line, ins.end_line)
        for i in layers if (ins := ctx.instruction_of.get(i)) is not None
    )  # fmt: skip


def _recommends(
    ctx: Context, layer: int, items: list[Package], graph: nx.DiGraph, exact: bool
) -> Suggestion:
    evidence = [e for p in items for e in _evidence(ctx, p, with_install=True)]
    shown = tuple(
        RecommendedPackage(p.name, tuple(sorted(u for u, _ in graph.in_edges(p.name))[:3]))
        for p in items[:8]
    )
    ops: tuple[Op, ...] = ()
    ins = ctx.instruction_of.get(layer)
    if ins is not None and ctx.dockerfile is not None and not ins.heredocs:
        if re.search(_APT_INSTALL, ins.source):
            ops = (
                Op(OpKind.REPLACE, ins.index, pattern=_APT_INSTALL,
                   replacement=r"\g<0> --no-install-recommends"),
            )  # fmt: skip
    return Suggestion(
        id="",
        kind=SuggestionKind.NO_INSTALL_RECOMMENDS,
        facts=RecommendsFacts(layer, len(items), shown, roots_guessed=not exact),
        layers=(layer,),
        instructions=(ctx.label(layer),),
        lines=_spans(ctx, (layer,)),
        evidence=tuple(evidence),
        estimated_saving_bytes=sum(e.size_bytes for e in evidence),
        ops=ops,
        patch_notes=(note(NoteKind.CHECK_RECOMMENDS),),
    )
