"""Credentials: Docker config, a fake credential helper on PATH, and no secret in any output."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerscope.credentials import HUB_KEY, Credentials, credential_key, lookup, scrub
from layerscope.errors import RegistryUnavailableError
from layerscope.sources.registry import load
from layerscope.sources.registry_auth import parse_challenges, retry_after_seconds

from .conftest import PASSWORD, USER, Registry
from .test_registry_source import SPEC, _ref

HELPER = """#!/bin/sh
read key
echo "$key" >> "{log}"
printf '{{"ServerURL":"%s","Username":"{user}","Secret":"{secret}"}}' "$key"
"""


def _helper(bin_dir: Path, log: Path, user: str, secret: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "docker-credential-fake"
    script.write_text(HELPER.format(log=log, user=user, secret=secret))
    script.chmod(0o755)


def _env(monkeypatch: pytest.MonkeyPatch, tmp: Path, config: dict[str, object]) -> None:
    conf = tmp / "docker"
    conf.mkdir(exist_ok=True)
    (conf / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("DOCKER_CONFIG", str(conf))
    monkeypatch.setenv("PATH", f"{tmp / 'bin'}{os.pathsep}{os.environ['PATH']}")
    for name in ("LAYERSCOPE_REGISTRY_USERNAME", "DOCKER_AUTH_CONFIG", "REGISTRY_AUTH_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def private(basic_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    from layerscope.testing import write_image

    path = tmp_path_factory.mktemp("cred-image") / "image.tar"
    write_image(SPEC, path, format="docker-25")
    basic_registry.push(f"docker-archive:{path}", "creds/app:1")
    return basic_registry


def test_fake_helper_on_path_is_used(
    private: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "helper.log"
    _helper(tmp_path / "bin", log, USER, PASSWORD)
    _env(monkeypatch, tmp_path, {"credHelpers": {private.host: "fake"}})
    image = load(_ref(private.host, "creds/app:1"))
    assert len(image.layers) == len(SPEC.layers)
    assert log.read_text().split() == [private.host]  # asked once, with the registry's key


def test_creds_store_and_auths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "helper.log"
    _helper(tmp_path / "bin", log, "bob", "from-store")
    _env(monkeypatch, tmp_path, {"credsStore": "fake"})
    found = lookup("docker.io")
    assert found == Credentials(username="bob", password="from-store", source=found.source)
    assert log.read_text().split() == [HUB_KEY]
    pair = base64.b64encode(b"carol:pa:ss\x00\x00").decode()
    _env(monkeypatch, tmp_path, {"auths": {"https://registry.example.com/v2/": {"auth": pair}}})
    found = lookup("registry.example.com")
    assert found is not None and (found.username, found.password) == ("carol", "pa:ss")
    assert lookup("other.example.com") is None


def test_secret_never_shown(
    private: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "Wrong-But-Secret-7f3a9c"
    _helper(tmp_path / "bin", tmp_path / "helper.log", USER, secret)
    _env(monkeypatch, tmp_path, {"credHelpers": {private.host: "fake"}})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RegistryUnavailableError) as info:
        load(_ref(private.host, "creds/app:1"))
    encoded = base64.b64encode(f"{USER}:{secret}".encode()).decode()
    out = capsys.readouterr()
    for text in (str(info.value), repr(info.value), caplog.text, out.out, out.err):
        assert secret not in text and encoded not in text
    # the same in a fresh process with every logger at DEBUG, printing the error
    code = (
        "import logging, sys; logging.basicConfig(level=logging.DEBUG);"
        "from layerscope.sources.registry import load;"
        "from layerscope.model import ImageRef, SourceKind;"
        f"ref = ImageRef(SourceKind.REGISTRY, '{private.host}/creds/app:1');"
        "\ntry:\n    load(ref)\n"
        "except Exception as exc:\n    print(repr(exc), exc, file=sys.stderr); sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "refused" in done.stderr
    assert secret not in done.stdout + done.stderr
    assert encoded not in done.stdout + done.stderr


def test_repr_and_scrub_hide_secrets() -> None:
    creds = Credentials(username="u", password="p4ssw0rd", identity_token="tok-123")
    assert "p4ssw0rd" not in repr(creds) and "tok-123" not in repr(creds)
    assert scrub("x p4ssw0rd y tok-123", creds) == "x *** y ***"


def test_credential_keys() -> None:
    assert credential_key("docker.io") == HUB_KEY
    assert credential_key("registry-1.docker.io") == HUB_KEY
    assert credential_key("ghcr.io") == "ghcr.io"


def test_challenge_parsing() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push", Basic realm="x\\"y"'
    )
    bearer, basic = parse_challenges(header)
    assert bearer.scheme == "bearer"
    assert bearer.get("realm") == "https://auth.docker.io/token"
    assert bearer.get("service") == "registry.docker.io"
    assert bearer.get("scope") == "repository:samalba/my-app:pull,push"
    assert (basic.scheme, basic.get("realm")) == ("basic", 'x"y')
    assert parse_challenges("Bearer realm=https://a/token")[0].get("realm") == "https://a/token"


def test_retry_after() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None
