"""The composer: suggestions combined on a model of the build (what each step reads and
writes), never as independent line edits that break the build."""

from __future__ import annotations

from dataclasses import replace

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
from layerscope.dockerfile import parse_dockerfile
from layerscope.render.suggest_words import left_out_detail, words
from tests.analysis.imagekit import d, f
from tests.suggest.shapes import BASE, LISTS, ML_DOCKERFILE, PIP_CACHE, make_image, ml_image


def _runs(text: str) -> list[str]:
    return [i.arguments for i in parse_dockerfile(text).instructions if i.keyword == "RUN"]


def test_apt_lists_cleanup_lands_after_the_install_that_needs_them() -> None:
    # The first try of issue 16: `rm -rf /var/lib/apt/lists/*` was appended to the
    # `apt-get update` step, and the next step's `apt-get install` failed.
    report = suggest(ml_image(), dockerfile=parse_dockerfile(ML_DOCKERFILE))
    patched = dict(report.patched_files)["Dockerfile"]
    for run in _runs(patched):
        if "/var/lib/apt/lists" in run:
            assert "apt-get install" in run, run
            assert (
                run.index("apt-get update")
                < run.index("apt-get install")
                < run.index("rm -rf /var/lib/apt/lists")
            )
    (lifecycle,) = [r for r in _runs(patched) if "apt-get install" in r]
    assert "apt-get update" in lifecycle
    assert "--no-install-recommends" in lifecycle or "apt-get clean" in lifecycle


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


def test_a_cleanup_before_the_step_that_needs_it_is_rejected() -> None:
    # The old, line-edit patch: the list cleanup appended to the update step. The composer
    # checks every combined patch against the dependency graph and leaves it out.
    dockerfile = parse_dockerfile(ML_DOCKERFILE)
    update = next(i for i in dockerfile.instructions if i.arguments == "apt-get update")
    bad = Suggestion(
        id="cleanup-9",
        kind=SuggestionKind.SAME_LAYER_CLEANUP,
        facts=CleanupFacts(
            1, ("apt lists",), 1, (CleanupFix("apt lists", "rm -rf /var/lib/apt/lists/*"),)
        ),
        layers=(1,),
        instructions=(),
        lines=(),
        evidence=(Evidence("/var/lib/apt/lists/x", LISTS, 1),),
        estimated_saving_bytes=LISTS,
        ops=(Op(OpKind.APPEND, update.index, lines=("rm -rf /var/lib/apt/lists/*",)),),
    )
    combined = combine([bad], Files(dockerfile, None))
    assert combined.applied == ()
    (left,) = combined.left_out
    assert left.reason is LeftOutReason.BREAKS_DEPENDENCY
    assert "apt-get install" in left_out_detail(left) and "apt lists" in left_out_detail(left)
    # the same cleanup at the end of the install step is fine
    install = next(i for i in dockerfile.instructions if "apt-get install" in i.arguments)
    good = replace(bad, ops=(Op(OpKind.APPEND, install.index, lines=bad.ops[0].lines),))
    assert combine([good], Files(dockerfile, None)).applied == ("cleanup-9",)


def test_a_move_that_puts_a_consumer_before_its_producer_is_rejected() -> None:
    dockerfile = parse_dockerfile(ML_DOCKERFILE)
    copy = next(i for i in dockerfile.instructions if i.keyword == "COPY")
    train = next(i for i in dockerfile.instructions if "train.py" in i.arguments)
    names = {"COPY . /app": frozenset({"requirements.txt", "train.py"})}
    move = Suggestion(
        id="reorder-9",
        kind=SuggestionKind.REORDER_FOR_CACHE,
        facts=ReorderFacts("COPY . /app", "COPY", copy.start_line, train.start_line, runs=1),
        layers=(),
        instructions=(),
        lines=(),
        evidence=(),
        estimated_saving_bytes=0,
        ops=(Op(OpKind.MOVE_AFTER, copy.index, target=train.index),),
    )
    combined = combine([move], Files(dockerfile, None, copied=names))
    (left,) = combined.left_out
    assert left.reason is LeftOutReason.BREAKS_DEPENDENCY
    said = left_out_detail(left)
    assert "/app/requirements.txt" in said and "/app/train.py" in said


def test_every_suggestion_left_out_says_why() -> None:
    report = suggest(ml_image(), dockerfile=parse_dockerfile(ML_DOCKERFILE))
    ids = {s.id for s in report.suggestions}
    assert set(report.applied) | {x.id for x in report.left_out} == ids
    assert not set(report.applied) & {x.id for x in report.left_out}


def _order(report: object) -> list[str]:
    text = dict(report.patched_files)["Dockerfile"]
    return [" ".join(i.text.split()) for i in parse_dockerfile(text).final_stage.instructions]


NPM = """\
FROM node:20
WORKDIR /app
COPY . .
RUN npm ci
RUN npm run build
"""


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


GO = """\
FROM golang:1.22
WORKDIR /src
COPY . .
RUN go mod download
RUN go build -o /bin/app .
"""


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


EDITABLE = """\
FROM python:3.12
COPY . /app
RUN pip install -r /app/requirements.txt
RUN pip install -e /app
"""


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


APK = """\
FROM alpine:3.19
RUN apk update
RUN apk add curl
"""


def test_apk_index_cleanup_after_the_add_that_needs_it() -> None:
    analysis = make_image(
        "apk:1",
        [
            BASE,
            ("RUN /bin/sh -c apk update # buildkit", [f("/var/cache/apk/APKINDEX.tar.gz", 6000)]),
            ("RUN /bin/sh -c apk add curl # buildkit", [f("/usr/bin/curl", 2000)]),
        ],
    )
    report = suggest(analysis, dockerfile=parse_dockerfile(APK))
    (run,) = [t for t in _order(report) if t.startswith("RUN")]
    assert run.index("apk update") < run.index("apk add curl") < run.index("/var/cache/apk")


def test_every_cleanup_of_the_update_step_follows_the_install() -> None:
    # apt-get update also leaves pkgcache.bin: both cleanups go after the install
    analysis = make_image(
        "apt:2",
        [
            BASE,
            (
                "RUN /bin/sh -c apt-get update # buildkit",
                [f("/var/lib/apt/lists/x_Packages", LISTS), f("/var/cache/apt/pkgcache.bin", 900)],
            ),
            ("RUN /bin/sh -c apt-get install -y curl # buildkit", [f("/usr/bin/curl", 2000)]),
        ],
    )
    text = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n"
    report = suggest(analysis, dockerfile=parse_dockerfile(text))
    (run,) = [t for t in _order(report) if t.startswith("RUN")]
    install = run.index("apt-get install")
    assert run.index("apt-get update") < install < run.index("apt-get clean")
    assert install < run.index("rm -rf /var/lib/apt/lists/*")


def test_microdnf_cleans_with_its_own_command() -> None:
    analysis = make_image(
        "ubi:1",
        [
            BASE,
            (
                "RUN /bin/sh -c microdnf install -y tar # buildkit",
                [f("/usr/bin/tar", 500), f("/var/cache/yum/metadata/repo.xml", 4000)],
            ),
        ],
    )
    text = "FROM ubi9-minimal\nRUN microdnf install -y tar\n"
    report = suggest(analysis, dockerfile=parse_dockerfile(text))
    assert _order(report) == ["RUN microdnf install -y tar && microdnf clean all"]


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


STATUS = b"""\
Package: python3
Status: install ok installed
Architecture: amd64
Installed-Size: 5
Recommends: extra

Package: extra
Status: install ok installed
Architecture: amd64
Installed-Size: 7
"""
EXTENDED = b"Package: python3\nAuto-Installed: 0\n\nPackage: extra\nAuto-Installed: 1\n"


def test_lifecycle_run_carries_no_install_recommends_and_the_cleanups() -> None:
    dpkg = {
        "/var/lib/dpkg/status": STATUS,
        "/var/lib/apt/extended_states": EXTENDED,
        "/var/lib/dpkg/info/python3.list": b"/usr/bin/python3\n",
        "/var/lib/dpkg/info/extra.list": b"/usr/share/extra/big\n",
    }
    analysis = make_image(
        "apt:3",
        [
            BASE,
            ("RUN /bin/sh -c apt-get update # buildkit", [f("/var/lib/apt/lists/x", LISTS)]),
            (
                "RUN /bin/sh -c apt-get install -y python3 # buildkit",
                [
                    f("/usr/bin/python3", 5000),
                    f("/usr/share/extra/big", 7000),
                    *(f(path, len(data)) for path, data in dpkg.items()),
                ],
            ),
        ],
        contents={2: dpkg},
    )
    text = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y python3\n"
    report = suggest(analysis, dockerfile=parse_dockerfile(text))
    kinds = {s.kind for s in report.suggestions}
    assert SuggestionKind.NO_INSTALL_RECOMMENDS in kinds
    assert _order(report) == [
        "RUN apt-get update && apt-get install --no-install-recommends -y python3 "
        "&& rm -rf /var/lib/apt/lists/*"
    ]


def test_a_suggestion_a_real_build_broke_is_left_out_and_the_rest_kept() -> None:
    dockerfile = parse_dockerfile(ML_DOCKERFILE)
    first = suggest(ml_image(), dockerfile=dockerfile)
    broke = first.applied[0]
    again = suggest(ml_image(), dockerfile=dockerfile, failed={broke: "step 3 exited 100"})
    assert [s.id for s in again.suggestions] == [s.id for s in first.suggestions]
    assert again.applied == tuple(i for i in first.applied if i != broke)
    (left,) = [x for x in again.left_out if x.id == broke]
    assert left.reason is LeftOutReason.BUILD_FAILED and left.detail == "step 3 exited 100"


def test_an_insert_before_a_merged_step_lands_before_the_merged_run() -> None:
    dockerfile = parse_dockerfile(ML_DOCKERFILE)
    at = {i.arguments: i.index for i in dockerfile.instructions}
    train, rm = at["python3 train.py"], at["rm /app/data.csv"]
    ops = [Op(OpKind.MERGE, train, rm), Op(OpKind.INSERT_BEFORE, target=rm, lines=("ENV A=1",))]
    text = render_dockerfile(dockerfile, ops)
    assert text is not None
    assert text.endswith("ENV A=1\nRUN python3 train.py \\\n    && rm /app/data.csv\n")
