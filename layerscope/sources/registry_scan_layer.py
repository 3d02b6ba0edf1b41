"""One layer of a ``scan``: the task a worker runs, and its answer.

``read_layer`` reads one layer blob and is what the fan-out runs, in worker processes or on
Dask workers: a plain top-level function of picklable arguments (``LayerTask``) that never
raises (a failure is its ``LayerOutcome``). The listing that makes the tasks is
``registry_scan``; the outcomes merge back into images there (``image_of``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ..credentials import Credentials
from ..errors import LayerscopeError
from ..model import Digest, LayerContents
from .registry_blobs import LayerJob, pull_layer
from .registry_client import TRANSIENT, RegistryClient


@dataclass(frozen=True, slots=True)
class BlobRef:
    """One layer of a manifest: its blob and what the config says it unpacks to."""

    digest: Digest
    size: int
    diff_id: Digest
    media_type: str | None


@dataclass(frozen=True, slots=True)
class LayerTask:
    """What a worker needs to read one layer blob (picklable)."""

    registry: str
    repository: str
    blob: BlobRef
    insecure: tuple[str, ...] = ()
    credentials: Credentials | None = None


@dataclass(frozen=True, slots=True)
class LayerOutcome:
    """A worker's answer: the layer's contents, or why it could not be read."""

    digest: Digest
    diff_id: Digest
    contents: LayerContents | None
    compression: str
    bytes_read: int
    error: str | None = None


_CLIENTS: dict[tuple[str, tuple[str, ...], Credentials | None], RegistryClient] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(task: LayerTask) -> RegistryClient:
    key = (task.registry, task.insecure, task.credentials)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = RegistryClient(
                task.registry, insecure=task.insecure, credentials=task.credentials
            )
            _CLIENTS[key] = client
        return client


def read_layer(task: LayerTask) -> LayerOutcome:
    """Download and read one layer blob (verified against its digest and diff_id).

    Never raises for a layer that cannot be read: the outcome carries the one-line reason.
    Registry clients are kept per process, so one worker reuses its connections and tokens.
    """
    blob = task.blob
    label = f"{task.registry}/{task.repository}@{blob.digest}"
    read = [0]

    def advance(n: int) -> None:
        read[0] += n

    try:
        client = _client(task)
        scan = pull_layer(
            LayerJob(0, blob.digest, blob.size or None, blob.diff_id, label),
            lambda digest, offset: client.open_blob(task.repository, digest, offset),
            transient=TRANSIENT,
            advance=advance,
        )
    except LayerscopeError as exc:
        return LayerOutcome(blob.digest, blob.diff_id, None, "none", read[0], exc.message)
    except Exception as exc:  # noqa: BLE001 - a worker answers, it does not crash the scan
        return LayerOutcome(
            blob.digest,
            blob.diff_id,
            None,
            "none",
            read[0],
            f"{label}: {type(exc).__name__}: {exc}",
        )
    contents = LayerContents(scan.entries, scan.size_bytes, scan.tar_size_bytes, scan.contents)
    return LayerOutcome(blob.digest, blob.diff_id, contents, scan.compression, read[0])
