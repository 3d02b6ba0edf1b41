"""Line edits of the Dockerfile and .dockerignore, unified diffs, and combining suggestions."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from layerscope.dockerfile import DockerfileError, Instruction, parse_dockerfile

from .model import Edit

DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"
_COMPLEX = re.compile(r"\|\||;|(^|\s)cd\s|\bexport\s|\bset\s|(?<![&|])[&|](?![&|])")


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with non-overlapping ``edits`` applied (line numbers refer to ``text``)."""
    lines = text.splitlines()
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        lines[edit.start - 1 : edit.end] = list(edit.lines)
    return "\n".join(lines) + ("\n" if lines else "")


def unified(name: str, old: str, new: str) -> str:
    """A unified diff of one file (``a/NAME`` -> ``b/NAME``); "" when nothing changed."""
    if old == new:
        return ""
    diff = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    out = "".join(line if line.endswith("\n") else line + "\n" for line in diff)
    return out


def _interval(edit: Edit) -> tuple[float, float]:
    if edit.end < edit.start:  # an insertion point sits between lines
        return (edit.start - 0.5, edit.start - 0.5)
    return (float(edit.start), float(edit.end))


def conflict(a: Sequence[Edit], b: Sequence[Edit]) -> bool:
    """True when two edit lists touch the same lines (or insert at the same place)."""
    for x in a:
        for y in b:
            if x.file != y.file:
                continue
            (s1, e1), (s2, e2) = _interval(x), _interval(y)
            if s1 <= e2 and s2 <= e1:
                return True
    return False


def patch_for(edits: Sequence[Edit], files: dict[str, str]) -> tuple[str, dict[str, str]] | None:
    """The unified diff of ``edits`` over ``files`` (name -> text) and the new texts.

    None when the edited Dockerfile no longer parses.
    """
    out: list[str] = []
    new_files: dict[str, str] = {}
    for name in (DOCKERFILE, DOCKERIGNORE):
        mine = [e for e in edits if e.file == name]
        if not mine:
            continue
        old = files.get(name, "")
        new = apply_edits(old, mine)
        if name == DOCKERFILE:
            try:
                parse_dockerfile(new)
            except DockerfileError:
                return None
        new_files[name] = new
        out.append(unified(name, old, new))
    return "".join(out), new_files


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


def replace_in(ins: Instruction, pattern: str, replacement: str) -> tuple[str, ...] | None:
    """The instruction's source lines with a regex replaced (None when it does not occur)."""
    new, count = re.subn(pattern, replacement, ins.source)
    if not count or ins.heredocs:
        return None
    return tuple(new.splitlines())


def edit_instruction(ins: Instruction, lines: Sequence[str]) -> Edit:
    """Replace an instruction's lines."""
    return Edit(DOCKERFILE, ins.start_line, ins.end_line, tuple(lines))
