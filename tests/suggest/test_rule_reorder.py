"""analysis/suggest/reorder.py: COPY steps that change often moved below the RUNs that do not
read them, with the dependency manifests copied first."""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from layerscope.analysis import analyze
from layerscope.analysis.suggest import (
    EstimateBasis,
    Evidence,
    HistoryHints,
    InstructionStats,
    LeftOutReason,
    Op,
    OpKind,
    Suggestion,
    SuggestionKind,
    suggest,
)
from layerscope.analysis.suggest.compose import Files, combine, render_dockerfile
from layerscope.analysis.suggest.facts import CleanupFacts, CleanupFix, ReorderFacts
from layerscope.analysis.suggest.packages import package_graph, recommends_only
from layerscope.dockerfile import parse_dockerfile
from layerscope.model import Digest, HistoryEntry, Image, ImageConfig, Platform
from layerscope.render.suggest_words import left_out_detail, notes_words, words
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import memory_layer as layer
from layerscope.testing.memory import whiteout_entry as wh
from tests.suggest.shapes import BASE, BK, LISTS, ML_DOCKERFILE, PIP_CACHE, make_image, ml_image
from tests.suggest.shapes import patched_order as _order

SPLIT_DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
COPY src/ /src/
RUN pip install -r /src/requirements.txt
RUN echo ready > /ready
"""


NPM = """\
FROM node:20
WORKDIR /app
COPY . .
RUN npm ci
RUN npm run build
"""


GO = """\
FROM golang:1.22
WORKDIR /src
COPY . .
RUN go mod download
RUN go build -o /bin/app .
"""


EDITABLE = """\
FROM python:3.12
COPY . /app
RUN pip install -r /app/requirements.txt
RUN pip install -e /app
"""


def test_manifests_copied_before_the_install_and_sources_after() -> None:
    layers = (
        layer(0, [d("/bin"), f("/bin/sh", 1000)], created_by="COPY rootfs/ / # buildkit"),
        layer(
            1,
            [d("/src"), f("/src/requirements.txt", 20), f("/src/main.py", 30)],
            created_by="COPY src/ /src/ # buildkit",
        ),
        layer(
            2,
            [d("/usr/lib/site"), f("/usr/lib/site/requests.py", 500)],
            created_by="RUN /bin/sh -c pip install -r /src/requirements.txt # buildkit",
        ),
        layer(3, [f("/ready", 6)], created_by="RUN /bin/sh -c echo ready > /ready # buildkit"),
    )
    image = Image(
        ref="split:1",
        image_id=Digest("sha256:" + "cd" * 32),
        platform=Platform("linux", "amd64"),
        created=None,
        config=ImageConfig(),
        history=tuple(HistoryEntry(lay.created_by, comment=BK) for lay in layers),
        layers=layers,
    )
    report = suggest(analyze(image), dockerfile=parse_dockerfile(SPLIT_DOCKERFILE))
    (reorder,) = [s for s in report.suggestions if s.kind is SuggestionKind.REORDER_FOR_CACHE]
    # one edit: the manifest split and the move below every RUN that does not read the sources
    assert reorder.layers == (1, 2, 3)
    assert dict(report.patched_files)["Dockerfile"] == (
        "FROM scratch\n"
        "COPY rootfs/ /\n"
        "COPY src/requirements.txt /src/\n"
        "RUN pip install -r /src/requirements.txt\n"
        "RUN echo ready > /ready\n"
        "COPY src/ /src/\n"
    )


def test_no_split_when_the_install_reads_the_sources() -> None:
    text = SPLIT_DOCKERFILE.replace("pip install -r /src/requirements.txt", "pip install /src")
    layers = (
        layer(0, [d("/bin"), f("/bin/sh", 1000)], created_by="COPY rootfs/ / # buildkit"),
        layer(
            1,
            [d("/src"), f("/src/requirements.txt", 20), f("/src/setup.py", 30)],
            created_by="COPY src/ /src/ # buildkit",
        ),
        layer(
            2,
            [f("/usr/lib/site/pkg.py", 500)],
            created_by="RUN /bin/sh -c pip install /src # buildkit",
        ),
        layer(3, [f("/ready", 6)], created_by="RUN /bin/sh -c echo ready > /ready # buildkit"),
    )
    image = Image(
        ref="split:2",
        image_id=Digest("sha256:" + "ce" * 32),
        platform=Platform("linux", "amd64"),
        created=None,
        config=ImageConfig(),
        history=tuple(HistoryEntry(lay.created_by, comment=BK) for lay in layers),
        layers=layers,
    )
    report = suggest(analyze(image), dockerfile=parse_dockerfile(text))
    assert not [s for s in report.suggestions if s.kind is SuggestionKind.REORDER_FOR_CACHE]


def test_ml_shape_installs_stay_cached_and_sources_come_last() -> None:
    report = suggest(ml_image(), dockerfile=parse_dockerfile(ML_DOCKERFILE))
    patched = parse_dockerfile(dict(report.patched_files)["Dockerfile"])
    order = [" ".join(i.text.split()) for i in patched.final_stage.instructions]
    # requirements.txt alone before the pip install, the whole context after it, and the
    # venv step (which reads nothing copied) above both
    venv = order.index("RUN python3 -m venv /opt/venv")
    manifest = order.index("COPY requirements.txt /app/")
    install = next(n for n, t in enumerate(order) if "pip install" in t)
    context = order.index("COPY . /app")
    train = next(n for n, t in enumerate(order) if "train.py" in t)
    assert venv < manifest < install < context < train
    (reorder,) = [s for s in report.suggestions if s.kind is SuggestionKind.REORDER_FOR_CACHE]
    assert reorder.estimate_basis is EstimateBasis.STEP_ORDER
    # without recorded builds: the layers of the venv and install steps, per source edit
    assert reorder.estimated_saving_rebuild_bytes == 10 + 8000 + PIP_CACHE
    assert "requirements.txt" in words(reorder).title


def test_npm_manifests_and_lock_copied_before_npm_ci() -> None:
    analysis = make_image(
        "npm:1",
        [
            BASE,
            (None, [f("WORKDIR /app")]),
            (
                "COPY . . # buildkit",
                [
                    d("/app"),
                    f("/app/package.json", 40),
                    f("/app/package-lock.json", 400),
                    f("/app/src/index.js", 90),
                ],
            ),
            ("RUN /bin/sh -c npm ci # buildkit", [f("/app/node_modules/x/index.js", 9000)]),
            ("RUN /bin/sh -c npm run build # buildkit", [f("/app/dist/main.js", 300)]),
        ],
    )
    report = suggest(analysis, dockerfile=parse_dockerfile(NPM))
    assert _order(report) == [
        "WORKDIR /app",
        "COPY package-lock.json package.json ./",
        "RUN npm ci",
        "COPY . .",
        "RUN npm run build",
    ]


def test_go_modules_downloaded_before_the_sources_arrive() -> None:
    analysis = make_image(
        "go:1",
        [
            BASE,
            (None, [f("WORKDIR /src")]),
            (
                "COPY . . # buildkit",
                [f("/src/go.mod", 50), f("/src/go.sum", 900), f("/src/main.go", 200)],
            ),
            ("RUN /bin/sh -c go mod download # buildkit", [f("/root/go/pkg/mod/x.zip", 5000)]),
            ("RUN /bin/sh -c go build -o /bin/app . # buildkit", [f("/bin/app", 7000)]),
        ],
    )
    report = suggest(analysis, dockerfile=parse_dockerfile(GO))
    assert _order(report)[1:4] == ["COPY go.mod go.sum ./", "RUN go mod download", "COPY . ."]


def test_an_editable_install_keeps_the_sources_and_says_so() -> None:
    analysis = make_image(
        "editable:1",
        [
            BASE,
            (
                "COPY . /app # buildkit",
                [f("/app/requirements.txt", 30), f("/app/setup.py", 80), f("/app/pkg/a.py", 50)],
            ),
            (
                "RUN /bin/sh -c pip install -r /app/requirements.txt # buildkit",
                [f("/usr/lib/py/numpy.py", 8000)],
            ),
            ("RUN /bin/sh -c pip install -e /app # buildkit", [f("/usr/lib/py/app.pth", 10)]),
        ],
    )
    report = suggest(analysis, dockerfile=parse_dockerfile(EDITABLE))
    (reorder,) = [s for s in report.suggestions if s.kind is SuggestionKind.REORDER_FOR_CACHE]
    assert "editable or local install" in words(reorder).detail
    assert _order(report) == [
        "COPY requirements.txt /app/",
        "RUN pip install -r /app/requirements.txt",
        "COPY . /app",
        "RUN pip install -e /app",
    ]


def test_reorder_figures_from_recorded_history() -> None:
    # the context COPY (layer 3) missed in 4 of 5 builds; venv and install took 3 s and 40 s
    history = HistoryHints(
        (
            InstructionStats(3, "COPY . /app", misses=4, builds=5),
            InstructionStats(4, "RUN python3 -m venv /opt/venv", 0, 5, seconds=3.0),
            InstructionStats(5, "RUN pip install", 0, 5, seconds=40.0),
        )
    )
    report = suggest(ml_image(), dockerfile=parse_dockerfile(ML_DOCKERFILE), history=history)
    (reorder,) = [s for s in report.suggestions if s.kind is SuggestionKind.REORDER_FOR_CACHE]
    assert reorder.estimate_basis is EstimateBasis.HISTORY
    assert reorder.estimated_saving_rebuilds == 4 * 2
    assert reorder.estimated_saving_seconds == 4 * (3.0 + 40.0)
    assert reorder.estimated_saving_rebuild_bytes == 4 * (10 + 8000 + PIP_CACHE)
    assert "missed the cache in 4 of 5 recorded builds" in words(reorder).detail
