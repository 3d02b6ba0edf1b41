"""A model of the build: what each command of each step reads, writes and removes.

Resources are package-manager state (apt's lists, apk's index: written by ``update``, needed by
``install``, removed by the list cleanup) and the files each COPY brings in (needed by the
commands that name them). A command's need is *met* when an earlier command or COPY of its
stage provides the resource and nothing removed it since. A patched Dockerfile is sound when
every need the original met is still met: a cleanup never lands before a step that needs what
it removes, a merge or a move never puts a consumer before its producer.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from layerscope.dockerfile import Dockerfile, Instruction, Stage

from .manifests import implied_reads

_SPLIT = re.compile(r"&&|\|\||;|\n")
_WORDS = re.compile(r"[\s;&|()<>='\"]+")


@dataclass(frozen=True, slots=True)
class State:
    """Package-manager state that one command makes and later commands need."""

    name: str
    writes: re.Pattern[str]
    needs: re.Pattern[str]
    removes: re.Pattern[str]


STATES = (
    State(
        "apt lists",
        re.compile(r"\bapt(-get)?\s+(-\S+\s+)*update\b"),
        re.compile(
            r"\bapt(-get)?\s+(-\S+\s+)*(install|upgrade|dist-upgrade|full-upgrade|build-dep|"
            r"source|download)\b|\bapt-cache\s"
        ),
        re.compile(r"\brm\s+(-\S+\s+)*[^&;|]*/var/lib/apt/lists"),
    ),
    State(
        "apk index",
        re.compile(r"\bapk\s+(-\S+\s+)*update\b|\bapk\s+[^&;|]*(\s-U\b|--update\b)"),
        re.compile(r"\bapk\s+(-\S+\s+)*(add|upgrade|fix)\b(?![^&;|]*(--no-cache|--update|\s-U\b))"),
        re.compile(r"\brm\s+(-\S+\s+)*[^&;|]*/var/cache/apk|\bapk\s+cache\s+clean\b"),
    ),
)


def commands(ins: Instruction) -> list[str]:
    """The shell commands of a RUN (split at ``&&``, ``||``, ``;``), stripped of parentheses."""
    if ins.keyword != "RUN":
        return []
    if ins.exec_form is not None:
        return [" ".join(ins.exec_form)]
    text = ins.arguments + "".join("\n" + h.content for h in ins.heredocs)
    return [c.strip(" \t()") for c in _SPLIT.split(text) if c.strip(" \t()")]


def key(command: str) -> str:
    """A command without its flags: the same step before and after a patch adds
    ``--no-install-recommends`` or ``--no-cache-dir``."""
    return " ".join(w for w in command.split() if not w.startswith("-"))


def workdirs(stage: Stage) -> dict[int, str]:
    """Instruction index -> the WORKDIR in effect for it."""
    out: dict[int, str] = {}
    workdir = "/"
    for ins in stage.instructions:
        out[ins.index] = workdir
        if ins.keyword == "WORKDIR" and ins.words:
            workdir = posixpath.normpath(posixpath.join(workdir, ins.words[0]))
    return out


def copy_target(ins: Instruction, workdir: str) -> tuple[tuple[str, ...], str]:
    """(sources, absolute destination) of a COPY/ADD."""
    words = ins.exec_form if ins.exec_form is not None else ins.words
    if len(words) < 2:
        return (), ""
    dest = words[-1]
    if not dest.startswith("/"):
        dest = posixpath.join(workdir, dest)
    return tuple(words[:-1]), posixpath.normpath(dest)


def copy_label(ins: Instruction) -> str:
    """The text that identifies a COPY in the original and in a patched Dockerfile."""
    return " ".join(ins.text.split())


def provided(
    ins: Instruction, workdir: str, names: Mapping[str, frozenset[str]]
) -> tuple[str, frozenset[str]] | None:
    """(destination directory, top-level names) a context COPY/ADD brings in; names are
    looked up by the COPY's text (from its layer), else the sources' own names. None for a
    copy from another stage or image."""
    if ins.flag("from") is not None:
        return None
    sources, dest = copy_target(ins, workdir)
    if not sources:
        return None
    known = names.get(copy_label(ins))
    if known is not None:
        return dest, known
    if any(s in (".", "./") or s.endswith("/") or any(c in s for c in "*?[") for s in sources):
        return dest, frozenset({"*"})
    written = ins.words[-1] if ins.exec_form is None else ins.exec_form[-1]
    if len(sources) == 1 and not written.endswith("/"):
        return posixpath.dirname(dest), frozenset({posixpath.basename(dest)})
    return dest, frozenset(posixpath.basename(s.rstrip("/")) for s in sources)


def reads(command: str, workdir: str, dest: str, names: frozenset[str]) -> set[str]:
    """Top-level names of a copy (to ``dest``) that a command uses: named in it, under the
    destination, or implied by an install tool running in it."""
    words = set(_WORDS.split(command))
    inside = workdir == dest or workdir.startswith(dest.rstrip("/") + "/")
    used: set[str] = set()
    for name in names - {"*"}:
        full = posixpath.join(dest, name)
        if full in command or any(w.endswith("/" + name) and dest in w for w in words):
            used.add(name)
        elif inside and (name in words or any(w.startswith(name + "/") for w in words)):
            used.add(name)
    if inside:
        implied = implied_reads(command, names)
        used |= implied.manifests
        if implied.needs_sources or "." in words or "./" in command:
            used |= names - {"*"}
    return used


@dataclass(frozen=True, slots=True)
class Need:
    """One command's need of a resource, and whether an earlier step provides it."""

    command: str
    """``key`` of the command."""
    resource: str
    line: int
    met: bool


def needs(dockerfile: Dockerfile, names: Mapping[str, frozenset[str]]) -> Iterator[Need]:
    """Every need of every RUN command, stage by stage (a stage built FROM an earlier one
    starts with that stage's state)."""
    finals: dict[int, set[str]] = {}
    for stage in dockerfile.stages:
        parent = stage.parent_stage
        state = set(finals.get(parent, set())) if parent is not None else set()
        where = workdirs(stage)
        copies: list[tuple[int, str, frozenset[str]]] = []
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD"):
                got = provided(ins, where[ins.index], names)
                if got is not None:
                    copies.append((ins.index, *got))
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD"):
                got = provided(ins, where[ins.index], names)
                if got is not None:
                    state |= {f"file:{got[0]}/{n}" for n in got[1]}
                continue
            for command in commands(ins):
                for pm in STATES:
                    if pm.needs.search(command):
                        yield Need(key(command), pm.name, ins.start_line, pm.name in state)
                for _, dest, copied in copies:
                    for name in sorted(reads(command, where[ins.index], dest, copied)):
                        resource = f"file:{dest}/{name}"
                        met = resource in state or f"file:{dest}/*" in state
                        yield Need(key(command), resource, ins.start_line, met)
                for pm in STATES:
                    if pm.removes.search(command):
                        state.discard(pm.name)
                    if pm.writes.search(command):
                        state.add(pm.name)
        finals[stage.index] = state


@dataclass(frozen=True, slots=True)
class Violation:
    """A need the original build met that the patched one does not."""

    command: str
    resource: str
    line: int
    """Line of the command in the patched Dockerfile."""


def met(dockerfile: Dockerfile, names: Mapping[str, frozenset[str]]) -> frozenset[tuple[str, str]]:
    """(command, resource) of every need the Dockerfile meets."""
    return frozenset((n.command, n.resource) for n in needs(dockerfile, names) if n.met)


def broken(
    original: Dockerfile,
    patched: Dockerfile,
    names: Mapping[str, frozenset[str]],
    before: frozenset[tuple[str, str]] | None = None,
) -> tuple[Violation, ...]:
    """Needs met in ``original`` (``before``, when already worked out) and not in
    ``patched`` (commands a patch removed are not needs any more)."""
    if before is None:
        before = met(original, names)
    out: dict[tuple[str, str], Violation] = {}
    for n in needs(patched, names):
        if not n.met and (n.command, n.resource) in before:
            out.setdefault((n.command, n.resource), Violation(n.command, n.resource, n.line))
    return tuple(out.values())
