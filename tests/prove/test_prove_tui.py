"""``inspect IMAGE --dockerfile F --prove=each`` against the real engine: the suggestions pane
shows the measured figures beside the estimates (Textual Pilot), the proof is kept in the data
directory, and a later ``inspect --json`` without --prove carries it, marked as an earlier proof.
The measured saving shown is checked against the engine's own sizes of the naive image and of
an image built independently with the final patch."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from pathlib import Path

import pytest

from layerscope import cli
from layerscope.commands.common import Background, Streams
from layerscope.commands.inspect import analyse
from layerscope.commands.recording import HistoryAccess
from layerscope.commands.settings import ImageSettings, ProveSettings, SourceSettings
from layerscope.tui.app import InspectApp
from layerscope.tui.formatting import short_size
from layerscope.tui.widgets.suggestions import SuggestionList
from tests.prove.corpus import CHMOD, write_context
from tests.prove.kit import apply_patch, must_build, size_of
from tests.tui.helpers import screen_text


def _layerscope(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


async def _pane_and_details(app: InspectApp, wanted: str) -> tuple[str, str]:
    """(screen with the pane focused on ``wanted``, the same after moving on)."""
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.press("s")
        pane = app.screen.query_one(SuggestionList)
        for _ in range(len(pane.items)):
            if (pane.current() or pane.items[0]).id == wanted:
                break
            await pilot.press("down")
        await pilot.pause()
        return screen_text(app), str(pane.border_title)


@pytest.mark.docker
def test_inspect_prove_shows_measured_beside_estimates_and_keeps_the_proof(
    docker_cli: str, corpus_bases: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = write_context(CHMOD, tmp_path / "ctx")
    tag = f"layerscope-test/prove-tui-{uuid.uuid4().hex[:8]}:naive"
    must_build(docker_cli, ctx, tag, builder="buildkit", network="none")
    monkeypatch.chdir(ctx)
    monkeypatch.setenv("LAYERSCOPE_DOCKER_CLI", docker_cli)
    monkeypatch.setenv("LAYERSCOPE_DATA_DIR", str(tmp_path / "data"))
    ref = f"docker://{tag}"

    # what inspect --prove does before its interface opens (progress on stderr)
    settings = ImageSettings(ref, None, "Dockerfile", None, SourceSettings(quiet=True))
    prove = ProveSettings("each", None, None, "buildkit", "none", quiet=False)
    err = io.StringIO()
    with Background(err) as background:
        analysis, report = analyse(
            settings, Streams(io.StringIO(), err), background, HistoryAccess(None), prove=prove
        )
    assert "building original" in err.getvalue()
    proof = report.proof
    assert proof is not None and proof.recorded_at is None and proof.patch_builds
    assert proof.applied and proof.patch

    # the whole patch's saving, measured independently: the final patch applied with GNU patch
    # and built the same way, against the naive image, both sized by the engine
    check = write_context(CHMOD, tmp_path / "check")
    apply_patch(check, proof.patch)
    must_build(docker_cli, check, f"{tag}-check", builder="buildkit", network="none")
    independent = size_of(docker_cli, tag) - size_of(docker_cli, f"{tag}-check")
    assert independent > 0

    first = proof.applied[0]
    alone = next(s for s in report.suggestions if s.id == first).measured_saving_bytes
    assert alone is not None and alone > 0  # --prove=each built it on its own
    app = InspectApp(analysis=analysis, suggestions=report, background=False)
    screen, title = asyncio.run(_pane_and_details(app, first))
    assert title.endswith(f"{short_size(independent)} measured"), title
    assert f"{independent:,} bytes) measured" in screen  # the whole patch, exact
    assert f"{alone:,} bytes) saved by a real build" in screen  # this suggestion alone
    assert "Built" in screen and "Est." in screen  # the per-suggestion columns
    assert proof.cache is not None
    assert f"one-line edit of {proof.cache.touched}:" in screen  # the cache experiment
    assert "earlier proof" not in screen

    # kept: a later inspect --json (no --prove) of the same image and Dockerfile carries it
    code, out, err_text = _layerscope(["inspect", ref, "--dockerfile", "Dockerfile", "--json"])
    assert code == 0, err_text
    doc = json.loads(out)
    kept = doc["proof"]
    assert kept["recorded_at"] and kept["recorded_at"].endswith("Z")
    assert kept["measured_saving_bytes"] == independent
    items = {s["id"]: s for s in doc["suggestions"]["items"]}
    assert items[first]["measured_saving_bytes"] == alone
    code, text, _ = _layerscope(["inspect", ref, "--dockerfile", "Dockerfile", "--text"])
    assert code == 0 and f"Proof (an earlier run, {kept['recorded_at']})" in text
    # a different Dockerfile is a different proof: none shown
    (ctx / "Dockerfile").write_text(CHMOD.dockerfile + "LABEL a=b\n")
    code, out, _ = _layerscope(["inspect", ref, "--dockerfile", "Dockerfile", "--json"])
    assert code == 0 and "proof" not in json.loads(out)
