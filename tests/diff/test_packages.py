"""Package database parsers and the per-image package index, on hand-written fixture bytes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pkgfixtures as fx

from layerscope.analysis.package_index import (
    PackageChangeKind,
    diff_packages,
    find_packages,
)
from layerscope.analysis.packages import (
    npm_package_dir,
    parse_apk_installed,
    parse_dpkg_list,
    parse_dpkg_status,
    parse_package_json,
    parse_python_metadata,
    parse_python_record,
    wants_contents,
)
from layerscope.model import Image
from layerscope.testing.memory import file_entry, memory_image, memory_layer, whiteout_entry


def test_dpkg_status_keeps_installed_packages_only() -> None:
    got = [
        (p.name, p.version, p.architecture, p.installed_size_bytes)
        for p in parse_dpkg_status(fx.DPKG_V1)
    ]
    assert got == [
        ("base-files", "12.4", "amd64", 400 * 1024),
        ("curl", "7.88.1-10", "amd64", 500 * 1024),
    ]
    assert parse_dpkg_list(fx.JQ_LIST) == ("/", "/usr", "/usr/bin", "/usr/bin/jq")


def test_apk_installed() -> None:
    musl, busybox = parse_apk_installed(fx.APK_V1)
    assert (musl.name, musl.version, musl.architecture, musl.installed_size_bytes) == (
        "musl", "1.2.4-r2", "x86_64", 622592,
    )  # fmt: skip
    assert musl.files == ("/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1")
    assert busybox.files == ("/bin/busybox",)


def test_python_and_npm_metadata() -> None:
    meta = parse_python_metadata(fx.REQ_OLD_META)
    assert meta is not None and (meta.name, meta.version) == (
        "requests",
        "2.31.0",
    )  # not the body's
    rows = parse_python_record(fx.REQ_OLD_RECORD, fx.SITE)
    assert rows[0] == (f"{fx.SITE}/requests/__init__.py", 200)
    assert rows[3] == (f"{fx.SITE}/requests-2.31.0.dist-info/RECORD", None)
    util = parse_package_json(fx.UTIL_NEW_JSON)
    assert util is not None and (util.name, util.version) == ("@scope/util", "2.1.0")
    assert parse_package_json(b"[1, 2]") is None and parse_package_json(b"{oops") is None
    assert npm_package_dir(f"{fx.NM}/@scope/util/lib/x.js") == f"{fx.NM}/@scope/util"
    assert npm_package_dir(f"{fx.NM}/a/node_modules/b/i.js") == f"{fx.NM}/a/node_modules/b"
    assert npm_package_dir(f"{fx.NM}/a") is None


def test_wanted_contents() -> None:
    wanted = [
        "/var/lib/dpkg/status",
        "/var/lib/dpkg/info/libc6:amd64.list",
        "/lib/apk/db/installed",
        f"{fx.SITE}/six-1.16.0.dist-info/METADATA",
        f"{fx.SITE}/six-1.16.0.dist-info/RECORD",
        f"{fx.SITE}/foo-1.0.egg-info/PKG-INFO",
        f"{fx.SITE}/foo-1.0.egg-info",
        f"{fx.NM}/left-pad/package.json",
        f"{fx.NM}/@scope/util/package.json",
    ]
    unwanted = [
        "/etc/status",
        "/var/lib/dpkg/info/curl.md5sums",
        "/usr/share/doc/METADATA",
        "/app/package.json",
        f"{fx.NM}/left-pad/lib/package.json",
        f"{fx.NM}/@scope/package.json",
    ]
    assert [p for p in wanted if not wants_contents(p)] == []
    assert [p for p in unwanted if wants_contents(p)] == []


def _image(layers: Sequence[Mapping[str, bytes | None]]) -> Image:
    built = [
        memory_layer(
            i,
            [
                whiteout_entry(path) if data is None
                else file_entry(path, len(data), content=str(hash(data)))
                for path, data in files.items()
            ],
            created_by=fx.INSTRUCTIONS[i],
        )
        for i, files in enumerate(layers)
    ]  # fmt: skip
    return memory_image(*built, ref="x")


def _kept(layers: Sequence[Mapping[str, bytes | None]]) -> list[dict[str, bytes]]:
    return [
        {p: b for p, b in files.items() if b is not None and wants_contents(p)} for files in layers
    ]


def test_packages_with_their_layer_and_bytes() -> None:
    index = find_packages(_image(fx.V2), contents=_kept(fx.V2))
    got = {
        (p.ecosystem, p.name): (p.version, p.size_bytes, p.size_source, p.layer_index)
        for p in index.packages
    }
    meta, record = len(fx.REQ_NEW_META), len(fx.REQ_NEW_RECORD)
    assert got == {
        ("deb", "base-files"): ("12.4", 400 * 1024, "declared", 0),  # no .list: Installed-Size
        ("deb", "curl"): ("8.5.0-2", 3500 + 100, "files", 1),  # /usr/bin/curl + copyright
        ("deb", "jq"): ("1.6-2", 700, "files", 1),
        ("apk", "musl"): ("1.2.4-r2", 600, "files", 0),  # the libc symlink is not in the image
        ("apk", "zlib"): ("1.3-r0", 400, "files", 2),
        ("python", "requests"): ("2.32.3", 220 + 300 + meta + record, "files", 3),
        ("npm", "left-pad"): ("1.3.0", len(fx.LEFTPAD_JSON) + 50, "files", 0),
        ("npm", "@scope/util"): ("2.1.0", len(fx.UTIL_NEW_JSON) + 90, "files", 4),
    }
    removed = {key[1]: layer for key, layer in index.removed_in}
    assert removed == {"busybox": 2, "six": 3}
    assert sorted(index.by_layer()) == [0, 1, 2, 3, 4]


def test_package_diff() -> None:
    old = find_packages(_image(fx.V1), contents=_kept(fx.V1))
    new = find_packages(_image(fx.V2), contents=_kept(fx.V2))
    changes = {(c.ecosystem, c.name): (c.kind, c.size_delta_bytes) for c in diff_packages(old, new)}
    old_req = 200 + 300 + len(fx.REQ_OLD_META) + len(fx.REQ_OLD_RECORD)
    new_req = 220 + 300 + len(fx.REQ_NEW_META) + len(fx.REQ_NEW_RECORD)
    assert changes == {
        ("apk", "busybox"): (PackageChangeKind.REMOVED, -900),
        ("apk", "zlib"): (PackageChangeKind.ADDED, 400),
        ("deb", "curl"): (PackageChangeKind.UPGRADED, 3600 - 3100),
        ("deb", "jq"): (PackageChangeKind.ADDED, 700),
        ("npm", "@scope/util"): (PackageChangeKind.UPGRADED, 20),  # same json length, 70 -> 90
        ("python", "requests"): (PackageChangeKind.UPGRADED, new_req - old_req),
        ("python", "six"): (
            PackageChangeKind.REMOVED,
            -(100 + len(fx.SIX_META) + len(fx.SIX_RECORD)),
        ),
    }


def test_downgrade_is_told_apart() -> None:
    new = find_packages(_image(fx.V1), contents=_kept(fx.V1))
    old = find_packages(_image(fx.V2), contents=_kept(fx.V2))
    kinds = {c.name: c.kind for c in diff_packages(old, new)}
    assert kinds["curl"] is PackageChangeKind.DOWNGRADED
    assert kinds["requests"] is PackageChangeKind.DOWNGRADED
