"""The registry fault matrix: every request kind x every fault, through the fault proxy in front
of the real token-auth registry and its token server, via the command line.

Each case ends in one of two ways: exit 0 with the true image (every layer's diff_id and entries
as written), or exit 2/3 with exactly one ``layerscope: error:`` line. Either way the layer cache
and the blob cache hold only verified content, and the pull ends (the test waits at most
``HANG_S`` for it; short timeouts come from LAYERSCOPE_REGISTRY_TIMEOUT / _MAX_WAIT, not sleeps).
docs/reliability.md keeps the table of outcomes; ``FAULT_MATRIX_REPORT=path`` writes it anew.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.model import Image, Platform, SourceKind
from layerscope.sources.archive import load_path
from layerscope.sources.context import LoadContext
from layerscope.store import BlobCache, LayerCache
from layerscope.testing import ImageSpec, IndexSpec, write_image

from .conftest import PASSWORD, USER, Registry
from .servers import Fault, FaultProxy
from .test_registry_source import SPEC

HANG_S = 120.0
"""A case still running after this long is a hang (a failure), not a slow pass."""

KINDS = ("token", "index", "manifest", "config", "blob")
FAULTS: dict[str, dict[str, object]] = {
    "connection refused": {"action": "refuse"},
    "reset mid-body": {"action": "drop", "after": -1},
    "429 + Retry-After": {"action": "status", "status": 429, "headers": {"Retry-After": "1"}},
    "429": {"action": "status", "status": 429},
    "500": {"action": "status", "status": 500},
    "502": {"action": "status", "status": 502},
    "503": {"action": "status", "status": 503},
    "stalling body": {"action": "stall", "after": -1, "stall_s": 3.0},
    "truncated body": {"action": "truncate", "after": -1},
    "wrong Content-Length": {"action": "length"},
    "wrong digest": {"action": "flip", "after": -1},
    "redirect loop": {"action": "loop"},
    "redirect to another host": {"action": "redirect"},
}
TIMES = {"once": 1, "always": 10_000}
REPO = "matrix/app"
AMD64 = ImageSpec(layers=SPEC.layers, config=SPEC.config, repo_tags=["matrix/app:1"])
ARM64 = ImageSpec(layers=SPEC.layers[:1], architecture="arm64", repo_tags=["matrix/app:1"])


@pytest.fixture(scope="module")
def truth(token_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Image:
    """A two-platform index pushed to the token registry; the amd64 image read from the file."""
    path = tmp_path_factory.mktemp("matrix-image") / "index.tar"
    write_image(IndexSpec(images=[AMD64, ARM64]), path, format="oci-tar")
    token_registry.push(f"oci-archive:{path}", f"{REPO}:1", all_images=True)
    return load_path(
        path,
        LoadContext(platform=Platform("linux", "amd64")),
        spool_dir=path.parent / "spool",
        source=SourceKind.OCI_ARCHIVE,
    )


@pytest.fixture(scope="module")
def proxy(token_registry: Registry, truth: Image) -> Iterator[FaultProxy]:
    assert token_registry.token_server is not None
    p = FaultProxy(token_registry.port, token_port=token_registry.token_server.port)
    yield p
    p.close()


def _pattern(kind: str, image: Image) -> str:
    if kind == "token":
        return r"^/token"
    if kind == "index":
        return rf"/v2/{REPO}/manifests/1$"
    if kind == "manifest":
        return rf"/v2/{REPO}/manifests/sha256:"
    if kind == "config":
        return rf"/v2/{REPO}/blobs/{image.image_id}"
    return rf"/v2/{REPO}/blobs/(" + "|".join(str(x.digest) for x in image.layers) + ")"


def _pull(port: int, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """``layerscope inspect`` of the index through the proxy; a hang fails the test."""
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(tmp / "cache"))
    monkeypatch.setenv("LAYERSCOPE_DATA_DIR", str(tmp / "data"))
    monkeypatch.setenv("HOME", str(tmp / "home"))
    monkeypatch.setenv("LAYERSCOPE_REGISTRY_TIMEOUT", "0.5")
    monkeypatch.setenv("LAYERSCOPE_REGISTRY_MAX_WAIT", "0.05")
    argv = [
        "inspect",
        f"registry://127.0.0.1:{port}/{REPO}:1",
        "--platform",
        "linux/amd64",
        "--json",
        "--keep-blobs",
        "--creds",
        f"{USER}:{PASSWORD}",
        "-q",
    ]
    out, err = io.StringIO(), io.StringIO()
    result: list[int] = []
    raised: list[BaseException] = []

    def pull() -> None:
        try:
            result.append(main(argv, stdout=out, stderr=err))
        except BaseException as exc:  # a traceback: reported below, with the fault
            raised.append(exc)

    worker = threading.Thread(target=pull, daemon=True)
    worker.start()
    worker.join(HANG_S)
    if raised:
        raise AssertionError(f"the pull raised {raised[0]!r}") from raised[0]
    assert result, f"the pull was still running after {HANG_S:.0f} s"
    return result[0], out.getvalue(), err.getvalue()


def _assert_caches_hold_only_verified(tmp: Path, truth: Image) -> tuple[int, int]:
    """Every cached layer is a true layer with its true entries; every kept blob hashes to its
    name. Returns (cached layers, kept blobs)."""
    layers = 0
    if (tmp / "cache").exists():
        with LayerCache() as cache:
            rows = cache.database.run(lambda c: c.execute("SELECT diff_id FROM layers").fetchall())
            by_id = {layer.diff_id: layer for layer in truth.layers}
            for (diff_id,) in rows:
                assert diff_id in by_id, f"an unknown layer {diff_id} reached the layer cache"
                got = cache.get(diff_id)
                assert got is not None and got.entries == by_id[diff_id].entries
                layers += 1
    blobs = 0
    root = BlobCache(tmp / "cache").root
    for path in root.rglob("*") if root.exists() else ():
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert digest == path.name, f"unverified blob {path} in the blob cache"
            blobs += 1
    return layers, blobs


@pytest.mark.parametrize("times", list(TIMES))
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("kind", KINDS)
def test_fault_matrix(
    kind: str,
    fault: str,
    times: str,
    proxy: FaultProxy,
    truth: Image,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = dict(FAULTS[fault])
    planned = Fault(_pattern(kind, truth), times=TIMES[times], **spec)  # type: ignore[arg-type]
    with proxy.lock:
        proxy.faults[:] = [planned]
        proxy.log.clear()
        proxy.signed.clear()
    started = time.monotonic()
    code, out, err = _pull(proxy.port, tmp_path, monkeypatch)
    took = time.monotonic() - started
    with proxy.lock:
        proxy.faults.clear()
    assert planned.times < TIMES[times], f"the {kind} fault was never applied"
    layers, blobs = _assert_caches_hold_only_verified(tmp_path, truth)
    if code == 0:
        doc = json.loads(out)
        got = [layer["diff_id"] for layer in doc["layers"]]
        assert got == [str(d) for d in truth.diff_ids]
        assert layers == len(truth.layers) and blobs == len(truth.layers)
        outcome = "ok"
    else:
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("layerscope: error: "), err
        assert code in (2, 3), (code, err)
        outcome = f"exit {code}: {lines[0].removeprefix('layerscope: error: ')}"
    report = os.environ.get("FAULT_MATRIX_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as handle:
            handle.write(json.dumps([kind, fault, times, code, outcome, round(took, 1)]) + "\n")
    assert EXPECTED.get((kind, fault, times), _default(fault, times)) == code, outcome


def _default(fault: str, times: str) -> int:
    """What the policy promises: a fault seen once is retried or resumed away."""
    if times == "once":
        return 0
    if fault == "redirect to another host":
        return 0  # a redirect is not a fault when its target answers
    return 3


EXPECTED: dict[tuple[str, str, str], int] = {
    # Content that never hashes to its digest is a bad image, not an unreachable registry.
    **{(kind, "wrong digest", "always"): 2 for kind in ("index", "manifest", "config", "blob")},
    # A body that is complete by its own (short) Content-Length but cut: the same, except for
    # layer blobs, whose size the manifest gives: those resume and run out of attempts.
    **{(kind, "truncated body", "always"): 2 for kind in ("index", "manifest", "config")},
    # A Content-Length that promises more than comes: the bytes that came verify, so they serve.
    ("config", "wrong Content-Length", "always"): 0,
    ("blob", "wrong Content-Length", "always"): 0,
}
"""Cases whose outcome differs from ``_default``, each with the reason."""


def test_registry_on_a_closed_port_exits_3_with_one_line(
    truth: Image, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = int(closed.getsockname()[1])
        code, _out, err = _pull(port, tmp_path, monkeypatch)
    assert code == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Connection refused" in lines[0], err
    assert _assert_caches_hold_only_verified(tmp_path, truth) == (0, 0)
