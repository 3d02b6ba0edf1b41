"""One image written in every archive format loads as the same ``Image`` through every source."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from layerscope.model import EntryKind, Image
from layerscope.sources import load_image
from layerscope.sources.context import LoadContext
from layerscope.testing import (
    Device,
    Dir,
    EmptyHistory,
    Fifo,
    File,
    Hardlink,
    ImageSpec,
    LayerSpec,
    Opaque,
    Symlink,
    Synthetic,
    Whiteout,
    write_image,
)

SPEC = ImageSpec(
    layers=[
        LayerSpec(
            [
                Dir("/etc"),
                File("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
                Dir("/usr/bin"),  # parent /usr implied
                File("/usr/bin/tool", Synthetic(70_000, seed="tool"), mode=0o4755),
                Hardlink("/usr/bin/tool-again", "/usr/bin/tool", mode=0o4755),
                Symlink("/bin", "usr/bin"),
                Device("/dev/null", 1, 3),
                Fifo("/run/fifo"),
                File("/opt/" + "deep/" * 30 + "long.txt", b"a long name"),
                File("/usr/bin/ping", b"ping", xattrs={"security.capability": b"\x01\x00\x00\x02"}),
                Dir("/app"),
                File("/app/old.txt", Synthetic(5_000, seed="old")),
            ],
            created_by="/bin/sh -c #(nop) ADD file:0123 in / ",
        ),
        LayerSpec(
            [
                Whiteout("/etc/passwd"),
                Dir("/app"),
                File("/app/new.txt", b"kept, though listed before the marker"),
                Opaque("/app"),
                File("/usr/bin/tool", Synthetic(70_000, seed="tool"), mode=0o755, uid=1000),
            ],
            created_by="/bin/sh -c rm /etc/passwd && chmod 755 /usr/bin/tool",
        ),
        LayerSpec([], created_by="/bin/sh -c true"),
    ],
    history_extra=[
        EmptyHistory("/bin/sh -c #(nop)  ENV A=b", after=0),
        EmptyHistory('/bin/sh -c #(nop)  CMD ["sh"]', after=2),
    ],
    config={"Env": ["A=b"], "Cmd": ["sh"], "Labels": {"org.example": "yes"}, "WorkingDir": "/app"},
    repo_tags=["example.com/conformance/app:1.0"],
)

CASES = [
    ("docker-legacy", None, False),
    ("docker-25", None, False),
    ("containerd", "gzip", False),
    ("containerd", "zstd", False),
    ("skopeo-docker-archive", None, False),
    ("crane", "gzip", False),
    ("oci-dir", "gzip", False),
    ("oci-dir", "zstd", False),
    ("oci-tar", "gzip", False),
    ("oci-tar", "none", False),
    ("docker-legacy", None, True),
    ("oci-tar", "gzip", True),
]


def _load(tmp: Path, fmt: str, compression: str | None, outer_gzip: bool) -> tuple[Image, object]:
    suffix = "" if fmt == "oci-dir" else (".tar.gz" if outer_gzip else ".tar")
    path = tmp / f"{fmt}-{compression}-{outer_gzip}{suffix}"
    written = write_image(
        SPEC,
        path,
        format=fmt,
        compression=compression,  # type: ignore[arg-type]
        outer_gzip=outer_gzip,
    )
    return load_image(str(path), LoadContext(verify=True)), written


def _essence(image: Image) -> tuple[object, ...]:
    """The fields design.md says every source must agree on."""
    return (
        image.diff_ids,
        tuple(
            tuple(
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
                    e.xattrs,
                    e.device,
                )
                for e in layer.entries
            )
            for layer in image.layers
        ),
        image.history,
        tuple(layer.history for layer in image.layers),
        image.config,
        image.platform,
        image.image_id,
        tuple(layer.size_bytes for layer in image.layers),
    )


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str | None, bool], tuple[Image, object]]:
    tmp = tmp_path_factory.mktemp("conformance")
    return {case: _load(tmp, *case) for case in CASES}


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{'outer-gz' if c[2] else 'plain'}"
)
def test_every_format_loads_the_same_image(loaded, case) -> None:  # type: ignore[no-untyped-def]
    reference, _ = loaded[CASES[0]]
    image, written = loaded[case]
    assert _essence(image) == _essence(reference)


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{'outer-gz' if c[2] else 'plain'}"
)
def test_layer_identity_matches_what_was_written(loaded, case) -> None:  # type: ignore[no-untyped-def]
    image, written = loaded[case]
    (info,) = written.images
    assert image.image_id == info.config_digest
    assert image.diff_ids == info.diff_ids
    for layer, wl in zip(image.layers, info.layers, strict=True):
        assert layer.digest == wl.digest
        assert layer.compressed_size_bytes == wl.size_bytes
        assert layer.compression == wl.compression
        if case[0] not in ("docker-legacy", "skopeo-docker-archive", "crane"):  # no manifest blob
            assert layer.media_type == wl.media_type


def test_the_reference_image_reads_as_specified(loaded) -> None:  # type: ignore[no-untyped-def]
    image, _ = loaded[CASES[0]]
    layer0 = {e.path: e for e in image.layers[0].entries}
    tool = layer0["/usr/bin/tool"]
    assert tool.size_bytes == 70_000 and tool.mode == 0o4755
    assert layer0["/usr/bin/tool-again"].kind is EntryKind.HARDLINK
    assert layer0["/usr/bin/tool-again"].link_target == "/usr/bin/tool"
    assert layer0["/bin"].link_target == "usr/bin"
    assert layer0["/dev/null"].device == (1, 3)
    assert layer0["/run/fifo"].kind is EntryKind.FIFO
    assert layer0["/usr/bin/ping"].xattrs == (("security.capability", "01000002"),)
    assert "/usr" not in layer0  # implied parent: not an entry
    # 26 + 70,000 + 11 + 4 + 5,000 bytes of regular files; the hardlink counts once
    assert image.layers[0].size_bytes == 26 + 70_000 + 11 + 4 + 5_000
    kinds1 = {(e.path, e.kind) for e in image.layers[1].entries}
    assert ("/etc/passwd", EntryKind.WHITEOUT) in kinds1 and ("/app", EntryKind.OPAQUE) in kinds1
    assert image.layers[2].entries == ()
    assert image.layers[2].diff_id == (
        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
    )
    assert [h.empty_layer for h in image.history] == [False, True, False, False, True]
    assert image.layers[1].created_by.endswith("chmod 755 /usr/bin/tool")
    assert image.config.env == ("A=b",) and image.config.workdir == "/app"
    assert str(image.platform) == "linux/amd64"


def test_image_id_is_sha256_of_config(tmp_path: Path) -> None:
    result = write_image(SPEC, tmp_path / "x.tar", format="docker-25")
    (info,) = result.images
    assert info.config_digest == "sha256:" + hashlib.sha256(info.config_bytes).hexdigest()
    assert load_image(str(tmp_path / "x.tar")).image_id == info.config_digest
