"""A small Chrome DevTools Protocol client for Debian's headless chromium over
``--remote-debugging-pipe`` (requests on fd 3, replies on fd 4, each message JSON ending in a NUL
byte): no port, no websocket library, no browser download.

Used by the report tests and by benchmarks/bench_report.py.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


def chromium_binary() -> str:
    """Debian's chromium; a missing browser is a failure (scripts/test installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise AssertionError("chromium is not installed (scripts/test installs Debian's chromium)")
    return found


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class CdpError(AssertionError):
    """A protocol error reply or a browser that went away."""


class Browser:
    """One headless chromium process and one page attached over the pipe."""

    def __init__(self, profile: Path, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child's ends move above 9 so wiring them to 3 and 4 cannot clobber one another
        to_child_r = _above_nine(to_child_r)
        from_child_w = _above_nine(from_child_w)

        def wire() -> None:  # in the child: fd 3 reads requests, fd 4 writes replies
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # dup2 only, before exec; close_fds would close 3 and 4 after it (Python's own fds
            # are close-on-exec anyway, PEP 446)
            preexec_fn=wire,  # noqa: PLW1509
            close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next = 0
        self._lock = threading.Condition()
        self._replies: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._closed = False
        self._stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.session = self._attach()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._lock:
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self.events.append(message)
                    self._lock.notify_all()
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def send(self, method: str, params: dict[str, Any] | None = None, *, page: bool = True) -> Any:
        """Send one command (to the page's session unless ``page`` is False); its result."""
        with self._lock:
            self._next += 1
            ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if page:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._lock:
            while ident not in self._replies:
                if self._closed:
                    raise CdpError(f"chromium exited: {b''.join(self._stderr)[-2000:]!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CdpError(f"no reply to {method} in {self.timeout} s")
                self._lock.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _attach(self) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, page=False
        )
        session: str = attached["sessionId"]
        return session

    def wait_event(self, method: str, since: int = 0) -> dict[str, Any]:
        """The first event ``method`` of the page's session at or after index ``since``."""
        deadline = time.monotonic() + self.timeout
        with self._lock:
            while True:
                for event in self.events[since:]:
                    if event.get("method") == method and event.get("sessionId") == self.session:
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise CdpError(f"no {method} event")
                self._lock.wait(left)

    def open(self, url: str, *, width: int = 1280, height: int = 800) -> float:
        """Load ``url`` at a ``width`` x ``height`` viewport; seconds until the load event."""
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Log.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        mark = len(self.events)
        start = time.monotonic()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", mark)
        elapsed = time.monotonic() - start
        # a late load event of the first about:blank must not pass for this page's
        deadline = time.monotonic() + self.timeout
        while self.evaluate("location.href + ' ' + document.readyState") != f"{url} complete":
            if time.monotonic() > deadline:
                raise CdpError(f"{url} did not finish loading")
            time.sleep(0.05)
        return elapsed

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (an exception is an error)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise CdpError(f"{expression!r} threw {result['exceptionDetails']}")
        return result["result"].get("value")

    def mouse(self, kind: str, x: float, y: float, *, clicks: int = 0) -> None:
        """A real input event: ``mouseMoved``, ``mousePressed`` or ``mouseReleased``."""
        params: dict[str, Any] = {"type": kind, "x": x, "y": y}
        if kind != "mouseMoved":
            params.update(button="left", clickCount=clicks or 1)
        self.send("Input.dispatchMouseEvent", params)

    def click(self, x: float, y: float) -> None:
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y)
        self.mouse("mouseReleased", x, y)

    def screenshot(self, path: Path) -> bytes:
        """A PNG of the viewport, written to ``path``."""
        data = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
        path.write_bytes(data)
        return data

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads the page reported so far."""
        out = []
        with self._lock:
            events = list(self.events)
        for event in events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(f"exception: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return out

    def requests_seen(self) -> list[str]:
        """URLs the page asked for after load (needs ``Network.enable`` first)."""
        with self._lock:
            return [
                e["params"]["request"]["url"]
                for e in self.events
                if e.get("method") == "Network.requestWillBeSent"
            ]

    def close(self) -> None:
        try:
            self.send("Browser.close", page=False)
        except CdpError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


@contextmanager
def browser(tmp: Path) -> Iterator[Browser]:
    """A fresh headless chromium with its own profile under ``tmp``."""
    profile = tmp / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    b = Browser(profile)
    try:
        yield b
    finally:
        b.close()
