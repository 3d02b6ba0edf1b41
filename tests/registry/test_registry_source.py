"""The registry source against the real distribution registry: auth modes, platforms, equality."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from layerscope.credentials import Credentials
from layerscope.errors import NotFoundError, RegistryUnavailableError
from layerscope.model import Image, ImageRef, Platform, SourceKind
from layerscope.refs import normalize_name
from layerscope.sources.archive import load_path
from layerscope.sources.context import LoadContext
from layerscope.sources.registry import list_tags, load
from layerscope.sources.registry_client import RegistryClient
from layerscope.testing import (
    Dir,
    EmptyHistory,
    File,
    ImageSpec,
    IndexSpec,
    LayerSpec,
    Symlink,
    Synthetic,
    Whiteout,
    write_image,
)

from .conftest import PASSWORD, USER, DictIndex, Registry
from .servers import FaultProxy

SPEC = ImageSpec(
    layers=[
        LayerSpec(
            [
                Dir("/etc"),
                File("/etc/os-release", b"ID=test\n"),
                Dir("/usr/bin"),
                File("/usr/bin/tool", Synthetic(300_000, seed="tool"), mode=0o755),
                Symlink("/bin", "usr/bin"),
            ],
            created_by="/bin/sh -c #(nop) ADD file:abc in / ",
        ),
        LayerSpec(
            [Dir("/app"), File("/app/data.txt", Synthetic(120_000, seed="d", kind="text"))],
            created_by="/bin/sh -c make",
        ),
        LayerSpec([Whiteout("/etc/os-release")], created_by="/bin/sh -c rm /etc/os-release"),
    ],
    history_extra=[EmptyHistory('/bin/sh -c #(nop)  CMD ["tool"]', after=2)],
    config={"Env": ["PATH=/usr/bin"], "Cmd": ["tool"], "Labels": {"a": "b"}},
    repo_tags=["example.com/registry-test:1"],
)


def _ref(host: str, name: str) -> ImageRef:
    return ImageRef(
        SourceKind.REGISTRY, normalize_name(f"{host}/{name}"), None, f"registry://{host}/{name}"
    )


def same_image(a: Image, b: Image) -> None:
    """design.md: equal in diff_ids, every layer's entries, history and config."""
    assert a.diff_ids == b.diff_ids
    assert [layer.entries for layer in a.layers] == [layer.entries for layer in b.layers]
    assert [layer.size_bytes for layer in a.layers] == [layer.size_bytes for layer in b.layers]
    assert a.history == b.history
    assert [layer.history for layer in a.layers] == [layer.history for layer in b.layers]
    assert a.config == b.config
    assert a.platform == b.platform
    assert a.created == b.created


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("images") / "image.tar"
    write_image(SPEC, path, format="docker-25")
    return path


@pytest.fixture(scope="session")
def archive_image(archive: Path) -> Image:
    return load_path(archive, spool_dir=archive.parent / "spool")


@pytest.fixture(scope="session")
def anon_pushed(anon_registry: Registry, archive: Path) -> Registry:
    anon_registry.push(f"docker-archive:{archive}", "test/app:1")
    anon_registry.push(f"docker-archive:{archive}", "test/app:2")
    return anon_registry


def _manifest(host: str, repo: str, tag: str, auth: str | None = None) -> dict[str, object]:
    """The manifest as the registry serves it, fetched without layerscope (the oracle)."""
    req = urllib.request.Request(
        f"http://{host}/v2/{repo}/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    if auth:
        req.add_header("Authorization", auth)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def test_anonymous_pull_equals_archive(anon_pushed: Registry, archive_image: Image) -> None:
    index = DictIndex()
    image = load(_ref(anon_pushed.host, "test/app:1"), LoadContext(index=index))
    same_image(image, archive_image)
    assert image.source == "registry"
    assert image.repo_tags == (f"{anon_pushed.host}/test/app:1",)
    manifest = _manifest(anon_pushed.host, "test/app", "1")
    layers = manifest["layers"]
    assert isinstance(layers, list)
    assert [layer.digest for layer in image.layers] == [d["digest"] for d in layers]
    assert [layer.compressed_size_bytes for layer in image.layers] == [d["size"] for d in layers]
    assert [layer.media_type for layer in image.layers] == [d["mediaType"] for d in layers]
    # every layer verified and indexed once, keyed by its diff_id, with its blob digest
    assert sorted(index.puts) == sorted((layer.diff_id, layer.digest) for layer in image.layers)


def test_layers_in_the_index_are_not_downloaded(
    anon_pushed: Registry, archive_image: Image
) -> None:
    index = DictIndex()
    proxy = FaultProxy(anon_pushed.port)
    try:
        ref = _ref(f"127.0.0.1:{proxy.port}", "test/app:1")
        load(ref, LoadContext(index=index))
        first = [p for m, p, s, _ in proxy.log if "/blobs/" in p]
        proxy.log.clear()
        again = load(ref, LoadContext(index=index))
        blob_gets = [p for m, p, s, _ in proxy.log if "/blobs/" in p]
    finally:
        proxy.close()
    same_image(again, archive_image)
    assert len(first) == 1 + len(archive_image.layers)  # config + each layer
    assert len(blob_gets) == 1  # only the config
    assert len(index.puts) == len(archive_image.layers)


def test_list_tags(anon_pushed: Registry) -> None:
    assert sorted(list_tags(f"{anon_pushed.host}/test/app")) == ["1", "2"]


def test_missing_tag_is_not_found(anon_pushed: Registry) -> None:
    with pytest.raises(NotFoundError) as info:
        load(_ref(anon_pushed.host, "test/app:nope"))
    assert "\n" not in str(info.value)


def test_basic_auth(basic_registry: Registry, archive: Path, archive_image: Image) -> None:
    basic_registry.push(f"docker-archive:{archive}", "private/app:1")
    ref = _ref(basic_registry.host, "private/app:1")
    creds = Credentials(username=USER, password=PASSWORD, source="flag")
    image = load(ref, LoadContext(credentials=creds))
    same_image(image, archive_image)
    bad = Credentials(username=USER, password="wrong-password", source="flag")
    with pytest.raises(RegistryUnavailableError) as info:
        load(ref, LoadContext(credentials=bad))
    assert info.value.exit_code == 3
    assert "wrong-password" not in str(info.value)


def test_basic_auth_without_credentials_says_so(
    basic_registry: Registry, archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # an empty Docker config
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("DOCKER_AUTH_CONFIG", raising=False)
    basic_registry.push(f"docker-archive:{archive}", "private/app:2")
    with pytest.raises(RegistryUnavailableError, match="requires a username and password"):
        load(_ref(basic_registry.host, "private/app:2"))


def test_token_auth(token_registry: Registry, archive: Path, archive_image: Image) -> None:
    assert token_registry.token_server is not None
    tokens = token_registry.token_server
    token_registry.push(f"docker-archive:{archive}", "team/app:1")
    ref = _ref(token_registry.host, "team/app:1")
    tokens.issued.clear()
    creds = Credentials(username=USER, password=PASSWORD, source="flag")
    image = load(ref, LoadContext(credentials=creds))
    same_image(image, archive_image)
    assert tokens.issued, "no token was asked for"
    assert all(i["subject"] == USER for i in tokens.issued)
    assert ["repository:team/app:pull"] in [i["scopes"] for i in tokens.issued]
    # anonymous: the token server grants nothing, the registry refuses, exit code 3
    with pytest.raises(RegistryUnavailableError, match="refused"):
        load(ref, LoadContext(credentials=Credentials(source="none")))


def test_token_auth_access_token_field_and_refresh(token_registry: Registry, archive: Path) -> None:
    assert token_registry.token_server is not None
    tokens = token_registry.token_server
    token_registry.push(f"docker-archive:{archive}", "team/refresh:1")
    tokens.field_name, tokens.expires_in = "access_token", 1
    proxy = FaultProxy(token_registry.port)
    client = RegistryClient(
        f"127.0.0.1:{proxy.port}",
        credentials=Credentials(username=USER, password=PASSWORD, source="flag"),
    )
    try:
        tokens.issued.clear()
        client.manifest("team/refresh", "1", "application/vnd.docker.distribution.manifest.v2+json")
        assert len(tokens.issued) == 1
        time.sleep(1.2)  # the token has expired: it is renewed before the next request
        proxy.log.clear()
        assert client.tags("team/refresh") == ["1"]
        assert len(tokens.issued) == 2
        assert [s for _m, _p, s, _h in proxy.log] == [200]  # no 401 round trip
    finally:
        tokens.field_name, tokens.expires_in = "token", 300
        client.close()
        proxy.close()


MULTI = IndexSpec(
    images=[
        ImageSpec(
            layers=[LayerSpec([File("/arch", b"amd64\n")], created_by="/bin/sh -c echo amd64")],
            architecture="amd64",
        ),
        ImageSpec(
            layers=[LayerSpec([File("/arch", b"arm64\n")], created_by="/bin/sh -c echo arm64")],
            architecture="arm64",
            variant="v8",
        ),
    ],
    attestations=True,
)


@pytest.fixture(scope="session")
def multi_pushed(anon_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    layout = tmp_path_factory.mktemp("multi") / "layout"
    written = write_image(MULTI, layout, format="oci-dir")
    assert [w.platform for w in written.images] == ["linux/amd64", "linux/arm64/v8"]
    anon_registry.push(f"oci:{layout}", "test/multi:1", all_images=True)
    return anon_registry


def test_platform_picks_arm64(multi_pushed: Registry) -> None:
    ref = _ref(multi_pushed.host, "test/multi:1")
    image = load(ref, LoadContext(platform=Platform("linux", "arm64")))
    assert image.platform.architecture == "arm64"
    assert [e.path for e in image.layers[0].entries] == ["/arch"]
    amd = load(ref, LoadContext(platform=Platform("linux", "amd64")))
    assert amd.platform.architecture == "amd64"
    assert amd.diff_ids != image.diff_ids


def test_missing_platform_lists_available(multi_pushed: Registry) -> None:
    ref = _ref(multi_pushed.host, "test/multi:1")
    with pytest.raises(NotFoundError) as info:
        load(ref, LoadContext(platform=Platform("linux", "s390x")))
    text = str(info.value)
    assert "linux/s390x" in text and "linux/amd64" in text and "linux/arm64" in text
    assert "unknown" not in text  # attestation entries are not platforms
    assert "\n" not in text
