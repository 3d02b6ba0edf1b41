"""analyze: the composed result, and the purity of the core modules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from layerscope.analysis.base import BaseMethod
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import memory_image as image
from layerscope.testing.memory import whiteout_entry as wh


def test_analyze_composes_every_pass() -> None:
    pytest.importorskip("layerscope.analysis.dive")
    from layerscope.analysis import analyze

    # L0: /a 100, /b 50; L1 deletes /a. Reclaimable 100, final 50, image 150.
    img = image([f("/a", 100), f("/b", 50)], [wh("/a")])
    result = analyze(img)
    assert result.image is img
    assert len(result.changes) == 2
    assert result.changes[0].reclaimable_bytes == 100
    assert result.waste.reclaimable_bytes == 100
    assert result.final_fs_bytes == 50
    assert result.base.method is BaseMethod.DEFAULT and result.base.count == 1
    assert set(result.filesystem.final) == {"/b"}
    assert set(result.filesystem.at(0)) == {"/a", "/b"}


def test_tree_and_analysis_import_no_presentation_or_docker() -> None:
    code = (
        "import sys, layerscope.tree, layerscope.analysis.changes, "
        "layerscope.analysis.waste, layerscope.analysis.base\n"
        "bad = [m for m in ('rich', 'textual', 'docker', 'humanize') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
