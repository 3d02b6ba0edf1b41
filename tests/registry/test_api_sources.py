"""The public API's load_image over real transports: a registry (explicit and bare names) and an
OCI layout give the image the ``docker save`` archive gives, and the same figures."""

from __future__ import annotations

from pathlib import Path

import pytest

import layerscope
from layerscope.testing import write_demo, write_image
from layerscope.testing.demo import demo_spec

from .conftest import Registry


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory.mktemp("demo"))


def _same(a: layerscope.Image, b: layerscope.Image) -> None:
    assert a.diff_ids == b.diff_ids
    assert [layer.entries for layer in a.layers] == [layer.entries for layer in b.layers]
    assert a.history == b.history and a.config == b.config


def test_registry_and_bare_names_load_the_archive_image(
    anon_registry: Registry, demo: Path
) -> None:
    anon_registry.push(f"docker-archive:{demo}", "api/demo:1")
    archived = layerscope.load_image(str(demo))
    pulled = layerscope.load_image(f"registry://{anon_registry.host}/api/demo:1")
    assert pulled.source == "registry" and archived.source == "docker-archive"
    _same(pulled, archived)
    bare = layerscope.load_image(f"{anon_registry.host}/api/demo:1", cache=False)
    assert bare.source == "registry"  # the engine has no such image: the registry has
    _same(bare, archived)
    ours, theirs = layerscope.analyze(pulled), layerscope.analyze(archived)
    assert ours.dive == theirs.dive and ours.waste == theirs.waste


def test_oci_layout_loads_the_archive_image(tmp_path: Path, demo: Path) -> None:
    write_image(demo_spec(), tmp_path / "layout", "oci-dir")
    layout = layerscope.load_image(f"oci:{tmp_path / 'layout'}", verify=True)
    assert layout.source == "oci"
    _same(layout, layerscope.load_image(str(demo)))


def test_a_missing_tag_is_not_found(anon_registry: Registry) -> None:
    with pytest.raises(layerscope.NotFoundError):
        layerscope.load_image(f"registry://{anon_registry.host}/api/none:1")
