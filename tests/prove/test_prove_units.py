"""Pure parts of ``suggest --prove``: which layers a rebuild made anew, per-layer sizes from an
image history, relative error, and the text and JSON of a proof."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from layerscope.analysis.prove import (
    CacheExperiment,
    CacheRun,
    DroppedSuggestion,
    Proof,
    SuggestionProof,
    rebuilt_layers,
    relative_error,
)
from layerscope.analysis.suggest import SuggestionKind
from layerscope.render.prove import proof_document, render_proof_text
from layerscope.sources.daemon_build import _layer_sizes

REPO = Path(__file__).resolve().parents[2]


def test_rebuilt_layers_are_the_suffix_from_the_first_difference() -> None:
    before = [("a", 10), ("b", 20), ("c", 30), ("d", 40)]
    assert rebuilt_layers(before, before) == (0, 0)
    # c changed: c and everything above it is new, even d with the same diff_id
    after = [("a", 10), ("b", 20), ("x", 31), ("d", 40)]
    assert rebuilt_layers(before, after) == (2, 71)
    assert rebuilt_layers(before, [("a", 10), ("b", 20), ("c", 30), ("d", 40), ("e", 5)]) == (1, 5)
    assert rebuilt_layers([], [("a", 1)]) == (1, 1)


def test_layer_sizes_from_history() -> None:
    classic = [
        (100, ""),  # imported base
        (0, "/bin/sh -c #(nop)  ENV A=1"),
        (0, "/bin/sh -c #(nop) WORKDIR /app"),
        (7, "/bin/sh -c #(nop) COPY dir:abc in /app "),
        (0, "/bin/sh -c rm /x"),  # a RUN that stored nothing still made a layer
        (0, '/bin/sh -c #(nop)  CMD ["sh"]'),
    ]
    assert _layer_sizes(classic, 3) == [100, 7, 0]
    buildkit = [(100, ""), (0, "WORKDIR /app"), (7, "COPY . /app # buildkit"),
                (0, "ENV A=1")]  # fmt: skip
    assert _layer_sizes(buildkit, 3) == [100, 0, 7]  # WORKDIR made the folder: a layer
    assert _layer_sizes(buildkit, 2) == [100, 7]
    assert _layer_sizes(buildkit, 5) == [0] * 5  # does not add up: no per-layer sizes


def test_relative_error() -> None:
    assert relative_error(100, 95) == 0.05
    assert relative_error(0, 10) is None


def _proof() -> Proof:
    ran = ("COPY . /app", "RUN pip")
    run = CacheRun(steps=8, steps_hit=3, layers=10, layers_rebuilt=5, bytes_rebuilt=4096,
                   seconds=41.7, first_miss="COPY . /app", ran=ran)  # fmt: skip
    return Proof(
        builder="classic", original_bytes=1000, patched_bytes=400, estimated_saving_bytes=580,
        applied=("cleanup-1",), patch="--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1 +1 @@\n-x\n+y\n",
        patch_builds=True, original_seconds=3.0, patched_seconds=2.0,
        suggestions=(SuggestionProof("cleanup-1", SuggestionKind.SAME_LAYER_CLEANUP, 580, 600,
                                     True),
                     SuggestionProof("chmod-1", SuggestionKind.COPY_CHMOD, 10, None, False)),
        dropped=(DroppedSuggestion("chmod-1", "COPY --chmod=755 a /a", ("the --chmod option "
                 "requires BuildKit",), "the patched build failed at `COPY --chmod=755 a /a`"),),
        cache=CacheExperiment("src/app.py", run, run),
    )  # fmt: skip


def test_proof_document_and_text() -> None:
    proof = _proof()
    doc = proof_document(proof)
    assert doc["measured_saving_bytes"] == 600
    assert doc["relative_error"] == round(20 / 580, 4)
    assert doc["dropped"][0]["log_tail"] == ["the --chmod option requires BuildKit"]
    assert doc["cache_experiment"]["original"]["steps_run"] == ["COPY . /app", "RUN pip"]
    text = render_proof_text(proof)
    assert "saved 600 B measured, 580 B estimated, 3.4% off" in text
    assert "dropped chmod-1" in text and "| the --chmod option requires BuildKit" in text
    assert text.rstrip("\n").endswith("+y")


def test_the_cache_experiment_edit_is_a_comment_or_whitespace_unique_to_the_run() -> None:
    from layerscope.analysis.prove import edit_line

    assert edit_line("model/net.py", "0123abcd4567") == "\n# layerscope prove 0123abcd4567\n"
    assert edit_line("src/index.js", "0123abcd4567").startswith("\n// layerscope prove")
    assert edit_line("site/index.html", "ab").endswith(" -->\n")
    blank = edit_line("package.json", "0123abcd4567")
    assert blank.strip(" \t\n") == "" and len(blank) == 34
    assert blank != edit_line("package.json", "0123abce4567")


def test_a_kept_proof_reads_back_as_the_same_proof(tmp_path: Path) -> None:
    import json

    from layerscope.render.prove import proof_from_document
    from layerscope.store.proofs import load_proof, proof_key, save_proof

    proof = _proof()
    key = proof_key("sha256:aa", "FROM x\n", None, [("Dockerfile", "FROM y\n")])
    # every input is part of the key, and no two inputs run together
    assert key != proof_key("sha256:aa", "FROM x\n", "", [("Dockerfile", "FROM y\n")])
    assert key != proof_key("sha256:ab", "FROM x\n", None, [("Dockerfile", "FROM y\n")])
    assert key != proof_key("sha256:aa", "FROM x", "\n", [("Dockerfile", "FROM y\n")])
    assert load_proof(key, tmp_path) is None
    save_proof(key, json.dumps(proof_document(proof)), tmp_path)
    text, when = load_proof(key, tmp_path) or ("", "")
    back = proof_from_document(json.loads(text), recorded_at=when)
    assert replace(back, recorded_at=None) == proof
    assert back.recorded_at == when and when.endswith("Z")
    assert render_proof_text(back).lstrip("\n").startswith(f"Proof (an earlier run, {when})")
    assert [p.name for p in (tmp_path / "proofs").iterdir()] == [f"{key}.json"]


def test_a_proof_that_dropped_a_suggestion_makes_the_report_patch_the_one_that_built() -> None:
    from layerscope.analysis import analyze
    from layerscope.analysis.prove import apply_proof
    from layerscope.analysis.suggest import LeftOutReason, suggest
    from layerscope.dockerfile import parse_dockerfile
    from layerscope.sources import load_image

    demo = REPO / "fixtures" / "demo"
    report = suggest(
        analyze(load_image(str(demo / "demo-app.tar"))),
        dockerfile=parse_dockerfile((demo / "Dockerfile").read_text()),
    )
    first, *rest = report.applied
    proof = replace(
        _proof(),
        applied=tuple(rest),
        patch="the patch that built",
        dropped=(DroppedSuggestion(first, "RUN x", (), "it broke RUN x"),),
    )
    proved = apply_proof(report, proof)
    assert proved.proof is proof and proved.patch == "the patch that built"
    assert proved.applied == tuple(rest)
    assert (
        proved.left_out[0].id == first and proved.left_out[0].reason is LeftOutReason.BUILD_FAILED
    )
    assert {x.id for x in proved.left_out[1:]} == {x.id for x in report.left_out}
    by_id = {s.id: s for s in proved.suggestions}
    assert by_id[first].measured_note == "it broke RUN x"
