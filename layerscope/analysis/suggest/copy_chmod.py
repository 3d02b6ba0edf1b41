"""``COPY --chmod / --chown`` instead of a later ``RUN chmod / chown`` that stores files twice."""

from __future__ import annotations

import re

from layerscope.analysis.waste import WasteReason
from layerscope.dockerfile.created_by import parse_created_by
from layerscope.model import EntryKind

from .context import Context
from .facts import CopyChmodFacts
from .model import Evidence, LineSpan, Op, OpKind, Suggestion, SuggestionKind
from .notes import NoteKind, PatchNote, note

_CH = re.compile(r"^\s*(chmod|chown|chgrp)\b")


def find_copy_chmods(ctx: Context) -> list[Suggestion]:
    """COPY/ADD layers whose files a later RUN only re-moded or re-owned."""
    pairs: dict[tuple[int, int], list[Evidence]] = {}
    for item in ctx.analysis.waste.items:
        w, h = item.writer_layer_index, item.hider_layer_index
        if (
            item.reason is WasteReason.METADATA_REWRITE
            and w >= ctx.first_user_layer
            and ctx.keyword(w) in ("COPY", "ADD")
            and ctx.keyword(h) == "RUN"
            and re.search(r"\b(chmod|chown|chgrp)\b", ctx.command(h))
        ):
            pairs.setdefault((w, h), []).append(Evidence(item.path, item.size_bytes, w))
    out = []
    for (w, h), evidence in sorted(pairs.items()):
        ops, note = _patch(ctx, w, h, {e.path for e in evidence})
        spans = tuple(
            LineSpan(i.start_line, i.end_line)
            for i in (ctx.instruction_of.get(w), ctx.instruction_of.get(h)) if i is not None
        )  # fmt: skip
        out.append(
            Suggestion(
                id="",
                kind=SuggestionKind.COPY_CHMOD,
                facts=CopyChmodFacts(w, h, len(evidence)),
                layers=(w, h),
                instructions=(ctx.label(w), ctx.label(h)),
                lines=spans,
                evidence=tuple(sorted(evidence, key=lambda e: (-e.size_bytes, e.path))),
                estimated_saving_bytes=sum(e.size_bytes for e in evidence),
                ops=ops,
                patch_notes=(note,) if note is not None else (),
            )
        )
    return out


def _classic_build(ctx: Context) -> bool:
    """The image's own history says the classic builder made its layers, and the Dockerfile
    does not ask for BuildKit (a ``# syntax=`` directive): a patch with ``COPY --chmod``
    would not build there (only ``--chown`` would)."""
    if ctx.dockerfile is not None and dict(ctx.dockerfile.directives).get("syntax"):
        return False
    builders = {
        parse_created_by(layer.history.created_by, layer.history.comment).builder
        for layer in ctx.image.layers[ctx.first_user_layer :]
        if layer.history is not None
    }
    return "classic" in builders and "buildkit" not in builders


def _patch(
    ctx: Context, w: int, h: int, rewritten: set[str]
) -> tuple[tuple[Op, ...], PatchNote | None]:
    copy, run = ctx.instruction_of.get(w), ctx.instruction_of.get(h)
    if copy is None or run is None or ctx.dockerfile is None:
        return (), None
    written = [e for e in ctx.image.layers[w].entries if e.kind is EntryKind.FILE]
    after = {e.path: e for e in ctx.image.layers[h].entries if e.path in rewritten}
    if {e.path for e in written} != rewritten or len(after) != len(rewritten):
        return (), note(NoteKind.SOME_FILES_CHANGED)
    modes = {e.mode for e in after.values()}
    owners = {(e.uid, e.gid) for e in after.values()}
    if len(modes) != 1 or len(owners) != 1:
        return (), note(NoteKind.MIXED_MODES)
    parts = [p.strip() for p in run.arguments.split("&&")]
    if run.exec_form is not None or run.heredocs or any(re.search(r";|\|\|", p) for p in parts):
        return (), note(NoteKind.RUN_DOES_MORE)
    kept = [p for p in parts if not _CH.match(p)]
    flags = []
    mode, owner = modes.pop(), owners.pop()
    before = {e.path: e for e in written}
    if any(before[p].mode != mode for p in rewritten):
        if _classic_build(ctx):
            return (), PatchNote(NoteKind.CLASSIC_BUILDER, mode=mode)
        flags.append(f"--chmod={mode:04o}")
    if any((before[p].uid, before[p].gid) != owner for p in rewritten):
        flags.append(f"--chown={owner[0]}:{owner[1]}")
    lines = copy.source.splitlines()
    lines[0] = re.sub(
        r"^(\s*(COPY|ADD))\s+",
        lambda m: f"{m.group(1)} {' '.join(flags)} ",
        lines[0],
        count=1,
        flags=re.I,
    )
    ops = [Op(OpKind.SET, copy.index, lines=tuple(lines))]
    if kept:
        ops.append(Op(OpKind.SET, run.index, lines=("RUN " + " && ".join(kept),)))
    else:
        ops.append(Op(OpKind.DELETE, run.index))
    chmod = any(f.startswith("--chmod") for f in flags)
    return tuple(ops), note(NoteKind.NEEDS_BUILDKIT) if chmod else None
