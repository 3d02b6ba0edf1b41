"""Hand-built images of common naive Dockerfile shapes (layerscope.testing.memory), shared by the
composer tests: each pairs a Dockerfile with the layers its build would store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from layerscope.analysis import Analysis, analyze
from layerscope.analysis.suggest import SuggestionReport
from layerscope.dockerfile import parse_dockerfile
from layerscope.model import Digest, FileEntry, HistoryEntry, Image, ImageConfig, Platform
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import memory_image
from layerscope.testing.memory import memory_layer as layer
from layerscope.testing.memory import whiteout_entry as wh

BK = "buildkit.dockerfile.v0"

ML_DOCKERFILE = """\
FROM debian:bookworm
RUN apt-get update
RUN apt-get install -y python3 python3-pip python3-venv
WORKDIR /app
COPY . /app
RUN python3 -m venv /opt/venv
RUN /opt/venv/bin/pip install -r requirements.txt
RUN python3 train.py
RUN rm /app/data.csv
"""

BASE = ("/bin/sh -c #(nop) ADD file:base in / ", [d("/bin"), f("/bin/sh", 1000)])
"""The base image's one layer (a shell), first in every shape."""
LISTS = 40_000
ARCHIVE = 3_000
PIP_CACHE = 7_000
CSV = 90_000
PYC = 500


def make_image(
    ref: str,
    steps: Sequence[tuple[str | None, Sequence[FileEntry]]],
    base: int = 1,
    contents: Mapping[int, Mapping[str, bytes]] | None = None,
) -> Analysis:
    """An analysed image: ``steps`` are (created_by or None for an empty-layer step, entries);
    the first ``base`` layers belong to the base image; ``contents`` are the package-database
    bytes a layer scan keeps, per layer index."""
    layers = []
    history = []
    for created_by, entries in steps:
        if created_by is None:
            continue
        made = layer(len(layers), entries, created_by=created_by)
        kept = (contents or {}).get(len(layers))
        layers.append(replace(made, contents=tuple(sorted(kept.items()))) if kept else made)
    n = 0
    for created_by, entries in steps:
        if created_by is None:
            text = entries[0].path if entries else ""
            history.append(HistoryEntry(text, comment=BK, empty_layer=True))
        else:
            history.append(HistoryEntry(layers[n].created_by, comment=BK if n >= base else None))
            n += 1
    image = memory_image(*layers, ref=ref, image_id="sha256:" + "ef" * 32, history=history)
    return analyze(image, dockerfile_base_count=base)


def ml_image() -> Analysis:
    """The first-try shape of issue 16: apt update and install as two steps, the context
    copied before the venv and the pip install, a training step whose CSV the next step
    deletes."""
    return make_image(
        "ml:1",
        [
            BASE,
            (
                "RUN /bin/sh -c apt-get update # buildkit",
                [d("/var/lib/apt/lists"), f("/var/lib/apt/lists/deb_Packages.lz4", LISTS)],
            ),
            (
                "RUN /bin/sh -c apt-get install -y python3 python3-pip python3-venv # buildkit",
                [
                    f("/usr/bin/python3", 5000),
                    f("/var/cache/apt/archives/python3.deb", ARCHIVE),
                ],
            ),
            (None, [f("WORKDIR /app")]),
            (
                "COPY . /app # buildkit",
                [
                    d("/app"),
                    f("/app/requirements.txt", 20),
                    f("/app/train.py", 300),
                    f("/app/__pycache__/train.cpython-311.pyc", PYC),
                ],
            ),
            ("RUN /bin/sh -c python3 -m venv /opt/venv # buildkit", [f("/opt/venv/bin/py", 10)]),
            (
                "RUN /bin/sh -c /opt/venv/bin/pip install -r requirements.txt # buildkit",
                [
                    f("/opt/venv/lib/numpy.py", 8000),
                    f("/root/.cache/pip/http/wheel", PIP_CACHE),
                ],
            ),
            ("RUN /bin/sh -c python3 train.py # buildkit", [f("/app/data.csv", CSV)]),
            ("RUN /bin/sh -c rm /app/data.csv # buildkit", [wh("/app/data.csv")]),
        ],
    )


def run_commands(text: str) -> list[str]:
    """The arguments of every RUN of a Dockerfile text."""
    return [i.arguments for i in parse_dockerfile(text).instructions if i.keyword == "RUN"]


def patched_order(report: SuggestionReport) -> list[str]:
    """The final stage's instructions of the patched Dockerfile, one line each."""
    text = dict(report.patched_files)["Dockerfile"]
    return [" ".join(i.text.split()) for i in parse_dockerfile(text).final_stage.instructions]
