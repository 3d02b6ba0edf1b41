"""Test servers around the real distribution registry: a JWT token server and a fault proxy."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(handler: type[BaseHTTPRequestHandler], owner: Any) -> tuple[_Server, int]:
    server = _Server(("127.0.0.1", 0), handler)
    server.owner = owner  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


# --- token server ------------------------------------------------------------------------------


@dataclass
class TokenServer:
    """Issues RS256 JWTs the registry's ``auth: token`` mode accepts (cert in ``x5c``)."""

    workdir: Path
    users: dict[str, str]
    issuer: str = "layerscope-test-issuer"
    service: str = "layerscope-test-registry"
    expires_in: int | None = 300
    field_name: str = "token"
    issued: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "layerscope test token")])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = self.workdir / "token-cert.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.server, self.port = serve(_TokenHandler, self)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def make_token(self, subject: str, access: list[dict[str, Any]], ttl: int) -> str:
        header = {
            "alg": "RS256",
            "typ": "JWT",
            "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()],
        }
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + ttl,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(sig)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _TokenHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        owner: TokenServer = self.server.owner  # type: ignore[attr-defined]
        query = parse_qs(urlsplit(self.path).query)
        subject = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            if owner.users.get(user) != password:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            subject = user
        access = []
        for scope in query.get("scope", []):
            for one in scope.split(" "):
                kind, _, rest = one.partition(":")
                name, _, actions = rest.rpartition(":")
                wanted = [a for a in actions.split(",") if a]
                granted = wanted if subject else []
                access.append({"type": kind, "name": name, "actions": granted})
        ttl = owner.expires_in or 60
        token = owner.make_token(subject, access, ttl)
        owner.issued.append({"subject": subject, "scopes": query.get("scope", []), "ttl": ttl})
        doc: dict[str, Any] = {owner.field_name: token}
        if owner.expires_in is not None:
            doc["expires_in"] = owner.expires_in
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# --- fault-injecting proxy -----------------------------------------------------------------------


@dataclass
class Fault:
    """Applied to the next ``times`` requests whose path matches ``path`` (a regex)."""

    path: str
    action: str
    """``status`` (send ``status`` with ``headers``), ``drop`` (close after ``after`` body bytes),
    ``flip`` (flip the body byte at ``after``), ``redirect`` (307 to the alternate host),
    ``hold`` (send ``after`` body bytes, then wait for ``release`` and close),
    ``refuse`` (reset the connection before answering), ``stall`` (send ``after`` body bytes,
    then nothing for ``stall_s`` seconds), ``truncate`` (a complete-looking answer of only
    ``after`` body bytes), ``length`` (declare 100 bytes more than the body, send it, close),
    ``loop`` (307 to the very same URL), ``wait`` (answer in full once ``release`` is set).
    ``after`` -1 means half the body."""
    times: int = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0
    method: str = "GET"
    reached: threading.Event = field(default_factory=threading.Event)
    """``hold``: set once the first ``after`` body bytes are sent; ``wait``: once it waits."""
    release: threading.Event = field(default_factory=threading.Event)
    """``hold``: the connection is closed (the rest never sent) once this is set."""
    peer: tuple[str, int] | None = None
    """``hold``: the client's address of the held connection."""
    stall_s: float = 5.0


@dataclass
class FaultProxy:
    """A reverse proxy on loopback in front of a registry, injecting faults from a plan."""

    upstream_port: int
    faults: list[Fault] = field(default_factory=list)
    log: list[tuple[str, str, int, dict[str, str]]] = field(default_factory=list)
    bodies: list[tuple[str, str | None, int]] = field(default_factory=list)
    """(path, Range header, body bytes actually sent) per forwarded GET, in the order sent."""
    upstream_auth: str | None = None
    """Authorization the proxy itself adds to redirected (signed-URL-like) requests."""
    token_port: int | None = None
    """When set, ``/token`` goes to this token server and the registry's challenges name the
    proxy as their realm, so token requests pass through the faults too."""
    port: int = 0
    signed: dict[str, str | None] = field(default_factory=dict)
    """Authorization of each request redirected by a ``redirect`` fault, by its path."""

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.server, self.port = serve(_ProxyHandler, self)

    def take(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and re.search(fault.path, path):
                    fault.times -= 1
                    return fault
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:  # noqa: N802
        self._handle()

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        owner: FaultProxy = self.server.owner  # type: ignore[attr-defined]
        headers = {k: v for k, v in self.headers.items()}
        redirected = "redirected=1" in self.path
        fault = None if redirected else owner.take(self.command, self.path)
        logged = False

        def note(status: int) -> None:
            """Log the request before answering it, so a client that got the answer sees it."""
            nonlocal logged
            logged = True
            with owner.lock:
                owner.log.append((self.command, self.path, status, headers))

        try:
            if fault is not None and fault.action == "wait":
                fault.reached.set()
                fault.release.wait(300)
                fault = None  # then answered as if nothing happened
            if fault is not None and fault.action == "refuse":
                note(-1)
                self.close_connection = True
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                return
            if fault is not None and fault.action == "loop":
                note(307)
                self.send_response(307)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault is not None and fault.action == "status":
                note(fault.status)
                self.send_response(fault.status)
                for k, v in fault.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault is not None and fault.action == "redirect":
                note(307)
                with owner.lock:  # the redirect URL carries the authority, like a signed URL
                    owner.signed[self.path] = headers.get("Authorization")
                sep = "&" if "?" in self.path else "?"
                self.send_response(307)
                self.send_header(
                    "Location", f"http://localhost:{owner.port}{self.path}{sep}redirected=1"
                )
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._forward(owner, fault, headers, redirected, note)
        finally:
            if not logged:
                note(0)

    def _forward(
        self,
        owner: FaultProxy,
        fault: Fault | None,
        headers: dict[str, str],
        redirected: bool,
        note: Callable[[int], None],
    ) -> None:
        path = self.path.replace("?redirected=1", "").replace("&redirected=1", "")
        to_token = owner.token_port is not None and path.startswith("/token")
        port = owner.token_port if to_token and owner.token_port else owner.upstream_port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        out = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        if redirected:
            out.pop("Authorization", None)
            with owner.lock:
                signed = owner.signed.get(path)
            if signed or owner.upstream_auth:
                out["Authorization"] = signed or owner.upstream_auth or ""
        conn.request(self.command, path, headers=out)
        resp = conn.getresponse()
        body_len = resp.getheader("Content-Length")
        note(resp.status)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("connection", "transfer-encoding", "content-length", "date", "server"):
                continue
            if k.lower() == "www-authenticate" and owner.token_port is not None:
                v = v.replace(f"127.0.0.1:{owner.token_port}", f"127.0.0.1:{owner.port}")
            self.send_header(k, v)
        data = resp.read() if self.command != "HEAD" else b""
        action = fault.action if fault is not None else None
        cut = 0
        if fault is not None:
            cut = len(data) // 2 if fault.after < 0 else min(fault.after, len(data))
        declared = body_len if self.command == "HEAD" else str(len(data))
        if action == "truncate":
            declared = str(cut)
        elif action == "length":
            declared = str(len(data) + 100)
        self.send_header("Content-Length", declared or "0")
        if action in ("drop", "stall", "length", "hold"):
            self.send_header("Connection", "close")
        self.end_headers()
        if fault is not None and action == "hold":
            self.wfile.write(data[:cut])
            self.wfile.flush()
            fault.peer = (str(self.client_address[0]), int(self.client_address[1]))
            fault.reached.set()
            fault.release.wait(300)
            self.close_connection = True
            conn.close()
            return
        if fault is not None and action in ("drop", "stall", "length"):
            sent = len(data) if action == "length" else cut
            self.wfile.write(data[:sent])
            self.wfile.flush()
            self._sent(owner, path, headers, sent)
            if action == "stall":
                time.sleep(fault.stall_s)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif fault is not None and action == "truncate":
            self._write_whole(owner, path, headers, data[:cut])
        elif fault is not None and fault.action == "flip" and data:
            pos = min(fault.after, len(data) - 1)
            flipped = bytearray(data)
            flipped[pos] ^= 0x01
            self._write_whole(owner, path, headers, bytes(flipped))
        else:
            self._write_whole(owner, path, headers, data)
        conn.close()

    def _write_whole(
        self, owner: FaultProxy, path: str, headers: dict[str, str], body: bytes
    ) -> None:
        """Send a body as long as its Content-Length, recorded in ``bodies`` first: the client
        has all it waits for once the bytes are out, and may return (and a test read
        ``bodies``) before this thread runs again. A write that fails takes its record back."""
        self._sent(owner, path, headers, len(body))
        try:
            self.wfile.write(body)
        except OSError:
            if self.command == "GET":
                with owner.lock:
                    owner.bodies.remove((path, headers.get("Range"), len(body)))
            raise

    def _sent(self, owner: FaultProxy, path: str, headers: dict[str, str], n: int) -> None:
        if self.command == "GET":
            with owner.lock:
                owner.bodies.append((path, headers.get("Range"), n))
