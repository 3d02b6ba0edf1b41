"""Synthetic rebuild series for the history tests, written with the project's image builder.

One "Dockerfile", four steps (the first is the base image's):

    layer 0  ADD rootfs          (base image: no BuildKit comment)
    layer 1  COPY requirements.txt /app/
    layer 2  RUN pip install -r /app/requirements.txt
    layer 3  COPY src/ /app/src/
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from layerscope.model import Image
from layerscope.sources import load_image
from layerscope.testing import File, ImageSpec, LayerSpec, write_image

BUILDKIT = "buildkit.dockerfile.v0"
REPO = "example.test/team/app"
BASE_CREATED_BY = "/bin/sh -c #(nop) ADD file:0f3a in / "
COPY_REQ = "COPY requirements.txt /app/ # buildkit"
RUN_PIP = "RUN /bin/sh -c pip install -r /app/requirements.txt # buildkit"
COPY_SRC = "COPY src/ /app/src/ # buildkit"


@dataclass(frozen=True)
class Inputs:
    """What one build of the series saw."""

    base: bytes = b"base v1\n"
    requirements: bytes = b"requests==2.31\n"
    sources: Mapping[str, bytes] = field(
        default_factory=lambda: {"main.py": b"print('hi')\n", "util.py": b"X = 1\n"}
    )
    src_mtime: int = 1000
    pip_output: bytes | None = None
    """Content the RUN writes; by default derived from the requirements (a reproducible step)."""
    run_command: str = RUN_PIP
    extra_layer: bool = False
    pip_files: Mapping[str, bytes] = field(default_factory=dict)
    """More files the RUN writes (path: bytes), e.g. the .pyc files pip compiles."""


def spec(tag: str, created: str, inputs: Inputs) -> ImageSpec:
    """The image one build produces from ``inputs``."""
    pip = inputs.pip_output if inputs.pip_output is not None else b"site:" + inputs.requirements
    layers = [
        LayerSpec([File("/etc/os-release", inputs.base, mtime=1)], BASE_CREATED_BY,
                  created="2020-01-01T00:00:00Z"),
        LayerSpec([File("/app/requirements.txt", inputs.requirements, mtime=5)], COPY_REQ,
                  created=created, comment=BUILDKIT),
        LayerSpec([File("/usr/lib/site/installed.txt", pip, mtime=7),
                   *(File(path, data, mtime=7) for path, data in sorted(inputs.pip_files.items()))],
                  inputs.run_command, created=created, comment=BUILDKIT),
        LayerSpec([File(f"/app/src/{name}", data, mtime=inputs.src_mtime)
                   for name, data in sorted(inputs.sources.items())],
                  COPY_SRC, created=created, comment=BUILDKIT),
    ]  # fmt: skip
    if inputs.extra_layer:
        layers.append(
            LayerSpec([File("/app/VERSION", b"1\n", mtime=9)], "COPY VERSION /app/ # buildkit",
                      created=created, comment=BUILDKIT)
        )  # fmt: skip
    return ImageSpec(layers=layers, repo_tags=[f"{REPO}:{tag}"], created=created)


def write(tmp: Path, tag: str, created: str, inputs: Inputs) -> Path:
    """Write the build as a docker-archive; return its path."""
    path = tmp / f"{tag}.tar"
    write_image(spec(tag, created, inputs), path, "docker-25")
    return path


def load(path: Path) -> Image:
    return load_image(str(path))
