"""Each suggestion's estimate counts exactly what its own edit saves when built alone (issue
16, bench_prove): a lifecycle cleanup carries the merge it brings and the cache copies of every
step it merges; a ``__pycache__`` cleanup followed by a step that runs Python sets ``ENV
PYTHONDONTWRITEBYTECODE=1`` above that step (once, whatever number of cleanups ask); dropping
the Recommends also drops what installing them left (dpkg files, the downloaded .deb)."""

from __future__ import annotations

from layerscope.analysis.suggest import SuggestionKind, suggest
from layerscope.analysis.suggest.cleanup import NO_BYTECODE
from layerscope.analysis.suggest.notes import NoteKind
from layerscope.dockerfile import parse_dockerfile
from layerscope.testing.memory import file_entry as f
from tests.suggest.shapes import BASE, LISTS, make_image
from tests.suggest.test_rule_cleanup import EXTENDED as RULE_EXTENDED
from tests.suggest.test_rule_cleanup import STATUS as RULE_STATUS

PKGCACHE = 20_000
LISTS_COPY = 9_000
ARCHIVE = 3_000


def test_a_lifecycle_cleanup_counts_the_merge_and_the_cache_copies_it_removes() -> None:
    analysis = make_image(
        "apt:9",
        [
            BASE,
            (
                "RUN /bin/sh -c apt-get update # buildkit",
                [f("/var/lib/apt/lists/deb_Packages", LISTS),
                 f("/var/cache/apt/pkgcache.bin", PKGCACHE)],
            ),
            (
                "RUN /bin/sh -c apt-get install -y xz-utils # buildkit",
                [f("/usr/bin/xz", 5000), f("/var/cache/apt/pkgcache.bin", PKGCACHE + 1),
                 f("/var/lib/apt/lists/deb_Translation", LISTS_COPY),
                 f("/var/cache/apt/archives/xz-utils_5_amd64.deb", ARCHIVE)],
            ),
        ],
    )  # fmt: skip
    text = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y xz-utils\n"
    report = suggest(analysis, dockerfile=parse_dockerfile(text))
    by_layer = {
        s.layers[0]: s for s in report.suggestions if s.kind is SuggestionKind.SAME_LAYER_CLEANUP
    }
    lists = by_layer[1]
    # built alone: update + install + rm lists in one RUN, so the update's lists, its
    # pkgcache (the install rewrote it: no second copy) and the lists the install layer held
    assert lists.estimated_saving_bytes == LISTS + PKGCACHE + LISTS_COPY
    assert {(e.path, e.layer_index) for e in lists.evidence} == {
        ("/var/lib/apt/lists/deb_Packages", 1),
        ("/var/cache/apt/pkgcache.bin", 1),
        ("/var/lib/apt/lists/deb_Translation", 2),
    }
    # the merge alone saves only the rewritten file; the union counts each file once
    (merge,) = [s for s in report.suggestions if s.kind is SuggestionKind.MERGE_RUN]
    assert merge.estimated_saving_bytes == PKGCACHE
    archives = by_layer[2]
    assert archives.estimated_saving_bytes == PKGCACHE + 1 + LISTS_COPY + ARCHIVE
    assert report.total_saving_bytes == LISTS + PKGCACHE + PKGCACHE + 1 + LISTS_COPY + ARCHIVE


ML = """\
FROM debian:bookworm
RUN python3 -m venv /opt/venv
RUN /opt/venv/bin/pip install -r requirements.txt
RUN echo built
RUN /opt/venv/bin/python train.py
"""
PIP_PYC = 11_000
DEP_PYC = 400


def _ml(
    dockerfile: str = ML, env: bool = False
) -> tuple[list[str], dict[int, int], dict[int, tuple[NoteKind, ...]]]:
    analysis = make_image(
        "ml:9",
        [
            BASE,
            *([(None, [f("ENV PYTHONDONTWRITEBYTECODE=1")])] if env else []),
            ("RUN /bin/sh -c python3 -m venv /opt/venv # buildkit",
             [f("/opt/venv/lib/pip/__pycache__/main.cpython-311.pyc", PIP_PYC)]),
            ("RUN /bin/sh -c /opt/venv/bin/pip install -r requirements.txt # buildkit",
             [f("/opt/venv/lib/dep/__pycache__/dep.cpython-311.pyc", DEP_PYC),
              f("/opt/venv/lib/dep/dep.py", 900)]),
            ("RUN /bin/sh -c echo built # buildkit", [f("/built", 1)]),
            ("RUN /bin/sh -c /opt/venv/bin/python train.py # buildkit", [f("/data.csv", 10)]),
        ],
    )  # fmt: skip
    report = suggest(analysis, dockerfile=parse_dockerfile(dockerfile))
    cleanups = [s for s in report.suggestions if s.kind is SuggestionKind.SAME_LAYER_CLEANUP]
    patched = dict(report.patched_files)["Dockerfile"].splitlines()
    return (
        patched,
        {s.layers[0]: s.estimated_saving_bytes for s in cleanups},
        {s.layers[0]: tuple(n.kind for n in s.patch_notes) for s in cleanups},
    )


def test_a_pycache_cleanup_stops_later_python_steps_from_writing_it_back() -> None:
    patched, estimates, notes = _ml()
    assert estimates == {1: PIP_PYC, 2: DEP_PYC}
    assert NoteKind.PYCACHE_REWRITTEN in notes[1] and NoteKind.PYCACHE_REWRITTEN in notes[2]
    # once, above the first later step that runs Python (the pip install), for both cleanups
    assert patched.count(NO_BYTECODE) == 1, patched
    env = patched.index(NO_BYTECODE)
    assert patched[env + 1].startswith("RUN /opt/venv/bin/pip install --no-compile")
    assert patched[env - 1].strip().startswith("&& find /opt -name __pycache__")


def test_no_env_when_it_is_already_set_or_nothing_runs_python_later() -> None:
    already = ML.replace(
        "FROM debian:bookworm\n", "FROM debian:bookworm\nENV PYTHONDONTWRITEBYTECODE=1\n"
    )
    patched, _, notes = _ml(already, env=True)
    assert patched.count(NO_BYTECODE) == 1  # the Dockerfile's own, no second one
    assert all(NoteKind.PYCACHE_REWRITTEN not in n for n in notes.values())
    alone = ML.replace("RUN /opt/venv/bin/python train.py\n", "RUN echo done\n")
    patched, _, notes = _ml(alone)
    # the venv's cleanup is still followed by the pip install (Python); the pip install's is not
    assert patched.count(NO_BYTECODE) == 1
    assert NoteKind.PYCACHE_REWRITTEN not in notes[2]


STATUS = (
    RULE_STATUS
    + b"""
Package: extra-tools
Status: install ok installed
Architecture: amd64
Installed-Size: 7
"""
)
EXTENDED = RULE_EXTENDED + b"\nPackage: extra-tools\nAuto-Installed: 0\n"


def test_no_install_recommends_counts_what_installing_the_package_left() -> None:
    dpkg = {
        "/var/lib/dpkg/status": STATUS,
        "/var/lib/apt/extended_states": EXTENDED,
        "/var/lib/dpkg/info/python3.list": b"/usr/bin/python3\n",
        "/var/lib/dpkg/info/extra.list": b"/usr/share/extra/big\n",
        "/var/lib/dpkg/info/extra-tools.list": b"/usr/bin/tools\n",
    }
    installed = [
        f("/usr/bin/python3", 5000), f("/usr/share/extra/big", 7000), f("/usr/bin/tools", 50),
        f("/var/lib/dpkg/info/extra:amd64.md5sums", 60),
        f("/var/lib/dpkg/info/extra-tools.md5sums", 70),
        f("/var/cache/apt/archives/extra_1.0_amd64.deb", 2500),
        f("/var/cache/apt/archives/extra-tools_1.0_amd64.deb", 800),
        *(f(path, len(data)) for path, data in dpkg.items()),
    ]  # fmt: skip
    analysis = make_image(
        "apt:10",
        [BASE, ("RUN /bin/sh -c apt-get install -y python3 extra-tools # buildkit", installed)],
        contents={1: dpkg},
    )
    text = "FROM debian:bookworm\nRUN apt-get install -y python3 extra-tools\n"
    report = suggest(analysis, dockerfile=parse_dockerfile(text))
    (rec,) = [s for s in report.suggestions if s.kind is SuggestionKind.NO_INSTALL_RECOMMENDS]
    extra_list = len(dpkg["/var/lib/dpkg/info/extra.list"])
    assert rec.estimated_saving_bytes == 7000 + extra_list + 60 + 2500  # never extra-tools'
