"""Parse Dockerfiles and link their instructions to image history and layers (formats.md 8a)."""

from __future__ import annotations

from .created_by import CreatedBy, instruction_from_created_by, parse_created_by
from .mapping import InstructionLayer, base_layer_count, map_history
from .model import Dockerfile, DockerfileError, Flag, Heredoc, Instruction, Stage
from .parser import parse_dockerfile

__all__ = [
    "CreatedBy",
    "Dockerfile",
    "DockerfileError",
    "Flag",
    "Heredoc",
    "Instruction",
    "InstructionLayer",
    "Stage",
    "base_layer_count",
    "instruction_from_created_by",
    "map_history",
    "parse_created_by",
    "parse_dockerfile",
]
