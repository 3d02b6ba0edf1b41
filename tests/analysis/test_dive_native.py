"""The compiled short way of the dive figures' first layer (``plain_leaves`` in native/stack.c,
``dive.PLAIN_LEAVES``) against its oracle, the Python code of ``dive._first_layer``, and against
a reference computed here from the definition (a leaf: a path that is no other path's ancestor).

Layer 0 of the dive fixtures, the demo fixture, the project's builder images and random layer
sequences is taken both ways: the tree, the leaves (in their order) and every dive figure must be
identical, and the compiled function must have been used.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from layerscope.analysis import dive
from layerscope.model import EntryKind, FileEntry, Image
from layerscope.sources import load_image
from layerscope.testing import write_image
from layerscope.testing.memory import dir_entry, file_entry, memory_image, whiteout_entry
from layerscope.testing.specs import chown_rewrite_spec, large_spec
from tests.conftest import DIVE_FIXTURE_IMAGES

REPO = Path(__file__).resolve().parents[2]


def _compiled() -> Any:
    """The compiled function (its absence fails the test: no test passes without it)."""
    plain = dive.PLAIN_LEAVES
    if plain is None:
        pytest.fail(
            "layerscope._stack.plain_leaves is not built (no C compiler when `pip install -e .` "
            "ran?) or LAYERSCOPE_PURE_PYTHON is set"
        )
    return plain


def _both_ways(img: Image, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Compare; True when the compiled function took layer 0."""
    compiled = _compiled()
    layers = img.layers
    kinds = [set(entry.kind for entry in layer.entries) for layer in layers]
    later = [i for i, held in enumerate(kinds) if EntryKind.WHITEOUT in held]
    targets = dive._targets(layers[1 : max(later, default=0) + 1])
    outcomes = []
    for plain in (compiled, None):
        monkeypatch.setattr(dive, "PLAIN_LEAVES", plain)
        outcome = [dive.dive_metrics(img)]
        if layers:
            for stacked, wanted in ((False, None), (True, targets), (True, None)):
                short = dive._first_layer(layers[0], kinds[0], stacked, wanted)
                outcome.append(None if short is None else (short[0], list(short[1].items())))
        outcomes.append(outcome)
    monkeypatch.setattr(dive, "PLAIN_LEAVES", compiled)
    assert outcomes[0] == outcomes[1]
    return bool(layers) and compiled(layers[0].entries, None) is not None


def test_fixtures_and_builder_images(
    dive_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = 0
    for name in DIVE_FIXTURE_IMAGES:
        taken += _both_ways(load_image(str(dive_fixtures / f"{name}.tar")), monkeypatch)
    taken += _both_ways(load_image(str(REPO / "fixtures" / "demo" / "demo-app.tar")), monkeypatch)
    specs = {
        "chown": chown_rewrite_spec(),
        "large": large_spec(files=3000, total_bytes=2**20, whiteouts=300, rewrites=120),
    }
    for name, spec in specs.items():
        write_image(spec, tmp_path / f"{name}.tar")
        taken += _both_ways(load_image(str(tmp_path / f"{name}.tar")), monkeypatch)
    assert taken >= 4


_NAMES = ["a", "b", "é", "-x", "B", ".wh.y", "n\nl", ""]


def _random_path(rng: random.Random, odd: bool) -> str:
    names = _NAMES if odd else _NAMES[:5]
    path = "/" + "/".join(rng.choice(names) for _ in range(rng.randint(1, 4)))
    return path + "/" if odd and rng.random() < 0.05 else path


def _random_layer(rng: random.Random, odd: bool, whiteouts: bool) -> list[FileEntry]:
    entries: list[FileEntry] = []
    for _ in range(rng.randint(0, 30)):
        path = _random_path(rng, odd)
        roll = rng.random()
        if whiteouts and roll < 0.2:
            entries.append(whiteout_entry(path.rstrip("/") or "/a"))
        elif roll < 0.45:
            entries.append(dir_entry(path))
        else:
            entries.append(file_entry(path, rng.randint(0, 50)))
    return entries


def test_random_layer_sequences(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(1717)
    taken = 0
    for case in range(600):
        odd = case % 5 == 0  # names dive reads as whiteouts, newlines, a trailing "/"
        layers = [_random_layer(rng, odd, whiteouts=False)]
        layers += [_random_layer(rng, odd, whiteouts=True) for _ in range(rng.randint(0, 3))]
        taken += _both_ways(memory_image(*layers), monkeypatch)
    assert taken > 300


def _reference(
    entries: list[FileEntry], targets: set[str] | None
) -> tuple[dict[str, int], list[FileEntry] | None] | None:
    paths = [entry.path for entry in entries]
    if not paths:
        return None
    for path in paths:
        plain = path.startswith("/") and not path.endswith("/") and "\n" not in path
        if not plain or "/.wh." in path:
            return None
    sizes: dict[str, int] = {}
    for entry in entries:
        sizes[entry.path] = entry.size_bytes
    leaves = {
        path: size
        for path, size in sizes.items()
        if not any(other.startswith(path + "/") for other in paths)
    }
    if targets is None:
        return leaves, None
    near = [
        entry
        for entry in entries
        if entry.path in targets or any(entry.path.startswith(t + "/") for t in targets)
    ]
    return leaves, near


def test_plain_leaves_against_the_definition() -> None:
    plain = _compiled()
    rng = random.Random(6)
    found = 0
    for case in range(800):
        entries = _random_layer(rng, odd=rng.random() < 0.3, whiteouts=False)
        targets = None if case % 3 == 0 else {_random_path(rng, False) for _ in range(3)}
        expected = _reference(entries, targets)
        got = plain(entries, targets)
        assert (got and (list(got[0].items()), got[1])) == (
            expected and (list(expected[0].items()), expected[1])
        ), (entries, targets)
        found += got is not None
    assert found > 400
    for odd in ["/a/", "/", "a", "", "/a\nb", "/x/.wh.y", "/.wh..wh..opq"]:
        assert plain([file_entry("/ok", 1), file_entry(odd, 2)], None) is None, odd
