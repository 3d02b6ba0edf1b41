"""Join a build log's steps to a build record's layers by instruction text."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Protocol

from layerscope.analysis.cache import BuildRecord, LayerRecord

__all__ = ["LogStep", "join_build_log", "normalise_step"]

_VAR = re.compile(r"\\\$(?:\\\{[A-Za-z_]\w*(?::?[-+][^}]*)?\\\}|[A-Za-z_]\w*)")
_HASHED = re.compile(r"^(?:file|dir|multi):[0-9a-f]{64} in ")


class LogStep(Protocol):
    """What a build-log step offers (``buildlogs.BuildStep`` fits)."""

    @property
    def instruction(self) -> str: ...

    @property
    def cached(self) -> bool | None: ...

    @property
    def duration_seconds(self) -> float | None: ...

    @property
    def stage(self) -> str | None: ...


def normalise_step(text: str) -> str:
    """Upper-case keyword, whitespace runs collapsed."""
    keyword, _, rest = " ".join(text.split()).partition(" ")
    return f"{keyword.upper()} {rest}".strip()


def _matches(layer: LayerRecord, step_text: str) -> bool:
    wanted = normalise_step(layer.instruction)
    if wanted == step_text:
        return True
    keyword, _, body = wanted.partition(" ")
    step_keyword, _, step_body = step_text.partition(" ")
    if keyword != step_keyword:
        return False
    if keyword in ("COPY", "ADD"):
        # classic history: ``COPY dir:<hash> in /app/``; BuildKit may add flags: same destination
        dest = _HASHED.sub("", body).split(" ")[-1:]
        return bool(dest) and step_body.split(" ")[-1:] == dest
    # build arguments: the log prints the value where the history keeps ``$NAME``
    return re.fullmatch(_VAR.sub(".*?", re.escape(wanted)), step_text) is not None


def join_build_log(build: BuildRecord, steps: Sequence[LogStep]) -> BuildRecord:
    """``build`` with the cached flag and duration of the step behind each layer (matched in
    order, within the log's last stage; FROM steps and layers without a step are left as is)."""
    final = steps[-1].stage if steps else None
    usable = [
        (normalise_step(step.instruction), step)
        for step in steps
        if step.stage == final and normalise_step(step.instruction).split(" ")[0] != "FROM"
    ]
    used: set[int] = set()
    cursor = 0
    layers: list[LayerRecord] = []
    for layer in build.layers:
        found = next(
            (
                i
                for i in range(cursor, len(usable))
                if i not in used and _matches(layer, usable[i][0])
            ),
            None,
        )
        if found is None:
            layers.append(layer)
            continue
        used.add(found)
        cursor = found + 1
        step = usable[found][1]
        layers.append(
            dataclasses.replace(
                layer, log_cached=step.cached, log_duration_seconds=step.duration_seconds
            )
        )
    return dataclasses.replace(build, layers=tuple(layers))
