"""Real distribution registries (Debian ``docker-registry``) on loopback, session-scoped.

Three registries: anonymous, htpasswd basic auth, and ``auth: token`` backed by the in-test token
server. A missing ``docker-registry`` or ``skopeo`` binary fails the tests: it is a broken setup,
not an optional extra.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest

from layerscope.model import Digest, LayerContents

from .servers import TokenServer

REGISTRY_BIN = "docker-registry"
USER = "alice"
PASSWORD = "s3cret-Pa55-xyzzy"


@dataclass
class Registry:
    """A running registry: ``host`` is ``127.0.0.1:PORT``."""

    host: str
    port: int
    workdir: Path
    process: subprocess.Popen[bytes]
    creds: str | None = None
    """``user:password`` for skopeo pushes, when auth is on."""
    token_server: TokenServer | None = None

    def push(self, source: str, repo_tag: str, *, all_images: bool = False) -> None:
        """``skopeo copy SOURCE docker://HOST/REPO_TAG`` (plain HTTP, no TLS verify)."""
        cmd = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        if all_images:
            cmd.append("--all")
        if self.creds:
            cmd += ["--dest-creds", self.creds]
        cmd += [source, f"docker://{self.host}/{repo_tag}"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise AssertionError(f"skopeo push failed: {done.stderr.strip()}")


def _need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} is not installed (apt-get install docker-registry skopeo)")
    return path


def _start(workdir: Path, auth_yaml: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start a registry on a port the kernel picks (``127.0.0.1:0``) and read it from its log.

    Asking for a free port first and handing it over races with every other process on the
    machine; the registry binding port 0 itself and logging the address it got does not.
    """
    _need(REGISTRY_BIN)
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: info\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        "http:\n  addr: 127.0.0.1:0\n" + auth_yaml
    )
    log_path = workdir / "registry.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=log)
    deadline = time.monotonic() + 20
    port: int | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"docker-registry exited: {log_path.read_text()[-2000:]}")
        if port is None:
            found = re.search(r'listening on 127\.0\.0\.1:(\d+)"', log_path.read_text())
            port = int(found.group(1)) if found else None
        if port is not None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                return proc, port
            except urllib.error.HTTPError:
                return proc, port  # 401 means it is up
            except OSError:
                pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(
        f"docker-registry did not start within 20 s: {log_path.read_text()[-2000:]}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def skopeo() -> str:
    return _need("skopeo")


@pytest.fixture(scope="session")
def anon_registry(tmp_path_factory: pytest.TempPathFactory, skopeo: str) -> Iterator[Registry]:
    work = tmp_path_factory.mktemp("registry-anon")
    proc, port = _start(work, "")
    yield Registry(f"127.0.0.1:{port}", port, work, proc)
    _stop(proc)


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory, skopeo: str) -> Iterator[Registry]:
    work = tmp_path_factory.mktemp("registry-basic")
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
    (work / "htpasswd").write_text(f"{USER}:{hashed}\n")
    auth = f"auth:\n  htpasswd:\n    realm: layerscope-test\n    path: {work / 'htpasswd'}\n"
    proc, port = _start(work, auth)
    yield Registry(f"127.0.0.1:{port}", port, work, proc, creds=f"{USER}:{PASSWORD}")
    _stop(proc)


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory, skopeo: str) -> Iterator[Registry]:
    work = tmp_path_factory.mktemp("registry-token")
    tokens = TokenServer(work, {USER: PASSWORD})
    auth = (
        "auth:\n  token:\n"
        f"    realm: {tokens.realm}\n    service: {tokens.service}\n"
        f"    issuer: {tokens.issuer}\n    rootcertbundle: {tokens.cert_path}\n"
    )
    proc, port = _start(work, auth)
    yield Registry(
        f"127.0.0.1:{port}", port, work, proc, creds=f"{USER}:{PASSWORD}", token_server=tokens
    )
    _stop(proc)
    tokens.close()


class DictIndex:
    """A LayerIndex in a dict, recording every put (the real one is layerscope.store)."""

    def __init__(self) -> None:
        self.items: dict[Digest, LayerContents] = {}
        self.puts: list[tuple[Digest, Digest | None]] = []
        self.gets: list[Digest] = []

    def get(self, diff_id: Digest) -> LayerContents | None:
        self.gets.append(diff_id)
        return self.items.get(diff_id)

    def put(
        self, diff_id: Digest, contents: LayerContents, *, digest: Digest | None = None
    ) -> None:
        self.puts.append((diff_id, digest))
        self.items[diff_id] = contents
