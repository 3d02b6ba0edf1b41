"""The base of the TUI's tables: row cursor, vi keys, columns laid out for the table's width."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable


class FittedTable(DataTable[Any]):
    """A row-cursor table whose last column takes the width the others leave.

    Subclasses add their columns and rows in ``lay_out``; the table is laid out again (cursor
    kept) whenever its width changes.
    """

    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._filled_width = -1

    def lay_out(self) -> None:
        """Add the columns and rows (the table is empty when this is called)."""
        raise NotImplementedError

    def refill(self) -> None:
        """Lay the table out again for its current width, the cursor on the same row (a table
        not laid out yet is filled once the layout gives it a width)."""
        if not self.size.width:
            return
        row = self.cursor_row
        self._filled_width = self.size.width
        self.clear(columns=True)
        self.lay_out()
        if row:
            self.move_cursor(row=row)

    def on_resize(self) -> None:
        if self.size.width != self._filled_width:
            self.refill()

    def _size_updated(self, *args: Any, **kwargs: Any) -> bool:
        # Textual's layout sets the new size here, before it draws the frame; the Resize event
        # comes after that frame. Filled here, the first frame shows the table laid out for
        # its width (not an empty or width-0 table, then a second frame). A Textual without
        # this private hook still fills the table on the Resize event, one frame later.
        changed: bool = super()._size_updated(*args, **kwargs)
        if changed and self.size.width and self.size.width != self._filled_width:
            self.refill()
        return changed

    def room(self) -> int:
        """Width for one more column: what the columns added so far and its padding leave."""
        used = sum(column.get_render_width(self) for column in self.columns.values())
        return max(12, self.size.width - used - 2 * self.cell_padding - 2)

    @staticmethod
    def fit(header: str, values: Iterable[str]) -> int:
        """Width of a column that shows its header and every value whole."""
        return max([len(header), *(len(value) for value in values)])
