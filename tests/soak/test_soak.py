"""The one-minute soak: 8 processes looping inspect/check/history on one cache and one store
(``scripts/soak`` runs the ten-minute one; docs/reliability.md has its figures)."""

from __future__ import annotations

from pathlib import Path

from .run import IMAGES, soak


def test_one_minute_of_eight_concurrent_ci_runs(tmp_path: Path) -> None:
    summary = soak(1.0, 8, tmp_path)
    assert summary["runs_completed"] >= 8, summary  # every process got through a command
    assert summary["errors"] == 0, summary["first_errors"]
    assert summary["database_locked"] == 0
    assert summary["integrity_check"] == {"layer_cache": "ok", "history": "ok"}
    # one record per image (no duplicate, none lost), each with all its layers
    assert summary["build_records"] == summary["distinct_image_ids"] == IMAGES
    assert summary["layers_per_build"] == [3] * IMAGES
    # the bound held, and it was small enough to evict (fewer layers than the 7 distinct ones)
    assert summary["layer_cache_stored_bytes"] <= summary["layer_cache_max_bytes"]
    assert summary["layer_cache_layers"] < 7
