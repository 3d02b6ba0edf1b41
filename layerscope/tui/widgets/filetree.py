"""The file tree: a virtualised line widget drawing the rows of a FileTreeModel."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from layerscope.analysis import ModifyDetail
from layerscope.tui.formatting import mode_text, owner_text, short_signed, short_size
from layerscope.tui.viewmodel import ChangeState, FileTreeModel, Row

MARKERS = {
    ChangeState.ADDED: "+",
    ChangeState.MODIFIED: "~",
    ChangeState.REMOVED: "-",
    ChangeState.UNCHANGED: " ",
}
DETAIL_MARKERS = {ModifyDetail.METADATA: "*", ModifyDetail.IDENTICAL: "="}
STATE_STYLES = {
    ChangeState.ADDED: Style(color="green"),
    ChangeState.MODIFIED: Style(color="yellow"),
    ChangeState.REMOVED: Style(color="red"),
    ChangeState.UNCHANGED: Style(),
}
_WIDE = 64  # below this width the mode and owner columns are left out unless asked for


def marker(row: Row) -> str:
    """The change mark: + added, ~ modified, * metadata-only, = identical, - removed."""
    if row.state is ChangeState.MODIFIED and row.detail in DETAIL_MARKERS:
        return DETAIL_MARKERS[row.detail]
    return MARKERS[row.state]


def row_text(row: Row, *, attributes: bool) -> str:
    """The plain text of one row (attributes, size, guides, name)."""
    guides = "".join("│   " if more else "    " for more in row.guides)
    branch = "└── " if row.last else "├── "
    if row.has_children:
        fold = "▾ " if row.expanded else "▸ "
    else:
        fold = ""
    name = row.name + ("/" if row.is_dir else "")
    entry = row.entry
    if entry is not None and entry.link_target is not None:
        name += f" → {entry.link_target}"
    prefix = f"{marker(row)} "
    if attributes:
        prefix += f"{mode_text(entry)} {owner_text(entry):>9} "
    if row.delta_bytes is not None:
        return f"{prefix}{short_signed(row.delta_bytes):>9}  {guides}{branch}{fold}{name}"
    return f"{prefix}{short_size(row.size_bytes):>8}  {guides}{branch}{fold}{name}"


class FileTree(ScrollView, can_focus=True):
    """The selected layer's files, drawn a viewport at a time."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup,u", "page(-1)", "Page up", show=False),
        Binding("pagedown,d", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "Top", show=False),
        Binding("end", "edge(1)", "Bottom", show=False),
        Binding("left,h", "collapse_or_parent", "Collapse", show=False),
        Binding("right,l", "expand", "Expand", show=False),
        Binding("space", "toggle_collapse", "Collapse"),
        # A terminal sends ctrl+space as NUL, which Textual names ctrl+@.
        Binding("ctrl+space,ctrl+@,c", "toggle_all", "All", key_display="^␣"),
        Binding("ctrl+o", "toggle_sort", "Sort"),
        Binding("b", "biggest", "Biggest"),
        Binding("ctrl+b", "toggle_attributes", "Attrs", show=False),
        Binding("ctrl+a,1", "hide('added')", "±Added", show=False),
        Binding("ctrl+n,2", "hide('modified')", "±Modified", show=False),
        Binding("ctrl+r,3", "hide('removed')", "±Removed", show=False),
        Binding("ctrl+u,4", "hide('unchanged')", "±Unchanged", show=False),
    ]
    COMPONENT_CLASSES = {"filetree--cursor"}
    DEFAULT_CSS = """
    FileTree { overflow-x: hidden; }
    FileTree > .filetree--cursor { background: $foreground 15%; text-style: bold; }
    FileTree:focus > .filetree--cursor { background: $accent 40%; }
    """

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another path (or on nothing)."""

        tree: FileTree
        path: str | None

    @dataclass
    class StateChanged(Message):
        """Sort, hidden kinds or collapse changed: the screen updates its captions."""

        tree: FileTree

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: FileTreeModel | None = None
        self.show_attributes: bool | None = None
        """None: automatic (shown when the widget is wide enough)."""
        self._page: tuple[int, int, int, list[Row]] | None = None
        self._version = 0

    # -- attributes down ------------------------------------------------------------------------

    def attach(self, model: FileTreeModel) -> None:
        """Show ``model``'s rows."""
        self.model = model
        self.sync()

    def sync(self, *, scroll: bool = True) -> None:
        """Redraw after the model changed; keep the cursor in view."""
        self._version += 1
        self._page = None
        count = self.model.row_count if self.model else 0
        self._set_virtual_size(Size(self.size.width, count))
        if scroll:
            self._scroll_to_cursor()
        self.refresh()
        if self.model is not None:
            row = self.model.cursor_row
            self.post_message(self.CursorMoved(self, row.path if row else None))

    def _set_virtual_size(self, size: Size) -> None:
        """A new row count. Setting ``virtual_size`` lays the whole screen out again (it is a
        layout reactive), though only the scroll bar changes: a layer change between a 137k-row
        and a 5k-row view paid for a layout of every pane. The scroll bars are updated in place
        instead; when one appears or goes, its reactive asks for the layout that needs."""
        if size == self.virtual_size:
            return
        update = getattr(self, "_scroll_update", None)
        if not self.is_mounted or update is None:
            self.virtual_size = size
            return
        self.set_reactive(Widget.virtual_size, size)
        update(size)

    def _scroll_to_cursor(self) -> None:
        if self.model is None:
            return
        cursor = self.model.cursor
        height = max(1, self.scrollable_content_region.height)
        top = round(self.scroll_y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif cursor >= top + height:
            self.scroll_to(y=cursor - height + 1, animate=False, immediate=True)

    # -- drawing --------------------------------------------------------------------------------

    def _attributes(self) -> bool:
        if self.show_attributes is not None:
            return self.show_attributes
        return self.size.width >= _WIDE

    def _rows(self, top: int, height: int) -> list[Row]:
        page = self._page
        if page is None or page[:3] != (self._version, top, height):
            rows = self.model.rows(top, height) if self.model else []
            self._page = page = (self._version, top, height, rows)
        return page[3]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        top = round(self.scroll_offset.y)
        rows = self._rows(top, self.scrollable_content_region.height)
        if y >= len(rows) or self.model is None:
            return Strip.blank(width, self.rich_style)
        row = rows[y]
        text = row_text(row, attributes=self._attributes())
        style = self.rich_style + STATE_STYLES[row.state]
        if top + y == self.model.cursor:
            style += self.get_component_rich_style("filetree--cursor")
        if len(text) > width:
            text = text[: max(0, width - 1)] + "…"
        return Strip([Segment(text.ljust(width), style)], width)

    def on_resize(self, event: events.Resize) -> None:
        self._page = None
        self.virtual_size = Size(event.size.width, self.model.row_count if self.model else 0)

    # -- mouse ----------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        if self.model is None:
            return
        index = round(self.scroll_offset.y) + event.y
        if not 0 <= index < self.model.row_count:
            return
        if index == self.model.cursor or event.chain > 1:
            self.model.cursor = index
            self.model.toggle_collapse()
            self.post_message(self.StateChanged(self))
        else:
            self.model.cursor = index
        self.sync()

    # -- actions --------------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        if self.model is not None:
            self.model.move_cursor(delta)
            self.sync()

    def action_page(self, direction: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        self.action_cursor(direction * height)

    def action_edge(self, end: int) -> None:
        if self.model is not None:
            self.model.cursor = max(0, self.model.row_count - 1) if end else 0
            self.sync()

    def action_toggle_collapse(self) -> None:
        if self.model is not None:
            self.model.toggle_collapse()
            self.sync()
            self.post_message(self.StateChanged(self))

    def action_collapse_or_parent(self) -> None:
        row = self.model.cursor_row if self.model else None
        if self.model is None or row is None:
            return
        if row.has_children and row.expanded:
            self.model.toggle_collapse()
        elif row.depth > 1:
            self.model.go_to(row.path.rsplit("/", 1)[0])
        self.sync()

    def action_expand(self) -> None:
        row = self.model.cursor_row if self.model else None
        if self.model is not None and row is not None and row.has_children and not row.expanded:
            self.model.toggle_collapse()
            self.sync()

    def action_toggle_all(self) -> None:
        if self.model is not None:
            self.model.toggle_all()
            self.sync()
            self.post_message(self.StateChanged(self))

    def action_toggle_sort(self) -> None:
        if self.model is not None:
            self.model.toggle_sort()
            self.sync()
            self.post_message(self.StateChanged(self))

    def action_biggest(self) -> None:
        if self.model is None:
            return
        path = self.model.largest_file()
        if path is not None and self.model.go_to(path):
            self.sync()
            self.scroll_to(y=max(0, self.model.cursor - 2), animate=False, immediate=True)
            self.notify(f"Biggest file: {path}", timeout=4)

    def action_toggle_attributes(self) -> None:
        self.show_attributes = not self._attributes()
        self.sync(scroll=False)

    def action_hide(self, state: str) -> None:
        if self.model is not None:
            self.model.toggle_hidden(ChangeState(state))
            self.sync()
            self.post_message(self.StateChanged(self))
