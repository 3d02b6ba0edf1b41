"""A private PostgreSQL cluster for the tests, from Debian's ``postgresql`` package.

``initdb`` into a fresh temporary folder (as ``nobody`` when we are root: initdb refuses root),
password authentication (scram-sha-256) for the superuser, ``pg_ctl start`` on a free loopback
port with the socket in the data folder; ``stop()`` at the end removes it all. Each test gets a
database of its own (``create_database``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

SUPERUSER = "layerscope"


def pg_bin() -> Path:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb; fail loudly when none does."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb missing): "
            "scripts/test installs Debian's postgresql package"
        )
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """One running cluster; ``url(db)`` names a database with the password in it."""

    def __init__(self) -> None:
        self.bin = pg_bin()
        self.password = "pw-" + secrets.token_hex(8)
        self.root = Path(tempfile.mkdtemp(prefix="layerscope-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
            self._as_user = ["runuser", "-u", "nobody", "--"]
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_user:
            os.chown(pwfile, pwd.getpwnam("nobody").pw_uid, -1)
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        self.start()

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        proc = subprocess.run(
            [*self._as_user, str(self.bin / tool), *args],
            capture_output=True, text=True, env=env, cwd=self.root, timeout=120,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise RuntimeError(f"{tool} failed ({proc.returncode}): {proc.stderr}{self.log()}")
        return proc

    def start(self) -> None:
        """Start (again) on a free port; a port taken in between is retried with another."""
        for _ in range(5):
            port = self.port or free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {self.data} "
                       "-c fsync=off -c max_connections=60")  # fmt: skip
            proc = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                "-w", "-t", "60", "-o", options, "start", check=False,
            )  # fmt: skip
            if proc.returncode == 0:
                self.port = port
                return
            if self.port:  # a restart must keep its port: clients hold the URL
                break
        raise RuntimeError(f"pg_ctl start failed: {proc.stderr}{self.log()}")

    def log(self) -> str:
        """The end of the server log (for failure messages)."""
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown; ``immediate``: what a crash leaves (recovery at start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        secret = self.password if password is None else password
        auth = f"{SUPERUSER}:{secret}@" if secret else f"{SUPERUSER}@"
        return f"postgresql://{auth}127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its URL (password included)."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)

    def query(self, url: str, sql: str) -> list[tuple[object, ...]]:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]


class CuttingProxy:
    """A TCP proxy in front of the cluster that, once its clients have sent ``cut_after``
    bytes, drops every connection and stops listening: the server is gone mid-run, for the
    clients, at a point that does not depend on timing."""

    def __init__(self, target_port: int, cut_after: int) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.sent = 0
        self.cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, cluster: PgCluster, database: str) -> str:
        return cluster.url(database).replace(f":{cluster.port}/", f":{self.port}/")

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while data := src.recv(65536):
                if counted:
                    with self._lock:
                        self.sent += len(data)
                        over = self.sent > self.cut_after
                    if over:
                        self.close()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.cut.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
