"""diff on images the real engine built: a source file changed (v2), a RUN inserted (v3).

FROM scratch with a busybox-static rootfs, ``docker build --network none``, ``docker save``,
and ``skopeo copy`` to an OCI layout. The same pair read from the engine and from OCI layouts
must give the same diff.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from layerscope.analysis.align import PairStatus
from layerscope.analysis.diff import FileChangeKind, ImageDiff, diff_images
from layerscope.dockerfile import instruction_from_created_by
from layerscope.model import Image
from layerscope.refs import parse_ref
from layerscope.render.diff.json import diff_document
from layerscope.sources import load_image

DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
COPY app/ /app/
{inserted}RUN echo built > /app/built.txt
RUN chmod 0600 /app/config.ini
"""
INSERTED = "RUN mkdir -p /opt/tool && dd if=/dev/zero of=/opt/tool/blob bs=1024 count=32\n"
TAG = "layerscope-test/diff-app:{}"


@dataclass(frozen=True)
class Built:
    saved: dict[str, Path]
    oci: dict[str, str]
    workdir: Path


def _run(argv: list[str]) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


@pytest.fixture(scope="module")
def built(
    docker_cli: str,
    docker_host: str,
    busybox_rootfs: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Built:
    ctx = tmp_path_factory.mktemp("diff-ctx")
    shutil.copytree(busybox_rootfs, ctx, symlinks=True, dirs_exist_ok=True)
    (ctx / "app").mkdir()
    (ctx / "app" / "main.sh").write_text("#!/bin/sh\necho v1\n")
    (ctx / "app" / "config.ini").write_text("[app]\nmode = test\n")
    (ctx / "Dockerfile.v1").write_text(DOCKERFILE.format(inserted=""))
    (ctx / "Dockerfile.v3").write_text(DOCKERFILE.format(inserted=INSERTED))
    out = tmp_path_factory.mktemp("diff-saved")
    saved: dict[str, Path] = {}
    oci: dict[str, str] = {}

    def build(name: str, dockerfile: str) -> None:
        tag = TAG.format(name)
        _run(
            [
                docker_cli,
                "build",
                "--network",
                "none",
                "-q",
                "-t",
                tag,
                "-f",
                str(ctx / dockerfile),
                str(ctx),
            ]
        )
        saved[name] = out / f"{name}.tar"
        _run([docker_cli, "save", "-o", str(saved[name]), tag])
        layout = out / f"{name}-oci"
        _run(
            [
                "skopeo",
                "--insecure-policy",
                "copy",
                "-q",
                f"docker-archive:{saved[name]}",
                f"oci:{layout}:app",
            ]
        )
        oci[name] = f"oci:{layout}:app"

    build("v1", "Dockerfile.v1")
    build("v3", "Dockerfile.v3")  # same context: the COPY layers are cache hits
    (ctx / "app" / "main.sh").write_text("#!/bin/sh\necho v2, changed\n")
    build("v2", "Dockerfile.v1")
    return Built(saved, oci, out)


def _load(ref: str) -> Image:
    return load_image(ref)


def _instr(diff: ImageDiff, pair_index: int) -> str:
    pair = diff.alignment.pairs[pair_index]
    image, index = (
        (diff.new, pair.new_index) if pair.new_index is not None else (diff.old, pair.old_index)
    )
    assert index is not None
    return instruction_from_created_by(image.layers[index].created_by)


def test_changed_source_file_is_blamed_on_the_copy(built: Built) -> None:
    diff = diff_images(_load(str(built.saved["v1"])), _load(str(built.saved["v2"])))
    assert diff.alignment.shared_count == 1  # the rootfs COPY is a cache hit
    pairs = diff.alignment.pairs
    assert [(p.old_index, p.new_index) for p in pairs] == [(i, i) for i in range(4)]
    assert pairs[1].status is PairStatus.CHANGED and pairs[1].same_instruction
    by_path = {c.path: c for c in diff.files}
    main = by_path["/app/main.sh"]
    assert main.kind is FileChangeKind.CONTENT
    assert main.size_delta_bytes == len("#!/bin/sh\necho v2, changed\n") - len(
        "#!/bin/sh\necho v1\n"
    )
    assert "COPY" in _instr(diff, main.pair_index or 0) and main.pair_index == 1
    # Every other change comes from the rebuilt RUN layers, each blamed on its own instruction.
    for change in diff.files:
        if change.path == "/app/built.txt":
            assert "echo built" in _instr(diff, change.pair_index or 0)
        elif change.path == "/app/config.ini":
            assert "chmod" in _instr(diff, change.pair_index or 0)
    semantic = diff_images(diff.old, diff.new, semantic=True)
    assert [(c.path, c.kind) for c in semantic.files] == [("/app/main.sh", FileChangeKind.CONTENT)]


def test_inserted_run_keeps_the_alignment(built: Built) -> None:
    diff = diff_images(_load(str(built.saved["v1"])), _load(str(built.saved["v3"])), semantic=True)
    got = [(p.old_index, p.new_index, p.status) for p in diff.alignment.pairs]
    assert got == [
        (0, 0, PairStatus.SHARED),
        (1, 1, PairStatus.SHARED),
        (None, 2, PairStatus.ADDED),
        (2, 3, got[3][2]),
        (3, 4, got[4][2]),
    ]
    assert {got[3][2], got[4][2]} <= {PairStatus.CHANGED, PairStatus.IDENTICAL}
    assert all(
        p.same_instruction
        for p in diff.alignment.pairs
        if p.old_index is not None and p.new_index is not None
    )
    blob = {c.path: c for c in diff.files}["/opt/tool/blob"]
    assert blob.kind is FileChangeKind.ADDED and blob.size_delta_bytes == 32 * 1024
    assert blob.pair_index == 2 and "dd if=/dev/zero" in _instr(diff, 2)
    # Nothing else differs in content, metadata or presence (timestamps are ignored here).
    assert {c.path for c in diff.files} == {"/opt/tool/blob"}


def _comparable(diff: ImageDiff) -> dict[str, object]:
    doc = diff_document(diff)
    for side in ("old", "new"):
        for key in ("ref", "source", "manifest_digest", "compressed_size_bytes", "image_id"):
            doc[side].pop(key)
    doc["summary"].pop("compressed_size_delta_bytes")
    for pair in doc["layers"]["pairs"]:
        pair.pop("compressed_size_delta_bytes")
        for side in ("old", "new"):
            if pair[side]:
                pair[side].pop("compressed_size_bytes")
    return json.loads(json.dumps(doc))  # type: ignore[no-any-return]


def test_daemon_and_oci_layout_give_the_same_diff(built: Built) -> None:
    from layerscope.sources import daemon

    from_engine = diff_images(
        daemon.load(parse_ref("daemon://" + TAG.format("v1"))),
        daemon.load(parse_ref("daemon://" + TAG.format("v3"))),
    )
    from_layout = diff_images(_load(built.oci["v1"]), _load(built.oci["v3"]))
    assert from_engine.new.source != from_layout.new.source
    assert _comparable(from_engine) == _comparable(from_layout)
