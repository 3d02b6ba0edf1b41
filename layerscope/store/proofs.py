"""Proofs kept between runs: ``suggest --prove`` leaves its figures in the data directory, and a
later ``inspect --dockerfile`` of the same image, Dockerfile and patch shows them.

A proof is kept as the JSON of its ``proof`` object (``render.prove.proof_document``), one file
per key under ``data_dir()/proofs``; the key is a digest of the image id, the Dockerfile and
.dockerignore texts and the files the combined patch would write, so a proof is shown only for
exactly what it built.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from ..config_paths import data_dir
from ..errors import StoreError

FOLDER = "proofs"


def proof_key(
    image_id: str,
    dockerfile: str,
    dockerignore: str | None,
    patched_files: Iterable[tuple[str, str]],
) -> str:
    """The digest naming the proof of this image, Dockerfile, .dockerignore and patch."""
    digest = hashlib.sha256()
    parts = [image_id, dockerfile, dockerignore if dockerignore is not None else "\0none"]
    for name, text in sorted(patched_files):
        parts += [name, text]
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _folder(root: Path | None) -> Path:
    return (root if root is not None else data_dir()) / FOLDER


def save_proof(key: str, document: str, root: Path | None = None) -> Path:
    """Keep ``document`` (JSON text) under ``key``, replacing an earlier one atomically."""
    folder = _folder(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".proof-", suffix=".json", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(document)
        target = folder / f"{key}.json"
        os.replace(tmp, target)
    except OSError as exc:
        raise StoreError(f"cannot keep the proof in {folder}: {exc.strerror or exc}") from exc
    return target


def load_proof(key: str, root: Path | None = None) -> tuple[str, str] | None:
    """(JSON text, when it was kept: UTC ISO 8601) of the proof under ``key``; None when there
    is none or it cannot be read."""
    try:
        path = _folder(root) / f"{key}.json"
        text = path.read_text(encoding="utf-8")
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (OSError, StoreError):
        return None
    return text, when.strftime("%Y-%m-%dT%H:%M:%SZ")
