"""``inspect --format csv`` (the layer table) and ``--format csv-files`` (the file table).

The expected rows come from the image spec (worked out by hand below) and from what the image
writer reports (digests, stored sizes); the CSV is parsed back with the csv module. Paths and
instructions hold commas, quotes and line breaks, which RFC 4180 quotes.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.render.inspect_csv import FILE_COLUMNS, LAYER_COLUMNS
from layerscope.testing import (
    Dir,
    File,
    ImageSpec,
    LayerSpec,
    Symlink,
    Synthetic,
    Whiteout,
    WrittenImage,
    write_image,
)

REPO = Path(__file__).resolve().parents[2]
COMMA, QUOTE, NEWLINE = "/data/a,b.txt", '/data/say "hi".txt', "/data/two\nlines.txt"
BASE_CMD = '/bin/sh -c #(nop) ADD base, "the rootfs"\nin /'

SPEC = ImageSpec(
    layers=[
        LayerSpec(
            [
                Dir("/data"),
                File(COMMA, Synthetic(100, seed="a")),
                File(QUOTE, Synthetic(50, seed="q")),
                File(NEWLINE, Synthetic(30, seed="n")),
                File("/data/keep.bin", Synthetic(10, seed="k")),
                File("/data/big.bin", Synthetic(1000, seed="b")),
            ],
            created_by=BASE_CMD,
            created="2024-01-01T00:00:00Z",
        ),
        LayerSpec(
            [
                File(COMMA, Synthetic(200, seed="a2")),
                Whiteout("/data/big.bin"),
                File("/data/new.txt", Synthetic(7, seed="new")),
            ],
            created_by="/bin/sh -c echo 'a,b' > /data/a,b.txt && rm /data/big.bin",
            created="2024-01-02T00:00:00Z",
        ),
        LayerSpec(
            [
                File(QUOTE, Synthetic(50, seed="q"), mode=0o600),
                Symlink("/data/link", "keep.bin"),
            ],
            created_by='/bin/sh -c chmod 600 "/data/say \\"hi\\".txt"',
            created="2024-01-03T00:00:00Z",
        ),
    ],
)

# (layer, path, change, kind, detail, size_bytes, size_delta_bytes, reason, hidden_by_layer),
# worked out from SPEC: layer 1 overwrites a,b.txt and deletes big.bin, layer 2 rewrites
# say "hi".txt with another mode; implicit parents are no change of their own.
EXPECTED_FILES = [
    ("0", "/data", "added", "dir", "", "0", "0", "", ""),
    ("0", COMMA, "added", "file", "", "100", "100", "overwritten", "1"),
    ("0", "/data/big.bin", "added", "file", "", "1000", "1000", "deleted", "1"),
    ("0", "/data/keep.bin", "added", "file", "", "10", "10", "", ""),
    ("0", QUOTE, "added", "file", "", "50", "50", "metadata_rewrite", "2"),
    ("0", NEWLINE, "added", "file", "", "30", "30", "", ""),
    ("1", COMMA, "modified", "file", "content", "200", "100", "", ""),
    ("1", "/data/big.bin", "removed", "file", "", "0", "-1000", "", ""),
    ("1", "/data/new.txt", "added", "file", "", "7", "7", "", ""),
    ("2", "/data/link", "added", "symlink", "", "0", "0", "", ""),
    ("2", QUOTE, "modified", "file", "metadata", "50", "0", "", ""),
]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WrittenImage]:
    path = tmp_path_factory.mktemp("csv") / "quirky.tar"
    written = write_image(SPEC, path, "oci-tar", compression="gzip")
    return path, written.images[0]


def _run(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return out.getvalue()


def _parse(text: str) -> list[list[str]]:
    assert text.endswith("\r\n")  # RFC 4180 line ends
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_layer_table_from_the_spec(image: tuple[Path, WrittenImage]) -> None:
    path, written = image
    rows = _parse(_run("inspect", str(path), "--format", "csv"))
    assert tuple(rows[0]) == LAYER_COLUMNS
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    expected = [
        # (size_bytes, added, modified, removed, added_bytes, removed_bytes, reclaimable, hides)
        (100 + 50 + 30 + 10 + 1000, 5, 0, 0, 1190, 0, 100 + 1000 + 50, 0),
        (200 + 7, 1, 1, 1, 7, 1000, 0, 100 + 1000),
        (50, 1, 1, 0, 0, 0, 0, 50),
    ]
    assert len(table) == len(SPEC.layers)
    for i, (row, layer, spec) in enumerate(zip(table, written.layers, SPEC.layers, strict=True)):
        size, added, modified, removed, added_bytes, removed_bytes, waste, hides = expected[i]
        assert row == {
            "index": str(i),
            "digest": layer.digest,
            "diff_id": layer.diff_id,
            "size_bytes": str(size),
            "compressed_size_bytes": str(layer.size_bytes),
            "is_base": "true" if i == 0 else "false",  # the first layer, as dive decides
            "created": spec.created,
            "created_by": spec.created_by,
            "entries": str(len(spec.entries)),
            "added": str(added),
            "modified": str(modified),
            "removed": str(removed),
            "added_bytes": str(added_bytes),
            "removed_bytes": str(removed_bytes),
            "reclaimable_bytes": str(waste),
            "hides_bytes": str(hides),
        }


def test_the_file_table_from_the_spec(image: tuple[Path, WrittenImage]) -> None:
    path, _ = image
    rows = _parse(_run("inspect", str(path), "--format", "csv-files"))
    assert tuple(rows[0]) == FILE_COLUMNS
    assert [tuple(row) for row in rows[1:]] == EXPECTED_FILES


def test_the_file_table_adds_up_to_the_layer_table(image: tuple[Path, WrittenImage]) -> None:
    """What a spreadsheet would check: per layer, the copies it wrote sum to its size and
    the hidden ones to its reclaimable bytes (JSON's figures)."""
    path, _ = image
    document = json.loads(_run("inspect", str(path), "--json"))
    rows = _parse(_run("inspect", str(path), "--format", "csv-files"))[1:]
    files = [dict(zip(FILE_COLUMNS, row, strict=True)) for row in rows]
    for layer in document["layers"]:
        mine = [f for f in files if f["layer"] == str(layer["index"])]
        assert sum(int(f["size_bytes"]) for f in mine) == layer["size_bytes"]
        hidden = sum(int(f["size_bytes"]) for f in mine if f["reclaimable_reason"])
        assert hidden == layer["reclaimable_bytes"]
        for change in ("added", "modified", "removed"):
            counted = [f for f in mine if f["change"] == change and f["kind"] != "dir"]
            assert len(counted) == layer[change]


def test_the_demo_layer_table_agrees_with_json(tmp_path: Path) -> None:
    demo = REPO / "fixtures" / "demo" / "demo-app.tar"
    document = json.loads(_run("inspect", str(demo), "--json"))
    out = tmp_path / "layers.csv"
    assert _run("inspect", str(demo), "--format", "csv", "-o", str(out)) == ""
    with out.open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    shared = [c for c in LAYER_COLUMNS if c in document["layers"][0]]
    assert len(shared) == 13
    assert [{c: row[c] for c in shared} for row in table] == [
        {c: _as_csv(layer[c]) for c in shared} for layer in document["layers"]
    ]


def _as_csv(value: object) -> str:
    """A JSON value as the CSV writes it: booleans lower case, null empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_with_an_html_page_beside_the_csv_stays_a_table(
    image: tuple[Path, WrittenImage], tmp_path: Path
) -> None:
    path, _ = image
    page = tmp_path / "page.html"
    text = _run("inspect", str(path), "--format", "csv", f"--html={page}")
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert len(_parse(text)) == 1 + len(SPEC.layers)  # no link line under the table


def test_at_a_terminal_csv_is_printed_not_browsed(image: tuple[Path, WrittenImage]) -> None:
    """A format asked for at a terminal prints it (no TUI, no colour)."""
    path, _ = image
    master, slave = os.openpty()
    try:
        with open(slave, "w", encoding="utf-8", closefd=False) as tty:
            assert tty.isatty()
            code = main(["inspect", str(path), "--format", "csv"], stdout=tty,
                        stderr=io.StringIO())  # fmt: skip
        assert code == 0
        printed = os.read(master, 65536).decode()
    finally:
        os.close(master)
        os.close(slave)
    assert printed.startswith(",".join(LAYER_COLUMNS) + "\r")
    assert "\x1b" not in printed


def test_csv_and_a_page_as_the_output_is_refused_naming_the_option() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["inspect", "x.tar", "--format", "csv", "--html"], stdout=out, stderr=err) == 2
    assert "cannot go with --format csv;" in err.getvalue()
    assert out.getvalue() == ""
