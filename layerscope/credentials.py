"""Registry credentials: flags, environment, Docker's ``config.json`` and credential helpers.

Lookup follows docker/cli (formats.md 5d): ``credHelpers[key]``, else ``credsStore``, else the
``auths`` entry; Docker Hub's key is ``https://index.docker.io/v1/``. Secrets never appear in a
``repr`` or in an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

HUB_KEY = "https://index.docker.io/v1/"
HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
TOKEN_USERNAME = "<token>"
"""A helper's username meaning "the secret is an identity token"."""
ENV_USERNAME = "LAYERSCOPE_REGISTRY_USERNAME"
ENV_PASSWORD = "LAYERSCOPE_REGISTRY_PASSWORD"
HELPER_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Credentials:
    """What to authenticate with; secret fields are left out of ``repr``."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    """An OAuth2 refresh token (``identitytoken``, or a helper's ``<token>`` username)."""
    registry_token: str = field(default="", repr=False)
    """A bearer token to send as is (``registrytoken``)."""
    source: str = ""
    """Where they came from, for messages: ``flag``, ``environment``, ``config.json``..."""

    @property
    def has_basic(self) -> bool:
        return bool(self.username) and bool(self.password)

    def secrets(self) -> tuple[str, ...]:
        """The secret strings, to scrub from any text shown to a person."""
        return tuple(s for s in (self.password, self.identity_token, self.registry_token) if s)


def parse_user_pass(text: str, source: str = "flag") -> Credentials:
    """``USER:PASSWORD`` (as ``--creds`` takes it) split at the first colon."""
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise ConfigError("credentials must be given as USERNAME:PASSWORD")
    return Credentials(username=user, password=password, source=source)


def credential_key(registry: str) -> str:
    """The key Docker stores a registry's credentials under."""
    host = registry.lower()
    return HUB_KEY if host in HUB_HOSTS else registry


def _hostname(key: str) -> str:
    """docker/cli ConvertToHostname: strip a scheme and any path."""
    text = key
    for scheme in ("http://", "https://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
            break
    return text.split("/", 1)[0]


def docker_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    environ = os.environ if env is None else env
    base = environ.get("DOCKER_CONFIG")
    return (Path(base) if base else Path.home() / ".docker") / "config.json"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        doc = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: not a JSON object")
    return doc


def _find_entry(auths: Any, key: str) -> dict[str, Any] | None:
    if not isinstance(auths, dict):
        return None
    entry = auths.get(key)
    if isinstance(entry, dict):
        return entry
    wanted = _hostname(key)
    for name, value in auths.items():
        if isinstance(name, str) and isinstance(value, dict) and _hostname(name) == wanted:
            return value
    return None


def _from_entry(entry: dict[str, Any], source: str) -> Credentials | None:
    user = str(entry.get("username") or "")
    password = str(entry.get("password") or "")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=False).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: an 'auth' entry is not valid base64") from exc
        user, sep, password = decoded.partition(":")
        if not sep:
            raise ConfigError(f"{source}: an 'auth' entry is not base64 of USER:PASSWORD")
        password = password.rstrip("\x00")
    creds = Credentials(
        username=user,
        password=password,
        identity_token=str(entry.get("identitytoken") or ""),
        registry_token=str(entry.get("registrytoken") or ""),
        source=source,
    )
    if not (creds.has_basic or creds.identity_token or creds.registry_token):
        return None
    return creds


def run_helper(name: str, key: str) -> Credentials | None:
    """``docker-credential-NAME get`` with ``key`` on stdin; None when it has nothing for it."""
    program = f"docker-credential-{name}"
    try:
        done = subprocess.run(
            [program, "get"],
            input=key.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ConfigError(f"credential helper {program} is not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"credential helper {program} did not answer in time") from exc
    out = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        if "credentials not found" in out.lower() or not out.strip():
            return None
        # The helper's own message is on stdout; it names no secret, but keep it to one short line.
        first = (out.strip().splitlines() or [""])[0][:160]
        raise ConfigError(f"credential helper {program} failed for {key}: {first}")
    try:
        doc = json.loads(out)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"credential helper {program} printed something that is not JSON"
        ) from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"credential helper {program} printed something that is not an object")
    user = str(doc.get("Username") or "")
    secret = str(doc.get("Secret") or "")
    if not secret:
        return None
    source = f"credential helper {program}"
    if user == TOKEN_USERNAME:
        return Credentials(identity_token=secret, source=source)
    return Credentials(username=user, password=secret, source=source)


def _podman_auth_files(env: Mapping[str, str]) -> list[Path]:
    out: list[Path] = []
    if env.get("REGISTRY_AUTH_FILE"):
        out.append(Path(env["REGISTRY_AUTH_FILE"]))
    if env.get("XDG_RUNTIME_DIR"):
        out.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    config_home = env.get("XDG_CONFIG_HOME")
    out.append(
        (Path(config_home) if config_home else Path.home() / ".config") / "containers" / "auth.json"
    )
    return out


def lookup(registry: str, *, env: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials for ``registry`` (a host[:port] or ``docker.io``), or None for anonymous.

    Order: ``LAYERSCOPE_REGISTRY_USERNAME``/``_PASSWORD``, ``DOCKER_AUTH_CONFIG``, Docker's
    config.json (credHelpers, credsStore, auths), then podman's auth.json files.
    """
    environ = os.environ if env is None else env
    key = credential_key(registry)
    user = environ.get(ENV_USERNAME)
    if user:
        return Credentials(
            username=user, password=environ.get(ENV_PASSWORD, ""), source="environment"
        )
    inline = environ.get("DOCKER_AUTH_CONFIG")
    if inline:
        try:
            doc = json.loads(inline)
        except json.JSONDecodeError as exc:
            raise ConfigError("DOCKER_AUTH_CONFIG is not valid JSON") from exc
        entry = _find_entry(doc.get("auths") if isinstance(doc, dict) else None, key)
        if entry is not None:
            return _from_entry(entry, "DOCKER_AUTH_CONFIG")
    path = docker_config_path(environ)
    config = _read_json(path)
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        helper = helpers.get(key) or next(
            (
                v
                for k, v in helpers.items()
                if isinstance(k, str) and _hostname(k) == _hostname(key)
            ),
            None,
        )
        if isinstance(helper, str) and helper:
            return run_helper(helper, key)
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        return run_helper(store, key)
    entry = _find_entry(config.get("auths"), key)
    if entry is not None:
        found = _from_entry(entry, str(path))
        if found is not None:
            return found
    if not path.exists():
        for auth_file in _podman_auth_files(environ):
            podman_key = "docker.io" if key == HUB_KEY else registry
            entry = _find_entry(_read_json(auth_file).get("auths"), podman_key)
            if entry is not None:
                return _from_entry(entry, str(auth_file))
    return None


def scrub(text: str, creds: Credentials | None) -> str:
    """``text`` with every secret of ``creds`` (and its base64 forms) replaced by ``***``."""
    if creds is None:
        return text
    for secret in creds.secrets():
        text = text.replace(secret, "***")
    if creds.has_basic:
        pair = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
        text = text.replace(pair, "***")
    return text
