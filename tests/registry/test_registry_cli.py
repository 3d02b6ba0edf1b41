"""The registry through the command line: registry://, bare names, credentials, exit codes."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from layerscope.cli import main
from tests.integration.conftest import docker_cli, docker_host  # noqa: F401 - fixtures
from tests.ports import refused_port

from .conftest import Registry
from .test_registry_source import anon_pushed, archive, archive_image  # noqa: F401 - fixtures


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_registry_ref_loads_and_says_so(
    anon_pushed: Registry, archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", f"registry://{anon_pushed.host}/test/app:1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["image"]["source"] == "registry"
    assert main(["inspect", str(archive), "--json", "--no-cache"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert [x["diff_id"] for x in doc["layers"]] == [x["diff_id"] for x in local["layers"]]
    assert [x["size_bytes"] for x in doc["layers"]] == [x["size_bytes"] for x in local["layers"]]
    # the manifest's media type and stored size are shown per layer, in JSON and in text
    assert all(x["media_type"].endswith(("tar", "gzip", "zstd")) for x in doc["layers"])
    assert main(["inspect", f"registry://{anon_pushed.host}/test/app:1", "--text"]) == 0
    text = capsys.readouterr().out
    assert "registry" in text.splitlines()[0]


def test_bare_name_falls_back_to_the_registry_when_no_engine(anon_pushed: Registry) -> None:
    done = _cli(
        "inspect",
        f"{anon_pushed.host}/test/app:2",
        "--text",
        env={"DOCKER_HOST": "unix:///nonexistent.sock"},
    )
    assert done.returncode == 0, done.stderr
    assert "(registry," in done.stdout.splitlines()[0]


def test_unreachable_registry_exits_3() -> None:
    done = _cli("inspect", "registry://127.0.0.1:9/nothing/here:1", "--json")
    assert done.returncode == 3
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    # The socket's own reason, not requests' three layers of pool and URL details.
    refused = os.strerror(errno.ECONNREFUSED)
    assert done.stderr.strip().endswith(f"127.0.0.1:9: cannot reach the registry ({refused})")
    assert "HTTPConnectionPool" not in done.stderr


def test_creds_flag_for_basic_auth(basic_registry: Registry, archive: Path) -> None:
    basic_registry.push(f"docker-archive:{archive}", "cli/app:1")
    ref = f"registry://{basic_registry.host}/cli/app:1"
    refused = _cli("inspect", ref, "--json", env={"DOCKER_CONFIG": "/nonexistent"})
    assert refused.returncode == 3, refused.stderr
    assert basic_registry.creds is not None
    ok = _cli("inspect", ref, "--json", "--creds", basic_registry.creds)
    assert ok.returncode == 0, ok.stderr
    secret = basic_registry.creds.split(":", 1)[1]
    assert secret not in ok.stdout + ok.stderr + refused.stdout + refused.stderr


def test_platform_is_checked_for_a_single_manifest_image(
    anon_pushed: Registry, archive: Path
) -> None:
    """``--platform`` another than the lone manifest's: refused as the archive refuses it."""
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    have = f"{config['os']}/{config['architecture']}"
    other = "linux/s390x" if config["architecture"] != "s390x" else "linux/arm64"
    ref = f"registry://{anon_pushed.host}/test/app:1"
    from_registry = _cli("inspect", ref, "--platform", other, "--json")
    from_archive = _cli("inspect", str(archive), "--platform", other, "--json", "--no-cache")
    assert from_archive.returncode != 0
    assert (from_registry.returncode, from_registry.stdout) == (from_archive.returncode, "")
    # the same words as the archive (whose index lists the one platform it has)
    said = from_registry.stderr.strip()
    assert said == f"layerscope: error: {ref}: no image for platform {other}; the image has: {have}"
    assert from_archive.stderr.strip().endswith(
        f"no image for platform {other}; the index has: {have}"
    ), from_archive.stderr
    # the platform it has is still accepted
    assert _cli("inspect", ref, "--platform", have, "--json").returncode == 0


def test_bare_name_the_engine_lacks_says_so_then_the_registry(
    anon_pushed: Registry, docker_host: str
) -> None:
    """A reachable engine without the image: both halves of the story, in one line."""
    name = f"{anon_pushed.host}/test/not-pushed:1"
    done = _cli("inspect", name, "--json", env={"DOCKER_HOST": docker_host})
    assert done.returncode != 0 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"layerscope: error: the Docker engine at {docker_host} has no image "
                           f"{name}; the registry: "), line  # fmt: skip
    assert "not-pushed" in line.split("the registry: ", 1)[1]
    # the tag the registry has still loads from it
    ok = _cli("inspect", f"{anon_pushed.host}/test/app:1", "--text",
              env={"DOCKER_HOST": docker_host})  # fmt: skip
    assert ok.returncode == 0 and "(registry," in ok.stdout.splitlines()[0], ok.stderr


def test_a_proxy_named_in_the_environment_carries_the_registry_requests(
    anon_pushed: Registry,
) -> None:
    """Registry requests skip the requests session unless a proxy applies; one that does is
    used: through a proxy that refuses connections the registry cannot be reached, and with
    NO_PROXY naming the registry it is read directly."""
    ref = f"registry://{anon_pushed.host}/test/app:1"
    with refused_port() as port:
        proxy = f"http://127.0.0.1:{port}"
        env = {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
        through = _cli("inspect", ref, "--json", "--no-cache", env=env)
        bypass = {**env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        direct = _cli("inspect", ref, "--json", "--no-cache", env=bypass)
    assert through.returncode == 3, through.stderr
    refused = os.strerror(errno.ECONNREFUSED)
    assert through.stderr.strip().endswith(f"cannot reach the registry ({refused})")
    assert direct.returncode == 0, direct.stderr
    assert json.loads(direct.stdout)["image"]["source"] == "registry"
