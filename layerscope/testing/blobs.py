"""Blob production: streamed layer tars (optionally compressed) and JSON documents, with digests."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from layerscope.testing.spec import Compression, LayerSpec
from layerscope.testing.tarstream import Sink, write_layer

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
LAYER_SUFFIX: dict[str, str] = {"none": "", "gzip": "+gzip", "zstd": "+zstd"}


def go_json(value: Any, newline: bool = False) -> bytes:
    """Serialise like Go's ``json.Marshal``: compact, insertion order, ``<>&`` escaped, UTF-8."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + ("\n" if newline else "")).encode()


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def chain_ids(diff_ids: list[str]) -> list[str]:
    """OCI ChainIDs for a list of diff_ids."""
    out: list[str] = []
    for d in diff_ids:
        out.append(d if not out else sha256_digest(f"{out[-1]} {d}".encode()))
    return out


@dataclass(frozen=True, slots=True)
class Blob:
    """A content-addressed blob: on disk (``path``) or in memory (``data``)."""

    digest: str
    size: int
    media_type: str = ""
    path: Path | None = None
    data: bytes | None = None

    @property
    def hex(self) -> str:
        """The digest without its algorithm prefix."""
        return self.digest.split(":", 1)[1]


@dataclass(frozen=True, slots=True)
class LayerBlob:
    """A built layer: the stored blob plus the uncompressed tar's diff_id and size."""

    blob: Blob
    diff_id: str
    tar_size: int
    compression: Compression


class _HashFile:
    def __init__(self, f: Any) -> None:
        self.f = f
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, data: bytes) -> int:
        self.h.update(data)
        self.n += len(data)
        self.f.write(data)
        return len(data)


class _Tee:
    """Hashes the uncompressed tar and forwards it to a compressor."""

    def __init__(self, nxt: Sink | None) -> None:
        self.h = hashlib.sha256()
        self.n = 0
        self.nxt = nxt

    def write(self, data: bytes) -> int:
        self.h.update(data)
        self.n += len(data)
        if self.nxt is not None:
            self.nxt.write(data)
        return len(data)


class _GzipSink:
    """Deterministic gzip member like Go's compress/gzip: mtime 0, no name, OS 255."""

    def __init__(self, out: _HashFile, level: int) -> None:
        self.out = out
        self.z = zlib.compressobj(level, zlib.DEFLATED, -15)
        self.crc = 0
        self.size = 0
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        c = self.z.compress(data)
        if c:
            self.out.write(c)
        return len(data)

    def close(self) -> None:
        self.out.write(self.z.flush())
        self.out.write(struct.pack("<II", self.crc & 0xFFFFFFFF, self.size & 0xFFFFFFFF))


class BlobStore:
    """Builds blobs into ``workdir`` (a temp dir next to the output) and deduplicates them."""

    def __init__(self, workdir: Path, gzip_level: int = 6, zstd_level: int = 3) -> None:
        self.workdir = workdir
        self.gzip_level = gzip_level
        self.zstd_level = zstd_level
        self._layers: dict[tuple[str, str], LayerBlob] = {}
        self._n = 0

    def json_blob(self, value: Any, media_type: str = "", newline: bool = False) -> Blob:
        """A JSON document blob held in memory."""
        return self.bytes_blob(go_json(value, newline), media_type)

    @staticmethod
    def bytes_blob(data: bytes, media_type: str = "") -> Blob:
        """An in-memory blob."""
        return Blob(sha256_digest(data), len(data), media_type, data=data)

    def layer(
        self, layer: LayerSpec, compression: Compression, default_mtime: int = 0
    ) -> LayerBlob:
        """Stream ``layer`` to a temp file, hashing (and compressing) on the way."""
        self._n += 1
        tmp = self.workdir / f"layer-{self._n}.tmp"
        with open(tmp, "wb") as f:
            out = _HashFile(f)
            if compression == "none":
                tee = _Tee(out)
                write_layer(layer, tee, default_mtime)
            elif compression == "gzip":
                gz = _GzipSink(out, self.gzip_level)
                tee = _Tee(gz)
                write_layer(layer, tee, default_mtime)
                gz.close()
            else:
                import zstandard

                zw: Any = zstandard.ZstdCompressor(level=self.zstd_level).stream_writer(
                    cast(Any, out), closefd=False
                )
                tee = _Tee(zw)
                write_layer(layer, tee, default_mtime)
                zw.flush(zstandard.FLUSH_FRAME)
                zw.close()
        digest, size = "sha256:" + out.h.hexdigest(), out.n
        diff_id = "sha256:" + tee.h.hexdigest()
        key = (digest, compression)
        if key in self._layers:
            tmp.unlink()
            return self._layers[key]
        final = self.workdir / digest.split(":", 1)[1]
        os.replace(tmp, final)
        mt = MT_OCI_LAYER + LAYER_SUFFIX[compression]
        built = LayerBlob(Blob(digest, size, mt, path=final), diff_id, tee.n, compression)
        self._layers[key] = built
        return built


def descriptor(blob: Blob, media_type: str | None = None, **extra: Any) -> dict[str, Any]:
    """An OCI descriptor (Go field order: mediaType, digest, size, then extras)."""
    d: dict[str, Any] = {
        "mediaType": media_type or blob.media_type,
        "digest": blob.digest,
        "size": blob.size,
    }
    d.update({k: v for k, v in extra.items() if v})
    return d


def platform_dict(platform: str) -> dict[str, str]:
    """``os/arch[/variant]`` to an OCI platform object."""
    parts = platform.split("/")
    d = {"architecture": parts[1], "os": parts[0]}
    if len(parts) > 2:
        d["variant"] = parts[2]
    return d


def oci_manifest(
    config: Blob,
    layers: list[Blob],
    config_media_type: str = MT_OCI_CONFIG,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An OCI image manifest document."""
    m: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MT_OCI_MANIFEST,
        "config": descriptor(config, config_media_type),
        "layers": [descriptor(b) for b in layers],
    }
    if annotations:
        m["annotations"] = dict(annotations)
    return m


def oci_index(manifests: list[dict[str, Any]], annotations: Mapping[str, str] | None = None) -> Any:
    """An OCI image index document."""
    idx: dict[str, Any] = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": manifests}
    if annotations:
        idx["annotations"] = dict(annotations)
    return idx
