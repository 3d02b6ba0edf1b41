"""Hand-written package databases of two image versions (dpkg, apk, dist-info, npm).

``V1`` is one base layer; ``V2`` is that base plus four layers that upgrade, add and remove
packages. Each layer is a mapping path -> bytes (None = a whiteout of that path).
"""

from __future__ import annotations

from collections.abc import Mapping

DPKG_V1 = b"""\
Package: base-files
Status: install ok installed
Priority: required
Installed-Size: 400
Architecture: amd64
Version: 12.4
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy.

Package: curl
Status: install ok installed
Installed-Size: 500
Architecture: amd64
Version: 7.88.1-10
Description: command line tool for transferring data with URL syntax

Package: libfoo
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
"""

DPKG_V2 = (
    DPKG_V1.replace(b"Version: 7.88.1-10", b"Version: 8.5.0-2")
    + b"""
Package: jq
Status: install ok installed
Installed-Size: 100
Architecture: amd64
Version: 1.6-2
"""
)

CURL_LIST = (
    b"/.\n/usr\n/usr/bin\n/usr/bin/curl\n/usr/share/doc/curl\n/usr/share/doc/curl/copyright\n"
)
JQ_LIST = b"/.\n/usr\n/usr/bin\n/usr/bin/jq\n"

APK_MUSL = b"""\
C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
I:622592
F:lib
R:ld-musl-x86_64.so.1
R:libc.musl-x86_64.so.1
"""
APK_BUSYBOX = b"""\
P:busybox
V:1.36.1-r5
A:x86_64
I:950000
F:bin
R:busybox
"""
APK_ZLIB = b"""\
P:zlib
V:1.3-r0
A:x86_64
I:1000
F:lib
R:libz.so.1
"""
APK_V1 = APK_MUSL + b"\n" + APK_BUSYBOX + b"\n"
APK_V2 = APK_MUSL + b"\n" + APK_ZLIB + b"\n"

SITE = "/usr/lib/python3.11/site-packages"


def metadata(name: str, version: str) -> bytes:
    return (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\n"
        f"Long description of {name}.\nVersion: 0.0\n"
    ).encode()


REQ_OLD_META = metadata("requests", "2.31.0")
REQ_OLD_RECORD = (
    b"requests/__init__.py,sha256=aaa,200\n"
    b"requests/api.py,sha256=bbb,300\n"
    b"requests-2.31.0.dist-info/METADATA,sha256=ccc,1\n"
    b"requests-2.31.0.dist-info/RECORD,,\n"
)
REQ_NEW_META = metadata("requests", "2.32.3")
REQ_NEW_RECORD = (
    b"requests/__init__.py,sha256=ddd,220\n"
    b"requests/api.py,sha256=bbb,300\n"
    b"requests-2.32.3.dist-info/METADATA,sha256=eee,1\n"
    b"requests-2.32.3.dist-info/RECORD,,\n"
)
SIX_META = metadata("six", "1.16.0")
SIX_RECORD = (
    b"six.py,sha256=fff,100\nsix-1.16.0.dist-info/METADATA,,\nsix-1.16.0.dist-info/RECORD,,\n"
)

UTIL_OLD_JSON = b'{"name": "@scope/util", "version": "2.0.0", "main": "lib/x.js"}\n'
UTIL_NEW_JSON = b'{"name": "@scope/util", "version": "2.1.0", "main": "lib/x.js"}\n'
LEFTPAD_JSON = b'{"name": "left-pad", "version": "1.3.0"}\n'
NM = "/app/node_modules"

Layer = Mapping[str, bytes | None]

BASE: Layer = {
    "/var/lib/dpkg/status": DPKG_V1,
    "/var/lib/dpkg/info/curl.list": CURL_LIST,
    "/usr/bin/curl": b"c" * 3000,
    "/usr/share/doc/curl/copyright": b"l" * 100,
    "/lib/apk/db/installed": APK_V1,
    "/lib/ld-musl-x86_64.so.1": b"m" * 600,
    "/bin/busybox": b"b" * 900,
    f"{SITE}/requests/__init__.py": b"r" * 200,
    f"{SITE}/requests/api.py": b"a" * 300,
    f"{SITE}/requests-2.31.0.dist-info/METADATA": REQ_OLD_META,
    f"{SITE}/requests-2.31.0.dist-info/RECORD": REQ_OLD_RECORD,
    f"{SITE}/six.py": b"s" * 100,
    f"{SITE}/six-1.16.0.dist-info/METADATA": SIX_META,
    f"{SITE}/six-1.16.0.dist-info/RECORD": SIX_RECORD,
    f"{NM}/left-pad/package.json": LEFTPAD_JSON,
    f"{NM}/left-pad/index.js": b"p" * 50,
    f"{NM}/@scope/util/package.json": UTIL_OLD_JSON,
    f"{NM}/@scope/util/lib/x.js": b"x" * 70,
}
APT: Layer = {
    "/var/lib/dpkg/status": DPKG_V2,
    "/var/lib/dpkg/info/curl.list": CURL_LIST,
    "/var/lib/dpkg/info/jq.list": JQ_LIST,
    "/usr/bin/curl": b"C" * 3500,
    "/usr/bin/jq": b"j" * 700,
}
APK: Layer = {
    "/lib/apk/db/installed": APK_V2,
    "/bin/busybox": None,
    "/lib/libz.so.1": b"z" * 400,
}
PIP: Layer = {
    f"{SITE}/requests-2.31.0.dist-info": None,
    f"{SITE}/six-1.16.0.dist-info": None,
    f"{SITE}/six.py": None,
    f"{SITE}/requests/__init__.py": b"R" * 220,
    f"{SITE}/requests-2.32.3.dist-info/METADATA": REQ_NEW_META,
    f"{SITE}/requests-2.32.3.dist-info/RECORD": REQ_NEW_RECORD,
}
NPM: Layer = {
    f"{NM}/@scope/util/package.json": UTIL_NEW_JSON,
    f"{NM}/@scope/util/lib/x.js": b"X" * 90,
}
INSTRUCTIONS = (
    "/bin/sh -c #(nop) ADD file:" + "0" * 64 + " in / ",
    "/bin/sh -c apt-get install -y curl jq",
    "/bin/sh -c apk add zlib && apk del busybox",
    "/bin/sh -c pip install -U requests && pip uninstall -y six",
    "/bin/sh -c npm install @scope/util@2.1.0",
)
V1: tuple[Layer, ...] = (BASE,)
V2: tuple[Layer, ...] = (BASE, APT, APK, PIP, NPM)
