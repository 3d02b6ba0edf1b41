"""Acceptance: images built by the real engine, exported by docker and skopeo, load and agree.

Every export of one image (``docker save``; skopeo's OCI layout with gzip and with zstd
layers; skopeo's oci-archive and docker-archive) must give the same diff_ids,
file entries, history and config, and those must match what the engine itself says
(``docker image inspect`` RootFS.Layers, ``docker history``, the Engine API's exact sizes).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.docker

EXPORTS = (
    "docker-save",
    "skopeo-oci",
    "skopeo-oci-zstd",
    "skopeo-oci-archive",
    "skopeo-docker-archive",
)

Loader = Callable[..., Any]
BuiltImage = Any  # conftest.BuiltImage: builder, tag, image_id, exports


def run(args: Sequence[str | os.PathLike[str]]) -> str:
    """Run a command and return its stdout; fail the test with its stderr if it fails."""
    argv = [os.fspath(a) for a in args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr}", pytrace=False)
    return done.stdout


@pytest.fixture(scope="session")
def load_image() -> Loader:
    """layerscope.sources.load_image (imported lazily so engine-only tests run without it)."""
    from layerscope.sources import load_image

    return load_image


def entry_rows(image: Any) -> list[list[tuple[object, ...]]]:
    """Per layer, the compared fields of every file entry, in tar order."""
    return [
        [
            (
                e.path,
                e.kind,
                e.size_bytes,
                e.mode,
                e.uid,
                e.gid,
                e.mtime,
                e.link_target,
                e.content_hash,
            )
            for e in layer.entries
        ]
        for layer in image.layers
    ]


def assert_same_image(got: Any, want: Any, label: str) -> None:
    """The equality every source owes (design.md): diff_ids, entries, history, config."""
    assert got.diff_ids == want.diff_ids, f"{label}: diff_ids differ"
    got_rows, want_rows = entry_rows(got), entry_rows(want)
    for index, (g, w) in enumerate(zip(got_rows, want_rows, strict=True)):
        assert g == w, f"{label}: entries of layer {index} differ"
    assert got.history == want.history, f"{label}: history differs"
    assert got.config == want.config, f"{label}: config differs"


def engine_history(docker_cli: str, docker_client: Any, image_id: str) -> list[dict[str, Any]]:
    """History rows oldest first: CreatedBy from the CLI, exact Size from the Engine API."""
    out = run([docker_cli, "history", "--no-trunc", "--format", "{{json .}}", image_id])
    cli_rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    api_rows = docker_client.api.history(image_id)
    assert [r["CreatedBy"] for r in cli_rows] == [r["CreatedBy"] for r in api_rows]
    return [
        {"CreatedBy": c["CreatedBy"], "Size": int(a["Size"])}
        for c, a in zip(reversed(cli_rows), reversed(api_rows), strict=True)
    ]


def engine_diff_ids(docker_client: Any, image_id: str) -> tuple[str, ...]:
    """RootFS.Layers of ``docker image inspect``: the engine's own diff_ids."""
    return tuple(docker_client.api.inspect_image(image_id)["RootFS"]["Layers"])


# ---- engine-only checks (do not need layerscope) -------------------------------------------


def test_engine_sizes_are_regular_file_bytes(
    app_image: BuiltImage, docker_cli: str, docker_client: Any
) -> None:
    """The engine's per-layer sizes, worked out by hand from the Dockerfile in conftest.py."""
    busybox = Path("/bin/busybox").stat().st_size  # COPY rootfs/: applet symlinks count 0
    app = (
        len(b"hello layerscope\n")
        + len(b"[app]\nmode = test\n" * 8)
        + len(b"#!/bin/sh\necho run\n")
    )
    assert app == 17 + 144 + 19
    run_step = 64 * 1024 + len(b"built\n")  # blob.bin once (the hardlink adds 0), built.txt
    chmod_step = 144  # config.ini rewritten whole
    rows = engine_history(docker_cli, docker_client, app_image.image_id)
    #                  COPY rootfs COPY app RUN dd  RUN rm RUN chmod ENV WORKDIR COPY --chown
    assert [r["Size"] for r in rows] == [busybox, app, run_step, 0, chmod_step, 0, 0, 19]
    # BuildKit (Debian's 20.10 engine) writes an empty tar layer for WORKDIR of an existing dir.
    layers = {"buildkit": 7, "classic": 6}[app_image.builder]
    assert len(engine_diff_ids(docker_client, app_image.image_id)) == layers


def test_docker_save_manifest_names_the_tag(app_image: BuiltImage) -> None:
    path = app_image.exports["docker-save"].removeprefix("docker-archive:")
    with tarfile.open(path) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest = json.load(member)
    assert [entry["RepoTags"] for entry in manifest] == [[app_image.tag]]


def test_skopeo_layouts_have_the_ref_name(app_image: BuiltImage) -> None:
    for name in ("skopeo-oci", "skopeo-oci-zstd"):
        layout = Path(app_image.exports[name].removeprefix("oci:").rsplit(":", 1)[0])
        index = json.loads((layout / "index.json").read_text())
        names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]]
        assert names == ["app"], name


# ---- layerscope against the engine ---------------------------------------------------------


def test_all_exports_load_and_agree(app_image: BuiltImage, load_image: Loader) -> None:
    reference = load_image(app_image.exports["docker-save"])
    paths = {e.path for layer in reference.layers for e in layer.entries}
    assert {"/bin/busybox", "/bin/sh", "/app/config.ini", "/data/blob.sym"} <= paths
    for name in EXPORTS[1:]:
        assert_same_image(load_image(app_image.exports[name]), reference, name)


@pytest.mark.parametrize("export", EXPORTS)
def test_layers_match_the_engine(
    app_image: BuiltImage, export: str, load_image: Loader, docker_cli: str, docker_client: Any
) -> None:
    image = load_image(app_image.exports[export])
    assert image.diff_ids == engine_diff_ids(docker_client, app_image.image_id)

    rows = engine_history(docker_cli, docker_client, app_image.image_id)
    assert [h.created_by for h in image.history] == [r["CreatedBy"] for r in rows]
    layer_rows = [r for r, h in zip(rows, image.history, strict=True) if not h.empty_layer]
    assert len(image.layers) == len(layer_rows)
    assert [layer.created_by for layer in image.layers] == [r["CreatedBy"] for r in layer_rows]
    assert [layer.size_bytes for layer in image.layers] == [r["Size"] for r in layer_rows]
    empty_sizes = [r["Size"] for r, h in zip(rows, image.history, strict=True) if h.empty_layer]
    assert empty_sizes == [0] * len(empty_sizes)


def test_daemon_source_agrees(app_image: BuiltImage, load_image: Loader) -> None:
    reference = load_image(app_image.exports["docker-save"])
    assert_same_image(load_image(f"daemon://{app_image.tag}"), reference, "daemon")


def test_two_tags_of_one_image_in_one_archive(
    buildkit_image: BuiltImage, load_image: Loader, docker_cli: str, tmp_path: Path
) -> None:
    second = "layerscope-test/app:2"
    run([docker_cli, "tag", buildkit_image.image_id, second])
    archive = tmp_path / "two-tags.tar"
    run([docker_cli, "save", "-o", archive, buildkit_image.tag, second])
    reference = load_image(buildkit_image.exports["docker-save"])
    for tag in (buildkit_image.tag, second):
        image = load_image(f"docker-archive:{archive}:{tag}")
        assert_same_image(image, reference, tag)
        assert tag in image.repo_tags


def test_two_images_in_one_archive_pick_each(
    built_images: Mapping[str, BuiltImage],
    load_image: Loader,
    docker_cli: str,
    docker_client: Any,
    tmp_path: Path,
) -> None:
    archive = tmp_path / "two-images.tar"
    run([docker_cli, "save", "-o", archive, *(b.tag for b in built_images.values())])
    for built in built_images.values():
        image = load_image(f"docker-archive:{archive}:{built.tag}")
        assert image.diff_ids == engine_diff_ids(docker_client, built.image_id), built.tag
        assert_same_image(image, load_image(built.exports["docker-save"]), built.tag)


def test_skopeo_archive_picked_by_short_tag(buildkit_image: BuiltImage, load_image: Loader) -> None:
    """skopeo writes RepoTags as docker.io/layerscope-test/app:1; the short name still picks it."""
    path = buildkit_image.exports["skopeo-docker-archive"].removeprefix("docker-archive:")
    with tarfile.open(path) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        assert json.load(member)[0]["RepoTags"] == ["docker.io/" + buildkit_image.tag]
    image = load_image(f"docker-archive:{path}:{buildkit_image.tag}")
    assert_same_image(image, load_image(buildkit_image.exports["docker-save"]), "short tag")
