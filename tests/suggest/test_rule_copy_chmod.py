"""analysis/suggest/copy_chmod.py: COPY --chmod/--chown instead of a later RUN chmod/chown
that stores the files twice."""

from __future__ import annotations

import networkx as nx

from layerscope.analysis import analyze
from layerscope.analysis.suggest import SuggestionKind, suggest
from layerscope.analysis.suggest.packages import package_graph, recommends_only
from layerscope.dockerfile import parse_dockerfile
from layerscope.model import Digest, HistoryEntry, Image, ImageConfig, Platform
from layerscope.render.suggest_words import notes_words
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import memory_layer as layer
from layerscope.testing.memory import whiteout_entry as wh
from tests.suggest.shapes import BK

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
