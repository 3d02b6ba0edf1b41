"""Parse Dockerfile text into instructions and stages (BuildKit's dockerfile frontend rules)."""

from __future__ import annotations

import json
import re

from .model import Dockerfile, DockerfileError, Flag, Heredoc, Instruction, Stage

KEYWORDS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN "
    "SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
_JSON_FORM = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
_FLAGGED = frozenset({"FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"})
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_]*)\s*=\s*(.*?)\s*$")
_COMMENT = re.compile(r"^\s*#")
_FLAG = re.compile(r"--([A-Za-z][\w-]*)(?:=((?:\"[^\"]*\"|'[^']*'|[^\s\"'])*))?")
_HEREDOC = re.compile(r"(?<![<\w])(\d*)<<(-?)(\"|'?)([A-Za-z_][\w.-]*)\3(?!<)")
_VAR = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::?[-+][^}]*)?\}|([A-Za-z_]\w*))")


def parse_dockerfile(text: str, *, path: str | None = None) -> Dockerfile:
    """Parse a Dockerfile; raises DockerfileError naming the file and line of the first problem."""
    where = path or "Dockerfile"
    lines = text.splitlines()
    directives, first = _directives(lines, where)
    escape = dict(directives).get("escape", "\\")
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    instructions: list[Instruction] = []
    i = first
    while i < len(lines):
        line = lines[i]
        if not line.strip() or _COMMENT.match(line):
            i += 1
            continue
        start = i
        logical, i = _logical_line(lines, i, continuation)
        match = re.match(r"\s*(\S+)\s*(.*)$", logical, re.S)
        if match is None:  # pragma: no cover - a non-blank line always matches
            continue
        keyword = match.group(1).upper()
        if keyword not in KEYWORDS:
            raise DockerfileError(f"{where}:{start + 1}: unknown instruction {match.group(1)}")
        rest = match.group(2).strip()
        flags: tuple[Flag, ...] = ()
        if keyword in _FLAGGED:
            flags, rest = _flags(rest)
        heredocs: tuple[Heredoc, ...] = ()
        if keyword in _HEREDOC_KEYWORDS and "<<" in rest:
            heredocs, i = _heredocs(rest, lines, i, where, start)
        exec_form = _exec_form(rest) if keyword in _JSON_FORM else None
        words = exec_form if exec_form is not None else split_words(rest, escape)
        instructions.append(
            Instruction(
                keyword=keyword, flags=flags, arguments=rest, words=words,
                exec_form=exec_form, heredocs=heredocs, start_line=start + 1, end_line=i,
                source="\n".join(lines[start:i]), index=len(instructions), stage_index=None,
            )
        )  # fmt: skip
    return _stages(text, path, where, directives, escape, instructions)


def _directives(lines: list[str], where: str) -> tuple[tuple[tuple[str, str], ...], int]:
    found: dict[str, str] = {}
    index = 0
    for index, line in enumerate(lines):  # noqa: B007 - index is used after the loop
        match = _DIRECTIVE.match(line.strip()) if line.startswith("#") else None
        if match is None or match.group(1).lower() not in _KNOWN_DIRECTIVES:
            break
        name = match.group(1).lower()
        if name in found:
            raise DockerfileError(f"{where}:{index + 1}: parser directive {name} given twice")
        found[name] = match.group(2)
    else:
        index = len(lines)
    escape = found.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(f"{where}: invalid escape directive {escape!r} (use \\ or `)")
    return tuple(found.items()), index


def _logical_line(lines: list[str], i: int, continuation: re.Pattern[str]) -> tuple[str, int]:
    """Join a line and its continuations (comments and blank lines inside are dropped)."""
    parts: list[str] = []
    line = lines[i]
    i += 1
    while True:
        cont = continuation.search(line)
        if cont is None:
            parts.append(line)
            return "".join(parts), i
        parts.append(line[: cont.start()])
        while i < len(lines) and (not lines[i].strip() or _COMMENT.match(lines[i])):
            i += 1
        if i >= len(lines):
            return "".join(parts), i
        line = lines[i]
        i += 1


def _flags(rest: str) -> tuple[tuple[Flag, ...], str]:
    flags: list[Flag] = []
    while rest.startswith("--"):
        match = _FLAG.match(rest)
        if match is None or (match.end() < len(rest) and not rest[match.end()].isspace()):
            break
        value = match.group(2)
        if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        flags.append(Flag(match.group(1).lower(), value, match.group(0)))
        rest = rest[match.end() :].lstrip()
    return tuple(flags), rest


def _heredocs(
    rest: str, lines: list[str], i: int, where: str, start: int
) -> tuple[tuple[Heredoc, ...], int]:
    found: list[Heredoc] = []
    for match in _HEREDOC.finditer(rest):
        fd, chomp, quote, name = match.groups()
        body: list[str] = []
        while True:
            if i >= len(lines):
                raise DockerfileError(
                    f"{where}:{start + 1}: heredoc <<{name} is not terminated by a line {name}"
                )
            line = lines[i]
            i += 1
            if chomp:
                line = line.lstrip("\t")
            if line == name:
                break
            body.append(line + "\n")
        found.append(Heredoc(name, "".join(body), bool(chomp), not quote, int(fd) if fd else None))
    return tuple(found), i


def _exec_form(rest: str) -> tuple[str, ...] | None:
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def split_words(text: str, escape: str) -> tuple[str, ...]:
    """Split on unquoted whitespace, removing quotes and escapes (as ENV/LABEL/COPY read words)."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    in_word = False
    chars = iter(text)
    for char in chars:
        if char == escape and quote != "'":
            nxt = next(chars, "")
            current.append(nxt if quote == "" or nxt in ('"', escape, "$") else char + nxt)
            in_word = True
        elif quote:
            if char == quote:
                quote = ""
            else:
                current.append(char)
        elif char in "\"'":
            quote = char
            in_word = True
        elif char.isspace():
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        else:
            current.append(char)
            in_word = True
    if in_word:
        words.append("".join(current))
    return tuple(words)


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace ``$NAME`` / ``${NAME}`` / ``${NAME:-default}`` with known values (others stay)."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in values:
            return values[name]
        default = re.match(r"\$\{\w+:?-([^}]*)\}", match.group(0))
        return default.group(1) if default else match.group(0)

    return _VAR.sub(repl, text)


def _stages(
    text: str,
    path: str | None,
    where: str,
    directives: tuple[tuple[str, str], ...],
    escape: str,
    instructions: list[Instruction],
) -> Dockerfile:
    global_args: list[Instruction] = []
    defaults: dict[str, str] = {}
    stages: list[Stage] = []
    body: list[Instruction] = []
    pending: Instruction | None = None
    out: list[Instruction] = []

    def close() -> None:
        if pending is not None:
            stages.append(_stage(pending, len(stages), tuple(body), stages, defaults, where))

    for ins in instructions:
        if ins.keyword == "FROM":
            close()
            pending = _replace_stage(ins, len(stages))
            body = []
            out.append(pending)
        elif pending is None:
            if ins.keyword != "ARG":
                raise DockerfileError(
                    f"{where}:{ins.start_line}: {ins.keyword} before the first FROM"
                )
            global_args.append(ins)
            out.append(ins)
            for word in ins.words:
                name, eq, value = word.partition("=")
                if eq:
                    defaults[name] = value
        else:
            moved = _replace_stage(ins, len(stages))
            body.append(moved)
            out.append(moved)
    if pending is None:
        raise DockerfileError(f"{where}: no FROM instruction")
    close()
    return Dockerfile(path, text, directives, escape, tuple(global_args), tuple(stages), tuple(out))


def _replace_stage(ins: Instruction, stage_index: int) -> Instruction:
    return Instruction(
        ins.keyword, ins.flags, ins.arguments, ins.words, ins.exec_form, ins.heredocs,
        ins.start_line, ins.end_line, ins.source, ins.index, stage_index,
    )  # fmt: skip


def _stage(
    from_ins: Instruction,
    index: int,
    body: tuple[Instruction, ...],
    earlier: list[Stage],
    defaults: dict[str, str],
    where: str,
) -> Stage:
    words = from_ins.words
    if not words:
        raise DockerfileError(f"{where}:{from_ins.start_line}: FROM needs an image")
    name: str | None = None
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2]
    elif len(words) != 1:
        raise DockerfileError(
            f"{where}:{from_ins.start_line}: FROM takes IMAGE [AS NAME], got {from_ins.arguments}"
        )
    base = words[0]
    resolved = substitute(base, defaults)
    parent = None
    for stage in earlier:
        if stage.name is not None and stage.name.lower() == resolved.lower():
            parent = stage.index
    return Stage(index, name, base, resolved, from_ins.flag("platform"), parent, from_ins, body)
