"""Ready-made specs: the committed demo fixture, dive #684's chown rewrite, benchmark images."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tracemalloc
from pathlib import Path

from layerscope.testing import File, ImageSpec, LayerSpec, Synthetic, write_image
from layerscope.testing.specs import chown_rewrite_spec, demo_spec, large_spec

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo" / "demo-app.tar"


def layer_members(archive: Path) -> list[list[tuple[tarfile.TarInfo, bytes]]]:
    """Per layer (manifest.json order): (member, content) pairs."""
    with tarfile.open(archive) as outer:
        (m,) = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        out = []
        for path in m["Layers"]:
            data = outer.extractfile(path).read()  # type: ignore[union-attr]
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                out.append([(x, tf.extractfile(x).read() if x.isfile() else b"") for x in tf])  # type: ignore[union-attr]
        return out


def test_committed_demo_fixture_is_reproducible(tmp_path: Path) -> None:
    fresh = write_image(demo_spec(), tmp_path / "demo.tar", "docker-25").path
    assert DEMO.read_bytes() == fresh.read_bytes()
    assert DEMO.stat().st_size < 3 * 1024 * 1024


def test_demo_shape() -> None:
    with tarfile.open(DEMO) as outer:
        (m,) = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        cfg = json.load(outer.extractfile(m["Config"]))  # type: ignore[arg-type]
    hist = cfg["history"]
    real = [h for h in hist if not h.get("empty_layer")]
    assert len(real) == len(cfg["rootfs"]["diff_ids"]) == 8
    by = [h["created_by"] for h in hist]
    assert '/bin/sh -c #(nop)  CMD ["python3" "app.py"]' in by
    assert "/bin/sh -c #(nop) WORKDIR /app" in by
    assert real[0]["created_by"].startswith("/bin/sh -c #(nop) ADD file:")
    assert real[0]["created_by"].endswith(" in / ")
    assert real[7]["created_by"] == "/bin/sh -c chmod -R g+w /app"
    layers = layer_members(DEMO)
    names = [[x.name for x, _ in ly] for ly in layers]
    assert "tmp/model.tar.gz" in names[4] and "tmp/.wh.model.tar.gz" in names[6]
    assert any(n.startswith("var/lib/apt/lists/") for n in names[1])
    assert any(n.startswith("var/cache/apt/") and n.endswith(".bin") for n in names[1])
    assert any(n.startswith("root/.cache/pip/") for n in names[3])
    assert any(n.endswith(".dist-info/METADATA") for n in names[3])
    assert "app/.git/HEAD" in names[5] and "app/__pycache__/app.cpython-311.pyc" in names[5]
    copied = {x.name: (x.mode, body) for x, body in layers[5]}
    chmod = {x.name: (x.mode, body) for x, body in layers[7]}
    assert copied.keys() == chmod.keys()
    for name, (mode, body) in copied.items():
        assert chmod[name] == (mode | 0o020, body)
    pip_cache = sum(x.size for x, _ in layers[3] if x.name.startswith("root/.cache/pip/"))
    assert 400_000 < pip_cache < 1_200_000


def test_chown_rewrite(tmp_path: Path) -> None:
    p = write_image(chown_rewrite_spec(files=12, file_size=100, uid=1000, gid=1001),
                    tmp_path / "c.tar", "docker-legacy").path  # fmt: skip
    base, top = layer_members(p)
    assert [x.name for x, _ in base] == [x.name for x, _ in top]
    assert sum(1 for x, _ in base if x.isfile()) == 12
    for (a, ab), (b, bb) in zip(base, top, strict=True):
        assert ab == bb and a.mode == b.mode and (a.uid, a.gid) == (0, 0)
        assert (b.uid, b.gid) == (1000, 1001)


def test_large_spec_small_instance(tmp_path: Path) -> None:
    spec = large_spec(files=700, total_bytes=3_000_000, whiteouts=30, rewrites=10, seed=1)
    assert [len(list(ly.entries)) for ly in spec.layers] == [len(ly.entries) for ly in spec.layers]
    p = write_image(spec, tmp_path / "l.tar", "docker-25").path
    base, top = layer_members(p)
    files = [x for x, _ in base if x.isfile()]
    assert len(files) == 700 and sum(x.size for x in files) == 3_000_000
    assert max(x.size for x in files) > 100 * (3_000_000 // 700) // 10  # skewed sizes
    wh = [x.name for x, _ in top if x.name.rsplit("/", 1)[-1].startswith(".wh.")]
    assert len(wh) == 30
    base_names = {x.name.rstrip("/") for x, _ in base}
    base_dirs = {x.name for x, _ in base if x.isdir()}
    dirs_removed = [n for n in wh if n.replace(".wh.", "") in base_dirs]
    assert len(dirs_removed) == 3
    assert all(n.replace(".wh.", "") in base_names for n in wh)
    old = {x.name: (x.mode, body) for x, body in base if x.isfile()}
    rewritten = [(x, body) for x, body in top if x.isfile() and ".wh." not in x.name]
    assert len(rewritten) == 10
    changed = [x.name for x, body in rewritten if body != old[x.name][1]]
    mode_only = [x.name for x, body in rewritten if body == old[x.name][1] and x.mode == 0o664]
    assert len(changed) == 5 and len(mode_only) == 5
    again = write_image(spec, tmp_path / "l2.tar", "docker-25").path
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(p.read_bytes()).digest()


def test_streaming_keeps_memory_flat(tmp_path: Path) -> None:
    spec = ImageSpec(layers=[LayerSpec([File("/big", Synthetic(48 * 1024 * 1024, seed=9))])])
    tracemalloc.start()
    try:
        write_image(spec, tmp_path / "big.tar", "docker-25")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 1024 * 1024
    assert (tmp_path / "big.tar").stat().st_size > 48 * 1024 * 1024
    assert [p.name for p in tmp_path.iterdir()] == ["big.tar"]  # temp files removed
