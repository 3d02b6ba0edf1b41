"""analysis/suggest/merge.py: RUN steps merged when a later one deletes or rewrites what an
earlier one wrote."""

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
