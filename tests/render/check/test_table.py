"""check dispatches every output format through one table."""

from __future__ import annotations

from layerscope.commands.check import FORMATS, renderers


def test_the_parser_offers_exactly_the_formats_of_the_table() -> None:
    assert tuple(renderers()) == FORMATS
