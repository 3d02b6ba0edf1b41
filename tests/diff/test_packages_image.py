"""Package diff end to end: images written with package databases, loaded, diffed.

Needs the layer scan to keep the bytes of package-database files (``Layer.contents``).
"""

from __future__ import annotations

from pathlib import Path

import pkgfixtures as fx

from layerscope.analysis.diff import diff_images
from layerscope.analysis.package_index import PackageChangeKind
from layerscope.sources import load_image
from layerscope.testing import File, ImageSpec, LayerSpec, Whiteout, add_parent_dirs, write_image


def _spec(layers: tuple[fx.Layer, ...], tag: str) -> ImageSpec:
    built = []
    for i, files in enumerate(layers):
        entries = [
            Whiteout(path) if data is None else File(path, data) for path, data in files.items()
        ]
        built.append(LayerSpec(add_parent_dirs(entries), created_by=fx.INSTRUCTIONS[i]))
    return ImageSpec(layers=built, repo_tags=[tag])


def test_layers_keep_package_database_bytes(tmp_path: Path) -> None:
    write_image(_spec(fx.V1, "pkg:v1"), tmp_path / "v1.tar")
    image = load_image(str(tmp_path / "v1.tar"))
    kept = dict(image.layers[0].contents)
    assert kept["/var/lib/dpkg/status"] == fx.DPKG_V1
    assert kept["/lib/apk/db/installed"] == fx.APK_V1
    assert kept[f"{fx.SITE}/six-1.16.0.dist-info/RECORD"] == fx.SIX_RECORD
    assert kept[f"{fx.NM}/@scope/util/package.json"] == fx.UTIL_OLD_JSON
    assert "/usr/bin/curl" not in kept  # only database files


def test_package_diff_of_written_images(tmp_path: Path) -> None:
    for name, layers in (("v1", fx.V1), ("v2", fx.V2)):
        write_image(_spec(layers, f"pkg:{name}"), tmp_path / f"{name}.tar", "oci-tar")
    old, new = load_image(str(tmp_path / "v1.tar")), load_image(str(tmp_path / "v2.tar"))
    diff = diff_images(old, new)
    got = {
        (c.ecosystem, c.name): (c.kind, c.size_delta_bytes, pair)
        for c, pair in zip(diff.packages, diff.package_pairs, strict=True)
    }
    old_req = 200 + 300 + len(fx.REQ_OLD_META) + len(fx.REQ_OLD_RECORD)
    new_req = 220 + 300 + len(fx.REQ_NEW_META) + len(fx.REQ_NEW_RECORD)
    # pair k = the k-th layer of V2 (the base is shared): apt 1, apk 2, pip 3, npm 4
    assert got == {
        ("apk", "busybox"): (PackageChangeKind.REMOVED, -900, 2),
        ("apk", "zlib"): (PackageChangeKind.ADDED, 400, 2),
        ("deb", "curl"): (PackageChangeKind.UPGRADED, 500, 1),
        ("deb", "jq"): (PackageChangeKind.ADDED, 700, 1),
        ("npm", "@scope/util"): (PackageChangeKind.UPGRADED, 20, 4),
        ("python", "requests"): (PackageChangeKind.UPGRADED, new_req - old_req, 3),
        ("python", "six"): (
            PackageChangeKind.REMOVED,
            -(100 + len(fx.SIX_META) + len(fx.SIX_RECORD)),
            3,
        ),
    }
