"""Images for the check tests, written once per session by layerscope's own builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.testing import (
    Dir,
    File,
    ImageSpec,
    LayerSpec,
    Synthetic,
    add_parent_dirs,
    write_image,
)


def _layer(*entries: object, created_by: str = "") -> LayerSpec:
    return LayerSpec(entries=add_parent_dirs(list(entries)), created_by=created_by)  # type: ignore[arg-type]


def _app_layers() -> list[LayerSpec]:
    """An app that ships a git checkout and a key, and overwrites its main.py."""
    return [
        _layer(File("/bin/sh", Synthetic(30000, 4)), created_by="ADD rootfs.tar /"),
        _layer(
            File("/app/main.py", b"print('hi')\n"),
            File("/app/.git/config", b"[core]\n"),
            File("/app/.git/HEAD", b"ref: refs/heads/main\n"),
            File("/app/certs/server.pem", b"-----BEGIN-----\n"),
            created_by="COPY . /app # buildkit",
        ),
        _layer(File("/app/main.py", Synthetic(20000, 5)), created_by="RUN build"),
    ]


SPECS = {
    # one layer: dive's user-wasted ratio is NaN (the rule passes in dive)
    "one-layer": ImageSpec(layers=[_layer(File("/bin/tool", Synthetic(5000, 1)))]),
    # the user layer empties a file: 0 user bytes, wasted 4000 -> dive's ratio is +Inf
    "infinite": ImageSpec(
        layers=[
            _layer(File("/data/a", Synthetic(4000, 2)), File("/data/b", Synthetic(3000, 3))),
            LayerSpec(entries=[File("/data/a", b"")], created_by="/bin/sh -c : > /data/a"),
        ]
    ),
    # ships a git checkout and a key, one label, an overwritten file
    "app-with-git": ImageSpec(
        layers=_app_layers(),
        config={"Labels": {"org.opencontainers.image.source": "https://example.com/app"}},
        repo_tags=["example.com/app:1"],
    ),
    # a later build of the same repository: one more layer of 100,000 bytes
    "app-grown": ImageSpec(
        layers=[
            *_app_layers(),
            _layer(Dir("/opt"), File("/opt/blob", Synthetic(100000, 6)), created_by="RUN fetch"),
        ],
        config={"Labels": {"org.opencontainers.image.source": "https://example.com/app"}},
        repo_tags=["example.com/app:2"],
        created="2024-02-01T00:00:00Z",
    ),
}


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> docker-archive path of every SPECS image."""
    folder = tmp_path_factory.mktemp("check-images")
    out = {}
    for name, spec in SPECS.items():
        path = folder / f"{name}.tar"
        write_image(spec, path)
        out[name] = path
    return out
