"""Real tools accept what the builder writes: skopeo (inspect/copy) and dive 0.13.1."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from layerscope.testing import (
    Dir,
    EmptyHistory,
    File,
    Hardlink,
    ImageSpec,
    IndexSpec,
    LayerSpec,
    Opaque,
    Symlink,
    Synthetic,
    Whiteout,
    write_image,
)
from tests.conftest import dive_binary

SKOPEO = shutil.which("skopeo")


@pytest.fixture(autouse=True)
def _tools_present() -> None:
    """Real tools cross-check the builder: a missing one fails the run (scripts/test has them)."""
    if SKOPEO is None:
        pytest.fail("skopeo is not installed: run scripts/test")
    dive_binary()


def spec(tag: str = "example.com/app:1.0", arch: str = "amd64") -> ImageSpec:
    return ImageSpec(
        layers=[
            LayerSpec([Dir("/etc"), File("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
                       Dir("/usr"), Dir("/usr/bin"),
                       File("/usr/bin/tool", Synthetic(200_000, seed=3), mode=0o755),
                       Hardlink("/usr/bin/tool2", "/usr/bin/tool"),
                       Symlink("/usr/bin/t", "tool"), Dir("/var"), Dir("/var/cache"),
                       File("/var/cache/x", Synthetic(5000, seed=4, kind="text"))],
                      created_by="/bin/sh -c #(nop) ADD file:abc in / "),
            LayerSpec([Whiteout("/etc/passwd"), Dir("/var/cache"), Opaque("/var/cache")],
                      created_by="/bin/sh -c rm -rf /etc/passwd /var/cache/*"),
            LayerSpec([File("/usr/bin/tool", Synthetic(200_000, seed=3), mode=0o775)],
                      created_by="/bin/sh -c chmod g+w /usr/bin/tool"),
        ],
        history_extra=[EmptyHistory('/bin/sh -c #(nop)  CMD ["sh"]', after=2)],
        config={"Cmd": ["sh"]},
        repo_tags=[tag],
        architecture=arch,
    )  # fmt: skip


def run(*args: str) -> str:
    res = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{args}: {res.stderr}"
    return res.stdout


def decompressed_digests(copy_dir: Path) -> list[str]:
    """sha256 of each layer file skopeo wrote (decompressed) into a ``dir:`` copy."""
    man = json.loads((copy_dir / "manifest.json").read_text())
    out = []
    for ly in man["layers"]:
        data = (copy_dir / ly["digest"].split(":")[1]).read_bytes()
        out.append("sha256:" + hashlib.sha256(data).hexdigest())
    return out


def diff_ids(config_json: str) -> list[str]:
    return list(json.loads(config_json)["rootfs"]["diff_ids"])


@pytest.mark.parametrize(
    "fmt", ["docker-legacy", "docker-25", "containerd", "skopeo-docker-archive", "crane"]
)
def test_skopeo_reads_docker_archives(tmp_path: Path, fmt: str) -> None:
    r = write_image(spec(), tmp_path / "a.tar", fmt)  # type: ignore[arg-type]
    want = list(r.images[0].diff_ids)
    info = json.loads(run("skopeo", "inspect", f"docker-archive:{r.path}"))
    assert info["Architecture"] == "amd64"
    assert diff_ids(run("skopeo", "inspect", "--config", f"docker-archive:{r.path}")) == want
    # a full copy reads every layer blob; decompressed on the way, each digest is its diff_id
    out = tmp_path / "copy"
    run("skopeo", "copy", "-q", "--dest-decompress", f"docker-archive:{r.path}", f"dir:{out}")
    assert decompressed_digests(out) == want


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_skopeo_reads_oci_layouts(tmp_path: Path, compression: str) -> None:
    multi = IndexSpec([spec("app:2"), spec("app:2", arch="arm64")])
    r = write_image([spec("app:1"), multi], tmp_path / "oci", "oci-dir", compression)  # type: ignore[arg-type]
    raw = run("skopeo", "inspect", "--raw", f"oci:{r.path}:app:1")
    assert (
        "sha256:" + hashlib.sha256(raw.encode()).hexdigest() in (r.path / "index.json").read_text()
    )
    idx = json.loads(run("skopeo", "inspect", "--raw", f"oci:{r.path}:app:2"))
    assert len(idx["manifests"]) == 2
    arm = json.loads(
        run("skopeo", "--override-arch", "arm64", "inspect", "--config", f"oci:{r.path}:app:2")
    )
    assert arm["architecture"] == "arm64"
    out = tmp_path / "copy"
    run("skopeo", "copy", "-q", "--dest-decompress", f"oci:{r.path}:app:1", f"dir:{out}")
    assert decompressed_digests(out) == list(r.images[0].diff_ids)
    tar = write_image(spec(), tmp_path / "oci.tar", "oci-tar", compression)  # type: ignore[arg-type]
    assert diff_ids(run("skopeo", "inspect", "--config", f"oci-archive:{tar.path}")) == list(
        tar.images[0].diff_ids
    )


@pytest.mark.dive
@pytest.mark.parametrize("fmt", ["docker-legacy", "docker-25"])
def test_dive_accepts(tmp_path: Path, fmt: str) -> None:
    r = write_image(spec(), tmp_path / "a.tar", fmt)  # type: ignore[arg-type]
    out = tmp_path / "dive.json"
    run(str(dive_binary()), "--source", "docker-archive", str(r.path), "--json", str(out))
    report = json.loads(out.read_text())
    layers = report["layer"]
    assert [ly["digestId"] for ly in layers] == list(r.images[0].diff_ids)
    # sizes dive reports = sum of file sizes per layer: 26 + 200000 + 5000, 0, 200000
    assert [ly["sizeBytes"] for ly in layers] == [205026, 0, 200000]
    assert layers[0]["command"] == "#(nop) ADD file:abc in / "
