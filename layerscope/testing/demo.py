"""The demo image: a realistic small Python web app built with the classic builder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from layerscope.testing._builder_strings import copy_instr, nop
from layerscope.testing.spec import (
    Dir,
    EmptyHistory,
    Entry,
    File,
    Hardlink,
    ImageSpec,
    LayerSpec,
    Symlink,
    Synthetic,
    Whiteout,
)

_BASE_TIME = 1702948841  # 2023-12-19T01:20:41Z
_BUILD_TIME = 1709294400  # 2024-03-01T12:00:00Z
_STDLIB = [
    "os",
    "re",
    "json",
    "typing",
    "pathlib",
    "functools",
    "collections/__init__",
    "asyncio/base_events",
    "email/parser",
    "http/client",
    "logging/__init__",
    "urllib/parse",
    "importlib/metadata/__init__",
    "shutil",
    "subprocess",
    "tempfile",
]
_APPLETS = ["sh", "ls", "cat", "cp", "mv", "rm", "mkdir", "chmod", "chown", "grep", "sed", "tar"]


def _t(i: int) -> str:
    return f"2024-03-01T12:0{i}:00Z"


def _base_layer() -> LayerSpec:
    e: list[Entry] = [Dir("/bin"), File("/bin/busybox", Synthetic(180_000, "busybox"), mode=0o755)]
    e += [Symlink(f"/bin/{a}", "/bin/busybox") for a in _APPLETS]
    e += [
        File("/bin/gzip", Synthetic(30_000, "gzip"), mode=0o755),
        Hardlink("/bin/gunzip", "/bin/gzip"),
    ]
    e += [
        Dir("/etc"),
        File(
            "/etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534"
            b":nobody:/nonexistent:/usr/sbin/nologin\n",
        ),
        File("/etc/group", b"root:x:0:\nnogroup:x:65534:\n"),
        File("/etc/shadow", b"root:*:19000:0:99999:7:::\n", mode=0o640, gid=42),
        File("/etc/os-release", b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'),
        Dir("/root", mode=0o700),
        Dir("/tmp", mode=0o1777),
        Dir("/var"),
        Dir("/var/lib"),
        Dir("/usr"),
        Dir("/usr/bin"),
        Dir("/usr/lib"),
        Dir("/usr/lib/python3.11"),
    ]
    e.append(File("/usr/bin/python3.11", Synthetic(90_000, "python3.11"), mode=0o755))
    e.append(Symlink("/usr/bin/python3", "python3.11"))
    for name in _STDLIB:
        parts = name.split("/")
        for k in range(1, len(parts)):
            e.append(Dir("/usr/lib/python3.11/" + "/".join(parts[:k])))
        e.append(File(f"/usr/lib/python3.11/{name}.py", Synthetic(14_000, name, "text")))
    uniq: list[Entry] = []
    seen: set[str] = set()
    for x in e:
        p = getattr(x, "path", "")
        if p not in seen:
            seen.add(p)
            uniq.append(x)
    return LayerSpec(
        uniq,
        created_by=copy_instr("ADD file", "debian-rootfs", "/"),
        mtime=_BASE_TIME,
        created="2023-12-19T01:20:41.123456789Z",
    )


def _apt_layer() -> LayerSpec:
    lists = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm"
    e: list[Entry] = [
        Dir("/var/lib/apt"),
        Dir("/var/lib/apt/lists"),
        Dir("/var/lib/apt/lists/partial", mode=0o700),
        File("/var/lib/apt/lists/lock", b"", mode=0o640),
        File(f"{lists}_InRelease", Synthetic(60_000, "inrelease", "text")),
        File(f"{lists}_main_binary-amd64_Packages.lz4", Synthetic(150_000, "pkgs")),
        File(f"{lists}-updates_main_binary-amd64_Packages.lz4", Synthetic(8_000, "pkgs-upd")),
        Dir("/var/cache"),
        Dir("/var/cache/apt"),
        File("/var/cache/apt/pkgcache.bin", Synthetic(90_000, "pkgcache")),
        File("/var/cache/apt/srcpkgcache.bin", Synthetic(90_000, "srcpkgcache")),
        Dir("/var/lib/dpkg"),
        File("/var/lib/dpkg/status", Synthetic(25_000, "status", "text")),
        Dir("/usr/lib/python3"),
        Dir("/usr/lib/python3/dist-packages"),
        Dir("/usr/lib/python3/dist-packages/pip"),
        File(
            "/usr/bin/pip3",
            b"#!/usr/bin/python3\nfrom pip._internal.cli.main import main\n",
            mode=0o755,
        ),
    ]
    for m in ("__init__", "__main__", "_internal/cli/main", "_internal/req/req_install"):
        if "/" in m:
            parts = m.split("/")
            for k in range(1, len(parts)):
                e.append(Dir("/usr/lib/python3/dist-packages/pip/" + "/".join(parts[:k])))
        e.append(File(f"/usr/lib/python3/dist-packages/pip/{m}.py", Synthetic(9_000, m, "text")))
    return LayerSpec(
        e,
        created_by="/bin/sh -c apt-get update && apt-get install -y "
        "--no-install-recommends python3-pip",
        created=_t(1),
        mtime=_BUILD_TIME + 60,
    )


_REQS = b"flask==3.0.2\nrequests==2.31.0\n"


def _pip_layer() -> LayerSpec:
    sp = "/usr/local/lib/python3.11/site-packages"
    cache = "/root/.cache/pip"
    e: list[Entry] = [
        Dir("/root/.cache"),
        Dir(cache),
        Dir(f"{cache}/http-v2"),
        Dir(f"{cache}/wheels"),
    ]
    for i, (a, b) in enumerate([("3f", "a1"), ("b2", "07"), ("c9", "e4"), ("0d", "5b")]):
        d = f"{cache}/http-v2/{a[0]}/{a[1]}/{b[0]}/{b[1]}"
        for k in range(4):
            e.append(Dir("/".join(d.split("/")[: 6 + k + 1])))
        body = hashlib.sha256(f"pip-cache-{i}".encode()).hexdigest()[:40]
        e.append(File(f"{d}/{body}.body", Synthetic(110_000, f"whl-{i}")))
    e.append(Dir(f"{cache}/wheels/7e"))
    e.append(
        File(f"{cache}/wheels/7e/markupsafe-2.1.5-cp311-linux_x86_64.whl", Synthetic(60_000, "ms"))
    )
    e += [Dir("/usr/local"), Dir("/usr/local/lib"), Dir("/usr/local/lib/python3.11"), Dir(sp)]
    for pkg, ver, mods in (
        ("flask", "3.0.2", 5),
        ("requests", "2.31.0", 5),
        ("werkzeug", "3.0.1", 6),
    ):
        e.append(Dir(f"{sp}/{pkg}"))
        for m in range(mods):
            e.append(File(f"{sp}/{pkg}/mod{m}.py", Synthetic(7_000, f"{pkg}{m}", "text")))
        info = f"{sp}/{pkg}-{ver}.dist-info"
        e += [
            Dir(info),
            File(f"{info}/METADATA", Synthetic(3_000, f"{pkg}-meta", "text")),
            File(f"{info}/RECORD", Synthetic(1_500, f"{pkg}-rec", "text")),
            File(f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: bdist_wheel\n"),
            File(f"{info}/INSTALLER", b"pip\n"),
        ]
    return LayerSpec(
        e,
        created_by="/bin/sh -c pip install -r requirements.txt",
        created=_t(3),
        mtime=_BUILD_TIME + 180,
    )


def _app_entries(mode_or: int) -> list[Entry]:
    def f(path: str, content: bytes | Synthetic, mode: int = 0o644) -> File:
        return File(path, content, mode=mode | mode_or)

    def d(path: str) -> Dir:
        return Dir(path, mode=0o755 | mode_or)

    return [
        d("/app"),
        f("/app/app.py", Synthetic(6_000, "app.py", "text")),
        f("/app/requirements.txt", _REQS),
        f("/app/Dockerfile", Synthetic(700, "df", "text")),
        d("/app/templates"),
        f("/app/templates/index.html", Synthetic(3_000, "idx", "text")),
        d("/app/static"),
        f("/app/static/logo.png", Synthetic(24_000, "logo")),
        d("/app/__pycache__"),
        f("/app/__pycache__/app.cpython-311.pyc", Synthetic(5_000, "pyc")),
        d("/app/.git"),
        f("/app/.git/HEAD", b"ref: refs/heads/main\n"),
        f("/app/.git/config", Synthetic(300, "gitcfg", "text")),
        f("/app/.git/index", Synthetic(2_000, "gitidx")),
        d("/app/.git/objects"),
        d("/app/.git/objects/pack"),
        f(
            "/app/.git/objects/pack/pack-4b825dc642cb6eb9a060e54bf8d69288fbee4904.pack",
            Synthetic(45_000, "pack"),
            0o444,
        ),
    ]


def _demo_history() -> list[EmptyHistory]:
    """The empty-layer history entries (ENV, WORKDIR, EXPOSE, CMD) between the layers."""
    return [
        EmptyHistory(nop('CMD ["bash"]'), after=0, created="2023-12-19T01:20:41.5Z"),
        EmptyHistory(nop("ENV PYTHONDONTWRITEBYTECODE=1"), after=0, created=_t(0)),
        EmptyHistory(nop("ENV LANG=C.UTF-8"), after=0, created=_t(0)),
        EmptyHistory("/bin/sh -c #(nop) WORKDIR /app", after=1, created=_t(1)),
        EmptyHistory(nop("ENV FLASK_APP=app.py"), after=7, created=_t(8)),
        EmptyHistory(nop("EXPOSE 8000"), after=7, created=_t(8)),
        EmptyHistory(nop('CMD ["python3" "app.py"]'), after=7, created=_t(9)),
    ]


def _demo_config() -> dict[str, object]:
    """The image config: environment, command, working directory, port and label."""
    return {
        "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PYTHONDONTWRITEBYTECODE=1",
            "LANG=C.UTF-8",
            "FLASK_APP=app.py",
        ],
        "Cmd": ["python3", "app.py"],
        "WorkingDir": "/app",
        "ExposedPorts": {"8000/tcp": {}},
        "Labels": {"org.opencontainers.image.source": "https://example.com/demo-app"},
    }


def demo_spec() -> ImageSpec:
    """A realistic small Python web-app image built with the classic builder (about 2.4 MB).

    Layers: 0 base rootfs (ADD), 1 apt-get (lists + caches left behind), 2 COPY requirements.txt,
    3 pip install (pip cache left behind), 4 download /tmp/model.tar.gz (500 KB),
    5 COPY . /app (with .git and __pycache__), 6 extract model and rm the tarball (whiteout),
    7 chmod -R g+w /app (mode-only rewrite of every app file). ENV/CMD/WORKDIR/EXPOSE entries are
    empty_layer history entries.
    """
    req = File("/app/requirements.txt", _REQS)
    model = File("/tmp/model.tar.gz", Synthetic(500_000, "model"))
    extract: list[Entry] = [
        Dir("/opt"),
        Dir("/opt/model"),
        File("/opt/model/weights.bin", Synthetic(40_000, "w")),
        File("/opt/model/vocab.txt", Synthetic(12_000, "vocab", "text")),
        Dir("/tmp", mode=0o1777, mtime=_BUILD_TIME + 300),
        Whiteout("/tmp/model.tar.gz"),
    ]
    layers = [
        _base_layer(),
        _apt_layer(),
        LayerSpec(
            [Dir("/app"), req],
            created_by=copy_instr("COPY file", "reqs", "/app/"),
            created=_t(2),
            mtime=_BUILD_TIME + 120,
        ),
        _pip_layer(),
        LayerSpec(
            [Dir("/tmp", mode=0o1777, mtime=_BUILD_TIME + 240), model],
            created=_t(4),
            created_by="/bin/sh -c curl -fsSLo /tmp/model.tar.gz "
            "https://example.com/models/model.tar.gz",
            mtime=_BUILD_TIME + 240,
        ),
        LayerSpec(
            _app_entries(0),
            created_by=copy_instr("COPY dir", "app-src", "/app"),
            created=_t(5),
            mtime=_BUILD_TIME + 270,
        ),
        LayerSpec(
            extract,
            created_by="/bin/sh -c tar -xzf /tmp/model.tar.gz -C /opt/model "
            "&& rm /tmp/model.tar.gz",
            created=_t(6),
            mtime=_BUILD_TIME + 300,
        ),
        LayerSpec(
            _app_entries(0o020),
            created_by="/bin/sh -c chmod -R g+w /app",
            created=_t(7),
            mtime=_BUILD_TIME + 270,
        ),
    ]
    return ImageSpec(
        layers=layers,
        history_extra=_demo_history(),
        config=_demo_config(),
        repo_tags=["example.com/demo-app:1.0"],
        created=_t(9),
    )


DEMO_DOCKERFILE = """\
# The Dockerfile the demo image (demo-app.tar) stands for: try
#   layerscope suggest fixtures/demo/demo-app.tar --dockerfile fixtures/demo/Dockerfile
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip
WORKDIR /app
COPY requirements.txt /app/
RUN pip install -r requirements.txt
RUN curl -fsSLo /tmp/model.tar.gz https://example.com/models/model.tar.gz
COPY . /app
RUN tar -xzf /tmp/model.tar.gz -C /opt/model && rm /tmp/model.tar.gz
RUN chmod -R g+w /app
ENV FLASK_APP=app.py
EXPOSE 8000
CMD ["python3", "app.py"]
"""
"""The Dockerfile the demo image stands for (``fixtures/demo/Dockerfile``)."""


def write_demo(folder: str | os.PathLike[str]) -> Path:
    """Write the demo image (``demo-app.tar``, the bytes of ``fixtures/demo/demo-app.tar``) and
    its ``Dockerfile`` into ``folder``; returns the archive's path."""
    from layerscope.testing.writer import write_image

    where = Path(folder)
    where.mkdir(parents=True, exist_ok=True)
    (where / "Dockerfile").write_text(DEMO_DOCKERFILE, encoding="utf-8")
    return write_image(demo_spec(), where / "demo-app.tar", "docker-25").path
