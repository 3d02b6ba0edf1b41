"""The diff screen: aligned layer pairs on the left, the file changes of the selected pair (or
of the whole image) in the reused file tree, the change under the cursor, config and packages."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input, Static

from layerscope.analysis.diff import ImageDiff
from layerscope.render.diff.text import signed, verdict
from layerscope.tui.diffmodel import WHOLE_IMAGE, DiffTreeModel, PairRow
from layerscope.tui.screens.filtering import FilteredTreeScreen
from layerscope.tui.screens.help import KeyGroups, Legend
from layerscope.tui.viewmodel import SortOrder
from layerscope.tui.widgets.diffinfo import change_details, diff_summary
from layerscope.tui.widgets.filetree import FileTree
from layerscope.tui.widgets.pairs import PairList

DIFF_KEYS: KeyGroups = (
    (
        "Everywhere",
        (
            ("tab / shift+tab", "next / previous pane (mouse: click a pane)"),
            ("ctrl+f  or  /", "filter the changed paths: a glob (*.so) or a regex"),
            ("esc", "clear and close the filter"),
            ("?", "this help"),
            ("q  or  ctrl+c", "quit"),
        ),
    ),
    (
        "Layer pairs",
        (
            ("↑ ↓  k j  pgup pgdn", "select: the whole image, or one aligned pair"),
            ("home g  /  end G", "first / last row"),
        ),
    ),
    (
        "Changed files",
        (
            ("↑ ↓  k j", "move (the pane below shows the change)"),
            ("pgup pgdn  u d  home end", "page, top, bottom"),
            ("← h  /  → l", "collapse or go to parent / expand"),
            ("space  (or click)", "collapse / expand the directory"),
            ("ctrl+space  or  c", "collapse / expand everything"),
            ("ctrl+o", "sort by size of the change or by name"),
            ("b", "jump to the biggest change"),
            ("ctrl+b", "show / hide mode and uid:gid"),
            ("ctrl+a  or  1", "hide / show added"),
            ("ctrl+n  or  2", "hide / show modified"),
            ("ctrl+r  or  3", "hide / show removed"),
        ),
    ),
    ("Image, config, packages", (("↑ ↓  pgup pgdn", "scroll"),)),
)
DIFF_LEGEND: Legend = (
    ("+", "green", "added in the new image"),
    ("~", "yellow", "content changed"),
    ("*", "yellow", "metadata only (mode, owner, xattrs)"),
    ("=", "yellow", "timestamp only"),
    ("-", "red", "removed from the new image"),
    (" ", "", "a directory on the way (sizes: the change below it)"),
)


class DiffScreen(FilteredTreeScreen):
    """Mediates between the panes: widgets post messages up, the screen pushes state down."""

    model: DiffTreeModel

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("ctrl+f,ctrl+underscore,/", "filter", "Filter"),
        Binding("escape", "close_filter", "Close filter", show=False),
    ]

    def __init__(self, diff: ImageDiff) -> None:
        super().__init__()
        self.diff = diff
        self.model = DiffTreeModel(diff)
        self.selected: PairRow | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="title")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield PairList(id="pairs")
                with VerticalScroll(id="diffinfo"):
                    yield Static(id="diffsummary")
            with Vertical(id="right"):
                yield Input(placeholder="path filter: glob (*.so) or regex", id="filter")
                yield FileTree(id="tree")
                with VerticalScroll(id="change", can_focus=False):
                    yield Static(id="change-details")
        yield Footer()

    def _title(self) -> str:
        old, new = self.diff.old, self.diff.new
        # The verdict first: at 80 columns the refs (also in the Images pane) are what gets cut.
        return (
            f" layerscope diff · {verdict(self.diff)} · {signed(self.diff.size_delta_bytes)} · "
            f"{old.ref} → {new.ref}"
        )

    def on_mount(self) -> None:
        pairs = self.query_one(PairList)
        pairs.border_title = "Layer pairs (old→new)"
        pairs.border_subtitle = "shared prefix shown once"
        self.query_one("#diffinfo").border_title = "Images · config · packages"
        self.query_one("#change").border_title = "Change"
        self.query_one(FileTree).attach(self.model)
        pairs.show(self.diff)
        self._select(pairs.pair_rows[0])
        pairs.focus()

    # -- state pushed down ----------------------------------------------------------------------

    def _select(self, row: PairRow) -> None:
        self.selected = row
        self.model.select_layer(row.key)
        self.query_one("#diffsummary", Static).update(diff_summary(self.diff, row.pair_index))
        self.query_one(FileTree).sync()
        self._caption()

    def _caption(self) -> None:
        model, row = self.model, self.selected
        tree = self.query_one(FileTree)
        if row is None or row.key == WHOLE_IMAGE:
            what = "whole image"
        elif row.status == "shared":
            what = f"shared {row.label}: none"
        else:
            what = f"{row.label} {row.status}"
        tree.border_title = f"Changes · {what}"
        parts = ["by change size" if model.sort is SortOrder.SIZE else "by name"]
        if model.hidden:
            parts.append("hiding " + ",".join(sorted(state.value for state in model.hidden)))
        if model.filter is not None:
            kind = "glob" if model.filter.is_glob else "regex"
            parts.append(f"{kind} {model.filter.text}")
        parts.append(f"{len(model.changes())} changes")
        tree.border_subtitle = " · ".join(parts)

    def _show_change(self) -> None:
        row = self.model.cursor_row
        change = self.model.change_at(row.path) if row is not None else None
        self.query_one("#change-details", Static).update(change_details(self.diff, row, change))

    # -- messages up ----------------------------------------------------------------------------

    @on(PairList.Selected)
    def _pair_selected(self, event: PairList.Selected) -> None:
        if event.row is not self.selected:
            self._select(event.row)

    @on(FileTree.CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_change()

    @on(FileTree.StateChanged)
    def _tree_changed(self) -> None:
        self._caption()

    # -- actions --------------------------------------------------------------------------------
