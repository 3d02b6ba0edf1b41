"""Self-contained HTML reports: one file with its stylesheet, script and data inline, no network
reference of any kind, so it opens offline and can be uploaded as a CI artifact.

Pages: ``render_inspect_html`` (``report`` and ``inspect --html``), ``render_diff_html``,
``render_history_html``, ``render_scan_html``. Each assembles its page from the blocks of
``layerscope.render.html.page`` (``document``, ``page_header``, ``card``, ``panel``,
``stacked_bar``, ``table``, ``bar_chart``) and, for a treemap, ``fstree.build_treemap`` with
``page.treemap_panel``.
"""

from __future__ import annotations

from .diff import render_diff_html
from .history import render_history_html
from .inspect import render_inspect_html
from .scan import render_scan_html

__all__ = ["render_diff_html", "render_history_html", "render_inspect_html", "render_scan_html"]
