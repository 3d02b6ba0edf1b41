"""Text helpers of the composer: unified diffs, joined RUNs, appended commands."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from layerscope.dockerfile import Instruction

DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"
_COMPLEX = re.compile(r"\|\||;|(^|\s)cd\s|\bexport\s|\bset\s|(?<![&|])[&|](?![&|])")


def unified(name: str, old: str, new: str, *, created: bool = False) -> str:
    """A unified diff of one file (``a/NAME`` -> ``b/NAME``, ``/dev/null`` -> ``b/NAME`` when
    ``created``); "" when nothing changed."""
    if old == new:
        return ""
    diff = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile="/dev/null" if created else f"a/{name}",
        tofile=f"b/{name}",
    )
    out = "".join(line if line.endswith("\n") else line + "\n" for line in diff)
    return out


def run_body(ins: Instruction) -> list[str]:
    """The source lines of a RUN without the keyword (flags kept off: callers check them)."""
    lines = ins.source.splitlines()
    first = re.sub(r"^\s*RUN\s+", "", lines[0], flags=re.I)
    for flag in ins.flags:
        first = first.replace(flag.text, "", 1).lstrip()
    return [first, *lines[1:]]


def join_runs(instructions: Sequence[Instruction]) -> tuple[str, ...] | None:
    """One RUN doing what consecutive RUNs did (each part in a subshell when it needs one).

    None for exec-form or heredoc RUNs, or RUNs with different flags.
    """
    if any(i.exec_form is not None or i.heredocs for i in instructions):
        return None
    flags = {tuple(f.text for f in i.flags) for i in instructions}
    if len(flags) != 1:
        return None
    flag_text = " ".join(next(iter(flags)))
    out: list[str] = []
    for n, ins in enumerate(instructions):
        body = run_body(ins)
        if len(instructions) > 1 and _COMPLEX.search(ins.arguments):
            body[0] = "(" + body[0]
            body[-1] = body[-1].rstrip() + ")"
        if n == 0:
            head = "RUN " + (flag_text + " " if flag_text else "")
            out.extend([head + body[0], *body[1:]])
        else:
            out[-1] = out[-1].rstrip() + " \\"
            out.extend(["    && " + body[0].lstrip(), *body[1:]])
    return tuple(out)


def append_command(ins: Instruction, command: str) -> tuple[str, ...] | None:
    """The RUN's source lines with ``&& command`` appended (None for exec form / heredocs)."""
    if ins.exec_form is not None or ins.heredocs:
        return None
    lines = ins.source.splitlines()
    if _COMPLEX.search(ins.arguments):
        body = run_body(ins)
        head = lines[0][: len(lines[0]) - len(body[0])] if lines[0].endswith(body[0]) else "RUN "
        lines = [head + "(" + body[0], *body[1:]]
        lines[-1] = lines[-1].rstrip() + ")"
    lines[-1] = lines[-1].rstrip() + " \\"
    return (*lines, "    && " + command)
