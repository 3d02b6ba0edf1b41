"""Each archive layout matches research/formats.md sections 1-3, with real digests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
from pathlib import Path
from typing import Any

import pytest
import zstandard

from layerscope.testing import (
    EMPTY_TAR_DIFF_ID,
    FORMATS,
    Dir,
    EmptyHistory,
    File,
    ImageSpec,
    IndexSpec,
    LayerSpec,
    Synthetic,
    Whiteout,
    write_image,
)

BASE = LayerSpec(
    [Dir("/etc"), File("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
     File("/bin/tool", Synthetic(40_000, seed=1), mode=0o755)],
    created_by="/bin/sh -c #(nop) ADD file:abc in / ",
)  # fmt: skip
SAME = LayerSpec([Dir("/x")], created_by="/bin/sh -c mkdir /x")


def spec(tags: tuple[str, ...] = ("example.com/app:1.0",), arch: str = "amd64") -> ImageSpec:
    return ImageSpec(
        layers=[
            BASE,
            LayerSpec([Whiteout("/etc/passwd")], created_by="/bin/sh -c rm /etc/passwd"),
            SAME,
            LayerSpec([], created_by="/bin/sh -c true"),
            SAME,  # same diff_id as layer 2
        ],
        history_extra=[
            EmptyHistory('/bin/sh -c #(nop)  CMD ["sh"]', after=4),
            EmptyHistory("/bin/sh -c #(nop)  ENV A=b", after=-1),
        ],  # fmt: skip
        config={"Env": ["A=b"], "Cmd": ["sh"]},
        repo_tags=list(tags),
        architecture=arch,
    )


class Archive:
    """Reads an outer tar (or gzip of one) fully into memory: small test archives only."""

    def __init__(self, path: Path) -> None:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        self.raw = raw
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
            self.members = {m.name: m for m in tf.getmembers()}
            self.order = [m.name for m in tf.getmembers()]
            self.data = {m.name: tf.extractfile(m).read() for m in tf if m.isfile()}  # type: ignore[union-attr]

    def read(self, name: str) -> bytes:
        m = self.members[name]
        if m.issym():
            return self.read(
                posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
            )
        return self.data[name]

    def json(self, name: str) -> Any:
        return json.loads(self.read(name))


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def uncompress(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


def check_config(cfg_bytes: bytes, layer_tars: list[bytes]) -> dict[str, Any]:
    cfg: dict[str, Any] = json.loads(cfg_bytes)
    assert cfg["rootfs"] == {"type": "layers", "diff_ids": [sha(t) for t in layer_tars]}
    assert cfg["architecture"] == "amd64" and cfg["os"] == "linux"
    assert cfg["config"] == {"Env": ["A=b"], "Cmd": ["sh"]}
    hist = cfg["history"]
    assert [h.get("empty_layer", False) for h in hist] == [True] + [False] * 5 + [True]
    assert hist[2]["created_by"] == "/bin/sh -c rm /etc/passwd"
    assert sha(layer_tars[3]) == EMPTY_TAR_DIFF_ID and layer_tars[3] == bytes(1024)
    with tarfile.open(fileobj=io.BytesIO(layer_tars[1])) as tf:
        assert tf.getnames() == ["etc/.wh.passwd"]
    return cfg


def test_docker_legacy(tmp_path: Path) -> None:
    a = Archive(write_image(spec(), tmp_path / "a.tar", "docker-legacy").path)
    (m,) = a.json("manifest.json")
    assert m["RepoTags"] == ["example.com/app:1.0"]
    assert m["Config"] == sha(a.read(m["Config"]))[7:] + ".json"
    tars = [a.read(p) for p in m["Layers"]]
    check_config(a.read(m["Config"]), tars)
    v1ids = [p.split("/")[0] for p in m["Layers"]]
    assert all(p == f"{v}/layer.tar" for p, v in zip(m["Layers"], v1ids, strict=True))
    assert len(set(v1ids)) == 5
    for v in v1ids:
        assert a.read(f"{v}/VERSION") == b"1.0" and a.members[v].isdir()
        assert json.loads(a.read(f"{v}/json"))["id"] == v
    # layer 4 repeats layer 2's diff_id: symlink to the first copy
    dup = a.members[m["Layers"][4]]
    assert dup.issym() and dup.linkname == f"../{v1ids[2]}/layer.tar"
    assert json.loads(a.read(f"{v1ids[1]}/json"))["parent"] == v1ids[0]
    assert a.json("repositories") == {"example.com/app": {"1.0": v1ids[-1]}}
    assert a.order[-2:] == ["manifest.json", "repositories"]


def test_docker_25(tmp_path: Path) -> None:
    a = Archive(write_image(spec(("busybox",)), tmp_path / "a.tar", "docker-25").path)
    (m,) = a.json("manifest.json")
    assert m["RepoTags"] == ["busybox:latest"]
    tars = [a.read(p) for p in m["Layers"]]
    for p, t in zip(m["Layers"], tars, strict=True):
        assert p == "blobs/sha256/" + sha(t)[7:]  # uncompressed, named by diff_id
    check_config(a.read(m["Config"]), tars)
    assert set(m["LayerSources"]) == {sha(t) for t in tars}
    for d, desc in m["LayerSources"].items():
        assert desc == {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d,
                        "size": len(a.read("blobs/sha256/" + d[7:]))}  # fmt: skip
    assert json.loads(a.read("oci-layout")) == {"imageLayoutVersion": "1.0.0"}
    (desc,) = a.json("index.json")["manifests"]
    assert desc["annotations"] == {"io.containerd.image.name": "docker.io/library/busybox:latest",
                                   "org.opencontainers.image.ref.name": "latest"}  # fmt: skip
    man_bytes = a.read("blobs/sha256/" + desc["digest"][7:])
    assert sha(man_bytes) == desc["digest"] and len(man_bytes) == desc["size"]
    man = json.loads(man_bytes)
    assert man["config"]["digest"] == "sha256:" + m["Config"].split("/")[-1]
    assert [ly["digest"] for ly in man["layers"]] == [sha(t) for t in tars]
    for name, data in a.data.items():
        if name.startswith("blobs/sha256/"):
            assert sha(data)[7:] == name.split("/")[-1]
    referenced = {m["Config"], *m["Layers"], "blobs/sha256/" + desc["digest"][7:]}
    orphans = [n for n in a.data if n.startswith("blobs/sha256/") and n not in referenced]
    assert orphans and all("container_config" in json.loads(a.data[n]) for n in orphans)
    assert a.json("repositories") == {"busybox": {"latest": sha(tars[-1])[7:]}}
    assert a.order[:2] == ["blobs", "blobs/sha256"] and a.members["blobs"].isdir()


def test_containerd(tmp_path: Path) -> None:
    a = Archive(write_image(spec(), tmp_path / "a.tar", "containerd").path)
    assert a.order == sorted(a.order) and "repositories" not in a.members
    (m,) = a.json("manifest.json")
    tars = [uncompress(a.read(p)) for p in m["Layers"]]
    assert all(a.read(p)[:2] == b"\x1f\x8b" for p in m["Layers"])
    check_config(a.read(m["Config"]), tars)
    (top,) = a.json("index.json")["manifests"]
    assert top["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert top["annotations"]["io.containerd.image.name"] == "example.com/app:1.0"
    assert top["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
    idx = json.loads(a.read("blobs/sha256/" + top["digest"][7:]))
    plats = [(d["platform"]["os"], d["platform"]["architecture"]) for d in idx["manifests"]]
    assert plats == [("linux", "amd64"), ("linux", "arm64"), ("unknown", "unknown")]
    present, absent, attest = idx["manifests"]
    assert "blobs/sha256/" + absent["digest"][7:] not in a.members
    man = json.loads(a.read("blobs/sha256/" + present["digest"][7:]))
    assert [ly["digest"][7:] for ly in man["layers"]] == [p.split("/")[-1] for p in m["Layers"]]
    assert man["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert attest["annotations"]["vnd.docker.reference.digest"] == present["digest"]
    assert "blobs/sha256/" + attest["digest"][7:] in a.members


def test_skopeo_archive(tmp_path: Path) -> None:
    a = Archive(write_image(spec(("busybox:1",)), tmp_path / "a.tar", "skopeo-docker-archive").path)
    (m,) = a.json("manifest.json")
    assert m["RepoTags"] == ["docker.io/library/busybox:1"]
    tars = [a.read(p) for p in m["Layers"]]
    assert [p for p in m["Layers"]] == [sha(t)[7:] + ".tar" for t in tars]
    check_config(a.read(m["Config"]), tars)
    links = [n for n, mm in a.members.items() if mm.issym()]
    assert len(links) == 5 and all(n.endswith("/layer.tar") for n in links)
    assert {a.members[n].linkname for n in links} == {"../" + p for p in m["Layers"]}
    (repo,) = a.json("repositories").items()
    assert repo[0] == "docker.io/library/busybox" and list(repo[1]) == ["1"]


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_crane(tmp_path: Path, compression: str) -> None:
    r = write_image(spec(("busybox",)), tmp_path / "a.tar", "crane", compression)  # type: ignore[arg-type]
    a = Archive(r.path)
    (m,) = a.json("manifest.json")
    assert m["RepoTags"] == ["index.docker.io/library/busybox:latest"]
    assert m["Config"].startswith("sha256:") and sha(a.read(m["Config"])) == m["Config"]
    blobs = [a.read(p) for p in m["Layers"]]
    assert m["Layers"] == [sha(b)[7:] + ".tar.gz" for b in blobs]
    check_config(a.read(m["Config"]), [uncompress(b) for b in blobs])
    assert [ly.digest for ly in r.images[0].layers] == [sha(b) for b in blobs]


def read_layout(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_oci_dir_multi_image_and_platforms(tmp_path: Path) -> None:
    multi = IndexSpec([spec(("app:2",)), spec(("app:2",), arch="arm64")], depth=2)
    r = write_image([spec(("app:1",)), multi], tmp_path / "oci", "oci-dir")
    files = read_layout(r.path)
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    for name, data in files.items():
        if name.startswith("blobs/"):
            assert sha(data)[7:] == name.split("/")[-1]
    one, two = json.loads(files["index.json"])["manifests"]
    assert one["annotations"] == {"org.opencontainers.image.ref.name": "app:1"}
    assert one["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert two["annotations"] == {"org.opencontainers.image.ref.name": "app:2"}
    outer = json.loads(files["blobs/sha256/" + two["digest"][7:]])
    (inner_desc,) = outer["manifests"]
    inner = json.loads(files["blobs/sha256/" + inner_desc["digest"][7:]])
    assert [d["platform"]["architecture"] for d in inner["manifests"]] == ["amd64", "arm64"]
    man = json.loads(files["blobs/sha256/" + one["digest"][7:]])
    layers = [files["blobs/sha256/" + ly["digest"][7:]] for ly in man["layers"]]
    check_config(
        files["blobs/sha256/" + man["config"]["digest"][7:]], [uncompress(b) for b in layers]
    )
    for ly, b in zip(man["layers"], layers, strict=True):
        assert ly["size"] == len(b)
    assert not list(tmp_path.glob(".oci.*"))  # temp dir cleaned up


def test_oci_tar_matches_oci_dir(tmp_path: Path) -> None:
    d = read_layout(write_image(spec(), tmp_path / "oci", "oci-dir").path)
    a = Archive(write_image(spec(), tmp_path / "oci.tar", "oci-tar").path)
    assert a.data == d


@pytest.mark.parametrize("fmt", ["docker-legacy", "docker-25", "skopeo-docker-archive", "crane"])
def test_multi_image_archives(tmp_path: Path, fmt: str) -> None:
    specs = [spec(("example.com/a:1", "example.com/a:2")), spec(("example.com/b:1",), "arm64")]
    a = Archive(write_image(specs, tmp_path / "a.tar", fmt).path)  # type: ignore[arg-type]
    items = a.json("manifest.json")
    assert len(items) == 2
    assert sorted(len(i["RepoTags"]) for i in items) == [1, 2]
    for it in items:
        assert json.loads(a.read(it["Config"]))["rootfs"]["diff_ids"] == [
            sha(uncompress(a.read(p))) for p in it["Layers"]
        ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic(tmp_path: Path, fmt: str) -> None:
    suffix = "" if fmt == "oci-dir" else ".tar"
    one = write_image(spec(), tmp_path / f"one{suffix}", fmt).path  # type: ignore[arg-type]
    two = write_image(spec(), tmp_path / f"two{suffix}", fmt).path  # type: ignore[arg-type]
    if fmt == "oci-dir":
        assert read_layout(one) == read_layout(two)
    else:
        assert one.read_bytes() == two.read_bytes()


def test_outer_gzip_and_validation(tmp_path: Path) -> None:
    plain = write_image(spec(), tmp_path / "p.tar", "docker-25").path.read_bytes()
    gz = write_image(spec(), tmp_path / "g.tar.gz", "docker-25", outer_gzip=True).path.read_bytes()
    assert gz[:2] == b"\x1f\x8b" and gzip.decompress(gz) == plain
    assert len(plain) % 512 == 0 and plain.endswith(bytes(1024))
    with pytest.raises(ValueError):
        write_image(spec(), tmp_path / "x.tar", "docker-25", "gzip")
    with pytest.raises(ValueError):
        write_image(IndexSpec([spec()]), tmp_path / "x.tar", "docker-legacy")
    with pytest.raises(ValueError):
        write_image(spec(), tmp_path / "x.tar", "nope")  # type: ignore[arg-type]


def test_per_layer_compression(tmp_path: Path) -> None:
    s = ImageSpec(layers=[LayerSpec([File("/a", b"a")], compression="zstd"),
                          LayerSpec([File("/b", b"b")])])  # fmt: skip
    r = write_image(s, tmp_path / "oci", "oci-dir")
    assert [ly.compression for ly in r.images[0].layers] == ["zstd", "gzip"]
    assert r.images[0].layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+zstd"
    blob = (r.path / "blobs/sha256" / r.images[0].layers[0].digest[7:]).read_bytes()
    assert blob[:4] == b"\x28\xb5\x2f\xfd"
    assert sha(uncompress(blob)) == r.images[0].layers[0].diff_id
