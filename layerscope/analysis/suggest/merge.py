"""Merge RUN steps when a later one deletes or rewrites what an earlier one wrote."""

from __future__ import annotations

from dataclasses import replace

from layerscope.dockerfile import Instruction, Stage

from .context import Context
from .facts import MergeFacts
from .model import Evidence, LineSpan, Op, OpKind, Suggestion, SuggestionKind
from .notes import NoteKind, PatchNote, note
from .patching import join_runs

_INERT = frozenset(
    {"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER"}
)
"""Instructions that neither write files nor change how a RUN runs: they may move below."""


def _ranges(pairs: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge (writer, hider) layer pairs into disjoint [first, last] ranges."""
    out: list[list[int]] = []
    for first, last in sorted(pairs):
        if out and first <= out[-1][1]:
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return [(a, b) for a, b in out]


def find_merges(ctx: Context) -> list[Suggestion]:
    """RUN layers whose files a later RUN layer hides, with the bytes merging reclaims."""
    pairs: set[tuple[int, int]] = set()
    first = ctx.first_user_layer
    for item in ctx.analysis.waste.items:
        w, h = item.writer_layer_index, item.hider_layer_index
        if w < first or w >= h or ctx.keyword(w) != "RUN" or ctx.keyword(h) != "RUN":
            continue
        pairs.add((w, h))
    out: list[Suggestion] = []
    for lo, hi in _ranges(pairs):
        evidence = tuple(
            Evidence(item.path, item.size_bytes, item.writer_layer_index)
            for item in ctx.analysis.waste.items
            if lo <= item.writer_layer_index < item.hider_layer_index <= hi
            and ctx.keyword(item.writer_layer_index) == "RUN"
            and ctx.keyword(item.hider_layer_index) == "RUN"
        )
        if not evidence:
            continue
        layers = tuple(i for i in range(lo, hi + 1) if ctx.keyword(i) == "RUN")
        ops, note, spans = _patch(ctx, lo, hi)
        deleted = sum(e.size_bytes for e in evidence)
        out.append(
            Suggestion(
                id="",
                kind=SuggestionKind.MERGE_RUN,
                facts=MergeFacts(layers, lo, hi, len(evidence)),
                layers=layers,
                instructions=tuple(ctx.label(i) for i in layers),
                lines=spans,
                evidence=tuple(sorted(evidence, key=lambda e: (-e.size_bytes, e.path))),
                estimated_saving_bytes=deleted,
                ops=ops,
                patch_notes=(note,) if note is not None else (),
            )
        )
    return out


def _blocking(
    ctx: Context, stage: Stage, block: list[Instruction], between: list[Instruction]
) -> list[Instruction]:
    """Instructions between the RUNs that a later RUN of the block depends on (they cannot move
    below the merged RUN): files it reads or overwrites, ENV/ARG/WORKDIR/USER it sees."""
    if not between:
        return []
    from .reorder import OrderGraph

    graph = OrderGraph(ctx, ctx.dockerfile, stage) if ctx.dockerfile is not None else None
    out = []
    for mid in between:
        later = [i for i in block if i.keyword == "RUN" and i.index > mid.index]
        if graph is None or any(graph.graph.has_edge(mid.index, run.index) for run in later):
            out.append(mid)
    return out


def _patch(
    ctx: Context, lo: int, hi: int
) -> tuple[tuple[Op, ...], PatchNote | None, tuple[LineSpan, ...]]:
    if ctx.dockerfile is None:
        return (), None, ()
    first, last = ctx.instruction_of.get(lo), ctx.instruction_of.get(hi)
    if first is None or last is None or first.stage_index != last.stage_index:
        return (), note(NoteKind.RUNS_NOT_FOUND), ()
    ops, why, spans = merge_instructions(ctx, first, last)
    if why is not None and why.kind is NoteKind.STEPS_BETWEEN:
        why = replace(why, by_hand=True)
    return ops, why, spans


def merge_instructions(
    ctx: Context, first: Instruction, last: Instruction
) -> tuple[tuple[Op, ...], PatchNote | None, tuple[LineSpan, ...]]:
    """The MERGE of the RUNs from ``first`` to ``last`` (one stage), or why it cannot be."""
    assert ctx.dockerfile is not None
    stage = ctx.dockerfile.stages[first.stage_index or 0]
    block = [i for i in stage.instructions if first.index <= i.index <= last.index]
    spans = tuple(LineSpan(i.start_line, i.end_line) for i in block if i.keyword == "RUN")
    between = [i for i in block if i.keyword != "RUN" and i.keyword not in _INERT]
    blocking = _blocking(ctx, stage, block, between)
    if blocking:
        steps = tuple((i.start_line, i.keyword) for i in blocking)
        return (), PatchNote(NoteKind.STEPS_BETWEEN, steps=steps), spans
    runs: list[Instruction] = [i for i in block if i.keyword == "RUN"]
    if join_runs(runs) is None:
        return (), note(NoteKind.MERGE_BY_HAND), spans
    # the other instructions of the block (inert, or not needed by the later RUNs) move below
    return (Op(OpKind.MERGE, block[0].index, block[-1].index),), None, spans
