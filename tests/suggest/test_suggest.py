"""The suggest report on hand-built images (layerscope.testing.memory): rules together, the
combined patch, the total; bytes worked out by hand."""

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
