"""``layerscope diff`` on written archives: exit codes, attribution, sources, options."""

from __future__ import annotations

import json
from pathlib import Path

from diffkit import Cli

from layerscope.testing import File, ImageSpec, LayerSpec, write_image
from tests.pyckit import HEADER, compiled_pyc


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


def _pip_rebuild(sources: dict[str, bytes], mtime: int) -> ImageSpec:
    """A pip-style image: sources and the .pyc files pip compiled from them at ``mtime``."""
    files: list[File] = []
    for name, text in sorted(sources.items()):
        files.append(File(f"/app/{name}.py", text, mtime=mtime))
        pyc = compiled_pyc(text, mtime, f"/app/{name}.py")
        files.append(File(f"/app/__pycache__/{name}.cpython-311.pyc", pyc, mtime=mtime))
    return ImageSpec(
        layers=[LayerSpec(files, "COPY . /app # buildkit", created="2024-01-01T00:00:00Z")]
    )


def test_semantic_drops_pyc_files_whose_bytes_differ_only_in_the_header(
    tmp_path: Path, run_cli: Cli
) -> None:
    """Two rebuilds that differ in one source file: not one content change per .pyc."""
    old_src = {f"mod{i:02d}": f"VALUE = {i}\n".encode() for i in range(30)}
    new_src = {**old_src, "mod07": b"VALUE = 'changed'\n"}
    write_image(_pip_rebuild(old_src, 1_700_000_000), tmp_path / "old.tar", "docker-25")
    write_image(_pip_rebuild(new_src, 1_700_086_400), tmp_path / "new.tar", "docker-25")
    # The oracle: compare the bytes the builder wrote, after the 16-byte .pyc header.
    old_files = {f.path: f.content for f in _pip_rebuild(old_src, 1).layers[0].entries}
    new_files = {f.path: f.content for f in _pip_rebuild(new_src, 2).layers[0].entries}
    real = sorted(
        path
        for path in old_files
        if (old_files[path][HEADER:] if path.endswith(".pyc") else old_files[path])
        != (new_files[path][HEADER:] if path.endswith(".pyc") else new_files[path])
    )
    assert real == ["/app/__pycache__/mod07.cpython-311.pyc", "/app/mod07.py"]
    code, out, _ = run_cli("diff", str(tmp_path / "old.tar"), str(tmp_path / "new.tar"), "--json")
    assert code == 0
    doc = json.loads(out)
    changes = {f["path"]: f["change"] for f in doc["files"]}
    assert sorted(p for p, c in changes.items() if c == "content") == real
    assert doc["summary"]["files"]["timestamp"] == len(old_files) - len(real)
    code, out, _ = run_cli(
        "diff", str(tmp_path / "old.tar"), str(tmp_path / "new.tar"), "--json", "--semantic"
    )
    doc = json.loads(out)
    assert sorted(f["path"] for f in doc["files"]) == real
    assert doc["summary"]["files"]["content"] == len(real)
