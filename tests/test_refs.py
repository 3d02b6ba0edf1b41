"""Tests for layerscope.refs.

Name cases marked "upstream" are transcribed from distribution/reference ``normalize_test.go``
(the Go implementation Docker uses), so the expected values come from that oracle.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.errors import BadReferenceError
from layerscope.model import ImageRef, SourceKind
from layerscope.refs import (
    familiar_name,
    is_valid_name,
    normalize_name,
    parse_ref,
    same_image_name,
    split_name,
)

SHA_A = "sha256:" + "a" * 64
SHA_REDIS = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"

# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
        ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
        ("fooo/bar", "docker.io/fooo/bar:latest"),  # upstream
        ("index.docker.io/fooo/bar", "docker.io/fooo/bar:latest"),  # upstream
        ("library/foo/bar", "docker.io/library/foo/bar:latest"),  # upstream
        ("ghcr.io/owner/app:v1", "ghcr.io/owner/app:v1"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/app:dev", "localhost:5000/app:dev"),
        ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase:latest"),  # upstream
        ("test_com/foo", "docker.io/test_com/foo:latest"),  # upstream: no '.', so not a host
        ("test-com:8080/foo", "test-com:8080/foo:latest"),  # upstream: ':' makes it a host
        ("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo:latest"),  # upstream
        ("[fc00::1]:5000/docker", "[fc00::1]:5000/docker:latest"),  # upstream
        ("Foo/bar", "Foo/bar:latest"),  # upstream: an uppercase first component is a host
        ("192.168.0.1:80", "docker.io/library/192.168.0.1:80"),  # upstream: name + tag "80"
        ("dock__er/docker", "docker.io/dock__er/docker:latest"),  # upstream
        ("docker---rules/docker", "docker.io/docker---rules/docker:latest"),  # upstream
        # 63 hex digits is a name, only exactly 64 is an ID (upstream).
        ("dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", None),
        (f"redis@{SHA_REDIS}", f"docker.io/library/redis@{SHA_REDIS}"),  # upstream: no tag added
        (f"busybox:latest@{SHA_REDIS}", f"docker.io/library/busybox:latest@{SHA_REDIS}"),
    ],
)
def test_normalize_name(name: str, expected: str | None) -> None:
    if expected is None:
        expected = f"docker.io/library/{name}:latest"
    assert normalize_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        "https://github.com/docker/docker",  # upstream invalid list from here ...
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian",
        "docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "docker/",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",  # ... to here
        "x" * 200 + "/" + "y" * 60,  # 261 characters > 255
        "busybox:" + "t" * 129,  # tag longer than 128
        "busybox:-bad",  # tag must start with a word character
        "busybox:a:b",
        "busybox@sha256:abc",  # too short
        "busybox@sha256:" + "A" * 64,  # go-digest wants lowercase hex
        "busybox@md5:" + "a" * 32,  # unregistered algorithm
        "busybox@sha512:" + "a" * 64,  # wrong length for sha512
        "UPPER",
    ],
)
def test_invalid_names_raise(name: str) -> None:
    with pytest.raises(BadReferenceError):
        normalize_name(name)
    assert not is_valid_name(name)


def test_name_length_limit_counts_registry() -> None:
    # docker.io/library/ is 18 characters; 18 + 237 = 255 is allowed, 256 is not.
    assert normalize_name("a" * 237) == "docker.io/library/" + "a" * 237 + ":latest"
    with pytest.raises(BadReferenceError, match="255"):
        normalize_name("a" * 238)


def test_longest_valid_tag() -> None:
    tag = "T" + "x" * 127  # 128 characters, uppercase allowed in tags
    assert normalize_name(f"busybox:{tag}") == f"docker.io/library/busybox:{tag}"


def test_error_messages_are_one_line_and_specific() -> None:
    with pytest.raises(BadReferenceError, match="must be lowercase") as info:
        normalize_name("docker/Docker")
    assert "\n" not in str(info.value)
    with pytest.raises(BadReferenceError, match="image ID"):
        normalize_name("a" * 64)
    with pytest.raises(BadReferenceError, match="invalid tag"):
        normalize_name("busybox:-x")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("busybox", ("docker.io", "library/busybox", "latest", None)),
        ("docker.io/library/busybox:1", ("docker.io", "library/busybox", "1", None)),
        ("localhost:5000/a/b:c", ("localhost:5000", "a/b", "c", None)),
        (f"ghcr.io/o/r@{SHA_A}", ("ghcr.io", "o/r", None, SHA_A)),
        (f"ghcr.io/o/r:t@{SHA_A}", ("ghcr.io", "o/r", "t", SHA_A)),
    ],
)
def test_split_name(name: str, expected: tuple[str, str, str | None, str | None]) -> None:
    assert split_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox", "busybox:latest"),
        ("docker.io/library/ubuntu-12.04-base", "ubuntu-12.04-base:latest"),  # upstream
        ("docker.io/fooo/bar", "fooo/bar:latest"),  # upstream
        ("docker.io/library/foo/bar", "library/foo/bar:latest"),  # upstream: 3 components
        ("example.com:8000/private/moonbase", "example.com:8000/private/moonbase:latest"),
        (f"busybox:latest@{SHA_REDIS}", f"busybox:latest@{SHA_REDIS}"),  # upstream
        (f"docker.io/library/redis@{SHA_REDIS}", f"redis@{SHA_REDIS}"),
    ],
)
def test_familiar_name(name: str, expected: str) -> None:
    assert familiar_name(name) == expected


def test_same_image_name() -> None:
    # formats.md 1e: all four spellings are one image.
    spellings = [
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox:latest",
        "index.docker.io/library/busybox:latest",
    ]
    for a in spellings:
        for b in spellings:
            assert same_image_name(a, b)
    assert not same_image_name("busybox", "busybox:1.36")
    assert not same_image_name("busybox", "ghcr.io/library/busybox")
    assert not same_image_name("busybox", f"busybox@{SHA_A}")
    assert not same_image_name("Busybox", "Busybox")  # invalid names never match
    assert same_image_name(f"busybox@{SHA_A}", f"docker.io/library/busybox@{SHA_A}")


# --- references: daemon / registry / bare ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "location"),
    [
        ("daemon://busybox", SourceKind.DAEMON, "docker.io/library/busybox:latest"),
        ("docker://busybox:1.36", SourceKind.DAEMON, "docker.io/library/busybox:1.36"),
        ("DAEMON://busybox", SourceKind.DAEMON, "docker.io/library/busybox:latest"),
        ("daemon://" + SHA_A, SourceKind.DAEMON, SHA_A),
        ("daemon://" + "a" * 64, SourceKind.DAEMON, SHA_A),
        ("registry://ghcr.io/o/app:v2", SourceKind.REGISTRY, "ghcr.io/o/app:v2"),
        ("registry://busybox", SourceKind.REGISTRY, "docker.io/library/busybox:latest"),
        (f"registry://busybox@{SHA_A}", SourceKind.REGISTRY, f"docker.io/library/busybox@{SHA_A}"),
        ("busybox", SourceKind.BARE, "docker.io/library/busybox:latest"),
        ("localhost:5000/app:dev", SourceKind.BARE, "localhost:5000/app:dev"),
        ("ghcr.io/owner/app", SourceKind.BARE, "ghcr.io/owner/app:latest"),
        (SHA_A, SourceKind.DAEMON, SHA_A),
        ("a" * 64, SourceKind.DAEMON, SHA_A),
    ],
)
def test_named_references(text: str, kind: SourceKind, location: str, tmp_path: Path) -> None:
    ref = parse_ref(text, cwd=tmp_path)
    assert ref == ImageRef(kind, location, None, text)
    assert str(ref) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("containers-storage://busybox", "unsupported transport"),
        ("http://example.com/x", "unsupported transport"),
        ("daemon://", "empty image name"),
        ("daemon://Busybox", "lowercase"),
        ("registry://" + SHA_A, "image ID"),
        ("busybox:-x", "invalid tag"),
    ],
)
def test_reference_errors(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(BadReferenceError, match=message):
        parse_ref(text, cwd=tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "missing.tar",
        "missing.tgz",
        "missing.tar.gz",
        "./missing",
        "../missing",
        "/nonexistent/dir/image",
        "sub/Dir/image.tar",
        "~/definitely-not-here-layerscope.tar",
    ],
)
def test_missing_paths_are_errors(text: str, tmp_path: Path) -> None:
    with pytest.raises(BadReferenceError, match="no such file"):
        parse_ref(text, cwd=tmp_path)


def test_missing_path_with_selector_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(BadReferenceError, match=r"no such file: missing\.tar$"):
        parse_ref("missing.tar:busybox", cwd=tmp_path)
    with pytest.raises(BadReferenceError, match=r"no such file: missing\.tar$"):
        parse_ref("docker-archive:missing.tar:busybox", cwd=tmp_path)


def test_slash_in_invalid_name_mentions_both(tmp_path: Path) -> None:
    with pytest.raises(BadReferenceError, match="no such file.*not an image name"):
        parse_ref("Downloads/My Image", cwd=tmp_path)


def test_missing_relative_name_with_slash_is_a_name(tmp_path: Path) -> None:
    # "images/app" could be a path, but it is a valid name and does not exist: a name.
    ref = parse_ref("images/app", cwd=tmp_path)
    assert ref.kind is SourceKind.BARE
    assert ref.location == "docker.io/images/app:latest"


# --- references: files -------------------------------------------------------------------------


def _layout(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (path / "index.json").write_text('{"schemaVersion": 2, "manifests": []}')
    (path / "blobs").mkdir()
    return path


def _file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not really a tar")
    return path


def test_docker_archive_forms(tmp_path: Path) -> None:
    archive = _file(tmp_path / "img.tar")
    where = str(archive)
    assert parse_ref("docker-archive:img.tar", cwd=tmp_path) == ImageRef(
        SourceKind.ARCHIVE, where, None, "docker-archive:img.tar"
    )
    assert parse_ref(f"docker-archive://{where}", cwd=tmp_path).location == where
    assert parse_ref("docker-archive://img.tar", cwd=tmp_path).location == where
    ref = parse_ref("docker-archive:img.tar:busybox", cwd=tmp_path)
    assert (ref.kind, ref.location, ref.selector) == (
        SourceKind.ARCHIVE,
        where,
        "docker.io/library/busybox:latest",
    )
    ref = parse_ref("docker-archive:img.tar:localhost:5000/app:v1", cwd=tmp_path)
    assert ref.selector == "localhost:5000/app:v1"
    assert parse_ref("docker-archive:img.tar:@1", cwd=tmp_path).selector == "@1"


def test_docker_archive_selector_errors(tmp_path: Path) -> None:
    _file(tmp_path / "img.tar")
    with pytest.raises(BadReferenceError, match="not by digest"):
        parse_ref(f"docker-archive:img.tar:busybox@{SHA_A}", cwd=tmp_path)
    with pytest.raises(BadReferenceError, match="empty image name"):
        parse_ref("docker-archive:img.tar:", cwd=tmp_path)
    with pytest.raises(BadReferenceError, match="lowercase"):
        parse_ref("docker-archive:img.tar:BusyBox", cwd=tmp_path)
    with pytest.raises(BadReferenceError, match="missing path"):
        parse_ref("docker-archive:", cwd=tmp_path)


def test_path_with_colons_takes_longest_existing_prefix(tmp_path: Path) -> None:
    archive = _file(tmp_path / "a:b" / "img:1.tar")
    ref = parse_ref("docker-archive:a:b/img:1.tar", cwd=tmp_path)
    assert (ref.location, ref.selector) == (str(archive), None)
    ref = parse_ref("docker-archive:a:b/img:1.tar:busybox:1.36", cwd=tmp_path)
    assert (ref.location, ref.selector) == (str(archive), "docker.io/library/busybox:1.36")
    # Both "x" and "x:y" exist: the longer one wins, the rest is the selector.
    _file(tmp_path / "x")
    longer = _file(tmp_path / "x:y")
    ref = parse_ref("docker-archive:x:y:z", cwd=tmp_path)
    assert (ref.location, ref.selector) == (str(longer), "docker.io/library/z:latest")


def test_oci_layout_and_archive(tmp_path: Path) -> None:
    layout = _layout(tmp_path / "layout")
    tarball = _file(tmp_path / "oci.tar")
    assert parse_ref("oci:layout", cwd=tmp_path) == ImageRef(
        SourceKind.OCI_LAYOUT, str(layout), None, "oci:layout"
    )
    # REF is kept verbatim and may itself contain ':' (formats.md 2).
    ref = parse_ref("oci:layout:docker.io/library/alpine:3.19", cwd=tmp_path)
    assert (ref.kind, ref.selector) == (SourceKind.OCI_LAYOUT, "docker.io/library/alpine:3.19")
    assert parse_ref("oci:layout:latest", cwd=tmp_path).selector == "latest"
    assert parse_ref("oci:layout:@0", cwd=tmp_path).selector == "@0"
    assert parse_ref(f"oci://{layout}", cwd=tmp_path).location == str(layout)
    ref = parse_ref("oci-archive:oci.tar:v1.0", cwd=tmp_path)
    assert (ref.kind, ref.location, ref.selector) == (SourceKind.OCI_ARCHIVE, str(tarball), "v1.0")


def test_oci_selector_grammar(tmp_path: Path) -> None:
    _layout(tmp_path / "layout")
    for bad in ("-latest", "a b", "tag/", "x//y"):
        with pytest.raises(BadReferenceError, match="invalid OCI reference name"):
            parse_ref(f"oci:layout:{bad}", cwd=tmp_path)


def test_transport_kind_mismatch(tmp_path: Path) -> None:
    _layout(tmp_path / "layout")
    _file(tmp_path / "img.tar")
    (tmp_path / "plain").mkdir()
    with pytest.raises(BadReferenceError, match="use oci-archive:"):
        parse_ref("oci:img.tar", cwd=tmp_path)
    with pytest.raises(BadReferenceError, match="use oci:"):
        parse_ref("docker-archive:layout", cwd=tmp_path)
    with pytest.raises(BadReferenceError, match="is a directory"):
        parse_ref("oci-archive:plain", cwd=tmp_path)
    with pytest.raises(BadReferenceError, match="no such file: nope"):
        parse_ref("oci:nope", cwd=tmp_path)


def test_bare_existing_paths_are_sniffed(tmp_path: Path) -> None:
    layout = _layout(tmp_path / "layout")
    archive = _file(tmp_path / "img.tar.gz")
    assert parse_ref("layout", cwd=tmp_path).kind is SourceKind.OCI_LAYOUT
    assert parse_ref("./layout", cwd=tmp_path).location == str(layout)
    assert parse_ref(str(layout)).kind is SourceKind.OCI_LAYOUT  # absolute, no cwd
    ref = parse_ref("img.tar.gz", cwd=tmp_path)
    assert (ref.kind, ref.location) == (SourceKind.ARCHIVE, str(archive))
    ref = parse_ref("img.tar.gz:busybox", cwd=tmp_path)
    assert (ref.kind, ref.selector) == (SourceKind.ARCHIVE, "docker.io/library/busybox:latest")
    ref = parse_ref("layout:v2", cwd=tmp_path)
    assert (ref.kind, ref.selector) == (SourceKind.OCI_LAYOUT, "v2")


def test_bare_file_named_like_an_image(tmp_path: Path) -> None:
    alpine = _file(tmp_path / "alpine")
    # The exact text exists: sniffed (design.md).
    assert parse_ref("alpine", cwd=tmp_path) == ImageRef(
        SourceKind.ARCHIVE, str(alpine), None, "alpine"
    )
    # With a tag and a prefix that does not look like a path, it stays an image name.
    assert parse_ref("alpine:3.19", cwd=tmp_path).kind is SourceKind.BARE


def test_bare_plain_directory(tmp_path: Path) -> None:
    (tmp_path / "alpine").mkdir()
    # A bare argument that exists on disk is always a path (design.md), even one that reads
    # like an image name: a plain directory is an error, never a Docker Hub lookup.
    for text in ("alpine", "./alpine", "alpine/"):
        with pytest.raises(BadReferenceError, match="alpine/? is a directory but not an OCI"):
            parse_ref(text, cwd=tmp_path)
    # With a tag the name wins: the directory is not ``alpine:3.19``.
    assert parse_ref("alpine:3.19", cwd=tmp_path).kind is SourceKind.BARE


def test_relative_paths_resolve_against_cwd_not_process(tmp_path: Path) -> None:
    inner = tmp_path / "deep" / "er"
    archive = _file(inner / "img.tar")
    ref = parse_ref("../er/img.tar", cwd=inner / ".." / "er")
    assert ref.location == str(archive)
    with pytest.raises(BadReferenceError, match="no such file"):
        parse_ref("img.tar", cwd=tmp_path)


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    archive = _file(tmp_path / "saved.tar")
    assert parse_ref("docker-archive:~/saved.tar").location == str(archive)
    assert parse_ref("~/saved.tar").location == str(archive)
