"""analysis/suggest/ml.py: identical large files at several paths, and model files riding in a
layer with files that change (bytes worked out by hand)."""

from __future__ import annotations

from layerscope.analysis import Analysis
from layerscope.analysis.suggest import (
    Evidence,
    HistoryHints,
    InstructionStats,
    SuggestionKind,
    suggest,
)
from layerscope.analysis.suggest.facts import DuplicateFacts, ModelFacts
from layerscope.render.suggest_words import words
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from tests.suggest.shapes import BASE, make_image

CUDA = 3_000_000
WEIGHTS = 5_000_000


def test_identical_copies_keep_one() -> None:
    analysis = make_image(
        "dup:1",
        [
            BASE,
            (
                "RUN /bin/sh -c install-cuda # buildkit",
                [f("/usr/lib/libcuda.so", CUDA, content="c")],
            ),
            (
                "RUN /bin/sh -c pip install torch # buildkit",
                [d("/opt/torch"), f("/opt/torch/libcuda.so", CUDA, content="c")],
            ),
        ],
    )
    (dup,) = [s for s in suggest(analysis).suggestions if s.kind is SuggestionKind.DUPLICATE_FILES]
    assert dup.facts == DuplicateFacts(("/usr/lib/libcuda.so", "/opt/torch/libcuda.so"))
    assert dup.evidence == (Evidence("/opt/torch/libcuda.so", CUDA, 2),)  # the first copy stays
    assert dup.estimated_saving_bytes == CUDA
    assert dup.layers == (1, 2)


def test_small_copies_are_not_reported() -> None:
    analysis = make_image(
        "dup:2",
        [
            BASE,
            (
                "RUN /bin/sh -c x # buildkit",
                [f("/a", 1000, content="s"), f("/b", 1000, content="s")],
            ),
        ],
    )
    assert not [
        s for s in suggest(analysis).suggestions if s.kind is SuggestionKind.DUPLICATE_FILES
    ]


def _model_image() -> Analysis:
    return make_image(
        "model:1",
        [
            BASE,
            (
                "COPY . /app # buildkit",
                [d("/app"), f("/app/weights.safetensors", WEIGHTS), f("/app/main.py", 10)],
            ),
        ],
    )


def test_a_model_beside_the_sources_gets_a_layer_of_its_own() -> None:
    (model,) = [
        s for s in suggest(_model_image()).suggestions if s.kind is SuggestionKind.LARGE_MODEL_FILES
    ]
    assert model.facts == ModelFacts(1, 1, ("/app/weights.safetensors",), others=1)
    assert model.evidence == (Evidence("/app/weights.safetensors", WEIGHTS, 1),)
    assert model.estimated_saving_bytes == 0  # it saves rebuilds and pushes, not image bytes
    assert model.estimated_saving_rebuilds is None
    assert "shares the layer with 1 other files" in words(model).detail


def test_recorded_misses_are_the_rebuilds_it_saves() -> None:
    hints = HistoryHints((InstructionStats(1, "COPY . /app", misses=3, builds=5),))
    report = suggest(_model_image(), history=hints)
    (model,) = [s for s in report.suggestions if s.kind is SuggestionKind.LARGE_MODEL_FILES]
    assert model.estimated_saving_rebuilds == 3
    assert "it missed the cache in 3 of 5 builds" in words(model).detail
