"""A corpus of naive Dockerfiles of different shapes, their build contexts and base images.

Shapes (issue 16): the ML shape (Debian, apt update / install as two steps, ``COPY . /app``
early, venv + ``pip install -r requirements.txt``, a step writing a big CSV that the next RUN
deletes); separate apt update / install; an apk layout on busybox; a Node shape with its
manifests copied with the sources; a multi-stage build; chmod / chown after COPY.

Base images (built once per session, shared by every case and test):

- ``layerscope-test/debian:bookworm``: debootstrap's minbase (tests/prove/debian.py);
- ``layerscope-test/pybase:1``: that plus a local wheelhouse in /wheels and
  ``PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels``, standing in for PyPI (reachable here only through a
  TLS-intercepting proxy whose CA the image does not trust; local wheels are also faster and
  deterministic). apt still fetches from Debian's mirror (builds use ``--network host``);
- ``layerscope-test/bbx:1``: busybox-static with every applet, plus two stand-in package
  managers written in shell, because Alpine's apk and Node's npm cannot be installed here:
  ``apk add [--no-cache] PKG`` unpacks /usr/share/fake-apk/PKG.tar and keeps a copy in
  /var/cache/apk unless --no-cache; ``npm ci`` needs package.json + package-lock.json, installs
  every ``node_modules/NAME`` the lock lists from /usr/share/fake-npm/NAME into node_modules and
  keeps a tarball per package in /root/.npm/_cacache (``npm cache clean --force`` empties it);
  ``npm run build`` writes dist/. They behave like the real tools for what layerscope sees:
  the files, the caches, and which context files each step reads.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN = "layerscope-test/debian:bookworm"
PYBASE = "layerscope-test/pybase:1"
BBX = "layerscope-test/bbx:1"
BUSYBOX = Path("/bin/busybox")


def pseudo_random(n: int, seed: str) -> bytes:
    """``n`` incompressible bytes, the same on every run."""
    out = bytearray()
    state = seed.encode()
    while len(out) < n:
        state = hashlib.sha256(state).digest()
        out += state
    return bytes(out[:n])


@dataclass(frozen=True, slots=True)
class Case:
    """One naive Dockerfile and its context."""

    name: str
    base: str
    dockerfile: str
    files: Mapping[str, bytes]
    touch: str
    """The source file the cache test appends a line to."""
    dependency_step: str
    """Text of the step that must stay cached after the touch once patched (the dependency
    install, or the last step before the sources are copied)."""
    network: str = "none"
    modes: Mapping[str, int] = field(default_factory=dict)


# ---- the ML shape --------------------------------------------------------------------------
ML_DOCKERFILE = f"""\
FROM {PYBASE}
RUN apt-get update
RUN apt-get install -y python3 python3-venv
WORKDIR /app
COPY . /app
RUN python3 -m venv /opt/venv
RUN /opt/venv/bin/pip install -r requirements.txt
RUN /opt/venv/bin/python train.py
RUN rm /app/data.csv
CMD ["/opt/venv/bin/python", "/app/serve.py"]
"""
ML = Case(
    name="ml",
    base=PYBASE,
    dockerfile=ML_DOCKERFILE,
    files={
        "requirements.txt": b"tinydep==1.0\n",
        "train.py": (
            b"import tinydep\n"
            b"with open('/app/data.csv', 'w') as out:\n"
            b"    for i in range(60000):\n"
            b"        out.write(f'{i},{i * i},{tinydep.VERSION},' + 'x' * 40 + '\\n')\n"
        ),
        "serve.py": b"import tinydep\nprint('serving', tinydep.VERSION)\n",
        "model/__init__.py": b"",
        "model/net.py": b"def forward(x):\n    return x\n",
        ".git/objects/pack/pack-1.pack": pseudo_random(300 * 1024, "ml-git"),
    },
    touch="model/net.py",
    dependency_step="pip install",
    network="host",
)

# ---- separate apt update / install ---------------------------------------------------------
APT = Case(
    name="apt",
    base=PYBASE,
    dockerfile=f"""\
FROM {PYBASE}
RUN apt-get update
RUN apt-get install -y xz-utils bzip2
COPY site/ /srv/site/
CMD ["sh", "-c", "ls /srv/site"]
""",
    files={
        "site/index.html": b"<h1>hello</h1>\n",
        "site/app.js": b"console.log('hi')\n" * 20,
    },
    touch="site/app.js",
    dependency_step="apt-get install",
    network="host",
)

# ---- apk on busybox ------------------------------------------------------------------------
APK = Case(
    name="apk",
    base=BBX,
    dockerfile=f"""\
FROM {BBX}
RUN apk add curlish jqish
WORKDIR /srv
COPY app/ /srv/
CMD ["sh", "/srv/run.sh"]
""",
    files={
        "app/run.sh": b"#!/bin/sh\necho run\n",
        "app/conf.ini": b"[srv]\nport = 8080\n",
    },
    touch="app/run.sh",
    dependency_step="apk add",
)

# ---- Node with manifests copied with the sources ----------------------------------------------
NODE_LOCK = b"""{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/leftpad": {"version": "1.0.0"},
    "node_modules/bigdep": {"version": "2.0.0"}
  }
}
"""
NODE = Case(
    name="node",
    base=BBX,
    dockerfile=f"""\
FROM {BBX}
WORKDIR /app
COPY . /app
RUN npm ci
RUN npm run build
CMD ["node", "dist/index.js"]
""",
    files={
        "package.json": b'{"name": "web", "dependencies": {"leftpad": "1", "bigdep": "2"}}\n',
        "package-lock.json": NODE_LOCK,
        "src/index.js": b"console.log('web')\n",
        "src/util.js": b"module.exports = 1\n",
        "README.md": b"# web\n",
    },
    touch="src/index.js",
    dependency_step="npm ci",
)

# ---- multi-stage ---------------------------------------------------------------------------
MULTI = Case(
    name="multistage",
    base=BBX,
    dockerfile=f"""\
FROM {BBX} AS build
WORKDIR /src
COPY main.c /src/
RUN mkdir -p /out && cat main.c > /out/app && chmod 755 /out/app
FROM {BBX}
COPY --from=build /out/app /usr/local/bin/app
RUN dd if=/dev/zero of=/tmp/scratch.bin bs=1024 count=2048 2>/dev/null
RUN rm /tmp/scratch.bin
WORKDIR /srv
COPY conf/ /srv/conf/
CMD ["/usr/local/bin/app"]
""",
    files={
        "main.c": b"int main(void) { return 0; }\n",
        "conf/app.toml": b"level = 1\n",
    },
    touch="conf/app.toml",
    dependency_step="dd if=/dev/zero",
)

# ---- chmod / chown after COPY -----------------------------------------------------------------
CHMOD = Case(
    name="chmod",
    base=BBX,
    dockerfile=f"""\
FROM {BBX}
COPY tools/ /opt/tools/
RUN chmod -R 755 /opt/tools
COPY data/ /srv/data/
RUN chown -R 1000:1000 /srv/data
COPY app.sh /srv/app.sh
CMD ["sh", "/srv/app.sh"]
""",
    files={
        "tools/pack.bin": pseudo_random(700 * 1024, "tools"),
        "data/table.bin": pseudo_random(500 * 1024, "data"),
        "app.sh": b"echo app\n",
    },
    touch="app.sh",
    dependency_step="/srv/data/",
)

CASES: tuple[Case, ...] = (ML, APT, APK, NODE, MULTI, CHMOD)


def write_context(case: Case, dest: Path) -> Path:
    """Write the case's Dockerfile and files into ``dest``; returns it."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "Dockerfile").write_text(case.dockerfile)
    for rel, data in case.files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dest


# ---- base images ---------------------------------------------------------------------------
def tiny_wheel() -> tuple[str, bytes]:
    """A pure-Python wheel ``tinydep 1.0`` with ~600 KiB of modules (file name, bytes)."""
    name = "tinydep-1.0-py3-none-any.whl"
    files = {
        "tinydep/__init__.py": b"VERSION = '1.0'\nfrom . import table\n",
        "tinydep/table.py": b"ROWS = [\n"
        + b"".join(f"    ({i}, '{i:08x}' * 4),\n".encode() for i in range(9000))
        + b"]\n",
        "tinydep-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        "tinydep-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: layerscope-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    import base64

    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append("tinydep-1.0.dist-info/RECORD,,")
    files["tinydep-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return name, buf.getvalue()


PYBASE_DOCKERFILE = f"""\
FROM {DEBIAN}
COPY wheels/ /wheels/
ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels PIP_DISABLE_PIP_VERSION_CHECK=1
"""

FAKE_APK = """\
#!/bin/sh
# Stand-in for Alpine's apk (tests only): apk add [--no-cache] PKG...
set -e
[ "$1" = add ] || { echo "fake apk: only 'add'" >&2; exit 1; }
shift
cache=1
for arg in "$@"; do
    case $arg in
    --no-cache) cache=0 ;;
    -*) ;;
    *)
        tarball=/usr/share/fake-apk/$arg.tar
        [ -f "$tarball" ] || { echo "ERROR: unable to select packages: $arg" >&2; exit 1; }
        tar -xf "$tarball" -C /
        if [ $cache = 1 ]; then mkdir -p /var/cache/apk && cp "$tarball" /var/cache/apk/; fi
        mkdir -p /lib/apk/db && printf 'P:%s\\nV:1.0-r0\\n\\n' "$arg" >> /lib/apk/db/installed
        ;;
    esac
done
"""

FAKE_NPM = """\
#!/bin/sh
# Stand-in for npm (tests only): npm ci | npm run build | npm cache clean --force
set -e
case "$1" in
ci)
    [ -f package.json ] || { echo "npm ERR! enoent package.json" >&2; exit 254; }
    [ -f package-lock.json ] || { echo "npm ERR! npm ci needs a package-lock.json" >&2; exit 1; }
    rm -rf node_modules && mkdir -p node_modules /root/.npm/_cacache
    for name in $(sed -n 's|.*"node_modules/\\([^"]*\\)".*|\\1|p' package-lock.json); do
        src=/usr/share/fake-npm/$name
        [ -d "$src" ] || { echo "npm ERR! 404 $name" >&2; exit 1; }
        cp -r "$src" "node_modules/$name"
        tar -cf "/root/.npm/_cacache/$name.tar" -C /usr/share/fake-npm "$name"
    done
    ;;
run)
    [ "$2" = build ] || exit 1
    mkdir -p dist && cat src/*.js > dist/index.js
    ;;
cache)
    rm -rf /root/.npm/_cacache
    ;;
*) echo "fake npm: unsupported $*" >&2; exit 1 ;;
esac
"""


def _applets() -> list[str]:
    done = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    return [a for a in done.stdout.split() if a and a != "busybox"]


def write_bbx_context(dest: Path) -> Path:
    """The context of ``layerscope-test/bbx:1`` (see the module docstring)."""
    rootfs = dest / "rootfs"
    bindir = rootfs / "bin"
    bindir.mkdir(parents=True)
    shutil.copy2(BUSYBOX, bindir / "busybox")
    (bindir / "busybox").chmod(0o755)
    for applet in _applets():
        if not (bindir / applet).exists():
            (bindir / applet).symlink_to("busybox")
    for d in ("tmp", "root", "etc", "usr/local/bin", "sbin"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (rootfs / "etc/group").write_text("root:x:0:\n")
    for name, script in (("sbin/apk", FAKE_APK), ("usr/local/bin/npm", FAKE_NPM)):
        (rootfs / name).write_text(script)
        (rootfs / name).chmod(0o755)
    repo = rootfs / "usr/share/fake-apk"
    repo.mkdir(parents=True)
    for pkg, kib in (("curlish", 600), ("jqish", 300)):
        staging = dest / "pkg" / pkg
        (staging / "usr/bin").mkdir(parents=True)
        (staging / "usr/bin" / pkg).write_bytes(pseudo_random(kib * 1024, pkg))
        (staging / "usr/bin" / pkg).chmod(0o755)
        subprocess.run(["tar", "--numeric-owner", "--owner=0", "--group=0", "-cf",
                        str(repo / f"{pkg}.tar"), "-C", str(staging), "usr"],
                       check=True)  # fmt: skip
    shutil.rmtree(dest / "pkg")
    npm = rootfs / "usr/share/fake-npm"
    for pkg, kib in (("leftpad", 8), ("bigdep", 900)):
        (npm / pkg).mkdir(parents=True)
        (npm / pkg / "index.js").write_bytes(pseudo_random(kib * 1024, pkg))
        (npm / pkg / "package.json").write_text(f'{{"name": "{pkg}"}}\n')
    (dest / "Dockerfile").write_text(
        "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin:/sbin HOME=/root\n"
        'CMD ["sh"]\n'
    )
    return dest


def write_pybase_context(dest: Path) -> Path:
    """The context of ``layerscope-test/pybase:1``."""
    (dest / "wheels").mkdir(parents=True)
    name, data = tiny_wheel()
    (dest / "wheels" / name).write_bytes(data)
    (dest / "Dockerfile").write_text(PYBASE_DOCKERFILE)
    return dest


def docker_env(buildkit: bool) -> dict[str, str]:
    return dict(os.environ, DOCKER_BUILDKIT="1" if buildkit else "0")
