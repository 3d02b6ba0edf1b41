"""What the fuzz campaign found, each now a one-line error (exit 2, or 3 for the registry)."""

from __future__ import annotations

import json

from . import harness


def _error_line() -> str:
    lines = harness.LAST_ERROR[0].strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_tag_list_whose_link_leads_back_is_an_error_not_a_hang() -> None:
    harness.setup()
    reg = harness._registry()
    tags = b'{"name": "fz/app", "tags": ["a"]}'
    for link in (
        '</v2/fz/app/tags/list?page=0>; rel="next"',  # to itself
        f'<http://{reg.host}/v2/fz/app/tags/list?page=1>; rel="next"',
    ):  # 0 -> 1 -> 1
        case = harness._Case(tag_pages=[(tags, link), (tags, link.replace("=0", "=1"))])
        with reg.lock:
            reg.case = case
            code = harness.run_cli("history", f"{reg.host}/fz/app", "--tags", "*", "--json")
        assert code == 3
        assert "the tag list's Link pages never end" in _error_line()


def test_dockerfile_that_is_not_utf8_is_a_usage_error() -> None:
    harness.setup()
    with harness.scratch() as tmp:
        (tmp / "Dockerfile").write_bytes(b"FROM scratch\nRUN echo \xe7\n")
        code = harness.run_cli(
            "suggest",
            harness._small_image_path(),
            "--dockerfile",
            str(tmp / "Dockerfile"),
            "--json",
            "--no-cache",
            "-q",
        )
    assert code == 2
    assert _error_line().endswith("Dockerfile: not UTF-8 text")


def test_gzip_layer_with_an_invalid_deflate_block_is_a_format_error() -> None:
    harness.setup()
    blob = bytearray(harness._compress("gzip", harness._LAYER_SEEDS[0]))
    blob[20] ^= 0xFF  # inside the first deflate block
    config = harness.config_json(["sha256:" + "0" * 64])
    harness.inspect_archive(harness.docker_archive([bytes(blob)], config=config))
    line = _error_line()
    assert line.startswith("layerscope: error: ") and "corrupt gzip" in line, line


def test_token_that_cannot_be_a_header_value_is_one_line_exit_3() -> None:
    harness.setup()
    for token in ("ab\u4e2d\u6587cd", "a\r\nX-Evil: 1", "a b"):
        harness.fuzz_registry_token(json.dumps({"token": token}).encode())
        line = _error_line()
        assert line.endswith("gave a token that is not printable ASCII"), line


def test_sparse_size_beyond_what_sqlite_holds_is_a_format_error() -> None:
    harness.setup()
    pax = harness._pax_record("GNU.sparse.realsize", str(10**20))
    pax += harness._pax_record("GNU.sparse.major", "1") + harness._pax_record(
        "GNU.sparse.minor", "0"
    )
    body = harness._pad(b"0\n")
    layer = (
        harness._header(b"pax", len(pax), b"x")
        + harness._pad(pax)
        + harness._header(b"big.img", len(body), b"0")
        + body
        + b"\0" * 1024
    )
    harness.inspect_archive(harness.docker_archive([layer]))
    line = _error_line()
    assert "declares a sparse size of 100000000000000000000 bytes" in line, line


def test_tag_list_that_is_not_a_tags_object_is_one_line_exit_3() -> None:
    harness.setup()
    reg = harness._registry()
    for body in (b"7", b'["a"]', b'{"tags": "abc"}', b'{"tags": 3}'):
        with reg.lock:
            reg.case = harness._Case(tag_pages=[(body, "")])
            code = harness.run_cli("history", f"{reg.host}/fz/app", "--tags", "*", "--json")
        assert code == 3
        assert _error_line().endswith("tag list is not a tags object")
