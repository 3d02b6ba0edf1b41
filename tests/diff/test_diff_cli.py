"""``layerscope diff`` on written archives: exit codes, attribution, sources, options."""

from __future__ import annotations

import json
from pathlib import Path

from diffkit import Cli


def test_exit_code_only_when_asked(app_archives: Path, run_cli: Cli) -> None:
    v1, v2 = str(app_archives / "v1.tar"), str(app_archives / "v2.tar")
    assert run_cli("diff", v1, v2)[0] == 0
    assert run_cli("diff", v1, v2, "--exit-code")[0] == 1
    assert run_cli("diff", v1, v1, "--exit-code")[0] == 0


def test_same_image_from_two_sources_gives_the_same_diff(app_archives: Path, run_cli: Cli) -> None:
    docs = []
    for old in ("v1.tar", "v1-oci"):
        code, out, _ = run_cli(
            "diff", str(app_archives / old), str(app_archives / "v3.tar"), "--json"
        )
        assert code == 0
        docs.append(json.loads(out))
    a, b = docs
    assert a["layers"]["shared_count"] == b["layers"]["shared_count"] == 2
    # Equal except where the source shows: ref, source, manifest digest, stored sizes, image id
    # (the OCI config carries the same fields but the writer may differ in bytes).
    for doc in docs:
        for key in ("ref", "source", "manifest_digest", "compressed_size_bytes", "image_id"):
            doc["old"].pop(key)
        doc["summary"].pop("compressed_size_delta_bytes")
        for pair in doc["layers"]["pairs"]:
            pair.pop("compressed_size_delta_bytes")
            if pair["old"]:
                pair["old"].pop("compressed_size_bytes")
    assert a == b


def test_v3_inserted_run_is_attributed_and_keeps_alignment(
    app_archives: Path, run_cli: Cli
) -> None:
    code, out, _ = run_cli(
        "diff", str(app_archives / "v1.tar"), str(app_archives / "v3.tar"), "--json", "--semantic"
    )
    assert code == 0
    doc = json.loads(out)
    pairs = [
        (p["old"] and p["old"]["index"], p["new"] and p["new"]["index"], p["status"])
        for p in doc["layers"]["pairs"]
    ]
    assert pairs == [
        (0, 0, "shared"),
        (1, 1, "shared"),
        (None, 2, "added"),
        (2, 3, "changed"),
        (3, 4, "changed"),
    ]
    assert [(f["path"], f["change"], f["pair_index"]) for f in doc["files"]] == [
        ("/usr/bin/curl", "added", 2)
    ]
    assert doc["summary"]["size_delta_bytes"] == 2048  # the curl file of diffspecs


def test_tui_does_not_mix_with_file_formats(app_archives: Path, run_cli: Cli) -> None:
    v1 = str(app_archives / "v1.tar")
    for extra in (["--json"], ["--markdown"], ["--output", "x.md"]):
        code, _, err = run_cli("diff", v1, v1, "--tui", *extra)
        assert code == 2 and "--tui cannot be combined" in err


def test_output_file(app_archives: Path, run_cli: Cli, tmp_path: Path) -> None:
    v1, v2 = str(app_archives / "v1.tar"), str(app_archives / "v2.tar")
    target = tmp_path / "diff.md"
    code, out, _ = run_cli("diff", v1, v2, "--markdown", "-o", str(target))
    assert code == 0 and out == ""
    text = target.read_text()
    assert text.startswith("### layerscope diff:") and "<details>" in text
