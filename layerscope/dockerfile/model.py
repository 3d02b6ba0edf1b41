"""Frozen types of a parsed Dockerfile: flags, heredocs, instructions, stages."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


class DockerfileError(ConfigError):
    """A Dockerfile that cannot be parsed, or that does not fit the image it is given with."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One ``--name[=value]`` option of an instruction (``--mount=type=cache,target=/x``)."""

    name: str
    value: str | None
    """None for a bare flag such as ``--link``."""
    text: str
    """The flag exactly as written."""

    @property
    def options(self) -> tuple[tuple[str, str], ...]:
        """``key=value`` pairs of a comma-separated value (``--mount``); bare keys map to ""."""
        if not self.value:
            return ()
        pairs: list[tuple[str, str]] = []
        for part in self.value.split(","):
            key, _, val = part.partition("=")
            pairs.append((key.strip().lower(), val.strip().strip("\"'")))
        return tuple(pairs)


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A here-document attached to RUN, COPY or ADD (``<<EOF`` ... ``EOF``)."""

    name: str
    """The delimiter word, without quotes."""
    content: str
    """The body, each line ending in a newline (leading tabs removed for ``<<-``)."""
    chomp: bool
    """True for ``<<-``."""
    expand: bool
    """False when the delimiter was quoted (no variable expansion)."""
    file_descriptor: int | None = None
    """The number in ``3<<EOF``, if any."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One Dockerfile instruction with its flags, arguments and exact place in the file."""

    keyword: str
    """Upper-case instruction name: RUN, COPY, FROM, ..."""
    flags: tuple[Flag, ...]
    arguments: str
    """What follows the keyword and flags, continuations joined, heredoc bodies left out."""
    words: tuple[str, ...]
    """The arguments split as the builder splits them (quotes removed); the list in exec form."""
    exec_form: tuple[str, ...] | None
    """The JSON list when written in exec form, else None."""
    heredocs: tuple[Heredoc, ...]
    start_line: int
    """1-based line of the keyword."""
    end_line: int
    """1-based last line (continuations and heredoc terminators included)."""
    source: str
    """Lines start_line..end_line exactly as written (newline-joined, no final newline)."""
    index: int
    """Position among all instructions of the file, from 0."""
    stage_index: int | None
    """The stage it belongs to; None for an ARG before the first FROM."""

    @property
    def text(self) -> str:
        """The instruction on one line: keyword, flags and arguments, as builders print it."""
        parts = [self.keyword, *(flag.text for flag in self.flags)]
        if self.arguments:
            parts.append(self.arguments)
        return " ".join(parts)

    @property
    def shell(self) -> str | None:
        """The command string in shell form; None in exec form."""
        return None if self.exec_form is not None else self.arguments

    def flag(self, name: str) -> str | None:
        """Value of the last ``--name=value`` flag; "" for a bare flag; None when absent."""
        found: str | None = None
        for flag in self.flags:
            if flag.name == name:
                found = flag.value if flag.value is not None else ""
        return found

    def flags_named(self, name: str) -> tuple[Flag, ...]:
        """Every flag with this name, in order (RUN may carry several ``--mount``)."""
        return tuple(flag for flag in self.flags if flag.name == name)


@dataclass(frozen=True, slots=True)
class Stage:
    """One build stage: a FROM and the instructions up to the next FROM."""

    index: int
    name: str | None
    """The ``AS name`` as written, or None."""
    base: str
    """The FROM image as written (``python:3.12``, ``${BASE}``, a stage name, ``scratch``)."""
    base_resolved: str
    """``base`` with ARGs declared before the first FROM substituted by their defaults."""
    platform: str | None
    parent_stage: int | None
    """Index of the earlier stage that ``base`` names, else None (an image or scratch)."""
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]
    """The stage's instructions after its FROM."""


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """A parsed Dockerfile."""

    path: str | None
    text: str
    directives: tuple[tuple[str, str], ...]
    """Parser directives at the top (``syntax``, ``escape``, ``check``), names lower-case."""
    escape: str
    global_args: tuple[Instruction, ...]
    """ARG instructions before the first FROM."""
    stages: tuple[Stage, ...]
    instructions: tuple[Instruction, ...]
    """Every instruction in file order (global ARGs and FROMs included)."""

    @property
    def final_stage(self) -> Stage:
        return self.stages[-1]

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.text.splitlines())

    def stage(self, name: str) -> Stage | None:
        """The stage called ``name`` (case-insensitive, as builders match it), or None."""
        wanted = name.lower()
        for stage in self.stages:
            if stage.name is not None and stage.name.lower() == wanted:
                return stage
        return None

    def stage_chain(self, index: int = -1) -> tuple[Stage, ...]:
        """The stage and the earlier stages it builds FROM, root first."""
        stage = self.stages[index]
        chain = [stage]
        while stage.parent_stage is not None:
            stage = self.stages[stage.parent_stage]
            chain.append(stage)
        return tuple(reversed(chain))

    def image_instructions(self, index: int = -1) -> tuple[Instruction, ...]:
        """Instructions whose results end up in the stage's image (its chain of stages)."""
        return tuple(ins for stage in self.stage_chain(index) for ins in stage.instructions)
