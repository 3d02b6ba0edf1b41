"""What happens to a local layer's walk before it may enter the layer cache: the sha256 check
against its diff_id that runs beside the walk (``Check``), or, for a one-shot command's big
layer, none (``KeepLocal``); and the cache key of a walk not (yet) hashed (``local_key``).

The rule is docs/architecture.md's "The layer cache and trust"; ``archive._read_layer`` picks.
"""

from __future__ import annotations

import hashlib
import threading

from ..errors import DigestMismatchError
from ..model import Digest, LayerContents, LayerIndex
from .blobs import BlobStore
from .manifests import LayerRef


def local_key(store: BlobStore, name: str, diff_id: Digest) -> Digest | None:
    """The cache key of a layer read from this file but not yet hashed to its diff_id: the
    file's identity (device, inode, size, mtime, ctime), the member's offset and size, and the
    claimed diff_id. None when the store has no lasting file (a spooled export)."""
    identity = getattr(store, "identity", None)
    ident = identity(name) if identity is not None else None
    if ident is None:
        return None
    key = hashlib.sha256(f"{ident}|{diff_id}".encode()).hexdigest()
    return Digest(LOCAL_KEY_PREFIX + key)


LOCAL_KEY_PREFIX = "local-unverified:"
"""Prefix of layer cache keys that only the same unchanged archive file may hit."""


class Handoff:
    """What the walk found, handed to the background check once the walk is done."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._value: tuple[LayerContents, Digest | None] | None = None

    def give(self, value: tuple[LayerContents, Digest | None] | None) -> None:
        self._value = value
        self._ready.set()

    def take(self) -> tuple[LayerContents, Digest | None] | None:
        self._ready.wait()
        return self._value

    def ready(self) -> bool:
        return self._ready.is_set()

    def cache_under(self, index: LayerIndex, key: Digest) -> None:
        """Once the walk is done, put what it found in ``index`` under ``key`` (nothing when it
        failed)."""
        result = self.take()
        if result is not None:
            index.put(key, result[0])


class Check:
    """Background work: hash the blob, wait for the walk, cache its result if the hash matches.

    ``stop()`` (the command is done) ends the hashing early when ``stoppable``: the walk is then
    cached under the ``local`` key only, if there is one. A check that is not stoppable (a
    spooled export, which has no lasting identity) runs to the end and the command waits for it.
    """

    def __init__(
        self,
        store: BlobStore,
        layer_ref: LayerRef,
        position: int,
        diff_id: Digest,
        local: Digest | None,
        index: LayerIndex,
        scanned: Handoff,
        stoppable: bool,
    ) -> None:
        self._stoppable = stoppable
        self._detached = store.open_detached(layer_ref.path)
        self._label = f"{store.label}: layer {position}"
        self._diff_id = diff_id
        self._local = local
        self._index = index
        self._scanned = scanned
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def __call__(self) -> None:
        sha = hashlib.sha256()
        finished, early = True, False
        with self._detached as stream:
            while chunk := stream.read(4 << 20):
                sha.update(chunk)
                if self._stoppable:
                    early = early or self._store_early()
                    if self._stopped.is_set():
                        finished = False
                        break
        result = self._scanned.take()
        if result is None:
            return  # the walk failed: nothing to cache
        if not finished:
            if self._local is not None and not early:
                self._index.put(self._local, result[0])
            return
        got = Digest("sha256:" + sha.hexdigest())
        if got != self._diff_id:
            if early and self._local is not None:
                self._index.forget(self._local)
            raise DigestMismatchError(
                f"{self._label} hashes to {got}, but the config says {self._diff_id}; not cached"
            )
        self._index.put(self._diff_id, result[0], digest=result[1])
        if early and self._local is not None:
            self._index.forget(self._local)  # the diff_id entry serves this file too

    def _store_early(self) -> bool:
        """Once the walk is done, cache it under the local key while the hash goes on (so that
        the end of the command has no layer index to encode and write); True once done."""
        if self._local is None or not self._scanned.ready():
            return False
        self._scanned.cache_under(self._index, self._local)
        return True


class KeepLocal:
    """Background work of a one-shot command for a big local layer: no hash; once the walk is
    done, cache it under the file's identity (``local_key``), while the command goes on."""

    def __init__(self, local: Digest, index: LayerIndex, scanned: Handoff) -> None:
        self._local = local
        self._index = index
        self._scanned = scanned

    def __call__(self) -> None:
        self._scanned.cache_under(self._index, self._local)
