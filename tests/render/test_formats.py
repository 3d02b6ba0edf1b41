"""The format table: dispatch, default, choices and help come from its entries."""

from __future__ import annotations

import pytest

from layerscope.render.formats import Format, FormatTable, Target


def _upper(subject: str, target: Target) -> str:
    return subject.upper() + ("!" if target.color else "")


def _wide(subject: str, target: Target) -> str:
    return f"{subject:>{target.width}}"


TABLE = FormatTable(
    Format("upper", _upper, "the subject shouting", shorthand="UPPER"),
    Format("wide", _wide, "the subject right-aligned"),
)


def test_dispatch_by_name_and_the_first_entry_is_the_default() -> None:
    assert TABLE.default == "upper"
    assert TABLE.names == ("upper", "wide")
    assert TABLE.render(None, "ab") == "AB"
    assert TABLE.render("upper", "ab", Target(color=True)) == "AB!"
    assert TABLE.render("wide", "ab", Target(width=5)) == "   ab"
    assert "wide" in TABLE and "csv" not in TABLE
    assert [f.shorthand for f in TABLE] == ["UPPER", None]


def test_help_names_every_choice_once() -> None:
    text = TABLE.help()
    assert text == (
        "output format: upper (default), the subject shouting; wide, the subject right-aligned"
    )


def test_a_table_refuses_duplicates_and_emptiness() -> None:
    with pytest.raises(ValueError):
        FormatTable(Format("a", _upper, "x"), Format("a", _wide, "y"))
    with pytest.raises(ValueError):
        FormatTable[str]()
