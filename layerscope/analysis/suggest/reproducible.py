"""Base images that move (pin by digest, avoid ``latest``) and layers that differ from the
previous build only in timestamps or in files that embed them."""

from __future__ import annotations

import re

from layerscope.model import EntryKind, FileEntry

from .context import Context
from .facts import PinBaseFacts, ReproducibleFacts
from .model import Evidence, LineSpan, Suggestion, SuggestionKind
from .notes import NoteKind, note

_EMBEDS_TIME = re.compile(r"(\.pyc|\.log|/__pycache__/.*|/var/cache/.*|/var/log/.*|\.cache/.*)$")


def find_pin_base(ctx: Context) -> list[Suggestion]:
    """FROM without a digest, when it says ``latest`` (or nothing) or the history saw it move."""
    if ctx.dockerfile is None:
        return []
    root = ctx.dockerfile.stage_chain()[0]
    base = root.base_resolved
    if base.lower() == "scratch" or "@sha256:" in base:
        return []
    name = base.rsplit("/", 1)[-1]
    latest = ":" not in name or name.endswith(":latest")
    moved = ctx.history is not None and ctx.history.base_moved
    if not (latest or moved):
        return []
    ins = root.from_instruction
    return [
        Suggestion(
            id="",
            kind=SuggestionKind.PIN_BASE,
            facts=PinBaseFacts(base, latest, moved),
            layers=tuple(range(ctx.first_user_layer)),
            instructions=(" ".join(ins.text.split()),),
            lines=(LineSpan(ins.start_line, ins.end_line),),
            evidence=(),
            estimated_saving_bytes=0,
            patch_notes=(note(NoteKind.DIGEST_CHOICE),),
        )
    ]


def _only_time(a: FileEntry, b: FileEntry) -> bool:
    return a.same_content(b) and a.same_metadata(b)


def find_non_reproducible(ctx: Context) -> list[Suggestion]:
    """Layers rebuilt since ``previous`` whose differences are only timestamps or time-stamped
    files (.pyc, logs, caches)."""
    previous = ctx.previous
    if previous is None:
        return []
    out = []
    for index, layer in enumerate(ctx.image.layers):
        if index >= len(previous.layers) or index < ctx.first_user_layer:
            continue
        old = previous.layers[index]
        if old.diff_id == layer.diff_id or old.created_by != layer.created_by:
            continue
        before = {e.path: e for e in old.entries}
        after = {e.path: e for e in layer.entries}
        if before.keys() != after.keys():
            continue
        changed = [after[p] for p in after if not _only_time(before[p], after[p])]
        if any(not _EMBEDS_TIME.search(e.path) for e in changed):
            continue
        evidence = tuple(
            Evidence(e.path, e.size_bytes, index) for e in changed if e.kind is EntryKind.FILE
        )
        out.append(
            Suggestion(
                id="",
                kind=SuggestionKind.NON_REPRODUCIBLE,
                facts=ReproducibleFacts(index, ctx.label(index), not changed),
                layers=(index,),
                instructions=(ctx.label(index),),
                lines=tuple(
                    LineSpan(i.start_line, i.end_line)
                    for i in (ctx.instruction_of.get(index),)
                    if i is not None
                ),  # fmt: skip
                evidence=evidence,
                estimated_saving_bytes=0,
                estimated_saving_rebuilds=1,
            )
        )
    return out
