"""What every suggestion rule reads: the analysis, the layer -> instruction map, file views."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from layerscope.analysis import Analysis
from layerscope.dockerfile import (
    Dockerfile,
    DockerfileError,
    Instruction,
    map_history,
    parse_created_by,
)
from layerscope.model import EntryKind, FileEntry, Image

from .model import CacheHints, InstructionStats
from .notes import NoteKind, PatchNote


@dataclass(slots=True)
class Context:
    """Shared, read-only inputs of the rules (built once per ``suggest`` call)."""

    analysis: Analysis
    dockerfile: Dockerfile | None
    dockerignore: str | None
    history: CacheHints | None
    previous: Image | None
    instruction_of: dict[int, Instruction] = field(default_factory=dict)
    """Layer index -> the Dockerfile instruction that made it (when a Dockerfile fits)."""
    notes: list[PatchNote] = field(default_factory=list)

    @property
    def image(self) -> Image:
        return self.analysis.image

    @property
    def first_user_layer(self) -> int:
        return self.analysis.base.count

    def keyword(self, layer_index: int) -> str:
        """RUN, COPY, ADD... of the instruction that made a layer ("" when unknown)."""
        ins = self.instruction_of.get(layer_index)
        if ins is not None:
            return ins.keyword
        history = self.image.layers[layer_index].history
        if history is None:
            return ""
        return parse_created_by(history.created_by, history.comment).keyword

    def command(self, layer_index: int) -> str:
        """The shell command of a RUN layer ("" for other layers)."""
        ins = self.instruction_of.get(layer_index)
        if ins is not None:
            return ins.arguments if ins.keyword == "RUN" else ""
        history = self.image.layers[layer_index].history
        if history is None:
            return ""
        parsed = parse_created_by(history.created_by, history.comment)
        return parsed.body if parsed.keyword == "RUN" else ""

    def label(self, layer_index: int) -> str:
        """The instruction of a layer as text (Dockerfile text when known)."""
        ins = self.instruction_of.get(layer_index)
        if ins is not None:
            return " ".join(ins.text.split())
        from layerscope.dockerfile import instruction_from_created_by

        return instruction_from_created_by(self.image.layers[layer_index].created_by)

    def stats(self, layer_index: int) -> InstructionStats | None:
        """History record of a layer position, if the history has one."""
        if self.history is None:
            return None
        for item in self.history.instructions:
            if item.layer_index == layer_index:
                return item
        return None

    def visible_files(self, layer_index: int) -> Iterator[FileEntry]:
        """Regular files a layer wrote that the final file system still shows from it."""
        final = self.analysis.filesystem.final
        for entry in self.image.layers[layer_index].entries:
            if entry.kind is not EntryKind.FILE or entry.size_bytes == 0:
                continue
            node = final.get(entry.path)
            if node is not None and node.layer_index == layer_index:
                yield entry


def build_context(
    analysis: Analysis,
    dockerfile: Dockerfile | None,
    dockerignore: str | None,
    history: CacheHints | None,
    previous: Image | None,
) -> Context:
    """Map layers to instructions; a Dockerfile that does not fit is noted and ignored."""
    ctx = Context(analysis, dockerfile, dockerignore, history, previous)
    if dockerfile is not None:
        try:
            for item in map_history(dockerfile, analysis.image):
                if item.layer_index is not None and item.instruction is not None:
                    ctx.instruction_of[item.layer_index] = item.instruction
        except DockerfileError as exc:
            ctx.notes.append(PatchNote(NoteKind.DOCKERFILE_MISFIT, message=exc.message))
            ctx.dockerfile = None
    return ctx


def under(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or inside it."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def relative(path: str, base: str) -> str:
    """``path`` relative to directory ``base`` (both absolute)."""
    return posixpath.relpath(path, base or "/")


def copied_names(ctx: Context) -> dict[str, frozenset[str]]:
    """COPY/ADD text -> the top-level names its layer brought under its destination (what the
    dependency graph knows a context copy provides)."""
    from .buildmodel import copy_label, copy_target, workdirs

    out: dict[str, frozenset[str]] = {}
    if ctx.dockerfile is None:
        return out
    where: dict[int, str] = {}
    for stage in ctx.dockerfile.stages:
        where.update(workdirs(stage))
    for layer_index, ins in ctx.instruction_of.items():
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None:
            continue
        _, dest = copy_target(ins, where.get(ins.index, "/"))
        names = {
            posixpath.relpath(e.path, dest).split("/")[0]
            for e in ctx.image.layers[layer_index].entries
            if e.kind is not EntryKind.DIR and under(e.path, dest) and e.path != dest
        }
        if names:
            out[copy_label(ins)] = frozenset(names)
    return out
