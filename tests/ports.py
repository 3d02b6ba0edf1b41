"""Loopback ports for tests, without the race of "find a free port, then use it"."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections for as long as the block runs.

    The port is bound and never listened on, so connecting gets ``Connection refused`` and no
    other process (another xdist worker, another suite) can take it in the meantime, as it could
    a port merely found free and released.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
