"""OCI image layouts (directory or tar) and the containerd-store ``docker save`` layout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from layerscope.testing.archive import Record, blob_record, bytes_record, dedupe, dir_record
from layerscope.testing.blobs import (
    MT_OCI_CONFIG,
    MT_OCI_INDEX,
    MT_OCI_MANIFEST,
    Blob,
    BlobStore,
    descriptor,
    go_json,
    oci_index,
    oci_manifest,
    platform_dict,
    sha256_digest,
)
from layerscope.testing.build import BuiltImage, familiar_ref, full_ref, split_ref
from layerscope.testing.spec import IndexSpec, image_ref_name

ANN_REF_NAME = "org.opencontainers.image.ref.name"
ANN_IMAGE_NAME = "io.containerd.image.name"
MT_IN_TOTO = "application/vnd.in-toto+json"


@dataclass(frozen=True, slots=True)
class BuiltIndex:
    """A multi-platform image whose present images are built."""

    spec: IndexSpec
    images: tuple[BuiltImage, ...]


BuiltItem = BuiltImage | BuiltIndex


def _manifest(img: BuiltImage, store: BlobStore, out: list[Blob]) -> Blob:
    """Make (and collect with its config and layers) the OCI manifest of one image."""
    layers = [lb.blob for lb in img.layers]
    m = store.json_blob(
        oci_manifest(img.config, layers, MT_OCI_CONFIG, img.spec.manifest_annotations),
        MT_OCI_MANIFEST,
    )
    out += [*layers, img.config, m]
    return m


def _attestation(subject: Blob, store: BlobStore, out: list[Blob]) -> dict[str, Any]:
    """A BuildKit-style provenance attestation manifest for ``subject``, as an index entry."""
    stmt = store.json_blob(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"name": "_", "digest": {"sha256": subject.hex}}],
            "predicate": {
                "builder": {"id": ""},
                "buildType": "https://mobyproject.org/buildkit@v1",
            },
        },
        MT_IN_TOTO,
    )
    cfg = store.json_blob(
        {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [stmt.digest]},
        },
        MT_OCI_CONFIG,
    )
    man = {
        "schemaVersion": 2,
        "mediaType": MT_OCI_MANIFEST,
        "config": descriptor(cfg),
        "layers": [
            descriptor(
                stmt, annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}
            )
        ],
    }
    mblob = store.json_blob(man, MT_OCI_MANIFEST)
    out += [stmt, cfg, mblob]
    return descriptor(
        mblob,
        annotations={
            "vnd.docker.reference.digest": subject.digest,
            "vnd.docker.reference.type": "attestation-manifest",
        },
        platform={"architecture": "unknown", "os": "unknown"},
    )


def _absent(platform: str, like: BuiltImage) -> dict[str, Any]:
    """Descriptor of a manifest that is referenced but not written (platform not pulled)."""
    fake = go_json(
        {
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": {
                "mediaType": MT_OCI_CONFIG,
                "digest": sha256_digest(f"{platform} {like.config.digest}".encode()),
                "size": like.config.size,
            },
            "layers": [],
        }
    )
    return {
        "mediaType": MT_OCI_MANIFEST,
        "digest": sha256_digest(fake),
        "size": len(fake),
        "platform": platform_dict(platform),
    }


def index_blobs(item: BuiltIndex, store: BlobStore, out: list[Blob]) -> Blob:
    """Make the (possibly nested) image index of a multi-platform image; collect present blobs."""
    entries: list[dict[str, Any]] = []
    attest: list[dict[str, Any]] = []
    for img in item.images:
        m = _manifest(img, store, out)
        entries.append(descriptor(m, platform=platform_dict(img.spec.platform)))
        if item.spec.attestations:
            attest.append(_attestation(m, store, out))
    entries += [_absent(p, item.images[0]) for p in item.spec.absent_platforms]
    idx = store.json_blob(oci_index(entries + attest, item.spec.annotations), MT_OCI_INDEX)
    out.append(idx)
    for _ in range(item.spec.depth - 1):
        idx = store.json_blob(oci_index([descriptor(idx)]), MT_OCI_INDEX)
        out.append(idx)
    return idx


def _blob_records(blobs: Sequence[Blob], mode: int = 0o644) -> list[Record]:
    return [blob_record(f"blobs/sha256/{b.hex}", b, 0, mode) for b in blobs]


def oci_layout(items: Sequence[BuiltItem], store: BlobStore) -> list[Record]:
    """An OCI image layout (skopeo ``oci:``): ref names verbatim in index.json annotations."""
    blobs: list[Blob] = []
    entries: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, BuiltImage):
            top = _manifest(item, store, blobs)
            name = image_ref_name(item.spec)
        else:
            top = index_blobs(item, store, blobs)
            name = item.spec.name()
        entries.append(descriptor(top, annotations={ANN_REF_NAME: name} if name else None))
    recs = [dir_record("blobs"), dir_record("blobs/sha256"), *_blob_records(blobs)]
    recs.append(bytes_record("index.json", go_json(oci_index(entries))))
    recs.append(bytes_record("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'))
    return sorted(dedupe(recs), key=lambda r: r.name.split("/"))


def containerd_archive(items: Sequence[BuiltItem], store: BlobStore) -> list[Record]:
    """``docker save`` with the containerd image store (Docker 29 default)."""
    blobs: list[Blob] = []
    entries: list[dict[str, Any]] = []
    manifest: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, BuiltImage):
            other = "linux/arm64" if item.spec.architecture != "arm64" else "linux/amd64"
            spec = IndexSpec([item.spec], absent_platforms=(other,), attestations=True)
            item = BuiltIndex(spec, (item,))
        top = index_blobs(item, store, blobs)
        tags = item.spec.tags()
        for t in tags:
            ann = {ANN_IMAGE_NAME: full_ref(t), ANN_REF_NAME: split_ref(t)[2]}
            entries.append(descriptor(top, annotations=ann))
        if not tags:
            entries.append(descriptor(top))
        first = item.images[0]
        manifest.append(
            {
                "Config": f"blobs/sha256/{first.config.hex}",
                "RepoTags": [familiar_ref(t) for t in tags] or None,
                "Layers": [f"blobs/sha256/{lb.blob.hex}" for lb in first.layers],
            }
        )
    recs = [dir_record("blobs"), dir_record("blobs/sha256"), *_blob_records(blobs, 0o444)]
    recs.append(bytes_record("index.json", go_json(oci_index(entries))))
    recs.append(bytes_record("manifest.json", go_json(manifest)))
    recs.append(bytes_record("oci-layout", b'{"imageLayoutVersion":"1.0.0"}', 0, 0o444))
    return sorted(dedupe(recs), key=lambda r: r.name + ("/" if r.kind == "dir" else ""))
