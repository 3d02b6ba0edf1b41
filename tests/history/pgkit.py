"""A private PostgreSQL cluster for the tests, from Debian's ``postgresql`` package.

``initdb`` into a fresh temporary folder (as ``nobody`` when we are root: initdb refuses root),
password authentication (scram-sha-256) for the superuser, ``pg_ctl start`` on a free loopback
port with the socket in the data folder; ``stop()`` at the end removes it all. Each test gets a
database of its own (``create_database``).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
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
