"""The help screen: every key binding, grouped by pane, and the tree's legend."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KeyGroups = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
Legend = tuple[tuple[str, str, str], ...]

KEYS: KeyGroups = (
    (
        "Everywhere",
        (
            ("tab / shift+tab", "next / previous pane (mouse: click a pane)"),
            ("ctrl+f  or  /", "filter the file tree by path: a glob (*.so) or a regex"),
            ("esc", "clear and close the filter"),
            ("H", "history: size and cache hit ratio across the recorded builds"),
            ("?", "this help"),
            ("q  or  ctrl+c", "quit"),
        ),
    ),
    (
        "Layers",
        (
            ("↑ ↓  k j  pgup pgdn", "select a layer"),
            ("home g  /  end G", "first / last layer"),
            ("ctrl+a", "tree shows the aggregated filesystem up to the layer"),
            ("ctrl+l", "tree shows only this layer's changes"),
        ),
    ),
    (
        "Files",
        (
            ("↑ ↓  k j", "move"),
            ("pgup pgdn  u d  home end", "page, top, bottom"),
            ("← h  /  → l", "collapse or go to parent / expand"),
            ("space  (or click)", "collapse / expand the directory"),
            ("ctrl+space  or  c", "collapse / expand everything"),
            ("ctrl+o", "sort by size (largest first) or by name"),
            ("b", "jump to the biggest file"),
            ("ctrl+b", "show / hide mode and uid:gid"),
            ("ctrl+a  or  1", "hide / show added"),
            ("ctrl+n  or  2", "hide / show modified"),
            ("ctrl+r  or  3", "hide / show removed"),
            ("ctrl+u  or  4", "hide / show unchanged"),
        ),
    ),
    (
        "Reclaimable",
        (
            ("↑ ↓  k j", "move"),
            ("enter  (or click)", "show the file in the layer that wrote it"),
        ),
    ),
    (
        "Suggestions (shown when there are some)",
        (
            ("↑ ↓  k j", "move; the details pane shows what and why"),
            ("enter  (or click)", "select the suggestion's first layer (and file)"),
            ("w", "write the combined patch beside the Dockerfile"),
        ),
    ),
)

LEGEND: Legend = (
    ("+", "green", "added by this layer"),
    ("~", "yellow", "modified: new content"),
    ("*", "yellow", "modified: metadata only (mode, owner)"),
    ("=", "yellow", "rewritten identical"),
    ("-", "red", "removed by this layer"),
    (" ", "", "unchanged"),
)


def help_table(keys_by_pane: KeyGroups = KEYS, legend: Legend = LEGEND) -> Table:
    """The key bindings and the legend as one table."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for pane, keys in keys_by_pane:
        table.add_row(Text(pane, style="bold underline"), "")
        for key, what in keys:
            table.add_row(key, what)
        table.add_row("", "")
    table.add_row(Text("File tree marks", style="bold underline"), "")
    for mark, style, what in legend:
        table.add_row(Text(f"[{mark}]", style=style), Text(what, style=style))
    return table


class HelpScreen(ModalScreen[None]):
    """Every key binding; any of esc, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, keys: KeyGroups = KEYS, legend: Legend = LEGEND) -> None:
        super().__init__()
        self.keys = keys
        self.legend = legend

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_table(self.keys, self.legend))

    def on_mount(self) -> None:
        box = self.query_one("#help")
        box.border_title = "layerscope keys"
        box.border_subtitle = "esc to close"

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
