"""Small app images for the diff tests: v1, v2 (a source file changed), v3 (a RUN inserted)."""

from __future__ import annotations

import hashlib

from layerscope.testing import Dir, EmptyHistory, File, ImageSpec, LayerSpec, Whiteout

BASE_HASH = hashlib.sha256(b"base").hexdigest()
MAIN_V1 = b"print('hello v1')\n"
MAIN_V2 = b"print('hello v2, longer')\n"
BUILT = b"built\n"
CURL = bytes(range(256)) * 8  # 2048 bytes


def nop(text: str) -> str:
    return f"/bin/sh -c #(nop)  {text}"


def copy(seed: bytes, dest: str) -> str:
    return f"/bin/sh -c #(nop) COPY file:{hashlib.sha256(seed).hexdigest()} in {dest} "


def base_layer() -> LayerSpec:
    return LayerSpec(
        [
            Dir("/bin"),
            File("/bin/busybox", b"\x7fELF" + bytes(996), mode=0o755),
            Dir("/etc"),
            File("/etc/os-release", b"ID=test\n"),
            File("/etc/motd", b"welcome\n"),
        ],
        created_by=f"/bin/sh -c #(nop) ADD file:{BASE_HASH} in / ",
    )


def app_layer(main: bytes) -> LayerSpec:
    return LayerSpec(
        [
            Dir("/app"),
            File("/app/main.py", main),
            File("/app/README", b"readme\n"),
        ],
        created_by=copy(main, "/app/"),
    )


def build_layer(mtime: int = 0) -> LayerSpec:
    return LayerSpec(
        [Dir("/app", mtime=mtime), File("/app/built.txt", BUILT, mtime=mtime)],
        created_by="/bin/sh -c echo built > /app/built.txt",
        mtime=mtime,
    )


def cleanup_layer(mtime: int = 0) -> LayerSpec:
    return LayerSpec(
        [
            Dir("/etc", mtime=mtime),
            Whiteout("/etc/motd"),
            File("/app/README", b"readme\n", mode=0o600, mtime=mtime),
        ],
        created_by="/bin/sh -c rm /etc/motd && chmod 0600 /app/README",
        mtime=mtime,
    )


def curl_layer() -> LayerSpec:
    return LayerSpec(
        [Dir("/usr"), Dir("/usr/bin"), File("/usr/bin/curl", CURL, mode=0o755)],
        created_by="/bin/sh -c install-curl --static",
    )


def spec(layers: list[LayerSpec], tag: str, env: str = "MODE=prod") -> ImageSpec:
    return ImageSpec(
        layers=layers,
        history_extra=[EmptyHistory(nop(f"ENV {env}"), after=len(layers) - 1)],
        config={"Env": ["PATH=/bin", env], "Cmd": ["/bin/sh"], "WorkingDir": "/app"},
        repo_tags=[tag],
    )


def v1() -> ImageSpec:
    """Base, COPY app, RUN build, RUN cleanup."""
    return spec([base_layer(), app_layer(MAIN_V1), build_layer(), cleanup_layer()], "app:v1")


def v2() -> ImageSpec:
    """v1 with /app/main.py changed (and the later RUN layers rebuilt with a new mtime)."""
    return spec(
        [base_layer(), app_layer(MAIN_V2), build_layer(100), cleanup_layer(100)],
        "app:v2",
        env="MODE=staging",
    )


def v3() -> ImageSpec:
    """v1 with a RUN inserted after the COPY (the later layers rebuilt with a new mtime)."""
    return spec(
        [base_layer(), app_layer(MAIN_V1), curl_layer(), build_layer(200), cleanup_layer(200)],
        "app:v3",
    )
