"""dumps_inspect writes the reclaimable items of a compact inspect document from encoded parts:
its text must be exactly what encoding the whole document gives, whatever the paths hold."""

from __future__ import annotations

import json

import pytest

from layerscope.analysis import analyze
from layerscope.analysis.suggest import suggest
from layerscope.model import Image
from layerscope.render.json import dumps, dumps_inspect, inspect_document
from layerscope.testing.memory import (
    dir_entry,
    file_entry,
    memory_image,
    memory_layer,
    whiteout_entry,
)

ODD_NAMES = ["plain", 'quo"te', "back\\slash", "tab\tnew\nline", "\x01ctl", "é✓", "\udcff"]


def _image(created_by: str) -> Image:
    names = [f"{name}{i}" for i in range(40) for name in ODD_NAMES]
    base = [dir_entry("/d"), *(file_entry(f"/d/{name}", 10 + i) for i, name in enumerate(names))]
    upper = [whiteout_entry(f"/d/{name}") for name in names[::3]]
    upper += [file_entry(f"/d/{name}", 7, content="new") for name in names[1::3]]
    layers = (
        memory_layer(0, base, created_by=created_by),
        memory_layer(1, upper, created_by='RUN rm "x" \u2028'),
    )
    return memory_image(*layers)


@pytest.mark.parametrize("created_by", ["ADD file:abc in / ", 'COPY "é" \\ \x00 /'])
def test_compact_text_equals_encoding_the_whole_document(created_by: str) -> None:
    analysis = analyze(_image(created_by))
    assert len(analysis.waste.items) > 100
    assert analysis.waste.items[0].writer_created_by == created_by
    suggestions = suggest(analysis)
    extra = {"proof": {"a": [1, 2.5, None]}}
    document = inspect_document(analysis, suggestions)
    document.update(extra)
    compact = dumps_inspect(analysis, suggestions, indent=None, extra=extra)
    assert compact == dumps(document, indent=None)
    assert json.loads(compact)["image"]["reclaimable"] == document["image"]["reclaimable"]
    assert dumps_inspect(analysis, suggestions, indent=2, extra=extra) == dumps(document)


def test_no_reclaimable_items() -> None:
    analysis = analyze(memory_image([file_entry("/a", 3)]))
    assert dumps_inspect(analysis, indent=None) == dumps(inspect_document(analysis), indent=None)
    assert '"reclaimable": []' in dumps_inspect(analysis, indent=None)
