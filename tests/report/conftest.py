"""Fixtures of the HTML report tests: the demo image, a second version of it, the CLI, and a
fresh headless chromium per test."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerscope import cli
from layerscope.testing import Dir, File, ImageSpec, LayerSpec, Synthetic, write_image
from layerscope.testing.demo import demo_spec

from .cdp import Browser, browser

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo" / "demo-app.tar"
MODEL_BYTES = 500_000
"""/tmp/model.tar.gz of the demo image: downloaded by layer 4, deleted by layer 6."""
ASSETS_BYTES = 300_000


def demo_v2_spec() -> ImageSpec:
    """The demo app, fixed and grown: the model is downloaded, unpacked and removed in one RUN
    (layers 4 and 6 become one), and a new layer copies 300 kB of assets."""
    spec = demo_spec()
    layers = list(spec.layers)
    one_step = LayerSpec(
        [
            Dir("/opt"),
            Dir("/opt/model"),
            File("/opt/model/weights.bin", Synthetic(40_000, "w")),
            File("/opt/model/vocab.txt", Synthetic(12_000, "vocab", "text")),
        ],
        created_by="/bin/sh -c curl -fsSL https://example.com/models/model.tar.gz "
        "| tar -xz -C /opt/model",
    )
    assets = LayerSpec(
        [
            Dir("/app"),
            Dir("/app/assets"),
            File("/app/assets/bundle.js", Synthetic(ASSETS_BYTES, "js")),
        ],
        created_by="/bin/sh -c #(nop) COPY dir:" + "ab" * 32 + " in /app/assets",
    )
    layers = [*layers[:4], layers[5], one_step, layers[7], assets]
    return dataclasses.replace(spec, layers=layers)


@pytest.fixture(scope="session")
def demo_v2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report-demo") / "demo-app-v2.tar"
    write_image(demo_v2_spec(), out, "docker-25")
    return out


def run(*args: str) -> tuple[int, str, str]:
    """``layerscope ARGS`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Browser]:
    """Debian's chromium, headless, with a fresh profile in the test's folder."""
    with browser(tmp_path) as b:
        yield b
