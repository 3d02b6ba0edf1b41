"""Pure suggest rules on hand-built images (tests/analysis/imagekit): bytes worked out by hand."""

from __future__ import annotations

import networkx as nx

from layerscope.analysis import analyze
from layerscope.analysis.suggest import SuggestionKind, suggest
from layerscope.analysis.suggest.packages import package_graph, recommends_only
from layerscope.dockerfile import parse_dockerfile
from layerscope.model import Digest, HistoryEntry, Image, ImageConfig, Platform
from layerscope.render.suggest_words import notes_words
from tests.analysis.imagekit import d, f, layer, wh

BK = "buildkit.dockerfile.v0"

DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
RUN make-big
LABEL a=b
RUN make-cache
RUN rm /big.bin
"""


def _image() -> Image:
    layers = (
        layer(0, [d("/bin"), f("/bin/sh", 1000)], created_by="COPY rootfs/ / # buildkit"),
        layer(1, [f("/big.bin", 5000)], created_by="RUN /bin/sh -c make-big # buildkit"),
        layer(
            2,
            [d("/root/.cache/pip"), f("/root/.cache/pip/a.whl", 700), f("/tool", 10)],
            created_by="RUN /bin/sh -c make-cache # buildkit",
        ),
        layer(3, [wh("/big.bin")], created_by="RUN /bin/sh -c rm /big.bin # buildkit"),
    )
    history = [HistoryEntry(lay.created_by, comment=BK) for lay in layers]
    history.insert(2, HistoryEntry("LABEL a=b", comment=BK, empty_layer=True))
    return Image(
        ref="test:1",
        image_id=Digest("sha256:" + "ab" * 32),
        platform=Platform("linux", "amd64"),
        created=None,
        config=ImageConfig(),
        history=tuple(history),
        layers=layers,
    )


def test_merge_cleanup_and_combined_patch() -> None:
    img = _image()
    analysis = analyze(img, dockerfile_base_count=0)
    dockerfile = parse_dockerfile(DOCKERFILE)
    report = suggest(analysis, dockerfile=dockerfile)
    kinds = {s.kind: s for s in report.suggestions}
    merge = kinds[SuggestionKind.MERGE_RUN]
    assert merge.estimated_saving_bytes == 5000  # /big.bin, written in layer 1, deleted in 3
    assert merge.layers == (1, 2, 3)
    cleanup = kinds[SuggestionKind.SAME_LAYER_CLEANUP]
    assert cleanup.estimated_saving_bytes == 700  # the pip cache file only, not /tool
    # the cleanup edits a RUN inside the merged block: composed on the build model, both apply
    # (the cleanup lands right after the step that makes the cache, inside the merged RUN)
    assert report.applied == (merge.id, cleanup.id)
    assert report.applied_saving_bytes == 5700
    assert report.total_saving_bytes == 5700
    patched = dict(report.patched_files)["Dockerfile"]
    assert patched == (
        "FROM scratch\nCOPY rootfs/ /\nRUN make-big \\\n    && make-cache \\\n"
        "    && rm -rf /root/.cache/pip \\\n    && rm /big.bin\nLABEL a=b\n"
    )
    parse_dockerfile(patched)  # still a Dockerfile
    assert cleanup.patch is not None and "rm -rf /root/.cache/pip" in cleanup.patch


def test_without_dockerfile_no_patch() -> None:
    report = suggest(analyze(_image()))
    assert report.patch is None
    assert all(s.patch is None for s in report.suggestions)
    assert {s.kind for s in report.suggestions} >= {
        SuggestionKind.MERGE_RUN,
        SuggestionKind.SAME_LAYER_CLEANUP,
    }


def test_recommends_only_graph() -> None:
    status = b"""\
Package: app
Status: install ok installed
Depends: lib
Recommends: extra | other

Package: lib
Status: install ok installed

Package: extra
Status: install ok installed
Depends: lib, deep

Package: deep
Status: install ok installed

Package: base
Status: install ok installed
Priority: required
Recommends: lib
"""
    graph, roots = package_graph(status, None)
    assert isinstance(graph, nx.DiGraph)
    assert roots == {"app", "base"}
    # extra only through app's Recommends; deep only through extra; lib is a Depends of app
    assert recommends_only(graph, roots) == {"extra", "deep"}
    extended = b"Package: app\nAuto-Installed: 0\n\nPackage: extra\nAuto-Installed: 0\n"
    graph, roots = package_graph(status, extended)
    assert recommends_only(graph, roots) == set()  # extra was installed by hand


SPLIT_DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
COPY src/ /src/
RUN pip install -r /src/requirements.txt
RUN echo ready > /ready
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


MERGE_ACROSS = """\
FROM scratch
COPY rootfs/ /
RUN fetch > /tmp/big.tgz
COPY app/ /app/
RUN unpack /tmp/big.tgz && rm /tmp/big.tgz
"""


def test_merge_moves_an_independent_copy_below_the_merged_run() -> None:
    layers = (
        layer(0, [d("/bin"), f("/bin/sh", 1000)], created_by="COPY rootfs/ / # buildkit"),
        layer(
            1,
            [d("/tmp"), f("/tmp/big.tgz", 9000)],
            created_by="RUN /bin/sh -c fetch > /tmp/big.tgz # buildkit",
        ),
        layer(2, [d("/app"), f("/app/main.py", 50)], created_by="COPY app/ /app/ # buildkit"),
        layer(
            3,
            [d("/opt"), f("/opt/data", 300), wh("/tmp/big.tgz")],
            created_by="RUN /bin/sh -c unpack /tmp/big.tgz && rm /tmp/big.tgz # buildkit",
        ),
    )
    image = Image(
        ref="merge:1",
        image_id=Digest("sha256:" + "de" * 32),
        platform=Platform("linux", "amd64"),
        created=None,
        config=ImageConfig(),
        history=tuple(HistoryEntry(lay.created_by, comment=BK) for lay in layers),
        layers=layers,
    )
    report = suggest(analyze(image), dockerfile=parse_dockerfile(MERGE_ACROSS))
    (merge,) = [s for s in report.suggestions if s.kind is SuggestionKind.MERGE_RUN]
    assert merge.estimated_saving_bytes == 9000  # the fetched file, never stored when merged
    assert merge.patch is not None
    assert dict(report.patched_files)["Dockerfile"] == (
        "FROM scratch\n"
        "COPY rootfs/ /\n"
        "RUN fetch > /tmp/big.tgz \\\n"
        "    && unpack /tmp/big.tgz && rm /tmp/big.tgz\n"
        "COPY app/ /app/\n"
    )


CHMOD_DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
COPY tools/ /opt/tools/
RUN chmod -R 755 /opt/tools
"""


def _chmod_image(builder: str) -> Image:
    """rootfs; tools copied with mode 0644; a RUN that only makes them 0755, as ``builder``
    records its history."""
    if builder == "classic":
        by = [
            "/bin/sh -c #(nop) COPY dir:" + "1" * 64 + " in / ",
            "/bin/sh -c #(nop) COPY dir:" + "2" * 64 + " in /opt/tools/ ",
            "/bin/sh -c chmod -R 755 /opt/tools",
        ]
    else:
        by = ["COPY rootfs/ / # buildkit", "COPY tools/ /opt/tools/ # buildkit",
              "RUN /bin/sh -c chmod -R 755 /opt/tools # buildkit"]  # fmt: skip
    tool = {"content": "pack", "mtime": 1.0}
    layers = (
        layer(0, [d("/bin"), f("/bin/sh", 1000)], created_by=by[0]),
        layer(1, [d("/opt/tools"), f("/opt/tools/pack.bin", 7000, mode=0o644, **tool)],  # type: ignore[arg-type]
              created_by=by[1]),
        layer(2, [d("/opt/tools"), f("/opt/tools/pack.bin", 7000, mode=0o755, **tool)],  # type: ignore[arg-type]
              created_by=by[2]),
    )  # fmt: skip
    comment = BK if builder == "buildkit" else ""
    return Image(
        ref="test:1",
        image_id=Digest("sha256:" + "cd" * 32),
        platform=Platform("linux", "amd64"),
        created=None,
        config=ImageConfig(),
        history=tuple(HistoryEntry(lay.created_by, comment=comment) for lay in layers),
        layers=layers,
    )


def test_copy_chmod_is_patched_only_where_the_builder_takes_it() -> None:
    """COPY --chmod needs BuildKit: an image the classic builder made gets the advice and the
    saving, but no patch that its builder would refuse ('--chmod option requires BuildKit')."""
    for builder, in_patch in (("buildkit", True), ("classic", False)):
        analysis = analyze(_chmod_image(builder), dockerfile_base_count=1)
        report = suggest(analysis, dockerfile=parse_dockerfile(CHMOD_DOCKERFILE))
        (chmod,) = [s for s in report.suggestions if s.kind is SuggestionKind.COPY_CHMOD]
        assert chmod.estimated_saving_bytes == 7000, builder
        patched = dict(report.patched_files).get("Dockerfile", "")
        assert ("COPY --chmod=0755 tools/ /opt/tools/" in patched) is in_patch, (builder, patched)
        assert (chmod.id in report.applied) is in_patch, builder
        if not in_patch:
            assert "BuildKit" in (notes_words(chmod.patch_notes) or "")
    # a Dockerfile that asks for BuildKit itself (a syntax directive) gets the patch either way
    analysis = analyze(_chmod_image("classic"), dockerfile_base_count=1)
    with_syntax = "# syntax=docker/dockerfile:1\n" + CHMOD_DOCKERFILE
    report = suggest(analysis, dockerfile=parse_dockerfile(with_syntax))
    assert "COPY --chmod=0755 tools/" in dict(report.patched_files)["Dockerfile"]
