"""Pair build-log steps with the instructions behind an image's layers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..dockerfile import InstructionLayer
from .model import BuildLog, BuildStep

_VAR = re.compile(r"\\\$(?:\\\{[A-Za-z_]\w*(?::?[-+][^}]*)?\\\}|[A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class LayerStep:
    """A history entry with its instruction and the build-log step that ran it (or None)."""

    layer: InstructionLayer
    step: BuildStep | None


def normalise_instruction(text: str) -> str:
    """Upper-case keyword, whitespace runs collapsed: the form steps and instructions share."""
    keyword, _, rest = " ".join(text.split()).partition(" ")
    return f"{keyword.upper()} {rest}".strip()


def _pattern(text: str) -> re.Pattern[str]:
    """``text`` as a regex in which ``$VAR`` / ``${VAR}`` match whatever a builder put there."""
    return re.compile(_VAR.sub(".*?", re.escape(text)))


def join_log_to_layers(
    buildlog: BuildLog, instruction_layers: tuple[InstructionLayer, ...]
) -> tuple[LayerStep, ...]:
    """Every item of ``instruction_layers`` with its step of ``buildlog`` (None when not found).

    Steps match instructions by normalised text (build-arg substitution allowed), in order.
    """
    steps = buildlog.steps
    texts = [normalise_instruction(step.instruction) for step in steps]
    used: set[int] = set()
    cursor = 0
    out: list[LayerStep] = []
    for item in instruction_layers:
        if item.instruction is None:
            out.append(LayerStep(item, None))
            continue
        wanted = normalise_instruction(item.instruction.text)
        pattern = _pattern(wanted)
        found = _find(texts, wanted, pattern, used, range(cursor, len(steps)))
        if found is None:
            found = _find(texts, wanted, pattern, used, range(len(steps)))
        if found is None:
            out.append(LayerStep(item, None))
            continue
        used.add(found)
        cursor = found + 1
        out.append(LayerStep(item, steps[found]))
    return tuple(out)


def _find(
    texts: list[str], wanted: str, pattern: re.Pattern[str], used: set[int], where: range
) -> int | None:
    for i in where:
        if i not in used and texts[i] == wanted:
            return i
    for i in where:
        if i not in used and pattern.fullmatch(texts[i]):
            return i
    return None
