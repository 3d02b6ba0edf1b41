"""Link image history entries (and so layers) to the Dockerfile instructions that made them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import HistoryEntry, Image
from .created_by import BUILDKIT_EXPORTER_COMMENT, CreatedBy, go_quoted_list, parse_created_by
from .model import Dockerfile, DockerfileError, Instruction
from .parser import split_words, substitute

_SKIPPABLE = frozenset({"ARG", "ONBUILD"})
"""Instructions some builders leave out of the history."""
_SHELL_PREFIX = re.compile(r"^(?:/bin/sh|/bin/bash|sh) -c ")
_LEADING_FLAGS = re.compile(r"^(?:--\S+\s+)+")


@dataclass(frozen=True, slots=True)
class InstructionLayer:
    """One history entry of an image, the layer it made, and the instruction behind it."""

    history_index: int
    history: HistoryEntry
    layer_index: int | None
    """Index into ``Image.layers``; None for an ``empty_layer`` entry (or when layers and
    history do not line up)."""
    instruction: Instruction | None
    """None for entries of the base image and for entries a builder synthesised."""
    is_base: bool
    exact: bool
    """True when the recorded text matches the instruction, not only its keyword."""


def map_history(
    dockerfile: Dockerfile, image: Image, *, stage: int | str = -1
) -> tuple[InstructionLayer, ...]:
    """Every history entry of ``image`` with the instruction of ``dockerfile`` it came from.

    ``stage`` is the built stage (index or name; the last one by default). Entries are matched
    from the end backwards; those before the stage's first instruction belong to the base image.
    Raises DockerfileError when the Dockerfile does not fit the history.
    """
    index = _stage_index(dockerfile, stage)
    chain = dockerfile.stage_chain(index)
    instructions = dockerfile.image_instructions(index)
    values = _known_values(dockerfile, instructions)
    history = image.history
    matched: dict[int, tuple[Instruction | None, bool]] = {}
    j = len(instructions) - 1
    k = len(history) - 1
    while k >= 0 and j >= 0:
        entry = history[k]
        if entry.comment == BUILDKIT_EXPORTER_COMMENT:
            matched[k] = (None, False)
            k -= 1
            continue
        parsed = parse_created_by(entry.created_by, entry.comment)
        quality = _quality(parsed, instructions[j], values)
        if quality is not None:
            matched[k] = (instructions[j], quality)
            k -= 1
        elif instructions[j].keyword not in _SKIPPABLE:
            here = instructions[j]
            raise DockerfileError(
                f"history entry {k} ({_short(entry.created_by)}) does not match "
                f"line {here.start_line} of the Dockerfile: {_short(here.text)}"
            )
        j -= 1  # matched, or an instruction this builder left out of the history
    while j >= 0 and instructions[j].keyword in _SKIPPABLE:
        j -= 1
    if j >= 0:
        raise DockerfileError(
            f"the image history ends before line {instructions[j].start_line} of the "
            f"Dockerfile ({_short(instructions[j].text)}): not built from this Dockerfile"
        )
    first_user = min(matched) if matched else len(history)
    if chain[0].base_resolved.lower() == "scratch" and first_user > 0:
        raise DockerfileError(
            f"the Dockerfile builds FROM scratch but the image has {first_user} more history "
            "entries before its first instruction"
        )
    layer_of = _layer_indices(image)
    out: list[InstructionLayer] = []
    for i, entry in enumerate(history):
        ins, exact = matched.get(i, (None, False))
        out.append(InstructionLayer(i, entry, layer_of[i], ins, i < first_user, exact))
    return tuple(out)


def base_layer_count(dockerfile: Dockerfile, image: Image, *, stage: int | str = -1) -> int | None:
    """Number of layers of the base image (design.md "Base vs user", method ``dockerfile``).

    None when the Dockerfile does not fit the image's history.
    """
    try:
        mapped = map_history(dockerfile, image, stage=stage)
    except DockerfileError:
        return None
    return sum(1 for item in mapped if item.is_base and not item.history.empty_layer)


def _stage_index(dockerfile: Dockerfile, stage: int | str) -> int:
    if isinstance(stage, int):
        if not -len(dockerfile.stages) <= stage < len(dockerfile.stages):
            raise DockerfileError(f"the Dockerfile has no stage {stage}")
        return stage % len(dockerfile.stages)
    found = dockerfile.stage(stage)
    if found is None:
        raise DockerfileError(f"the Dockerfile has no stage named {stage}")
    return found.index


def _layer_indices(image: Image) -> list[int | None]:
    nonempty = [i for i, entry in enumerate(image.history) if not entry.empty_layer]
    out: list[int | None] = [None] * len(image.history)
    if len(nonempty) == len(image.layers):
        for layer, i in enumerate(nonempty):
            out[i] = layer
    return out


def _known_values(dockerfile: Dockerfile, instructions: tuple[Instruction, ...]) -> dict[str, str]:
    """ARG defaults and ENV values in scope (enough to expand WORKDIR and COPY destinations)."""
    values: dict[str, str] = {}
    for ins in (*dockerfile.global_args, *instructions):
        if ins.keyword in ("ARG", "ENV"):
            for key, value in _pairs(ins.words):
                if value is not None:
                    values[key] = substitute(value, values)
    return values


def _pairs(words: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """``k=v`` words (ENV/LABEL/ARG); the legacy ``ENV key value`` form is one pair."""
    if words and "=" not in words[0] and len(words) > 1:
        return [(words[0], " ".join(words[1:]))]
    out: list[tuple[str, str | None]] = []
    for word in words:
        key, eq, value = word.partition("=")
        out.append((key, value if eq else None))
    return out


def _keys(words: tuple[str, ...]) -> list[str]:
    """Names set by ENV/LABEL/ARG words; words without ``=`` after a ``k=v`` word are taken as
    the rest of an unquoted value (the classic builder and BuildKit drop the quotes)."""
    pairs = _pairs(words)
    named = [key for key, value in pairs if value is not None]
    return named or [key for key, _ in pairs]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _run_forms(ins: Instruction) -> set[str]:
    forms = {_norm(_LEADING_FLAGS.sub("", ins.arguments))}
    if ins.exec_form is not None:
        forms.add(_norm(" ".join(ins.exec_form)))
    for form in list(forms):
        forms.add(_SHELL_PREFIX.sub("", form))
    return forms


def _quality(parsed: CreatedBy, ins: Instruction, values: dict[str, str]) -> bool | None:
    """True: the text matches; False: only the keyword does; None: no match."""
    if parsed.keyword != ins.keyword:
        return None
    keyword = ins.keyword
    if keyword == "RUN":
        body = _SHELL_PREFIX.sub("", _norm(_LEADING_FLAGS.sub("", parsed.body)))
        return body in _run_forms(ins)
    if keyword in ("COPY", "ADD"):
        words = ins.exec_form if ins.exec_form is not None else ins.words
        if not words or parsed.destination is None:
            return False
        dest = words[-1]
        return parsed.destination in (dest, substitute(dest, values))
    if keyword in ("ENV", "LABEL", "ARG"):
        return _keys(ins.words) == _keys(split_words(parsed.body, "\\"))
    if keyword == "WORKDIR":
        return parsed.body in (ins.arguments, substitute(ins.arguments, values))
    if keyword in ("CMD", "ENTRYPOINT", "SHELL"):
        recorded = go_quoted_list(parsed.body)
        wanted = ins.exec_form
        if wanted is None:
            wanted = ("/bin/sh", "-c", ins.arguments)
        return recorded is not None and (recorded == wanted or recorded[-1:] == wanted[-1:])
    return _norm(parsed.body) == _norm(ins.arguments)


def _short(text: str, width: int = 60) -> str:
    flat = _norm(text)
    return flat if len(flat) <= width else flat[: width - 3] + "..."
