"""``.dockerignore`` entries for files COPY/ADD brought in that do not belong in the image."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from layerscope.dockerfile import Dockerfile, Instruction

from .context import Context
from .facts import DockerignoreFacts, SuggestionFacts
from .model import Evidence, LineSpan, Op, OpKind, Suggestion, SuggestionKind
from .notes import NoteKind, note

JUNK_DIRS = (
    ".git", ".venv", "node_modules", "__pycache__", ".ipynb_checkpoints", ".pytest_cache",
    ".mypy_cache", ".tox",
)  # fmt: skip
JUNK_SUFFIXES = (".pyc",)
BIG_DATA_SUFFIXES = (
    ".pt", ".pth", ".safetensors", ".onnx", ".h5", ".ckpt", ".parquet", ".bin", ".npz", ".npy",
    ".pkl", ".tar", ".tar.gz", ".zip", ".csv", ".gguf",
)  # fmt: skip
BIG_FILE_BYTES = 1 << 20
"""Data or model files from this size on are proposed for .dockerignore."""


def workdir_at(dockerfile: Dockerfile, ins: Instruction) -> str:
    """The WORKDIR in effect for ``ins`` (``/`` by default)."""
    if ins.stage_index is None:
        return "/"
    workdir = "/"
    for other in dockerfile.stages[ins.stage_index].instructions:
        if other.index >= ins.index:
            break
        if other.keyword == "WORKDIR" and other.words:
            workdir = posixpath.normpath(posixpath.join(workdir, other.words[0]))
    return workdir


def copy_parts(dockerfile: Dockerfile, ins: Instruction) -> tuple[tuple[str, ...], str]:
    """(sources, absolute destination) of a COPY/ADD."""
    from .buildmodel import copy_target

    return copy_target(ins, workdir_at(dockerfile, ins))


def _pattern(rel: str) -> tuple[str, str] | None:
    """(.dockerignore pattern, reason) for a context-relative file path, if it is junk."""
    parts = rel.split("/")
    for n, part in enumerate(parts[:-1]):
        if part in JUNK_DIRS:
            prefix = "/".join(parts[:n])
            return (f"{prefix}/{part}" if prefix else part) if n == 0 else f"**/{part}", part
    if rel.endswith(JUNK_SUFFIXES):
        return "**/*.pyc", "*.pyc"
    return None


def find_dockerignore(ctx: Context) -> list[Suggestion]:
    """Junk and large data files per COPY/ADD layer, as one .dockerignore suggestion."""
    evidence: list[Evidence] = []
    patterns: dict[str, int] = {}
    what: dict[str, int] = {}
    """Names of what is kept out (``.git``), with Dockerfile or without."""
    layers: list[int] = []
    spans: list[LineSpan] = []
    for index in range(ctx.first_user_layer, len(ctx.image.layers)):
        if ctx.keyword(index) not in ("COPY", "ADD"):
            continue
        ins = ctx.instruction_of.get(index)
        if ins is not None and ins.flag("from") is not None:
            continue  # from another stage or image, not the build context
        base = None
        if ins is not None and ctx.dockerfile is not None:
            sources, dest = copy_parts(ctx.dockerfile, ins)
            if len(sources) == 1 and sources[0] in (".", "./"):
                base = dest
        later = " ".join(ctx.command(i) for i in range(index + 1, len(ctx.image.layers)))
        found = False
        for entry in ctx.image.layers[index].entries:
            if entry.size_bytes == 0 or entry.is_marker:
                continue
            rel = posixpath.relpath(entry.path, base) if base else entry.path.lstrip("/")
            if rel.startswith(".."):
                rel = entry.path.lstrip("/")
            hit = _pattern(rel)
            if (
                hit is None
                and entry.size_bytes >= BIG_FILE_BYTES
                and rel.endswith(BIG_DATA_SUFFIXES)
            ):
                hit = (rel if base else f"**/{posixpath.basename(rel)}", posixpath.basename(rel))
            if hit is None or re.search(re.escape(hit[1]), later):
                continue  # a later step names it: the build may need it
            patterns[hit[0]] = patterns.get(hit[0], 0) + entry.size_bytes
            what[hit[1]] = what.get(hit[1], 0) + entry.size_bytes
            evidence.append(Evidence(entry.path, entry.size_bytes, index))
            found = True
        if found:
            layers.append(index)
            if ins is not None:
                spans.append(LineSpan(ins.start_line, ins.end_line))
    if not evidence:
        return []
    existing = (ctx.dockerignore or "").splitlines()
    new = [p for p in sorted(patterns) if p not in existing]
    ops: tuple[Op, ...] = ()
    if ctx.dockerfile is not None and new:
        ops = (Op(OpKind.IGNORE, lines=tuple(new)),)
    ranked = sorted(patterns, key=lambda p: (-patterns[p], p))
    return [
        Suggestion(
            id="",
            kind=SuggestionKind.DOCKERIGNORE,
            facts=DockerignoreFacts(
                tuple(sorted(what, key=lambda w: (-what[w], w))), tuple(ranked)
            ),
            layers=tuple(layers),
            instructions=tuple(ctx.label(i) for i in layers),
            lines=tuple(spans),
            evidence=tuple(sorted(evidence, key=lambda e: (-e.size_bytes, e.path))),
            estimated_saving_bytes=sum(e.size_bytes for e in evidence),
            ops=ops,
            patch_notes=(note(NoteKind.CONTEXT_SHRINKS),),
        )
    ]


def fold_duplicates(found: list[Suggestion]) -> list[Suggestion]:
    """Advice about the same files given once: a cleanup of files the .dockerignore entry
    already keeps out of the build (``__pycache__`` rewritten by a later step) is folded into
    the .dockerignore suggestion, whose figure then counts both stored copies."""
    ignore = next((s for s in found if s.kind is SuggestionKind.DOCKERIGNORE), None)
    if ignore is None:
        return found
    assert isinstance(ignore.facts, DockerignoreFacts)
    kept = {e.path for e in ignore.evidence}
    out: list[Suggestion] = []
    extra: list[Evidence] = []
    covers: list[SuggestionFacts] = []
    layers = set(ignore.layers)
    lines = list(ignore.lines)
    for s in found:
        if (
            s.kind is SuggestionKind.SAME_LAYER_CLEANUP
            and s.evidence
            and all(e.path in kept for e in s.evidence)
        ):
            extra += s.evidence
            covers.append(s.facts)
            layers.update(s.layers)
            lines += [span for span in s.lines if span not in lines]
            continue
        out.append(s)
    if not covers:
        return found
    evidence = tuple(sorted((*ignore.evidence, *extra), key=lambda e: (-e.size_bytes, e.path)))
    merged = replace(
        ignore,
        evidence=evidence,
        estimated_saving_bytes=sum(e.size_bytes for e in evidence),
        layers=tuple(sorted(layers)),
        lines=tuple(lines),
        covers=tuple(covers),
        facts=replace(ignore.facts, folded=True),
    )
    return [merged if s is ignore else s for s in out]
