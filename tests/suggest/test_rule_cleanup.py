"""analysis/suggest/cleanup.py: package-manager caches cleaned up in the step that makes
them, after the last step that still needs them."""

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
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from tests.suggest.shapes import BASE, LISTS, ML_DOCKERFILE, PIP_CACHE, make_image, ml_image
from tests.suggest.shapes import patched_order as _order
from tests.suggest.shapes import run_commands as _runs

APK = """\
FROM alpine:3.19
RUN apk update
RUN apk add curl
"""


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
