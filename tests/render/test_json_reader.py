"""The inspect document read back beside its writer (what `check --baseline FILE.json` uses)."""

from __future__ import annotations

import json

import pytest

from layerscope.analysis import analyze
from layerscope.model import Digest, EntryKind, FileEntry, Image, ImageConfig, Layer, Platform
from layerscope.render.json import (
    ImageTotals,
    NotAnInspectDocument,
    dumps,
    inspect_document,
    read_image_totals,
)


def _layer(index: int, size: int, compressed: int | None) -> Layer:
    entry = FileEntry(
        f"/f{index}", EntryKind.FILE, size, 0o644, 0, 0, 0.0, content_hash=f"h{index}"
    )
    return Layer(
        index=index,
        diff_id=Digest(f"sha256:{index:064x}"),
        digest=None,
        media_type=None,
        compressed_size_bytes=compressed,
        size_bytes=size,
        tar_size_bytes=0,
        history=None,
        entries=(entry,),
    )


def _image(*layers: Layer) -> Image:
    return Image(
        ref="t:1",
        image_id=Digest("sha256:" + "cd" * 32),
        platform=Platform("linux", "amd64"),
        created=None,
        config=ImageConfig(),
        history=(),
        layers=layers,
    )


def test_what_the_writer_writes_the_reader_reads() -> None:
    image = _image(_layer(0, 1200, 700), _layer(1, 34, 30))
    assert read_image_totals(dumps(inspect_document(analyze(image)))) == ImageTotals(1234, 730, 2)
    unknown = _image(_layer(0, 1200, 700), _layer(1, 34, None))
    assert read_image_totals(dumps(inspect_document(analyze(unknown)))) == ImageTotals(
        1234, None, 2
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[1, 2]", "list indices must be integers or slices, not str"),
        ('{"schema_version": 1, "image": {"layer_count": 1}}', "'size_bytes'"),
        ('{"schema_version": 1, "image": {"size_bytes": 1, "layer_count": 1.5}}', ""),
        (
            '{"schema_version": 1, "image": {"size_bytes": 1, "layer_count": 1, '
            '"compressed_size_bytes": "1 MB"}}',
            "",
        ),
    ],
)
def test_what_is_not_an_inspect_document_says_why(text: str, why: str) -> None:
    with pytest.raises(NotAnInspectDocument) as caught:
        read_image_totals(text)
    assert str(caught.value) == why


def test_a_document_without_the_optional_compressed_size() -> None:
    doc = {"schema_version": 1, "image": {"size_bytes": 5, "layer_count": 1}}
    assert read_image_totals(json.dumps(doc)) == ImageTotals(5, None, 1)
