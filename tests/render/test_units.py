"""The one byte formatter every renderer uses."""

from __future__ import annotations

import pytest

from layerscope.render.units import size


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "-"),
        (0, "0 B"),
        (999, "999 B"),
        (-999, "-999 B"),
        (1000, "1.0 kB"),
        (1_500, "1.5 kB"),
        (-1_500, "-1.5 kB"),
        (123_456_789, "123.5 MB"),
        (2_000_000_000, "2.0 GB"),
    ],
)
def test_size_is_si_with_one_decimal_and_plain_bytes_below_a_kilobyte(
    value: int | None, shown: str
) -> None:
    assert size(value) == shown


def test_text_and_check_share_it() -> None:
    from layerscope.render import text

    assert text.size is size
