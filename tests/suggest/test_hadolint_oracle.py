"""hadolint as an oracle: every size or cache finding of hadolint (DL3009, DL3015, DL3019,
DL3042, DL3059, DL3060) on these Dockerfiles has a layerscope suggestion of the matching kind
on the same line, carrying bytes measured from an image the real engine built from that file.

Honest about the fakes: the images are FROM scratch with busybox, so apt-get, pip, apk and
yarn are not there. Each RUN carries the command hadolint reads, and when it fails (command
not found) the ``||`` branch writes the files that tool would leave where it would leave them:
apt lists, a dpkg status database with Depends/Recommends and ``.list`` files, the pip, apk and
yarn caches. layerscope sees only those files, as it would from the real tools.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.suggest.engine import build, make_context, save, suggest_json

HADOLINT = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "hadolint"
CODES = {
    "DL3009": "same_layer_cleanup",
    "DL3015": "no_install_recommends",
    "DL3019": "same_layer_cleanup",
    "DL3042": "same_layer_cleanup",
    "DL3059": "merge_run",
    "DL3060": "same_layer_cleanup",
}
STATUS = b"""\
Package: python3
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 3.11.2-1
Installed-Size: 100

Package: python3-pip
Status: install ok installed
Architecture: all
Version: 23.0.1
Depends: python3 (>= 3.4), ca-certificates
Recommends: build-essential, python3-dev (>= 3.2), python3-setuptools | python3-missing
Installed-Size: 100

Package: build-essential
Status: install ok installed
Architecture: amd64
Version: 12.9
Installed-Size: 300

Package: python3-dev
Status: install ok installed
Architecture: amd64
Version: 3.11.2-1
Depends: python3 (= 3.11.2-1)
Installed-Size: 100
"""
LISTS = {
    "python3.list": b"/usr/lib/python3/big\n",
    "python3-pip.list": b"/usr/lib/python3/dist-packages/pip/big\n",
    "build-essential.list": b"/usr/share/doc/build-essential\n/usr/share/doc/build-essential/big\n",
    "python3-dev.list": b"/usr/include/python3/big\n",
}
KB = {"lists": 256, "python3": 64, "pip": 32, "essential": 300, "dev": 120}
WRITE = "dd if=/dev/urandom of={path} bs=1024 count={kb} 2>/dev/null"


def _w(path: str, kb: int) -> str:
    return f"mkdir -p {path.rsplit('/', 1)[0]} && " + WRITE.format(path=path, kb=kb)


APT = (
    "RUN apt-get update && apt-get install -y python3-pip || ("
    + " && ".join(
        [
            _w(
                "/var/lib/apt/lists/deb.debian.org_debian_dists_main_binary-amd64_Packages",
                KB["lists"],
            ),
            "mkdir -p /var/lib/dpkg/info && cp /fake/status /var/lib/dpkg/status",
            "cp /fake/*.list /var/lib/dpkg/info/",
            _w("/usr/lib/python3/big", KB["python3"]),
            _w("/usr/lib/python3/dist-packages/pip/big", KB["pip"]),
            _w("/usr/share/doc/build-essential/big", KB["essential"]),
            _w("/usr/include/python3/big", KB["dev"]),
        ]
    )
    + ")"
)
CACHES = {
    "pip": ("RUN pip install requests || (", "/root/.cache/pip/wheels/requests.whl", 200),
    "apk": ("RUN apk add curl || (", "/var/cache/apk/APKINDEX.abc.tar.gz", 100),
    "yarn": ("RUN yarn install || (", "/usr/local/share/.cache/yarn/v6/npm-left-pad.tgz", 150),
}
PACKAGES = "\n".join(
    [
        "FROM scratch",
        "COPY rootfs/ /",
        "COPY fake/ /fake/",
        APT,
        *(f"ENV STEP={name}\n{head}{_w(path, kb)})" for name, (head, path, kb) in CACHES.items()),
    ]
) + "\n"  # fmt: skip
MERGE = """\
FROM scratch
COPY rootfs/ /
RUN dd if=/dev/zero of=/big.bin bs=1024 count=512
RUN rm /big.bin
"""


def _hadolint(dockerfile: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(HADOLINT), "--no-fail", "--format", "json", str(dockerfile)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    findings: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return [f for f in findings if f["code"] in CODES]


def _covers(suggestion: dict[str, Any], line: int) -> bool:
    return any(span["start"] <= line <= span["end"] for span in suggestion["lines"])


@pytest.mark.docker
@pytest.mark.parametrize("name", ["packages", "merge"])
def test_every_hadolint_size_finding_has_a_suggestion_with_bytes(
    docker_cli: str, docker_host: str, busybox_rootfs: Path, tmp_path: Path, name: str
) -> None:
    text = PACKAGES if name == "packages" else MERGE
    files = {"Dockerfile": text.encode(), "fake/status": STATUS}
    files.update({f"fake/{k}": v for k, v in LISTS.items()})
    ctx = make_context(busybox_rootfs, tmp_path / "ctx", files)
    findings = _hadolint(ctx / "Dockerfile")
    expected_codes = (
        {"DL3009", "DL3015", "DL3019", "DL3042", "DL3060"} if name == "packages" else {"DL3059"}
    )
    assert {f["code"] for f in findings} == expected_codes  # the oracle really fires
    tag = f"layerscope-test/suggest-hadolint-{name}:1"
    build(docker_cli, ctx, tag)
    doc = suggest_json(
        [str(save(docker_cli, tag, tmp_path / "img.tar")), "--dockerfile", str(ctx / "Dockerfile")]
    )
    for finding in findings:
        matches = [
            s for s in doc["suggestions"]
            if s["kind"] == CODES[finding["code"]] and _covers(s, finding["line"])
        ]  # fmt: skip
        assert matches, f"no layerscope suggestion for {finding}"
        assert all(s["estimated_saving_bytes"] > 0 for s in matches), finding


@pytest.mark.docker
def test_recommends_bytes_match_the_dpkg_lists(
    docker_cli: str, docker_host: str, busybox_rootfs: Path, tmp_path: Path
) -> None:
    """python3-pip Recommends build-essential and python3-dev; nothing Depends on them: their
    files (300 + 120 KiB, by hand from the dd counts) are the saving; python3 stays (Depends)."""
    files = {"Dockerfile": PACKAGES.encode(), "fake/status": STATUS}
    files.update({f"fake/{k}": v for k, v in LISTS.items()})
    ctx = make_context(busybox_rootfs, tmp_path / "ctx", files)
    tag = "layerscope-test/suggest-recommends:1"
    build(docker_cli, ctx, tag)
    doc = suggest_json(
        [str(save(docker_cli, tag, tmp_path / "img.tar")), "--dockerfile", str(ctx / "Dockerfile")]
    )
    by_kind = {s["kind"]: s for s in doc["suggestions"]}
    rec = by_kind["no_install_recommends"]
    # their dpkg info files go too when they are not installed (a build alone saves them)
    info = len(LISTS["build-essential.list"]) + len(LISTS["python3-dev.list"])
    assert rec["estimated_saving_bytes"] == (KB["essential"] + KB["dev"]) * 1024 + info
    assert {e["path"] for e in rec["evidence"]} == {
        "/usr/share/doc/build-essential/big",
        "/usr/include/python3/big",
        "/var/lib/dpkg/info/build-essential.list",
        "/var/lib/dpkg/info/python3-dev.list",
    }
    assert "--no-install-recommends" in rec["patch"]
    cleanups = [s for s in doc["suggestions"] if s["kind"] == "same_layer_cleanup"]
    assert sorted(s["estimated_saving_bytes"] for s in cleanups) == sorted(
        [KB["lists"] * 1024, 200 * 1024, 100 * 1024, 150 * 1024]
    )
    # build-essential and python3-dev are also a toolchain left in the image: the two
    # suggestions overlap and the total counts those files once.
    multi = by_kind["multi_stage"]
    assert rec["id"] in multi["overlaps_with"]
    total = (KB["essential"] + KB["dev"] + KB["lists"] + 200 + 100 + 150) * 1024 + info
    assert doc["total_saving_bytes"] == total
