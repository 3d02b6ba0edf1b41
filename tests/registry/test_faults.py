"""A fault-injecting proxy in front of the real registry: retries, resume, verification."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerscope.credentials import Credentials
from layerscope.errors import DigestMismatchError, LayerscopeError, RegistryUnavailableError
from layerscope.model import Image
from layerscope.sources.archive import load_path
from layerscope.sources.context import LoadContext
from layerscope.sources.registry import load

from .conftest import PASSWORD, USER, DictIndex, Registry
from .servers import Fault, FaultProxy
from .test_registry_source import SPEC, _ref, same_image

BLOB = r"/v2/faults/app/blobs/sha256:"


@pytest.fixture(scope="module")
def pushed(anon_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Image:
    path = tmp_path_factory.mktemp("fault-image") / "image.tar"
    write = __import__("layerscope.testing", fromlist=["write_image"]).write_image
    write(SPEC, path, format="docker-25")
    anon_registry.push(f"docker-archive:{path}", "faults/app:1")
    return load_path(path, spool_dir=path.parent / "spool")


@pytest.fixture
def proxy(anon_registry: Registry, pushed: Image) -> Iterator[FaultProxy]:
    p = FaultProxy(anon_registry.port)
    yield p
    p.close()


def _pull(proxy: FaultProxy, index: DictIndex | None = None) -> Image:
    return load(_ref(f"127.0.0.1:{proxy.port}", "faults/app:1"), LoadContext(index=index))


def test_connection_dropped_mid_blob_resumes_with_range(proxy: FaultProxy, pushed: Image) -> None:
    # Drop every layer-blob response after 1000 bytes, once each; configs are tiny (< 1000).
    proxy.faults.append(Fault(BLOB, "drop", times=4, after=1000))
    index = DictIndex()
    image = _pull(proxy, index)
    same_image(image, pushed)
    assert len(index.puts) == len(pushed.layers)
    # What resumption guarantees, however the concurrent blobs interleave (a resumed request can
    # be dropped again): each blob's requests are sequential, each resume starts exactly where
    # the bytes received so far end, and the bytes received add up to the whole blob.
    per_blob: dict[str, list[tuple[str | None, int]]] = {}
    for path, rng, sent in proxy.bodies:
        if re.search(BLOB, path):
            per_blob.setdefault(path, []).append((rng, sent))
    received_by_digest: dict[str, int] = {}
    resumes = 0
    for path, requests in per_blob.items():
        received = 0
        for i, (rng, sent) in enumerate(requests):
            assert rng == (f"bytes={received}-" if received else None), (path, requests)
            if i < len(requests) - 1:  # only a dropped response is followed by another request
                assert sent == 1000, (path, requests)
            resumes += rng is not None
            received += sent
        received_by_digest["sha256:" + path.rsplit(":", 1)[1]] = received
    assert resumes >= 1
    for layer in image.layers:  # the manifest's blob sizes, all received, no byte twice
        assert received_by_digest[str(layer.digest)] == layer.compressed_size_bytes


def test_429_with_retry_after_is_honoured(proxy: FaultProxy, pushed: Image) -> None:
    proxy.faults.append(Fault(r"/manifests/", "status", status=429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    image = _pull(proxy)
    assert time.monotonic() - started >= 1.0
    same_image(image, pushed)


def test_503_twice_then_success(proxy: FaultProxy, pushed: Image) -> None:
    proxy.faults.append(Fault(BLOB, "status", times=2, status=503))
    same_image(_pull(proxy), pushed)
    assert [s for m, p, s, h in proxy.log].count(503) == 2


def test_flipped_byte_once_is_downloaded_again(proxy: FaultProxy, pushed: Image) -> None:
    proxy.faults.append(Fault(BLOB, "flip", times=1, after=5000))
    index = DictIndex()
    same_image(_pull(proxy, index), pushed)
    assert len(index.puts) == len(pushed.layers)


def test_flipped_byte_every_time_fails_and_caches_nothing_unverified(
    proxy: FaultProxy, pushed: Image
) -> None:
    big = max(pushed.layers, key=lambda layer: layer.size_bytes)
    proxy.faults.append(Fault(BLOB, "flip", times=100, after=5000))
    index = DictIndex()
    with pytest.raises(DigestMismatchError) as info:
        _pull(proxy, index)
    assert "\n" not in str(info.value)
    assert big.diff_id not in index.items  # the corrupted layer never reached the index
    for diff_id, contents in index.items.items():  # whatever did is the true content
        truth = next(layer for layer in pushed.layers if layer.diff_id == diff_id)
        assert contents.entries == truth.entries


def test_endless_drops_fail_with_one_line(proxy: FaultProxy, pushed: Image) -> None:
    proxy.faults.append(Fault(BLOB, "drop", times=1000, after=1000))
    index = DictIndex()
    with pytest.raises(LayerscopeError) as info:
        _pull(proxy, index)
    assert isinstance(info.value, RegistryUnavailableError | DigestMismatchError)
    assert "\n" not in str(info.value)
    big = max(pushed.layers, key=lambda layer: layer.size_bytes)
    assert big.diff_id not in index.items


def test_endless_503_fails_after_retries(proxy: FaultProxy) -> None:
    proxy.faults.append(Fault(r"/manifests/", "status", times=1000, status=503))
    with pytest.raises(RegistryUnavailableError, match="HTTP 503") as info:
        _pull(proxy)
    assert info.value.exit_code == 3


def test_redirect_to_another_host_drops_authorization(
    basic_registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "image.tar"
    __import__("layerscope.testing", fromlist=["write_image"]).write_image(
        SPEC, path, format="docker-25"
    )
    basic_registry.push(f"docker-archive:{path}", "redirect/app:1")
    proxy = FaultProxy(basic_registry.port)
    proxy.upstream_auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    proxy.faults.append(Fault(r"/blobs/", "redirect", times=100))
    try:
        image = load(
            _ref(f"127.0.0.1:{proxy.port}", "redirect/app:1"),
            LoadContext(credentials=Credentials(username=USER, password=PASSWORD, source="flag")),
        )
        redirected = [h for m, p, s, h in proxy.log if "redirected=1" in p]
        direct = [h for m, p, s, h in proxy.log if "/blobs/" in p and "redirected=1" not in p]
    finally:
        proxy.close()
    assert len(image.layers) == len(SPEC.layers)
    assert redirected and all("Authorization" not in h for h in redirected)
    assert direct and all(h.get("Authorization", "").startswith("Basic ") for h in direct)


def test_keep_blobs_stores_verified_blobs_and_serves_them_later(
    proxy: FaultProxy, pushed: Image, tmp_path: Path
) -> None:
    from layerscope.store import BlobCache

    keeper = BlobCache(tmp_path / "blobs")
    first = load(_ref(f"127.0.0.1:{proxy.port}", "faults/app:1"), LoadContext(blob_cache=keeper))
    same_image(first, pushed)
    for layer in first.layers:
        assert layer.digest is not None and keeper.has(layer.digest)
    # every layer blob request now fails: the kept blobs serve the second pull (no layer index)
    layer_blobs = BLOB + "(" + "|".join(str(x.digest)[7:] for x in first.layers) + ")"
    proxy.faults.append(Fault(layer_blobs, "status", times=1000, status=404))
    second = load(_ref(f"127.0.0.1:{proxy.port}", "faults/app:1"), LoadContext(blob_cache=keeper))
    same_image(second, pushed)


def test_keep_blobs_never_keeps_a_corrupt_blob(
    proxy: FaultProxy, pushed: Image, tmp_path: Path
) -> None:
    from layerscope.store import BlobCache

    keeper = BlobCache(tmp_path / "blobs")
    proxy.faults.append(Fault(BLOB, "flip", times=100, after=5000))
    with pytest.raises(DigestMismatchError):
        load(_ref(f"127.0.0.1:{proxy.port}", "faults/app:1"), LoadContext(blob_cache=keeper))
    big = max(pushed.layers, key=lambda layer: layer.size_bytes)
    assert big.digest is not None and not keeper.has(big.digest)
    leftovers = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert all(keeper.has("sha256:" + p.name) for p in leftovers)  # only verified blobs remain
