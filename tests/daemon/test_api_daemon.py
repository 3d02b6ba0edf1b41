"""The public API's load_image from the real Docker engine: an image loaded into the engine
reads back as the archive it came from, with the same figures."""

from __future__ import annotations

import uuid
from pathlib import Path

import layerscope
from layerscope.testing import Dir, File, ImageSpec, LayerSpec, Synthetic, Whiteout, write_image
from tests.integration.conftest import run


def test_daemon_reference_loads_the_archive_image(
    docker_cli: str, docker_host: str, tmp_path: Path
) -> None:
    tag = f"layerscope-api-{uuid.uuid4().hex[:12]}:1"
    spec = ImageSpec(
        layers=[
            LayerSpec([Dir("/data"), File("/data/big", Synthetic(50_000, "big"))], created_by="a"),
            LayerSpec([Whiteout("/data/big"), File("/data/small", b"x" * 10)], created_by="b"),
        ],
        repo_tags=[tag],
    )
    archive = write_image(spec, tmp_path / "image.tar", "docker-25").path
    run([docker_cli, "load", "-i", archive])
    try:
        engine = layerscope.load_image(f"docker://{tag}")
        archived = layerscope.load_image(str(archive))
        assert engine.source == "daemon"
        assert engine.diff_ids == archived.diff_ids
        assert [layer.entries for layer in engine.layers] == [
            layer.entries for layer in archived.layers
        ]
        analysis = layerscope.analyze(engine)
        assert analysis.dive == layerscope.analyze(archived).dive
        assert analysis.waste.deleted_bytes == 50_000  # the whiteout hides the big file
    finally:
        run([docker_cli, "rmi", tag])
