"""analysis/suggest/reproducible.py: base images that move (pin by digest) and layers that a
rebuild changed only in timestamps."""

from __future__ import annotations

from dataclasses import replace

from layerscope.analysis.suggest import HistoryHints, Suggestion, SuggestionKind, suggest
from layerscope.analysis.suggest.facts import PinBaseFacts, ReproducibleFacts
from layerscope.dockerfile import parse_dockerfile
from layerscope.model import Digest, FileEntry, Image
from layerscope.testing.memory import file_entry as f
from tests.suggest.shapes import BASE, make_image

DIGEST = "sha256:" + "12" * 32


def _pins(base: str, moved: bool = False) -> list[PinBaseFacts]:
    analysis = make_image("pin:1", [BASE, ("RUN /bin/sh -c make # buildkit", [f("/x", 1)])])
    text = f"FROM {base}\nRUN make\n"
    report = suggest(
        analysis, dockerfile=parse_dockerfile(text), history=HistoryHints(base_moved=moved)
    )
    found = [s for s in report.suggestions if s.kind is SuggestionKind.PIN_BASE]
    assert all(s.ops == () and s.layers == (0,) for s in found)  # the digest is the user's
    return [s.facts for s in found if isinstance(s.facts, PinBaseFacts)]


def test_latest_or_no_tag_is_pinned() -> None:
    assert _pins("debian") == [PinBaseFacts("debian", latest=True, moved=False)]
    assert _pins("debian:latest") == [PinBaseFacts("debian:latest", latest=True, moved=False)]


def test_a_tag_is_pinned_only_when_the_history_saw_it_move() -> None:
    assert _pins("debian:12") == []
    assert _pins("debian:12", moved=True) == [PinBaseFacts("debian:12", latest=False, moved=True)]
    assert _pins(f"debian:12@{DIGEST}", moved=True) == []


def _rebuilt(before: list[FileEntry], after: list[FileEntry]) -> list[Suggestion]:
    """Non-reproducible suggestions for a rebuild whose layer 1 went from ``before`` to
    ``after`` (same step, another diff_id)."""
    step = "RUN /bin/sh -c python3 -m compileall /app # buildkit"
    now = make_image("repro:2", [BASE, (step, after)])
    old = make_image("repro:1", [BASE, (step, before)]).image
    layers = (old.layers[0], replace(old.layers[1], diff_id=Digest("sha256:" + "9" * 64)))
    previous: Image = replace(old, layers=layers)
    report = suggest(now, previous=previous)
    return [s for s in report.suggestions if s.kind is SuggestionKind.NON_REPRODUCIBLE]


def test_a_layer_differing_only_in_mtimes() -> None:
    (s,) = _rebuilt([f("/app/m.py", 100, mtime=1.0)], [f("/app/m.py", 100, mtime=2.0)])
    assert isinstance(s.facts, ReproducibleFacts)
    assert (s.facts.layer, s.facts.only_timestamps) == (1, True)
    assert s.evidence == () and s.estimated_saving_rebuilds == 1


def test_a_layer_differing_in_bytecode_that_embeds_the_time() -> None:
    pyc = "/app/__pycache__/m.cpython-311.pyc"
    (s,) = _rebuilt([f(pyc, 50, content="then")], [f(pyc, 50, content="now")])
    assert isinstance(s.facts, ReproducibleFacts) and not s.facts.only_timestamps
    assert [e.path for e in s.evidence] == [pyc]


def test_a_real_change_is_not_reported() -> None:
    assert _rebuilt([f("/app/m.py", 100, content="a")], [f("/app/m.py", 100, content="b")]) == []
