"""The history text report's plain fast paths print exactly what rich prints for them."""

from __future__ import annotations

import pytest
from rich.text import Text

from layerscope.analysis.cache import cache_history
from layerscope.render import history_text
from layerscope.render.text import print_report
from tests.history.fleetkit import synthetic_build

REPO = "docker.io/team/fast"


@pytest.mark.parametrize("width", [40, 60, 80, 100, 200])
def test_plain_builds_table_is_rich_s_table(width: int) -> None:
    history = cache_history([synthetic_build(REPO, n, layers=6) for n in range(120)])
    fast = history_text._builds(history, width, plain=True)
    rich_table = history_text._builds(history, width, plain=False)
    assert not isinstance(rich_table, Text)
    # at 40 columns even the kept columns must wrap: that is left to rich
    assert isinstance(fast, Text) == (width >= 60)
    assert print_report(lambda w: [fast], width=width) == print_report(
        lambda w: [rich_table], width=width
    )


def test_plain_reasons_are_the_lines_rich_prints() -> None:
    history = cache_history([synthetic_build(REPO, n, layers=6) for n in range(50)])
    report = history_text.render_history(history, repository=REPO, width=100)
    why = history_text._why(history, 10)
    expected = print_report(lambda w: why, width=100)
    section = report.split("Why builds missed, and what it cost\n", 1)[1]
    assert section.startswith(expected)
    assert len(expected.splitlines()) == len(why) > 100
