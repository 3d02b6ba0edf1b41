"""Fuzz targets: each takes bytes, runs the code the CLI runs, and lets only our errors through.

A target returns normally when layerscope accepted the input or refused it with a
``LayerscopeError`` (the one-line message the CLI prints, exit 2 or 3); any other exception is a
finding. The targets are driven two ways: by atheris (coverage-guided, ``scripts/fuzz``) and by
``test_fuzz.py`` (a fixed-seed mutator over the seed corpus, a few thousand cases in the suite).

Structured targets read their choices from the front of the input through :class:`Data`, so the
same bytes always make the same case and the coverage-guided mutator can steer every choice.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import zstandard

from layerscope.cli import main as cli_main
from layerscope.errors import LayerscopeError
from layerscope.testing import (
    Dir,
    File,
    Hardlink,
    ImageSpec,
    IndexSpec,
    LayerSpec,
    Opaque,
    Symlink,
    Whiteout,
    write_image,
)

Target = Callable[[bytes], None]


class Finding(Exception):
    """The CLI said something that is not a one-line error (a traceback on stderr, say)."""


# --- reading choices from the input ------------------------------------------------------------


class Data:
    """Consumes an input from the front: small integers, choices, byte strings, the rest."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def int(self, limit: int) -> int:
        """0 <= n < limit (limit <= 65536)."""
        value = self.byte() | (self.byte() << 8) if limit > 256 else self.byte()
        return value % limit if limit else 0

    def pick(self, options: list[Any] | tuple[Any, ...]) -> Any:
        return options[self.int(len(options))]

    def bytes(self, limit: int) -> bytes:
        n = self.int(limit + 1)
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out


# --- running the CLI ---------------------------------------------------------------------------


_SHM = Path("/dev/shm")
_WORK_DIR: list[Path] = []


def _work() -> Path:
    """Scratch space for this process, in memory where there is some (the cases' SQLite files
    sync on every write); removed when the process ends."""
    if not _WORK_DIR:
        import atexit
        import shutil

        where = _SHM if os.access(_SHM, os.W_OK) else None
        _WORK_DIR.append(Path(tempfile.mkdtemp(prefix="layerscope-fuzz-", dir=where)))
        atexit.register(shutil.rmtree, _WORK_DIR[0], True)
    return _WORK_DIR[0]


def _case_env() -> dict[str, str]:
    """The environment a case runs in: its own cache and data directories; any host but
    loopback goes to a closed port (no DNS, no network); no pause between registry retries."""
    return {
        "LAYERSCOPE_CACHE_DIR": str(_work() / "cache"),
        "LAYERSCOPE_DATA_DIR": str(_work() / "data"),
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "no_proxy": "127.0.0.1,localhost",
        "LAYERSCOPE_REGISTRY_MAX_WAIT": "0",
        "LAYERSCOPE_REGISTRY_TIMEOUT": "5",
    }


@contextmanager
def _environment(cwd: Path | None) -> Iterator[None]:
    """Set the case's environment (and working folder) for one run; restore both afterwards,
    so that importing or running the harness inside the suite changes nothing for other tests."""
    wanted = _case_env()
    saved = {key: os.environ.get(key) for key in wanted}
    old = Path.cwd()
    os.environ.update(wanted)
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        if cwd is not None:
            os.chdir(old)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


LAST_ERROR: list[str] = [""]
"""What the last ``run_cli`` printed on stderr (the regression tests read the error line)."""


def run_cli(*argv: str, cwd: Path | None = None) -> int:
    """``layerscope ARGV`` in this process; a finding unless it ends with 0/1 or one error line."""
    out, err = io.StringIO(), io.StringIO()
    with _environment(cwd):
        code = cli_main(list(argv), stdout=out, stderr=err)
    LAST_ERROR[0] = err.getvalue()
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("layerscope: error: ")]
    if code in (2, 3):
        if len(errors) != 1 or "Traceback" in err.getvalue():
            raise Finding(f"exit {code} without exactly one error line: {err.getvalue()[:2000]!r}")
    elif code not in (0, 1):
        raise Finding(f"exit {code}: {err.getvalue()[:2000]!r}")
    return code


def guarded(target: Target) -> Target:
    """LayerscopeError is the expected refusal; anything else propagates as a finding."""

    def run(data: bytes) -> None:
        try:
            target(data)
        except LayerscopeError:
            pass

    run.__name__ = target.__name__
    return run


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh, empty folder for one case (removed afterwards)."""
    import shutil

    path = Path(tempfile.mkdtemp(dir=_work()))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- building archives -------------------------------------------------------------------------


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def decompress_or_raw(blob: bytes) -> bytes:
    """The uncompressed bytes of a layer blob when they can be had (for its diff_id)."""
    try:
        if blob[:2] == b"\x1f\x8b":
            return gzip.decompress(blob)
        if blob[:4] == b"\x28\xb5\x2f\xfd":
            return zstandard.ZstdDecompressor().decompressobj().decompress(blob)
        if blob[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(blob)
        if blob[:3] == b"BZh":
            return bz2.decompress(blob)
    except Exception:  # noqa: BLE001 - a broken blob keeps its raw bytes as the "diff_id"
        pass
    return blob


def tar_of(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def config_json(diff_ids: list[str], history: int | None = None) -> bytes:
    count = len(diff_ids) if history is None else history
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"/bin/sh -c step {i}"} for i in range(count)],
        }
    ).encode()


def docker_archive(
    layers: list[bytes],
    *,
    config: bytes | None = None,
    manifest: bytes | None = None,
    extra: list[tuple[str, bytes]] | None = None,
) -> bytes:
    """A ``docker save`` archive around these layer blobs (diff_ids computed from them)."""
    if config is None:
        config = config_json([sha(decompress_or_raw(layer)) for layer in layers])
    config_name = sha(config)[7:] + ".json"
    names = [f"{i}/layer.tar" for i in range(len(layers))]
    if manifest is None:
        manifest = json.dumps(
            [{"Config": config_name, "RepoTags": ["fuzz/app:1"], "Layers": names}]
        ).encode()
    files = [("manifest.json", manifest), (config_name, config)]
    files += list(zip(names, layers, strict=True))
    files += extra or []
    return tar_of(files)


def inspect_archive(archive: bytes) -> None:
    with scratch() as tmp:
        path = tmp / "image.tar"
        path.write_bytes(archive)
        run_cli("inspect", str(path), "--json", "--no-cache", "-q")


# --- seeds -------------------------------------------------------------------------------------

SMALL = ImageSpec(
    layers=[
        LayerSpec(
            [Dir("/etc"), File("/etc/hosts", b"127.0.0.1 localhost\n"), Symlink("/bin", "usr/bin")],
            created_by="/bin/sh -c #(nop) ADD file:1 in / ",
        ),
        LayerSpec(
            [Whiteout("/etc/hosts"), Opaque("/var"), Hardlink("/etc/h2", "/etc/hosts")],
            created_by="/bin/sh -c rm /etc/hosts",
        ),
    ],
    repo_tags=["fuzz/app:1"],
)


def _written(spec: ImageSpec | IndexSpec, fmt: str, **kw: Any) -> bytes:
    with scratch() as tmp:
        path = tmp / "image.tar"
        write_image(spec, path, format=fmt, **kw)  # type: ignore[arg-type]
        return path.read_bytes()


def _members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def _layer_seeds() -> list[bytes]:
    """Uncompressed layer tars with the awkward features: PAX, GNU long names, sparse, links."""
    out: list[bytes] = []
    for fmt in (tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
            long = "d/" + "x" * 150 + "/file"
            for name, kind, data, link in (
                ("etc/", tarfile.DIRTYPE, b"", ""),
                ("etc/passwd", tarfile.REGTYPE, b"root:x:0:0\n", ""),
                (long if fmt != tarfile.USTAR_FORMAT else "etc/l", tarfile.REGTYPE, b"l", ""),
                ("etc/.wh.passwd", tarfile.REGTYPE, b"", ""),
                ("var/.wh..wh..opq", tarfile.REGTYPE, b"", ""),
                ("lnk", tarfile.SYMTYPE, b"", "../../etc/passwd"),
                ("hard", tarfile.LNKTYPE, b"", "missing/target"),
                ("/abs/file", tarfile.REGTYPE, b"abs", ""),
            ):
                info = tarfile.TarInfo(name)
                info.type, info.size, info.linkname = kind, len(data), link
                if fmt == tarfile.PAX_FORMAT:
                    info.pax_headers = {"SCHILY.xattr.user.k": "v", "mtime": "1.5"}
                tar.addfile(info, io.BytesIO(data))
        out.append(buf.getvalue())
    out.append(_gnu_sparse_old())
    out.append(_pax_sparse())
    return out


def _header(name: bytes, size: int, typeflag: bytes, extra: bytes = b"") -> bytes:
    head = bytearray(512)
    head[0 : len(name[:100])] = name[:100]
    head[100:108] = b"0000644\x00"
    head[108:116] = b"0000000\x00"
    head[116:124] = b"0000000\x00"
    head[124:136] = b"%011o\x00" % size
    head[136:148] = b"00000000000\x00"
    head[156:157] = typeflag
    head[257:265] = b"ustar  \x00"
    if extra:
        head[345 : 345 + len(extra)] = extra
    head[148:156] = b"        "
    head[148:156] = b"%06o\x00 " % sum(head)
    return bytes(head)


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 512)


def _gnu_sparse_old() -> bytes:
    """A GNU 'S' member: two data spans in the header's sparse map, real size in 483:495."""
    spans = b"%011o\x00%011o\x00" % (0, 512) + b"%011o\x00%011o\x00" % (4096, 512)
    extra = b"\x00" * (386 - 345) + spans + b"\x00" * (482 - 386 - len(spans)) + b"\x00"
    extra += b"%011o\x00" % 8192
    head = bytearray(_header(b"sparse.bin", 1024, b"S"))
    head[345 : 345 + len(extra)] = extra
    head[148:156] = b"        "
    head[148:156] = b"%06o\x00 " % sum(head)
    return bytes(head) + b"a" * 1024 + b"\x00" * 1024


def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n += 1
    return str(n).encode() + body


def _pax_sparse() -> bytes:
    """A PAX 1.0 sparse file (GNU.sparse.major/minor, map at the start of the data)."""
    pax = b"".join(
        _pax_record(k, v)
        for k, v in (
            ("GNU.sparse.major", "1"),
            ("GNU.sparse.minor", "0"),
            ("GNU.sparse.name", "data/sparse.img"),
            ("GNU.sparse.realsize", "10000"),
            ("path", "data/GNUSparseFile.0/sparse.img"),
        )
    )
    sparse_map = _pad(b"1\n0\n100\n")
    body = sparse_map + _pad(b"z" * 100)
    return (
        _header(b"./PaxHeaders/sparse.img", len(pax), b"x")
        + _pad(pax)
        + _header(b"data/GNUSparseFile.0/sparse.img", len(body), b"0")
        + body
        + b"\x00" * 1024
    )


# --- the targets -------------------------------------------------------------------------------


def fuzz_outer_tar(data: bytes) -> None:
    """The whole archive file as given on the command line (docker save, OCI tar, gzipped)."""
    inspect_archive(data)


def _outer_seeds() -> list[bytes]:
    index = IndexSpec(images=[SMALL, ImageSpec(layers=SMALL.layers[:1], architecture="arm64")])
    return [
        _written(SMALL, "docker-25"),
        _written(SMALL, "docker-legacy"),
        _written(index, "oci-tar"),
        _written(SMALL, "docker-25", outer_gzip=True),
    ]


_JSON_SLOTS = ("manifest.json", "index.json", "oci-layout", "config", "nested")


def fuzz_archive_json(data: bytes) -> None:
    """One JSON document of a valid archive (manifest.json, index.json, oci-layout, a config, a
    nested index or manifest blob) replaced by the input."""
    d = Data(data)
    slot = d.pick(_JSON_SLOTS)
    fmt = d.pick(("docker-25", "oci-tar"))
    doc = d.rest()
    members = _members(_SEED_ARCHIVES[fmt])
    if slot == "config":
        name = next(n for n, b in members.items() if b'"rootfs"' in b and len(b) < 65536)
    elif slot == "nested":
        blobs = [n for n, b in members.items() if n.startswith("blobs/") and b[:1] == b"{"]
        name = blobs[d.int(len(blobs))] if blobs else "manifest.json"
    else:
        name = slot
    members[name] = doc
    if slot == "config" and fmt == "oci-tar":  # a new config only gets read under its digest
        members.pop(name)
        members["blobs/sha256/" + sha(doc)[7:]] = doc
        for key, value in list(members.items()):
            members[key] = value.replace(name.rsplit("/", 1)[1].encode(), sha(doc)[7:].encode())
    inspect_archive(tar_of(sorted(members.items())))


def _json_seeds() -> list[bytes]:
    out = []
    for slot in range(len(_JSON_SLOTS)):
        for fmt in range(2):
            members = _members(_SEED_ARCHIVES[("docker-25", "oci-tar")[fmt]])
            name = {0: "manifest.json", 1: "index.json", 2: "oci-layout"}.get(slot)
            doc = (
                members.get(name, b"{}")
                if name
                else next(b for b in members.values() if b'"rootfs"' in b)
            )
            out.append(bytes([slot, fmt]) + doc)
    return out


_NAMES = (
    "etc/passwd",
    "./etc/",
    "/abs/path",
    "../escape",
    "a/../../b",
    "a/./b//c",
    "",
    ".wh..wh..opq",
    "x/.wh..wh..opq",
    ".wh.",
    "etc/.wh.passwd",
    ".wh..wh..plnk",
    "a/.wh.b/c",
    "d" * 99 + "/f",
    "é/ü",
    "\x00nul",
    "dir/",
    ".",
    "..",
    "/",
    "link",
    "hard",
)
_LINKS = ("", "etc/passwd", "/etc/passwd", "../../../etc/shadow", "missing", "link", "hard", ".")
_TYPES = (
    b"0",
    b"\x00",
    b"1",
    b"2",
    b"3",
    b"4",
    b"5",
    b"6",
    b"7",
    b"L",
    b"K",
    b"S",
    b"x",
    b"g",
    b"V",
    b"M",
    b"D",
    b"N",
    b"Z",
)
_PAX_KEYS = (
    "path",
    "linkpath",
    "size",
    "uid",
    "gid",
    "mtime",
    "uname",
    "SCHILY.xattr.security.capability",
    "SCHILY.xattr.user.x",
    "LIBARCHIVE.xattr.user.y",
    "GNU.sparse.major",
    "GNU.sparse.minor",
    "GNU.sparse.name",
    "GNU.sparse.realsize",
    "GNU.sparse.size",
    "GNU.sparse.map",
    "GNU.sparse.numblocks",
    "GNU.sparse.offset",
    "GNU.sparse.numbytes",
    "hdrcharset",
    "comment",
)
_PAX_VALUES = (
    "0",
    "1",
    "-1",
    "10",
    "99999999999999999999",
    "1e9",
    "nan",
    "0,10,20,30",
    "1,2,3",
    "a,b",
    "",
    "../x",
    "/abs",
    "etc/passwd",
    "\u00e9",
    "1.5",
    " 7",
    "00000000000000000001",
)


def structured_layer(d: Data) -> bytes:
    """A layer tar assembled from choices: header fields, PAX records, long names, sparse maps."""
    out = bytearray()
    for _ in range(1 + d.int(6)):
        kind = d.int(4)
        if kind == 0:  # a PAX header (x or g) with chosen records, then a member
            records = b"".join(
                _pax_record(d.pick(_PAX_KEYS), d.pick(_PAX_VALUES)) for _ in range(1 + d.int(4))
            )
            if d.int(4) == 0:
                records = records[: d.int(len(records) + 1)]  # a cut record
            out += _header(b"pax", len(records), d.pick((b"x", b"g"))) + _pad(records)
        elif kind == 1:  # a GNU long name / long link
            long = (d.pick(_NAMES) + "/" + "n" * d.int(300)).encode()
            out += _header(b"././@LongLink", len(long) + 1, d.pick((b"L", b"K")))
            out += _pad(long + b"\x00")
        name = d.pick(_NAMES).encode("utf-8", "surrogateescape")
        typeflag = d.pick(_TYPES)
        body = d.bytes(1500)
        declared = len(body) if d.int(3) else d.int(4096)
        head = bytearray(_header(name, declared, typeflag))
        link = d.pick(_LINKS).encode()
        head[157 : 157 + len(link)] = link
        if d.int(4) == 0:  # a raw field overwritten: size, mode, uid, mtime, checksum...
            at = d.pick((100, 108, 116, 124, 136, 148, 257, 263, 329, 337, 345, 386, 482, 483))
            patch = d.bytes(12)
            head[at : at + len(patch)] = patch
            if d.int(2):
                head[148:156] = b"        "
                head[148:156] = b"%06o\x00 " % sum(head)
        out += head + (_pad(body) if d.int(8) else body)
    if d.int(4):
        out += b"\x00" * 1024
    return bytes(out)


def fuzz_layer_struct(data: bytes) -> None:
    """A layer tar built from the input's choices, in a valid archive."""
    inspect_archive(docker_archive([structured_layer(Data(data))]))


def fuzz_layer_tar(data: bytes) -> None:
    """The input as one uncompressed layer tar, in a valid archive."""
    inspect_archive(docker_archive([data]))


def _compress(kind: str, data: bytes) -> bytes:
    if kind == "gzip":
        return gzip.compress(data, mtime=0)
    if kind == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    if kind == "xz":
        return lzma.compress(data)
    return bz2.compress(data)


def fuzz_layer_compressed(data: bytes) -> None:
    """A valid layer compressed with gzip/zstd/xz/bzip2, then cut, flipped or extended."""
    d = Data(data)
    kind = d.pick(("gzip", "zstd", "xz", "bzip2"))
    blob = bytearray(_compress(kind, _LAYER_SEEDS[d.int(len(_LAYER_SEEDS))]))
    for _ in range(d.int(4)):
        op = d.int(4)
        at = d.int(len(blob) + 1) if len(blob) < 65536 else d.int(65536)
        if op == 0:
            del blob[at:]
        elif op == 1 and at < len(blob):
            blob[at] ^= 1 + d.int(255)
        elif op == 2:
            blob[at:at] = d.bytes(64)
        else:
            blob += _compress(kind, d.bytes(2048))  # a second member/frame
    use_ids = d.int(2)
    diff_ids = None if use_ids else [sha(bytes(d.rest()))]
    layers = [bytes(blob)]
    config = config_json(diff_ids) if diff_ids is not None else None
    inspect_archive(docker_archive(layers, config=config))


# --- a registry that answers what the case says ------------------------------------------------


@dataclass
class _Case:
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    challenge: str | None = None
    token: bytes = b"{}"
    tag_pages: list[tuple[bytes, str]] = field(default_factory=list)


class _FuzzRegistry:
    def __init__(self) -> None:
        self.case = _Case()
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802
                owner.answer(self)

            do_HEAD = do_GET  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        case = self.case
        path = h.path.split("?", 1)[0]
        status, headers, body = 404, {"Content-Type": "application/json"}, b'{"errors":[]}'
        if path == "/token":
            status, body = 200, case.token
        elif case.challenge is not None and not h.headers.get("Authorization"):
            status, headers["WWW-Authenticate"] = 401, case.challenge
        elif path == "/v2/":
            status, body = 200, b"{}"
        elif "/manifests/" in path:
            ref = path.rsplit("/", 1)[1]
            found = case.manifests.get(ref)
            if found is not None:
                status, body = 200, found[1]
                headers["Content-Type"] = found[0]
        elif "/blobs/" in path:
            blob = case.blobs.get(path.rsplit("/", 1)[1])
            if blob is not None:
                status, body = 200, blob
                headers["Content-Type"] = "application/octet-stream"
        elif path.endswith("/tags/list"):
            page = 0
            if "page=" in h.path:
                digits = h.path.split("page=", 1)[1].split("&", 1)[0]
                page = int(digits) if digits.isdigit() and len(digits) < 6 else 0
            if page < len(case.tag_pages):
                status, (body, link) = 200, case.tag_pages[page]
                if link:
                    headers["Link"] = link
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)


_REGISTRY: _FuzzRegistry | None = None


def _registry() -> _FuzzRegistry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _FuzzRegistry()
    return _REGISTRY


def _header_text(raw: bytes) -> str:
    """Bytes as a header value the server can send (latin-1, no line breaks)."""
    text = raw.decode("latin-1")
    return "".join(" " if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in text)


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_MEDIA = (
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_LIST,
    "",
    "application/json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "text/html",
)


def _valid_registry_image() -> tuple[bytes, bytes, bytes]:
    """(layer blob, config, manifest) of a small valid image."""
    layer = gzip.compress(_LAYER_SEEDS[0], mtime=0)
    config = config_json([sha(_LAYER_SEEDS[0])])
    manifest = _manifest_for(config, layer)
    return layer, config, manifest


def _manifest_for(config: bytes, layer: bytes) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()


def _pull(case: _Case, *extra: str) -> None:
    reg = _registry()
    with reg.lock:
        reg.case = case
        run_cli("inspect", f"registry://{reg.host}/fz/app:1", "--json", "--no-cache", "-q", *extra)


def fuzz_registry_manifest(data: bytes) -> None:
    """The manifest or index a registry answers for the tag (any Content-Type)."""
    d = Data(data)
    media = d.pick(_MEDIA)
    body = d.rest()
    layer, config, manifest = _valid_registry_image()
    case = _Case(blobs={sha(layer): layer, sha(config): config})
    case.manifests["1"] = (media, body)
    case.manifests[sha(manifest)] = (OCI_MANIFEST, manifest)
    _pull(case, "--platform", "linux/amd64")


def _registry_manifest_seeds() -> list[bytes]:
    layer, config, manifest = _valid_registry_image()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": sha(manifest),
                    "size": len(manifest),
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": sha(b"x"),
                    "size": 1,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                    "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                },
            ],
        }
    ).encode()
    return [b"\x00" + manifest, b"\x01" + index, b"\x04" + manifest, b"\x03" + index]


def fuzz_registry_config(data: bytes) -> None:
    """The image config blob a registry serves (it hashes to the manifest's digest)."""
    layer, _config, _manifest = _valid_registry_image()
    case = _Case(blobs={sha(layer): layer, sha(data): data})
    case.manifests["1"] = (OCI_MANIFEST, _manifest_for(data, layer))
    _pull(case)


def fuzz_registry_token(data: bytes) -> None:
    """A token server's answer (JSON with token / access_token / expires_in, or anything)."""
    layer, config, manifest = _valid_registry_image()
    reg = _registry()
    case = _Case(blobs={sha(layer): layer, sha(config): config}, token=data)
    case.manifests["1"] = (OCI_MANIFEST, manifest)
    case.challenge = f'Bearer realm="http://{reg.host}/token",service="fuzz"'
    _pull(case)


def fuzz_www_authenticate(data: bytes) -> None:
    """A registry's WWW-Authenticate challenge (Bearer, Basic, several, malformed)."""
    layer, config, manifest = _valid_registry_image()
    case = _Case(
        blobs={sha(layer): layer, sha(config): config}, token=b'{"token": "t", "expires_in": 60}'
    )
    case.manifests["1"] = (OCI_MANIFEST, manifest)
    reg = _registry()
    case.challenge = _header_text(data).replace("REALM", f"http://{reg.host}/token")
    _pull(case, "--creds", "user:pw")


def fuzz_link_pagination(data: bytes) -> None:
    """Tag-list pages and their Link headers (``history NAME --tags GLOB`` follows them)."""
    d = Data(data)
    reg = _registry()
    pages = []
    for _ in range(1 + d.int(4)):
        link = _header_text(d.bytes(200)).replace("SELF", f"http://{reg.host}")
        pages.append((d.bytes(300), link))
    case = _Case(tag_pages=pages)
    with reg.lock:
        reg.case = case
        run_cli("history", f"{reg.host}/fz/app", "--tags", "nomatch-*", "--json")


def _link_seeds() -> list[bytes]:
    def page(body: bytes, link: bytes) -> bytes:
        return bytes([len(link)]) + link + bytes([len(body) % 256, len(body) // 256]) + body

    tags = b'{"name": "fz/app", "tags": ["a", "b"]}'
    return [
        b"\x00" + page(tags, b""),
        b"\x01" + page(tags, b'</v2/fz/app/tags/list?n=2&page=1>; rel="next"') + page(tags, b""),
        b"\x00" + page(tags, b'</v2/fz/app/tags/list?n=2&page=0>; rel="next"'),
        b"\x00" + page(tags, b'<SELF/v2/fz/app/tags/list?page=1>; rel="next", <x>; rel=last'),
    ]


def fuzz_build_log(data: bytes) -> None:
    """A build log (classic, BuildKit plain or rawjson, buildah) given to ``history``."""
    with scratch() as tmp:
        (tmp / "build.log").write_bytes(data)
        run_cli(
            "history",
            "--refs",
            _small_image_path(),
            "--build-log",
            f"{_small_image_path()}={tmp / 'build.log'}",
            "--json",
            "--no-cache",
            "--store",
            str(tmp / "h.sqlite3"),
        )


def fuzz_dockerfile(data: bytes) -> None:
    """A Dockerfile given to ``suggest --dockerfile`` (parsing, mapping, patches)."""
    with scratch() as tmp:
        (tmp / "Dockerfile").write_bytes(data)
        run_cli(
            "suggest",
            _small_image_path(),
            "--dockerfile",
            str(tmp / "Dockerfile"),
            "--json",
            "--no-cache",
            "-q",
        )


def _check_with(name: str, data: bytes) -> None:
    with scratch() as tmp:
        (tmp / name).write_bytes(data)
        run_cli(
            "check",
            _small_image_path(),
            "--json",
            "--no-cache",
            "-q",
            "--store",
            str(tmp / "h.sqlite3"),
            cwd=tmp,
        )


def fuzz_layerscope_toml(data: bytes) -> None:
    """``.layerscope.toml`` in the working folder, read by ``check``."""
    _check_with(".layerscope.toml", data)


def fuzz_pyproject(data: bytes) -> None:
    """``[tool.layerscope]`` in ``pyproject.toml``, read by ``check``."""
    _check_with("pyproject.toml", data)


def fuzz_dive_ci(data: bytes) -> None:
    """dive's ``.dive-ci`` YAML, read by ``check``."""
    _check_with(".dive-ci", data)


_SMALL_PATH: str | None = None


def _small_image_path() -> str:
    global _SMALL_PATH
    if _SMALL_PATH is None:
        path = _work() / "small.tar"
        write_image(SMALL, path, format="docker-25")
        _SMALL_PATH = str(path)
    return _SMALL_PATH


def _text_seeds(*texts: str) -> list[bytes]:
    return [t.encode() for t in texts]


_BUILD_LOGS = (
    "Step 1/2 : FROM scratch\n ---> \nStep 2/2 : ADD file /\n ---> Using cache\n"
    " ---> 0123456789ab\n"
    "Successfully built 0123456789ab\n",
    "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n#2 [1/2] FROM scratch\n"
    "#2 CACHED\n\n#3 [2/2] RUN echo hi\n#3 0.101 hi\n#3 DONE 0.2s\n\n#4 exporting to image\n"
    "#4 writing image sha256:" + "ab" * 32 + " done\n#4 DONE 0.0s\n",
    json.dumps(
        {
            "vertexes": [
                {
                    "digest": "sha256:01",
                    "name": "[1/2] FROM scratch",
                    "started": "2024-05-01T10:00:00Z",
                    "completed": "2024-05-01T10:00:01Z",
                    "cached": True,
                }
            ]
        }
    )
    + "\n"
    + json.dumps(
        {
            "logs": [
                {
                    "vertex": "sha256:01",
                    "stream": 1,
                    "data": "aGk=",
                    "timestamp": "2024-05-01T10:00:00Z",
                }
            ]
        }
    )
    + "\n",
    "STEP 1/2: FROM scratch\nSTEP 2/2: RUN echo hi\n--> Using cache 0123456789abcdef\n"
    "COMMIT fuzz/app:1\n--> 0123456789ab\nSuccessfully tagged localhost/fuzz/app:1\n",
    '{"stream":"Step 1/1 : FROM scratch"}\n{"aux":{"ID":"sha256:' + "cd" * 32 + '"}}\n',
)
_DOCKERFILES = (
    "FROM scratch\nADD file /\nRUN echo hi\n",
    "# syntax=docker/dockerfile:1\n# escape=`\nARG B=scratch\nFROM $B AS build\n"
    "RUN <<EOF\napt-get update\nEOF\nCOPY --from=build --chown=1:1 /a /b\n"
    "RUN apt-get install -y x && rm -rf /var/lib/apt/lists/*\nFROM build\nENV A=1 \\\n B=2\n"
    'CMD ["sh", "-c", "x"]\nONBUILD RUN x\nHEALTHCHECK CMD true\n',
)
_TOMLS = (
    '[rules]\nmax_size = "250MB"\nmax_layers = 10\nlowest_efficiency = 0.9\n'
    'forbidden_paths = ["**/.git/**"]\nrequired_labels = ["a"]\n[options]\n'
    'dockerfile = "Dockerfile"\nbaseline = "last"\n',
    '[rules.max_size]\nvalue = "1GB"\nseverity = "warning"\n[rules.max_growth]\nvalue = "10%"\n',
)
_DIVE_CI = (
    "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n"
    "  highestUserWastedPercent: 0.20\n",
    "rules:\n  lowestEfficiency: disabled\n  highestWastedBytes: ''\n  x: [1, {a: b}]\n",
)


def _seeds_for_layer_struct() -> list[bytes]:
    rng = random.Random(7)
    return [bytes(rng.randrange(256) for _ in range(200)) for _ in range(8)]


_SEED_ARCHIVES: dict[str, bytes] = {}
_LAYER_SEEDS: list[bytes] = []


def setup() -> None:
    """Build the seed archives the structured targets start from (once per process)."""
    if not _SEED_ARCHIVES:
        _SEED_ARCHIVES["docker-25"] = _written(SMALL, "docker-25")
        _SEED_ARCHIVES["oci-tar"] = _written(
            IndexSpec(images=[SMALL, ImageSpec(layers=SMALL.layers[:1], architecture="arm64")]),
            "oci-tar",
        )
    if not _LAYER_SEEDS:
        _LAYER_SEEDS.extend(_layer_seeds())


TARGETS: dict[str, tuple[Target, Callable[[], list[bytes]]]] = {
    "outer_tar": (fuzz_outer_tar, _outer_seeds),
    "archive_json": (fuzz_archive_json, _json_seeds),
    "layer_tar": (fuzz_layer_tar, lambda: list(_LAYER_SEEDS)),
    "layer_struct": (fuzz_layer_struct, _seeds_for_layer_struct),
    "layer_compressed": (fuzz_layer_compressed, lambda: [bytes([i, 0]) for i in range(4)]),
    "registry_manifest": (fuzz_registry_manifest, _registry_manifest_seeds),
    "registry_config": (fuzz_registry_config, lambda: [_valid_registry_image()[1]]),
    "registry_token": (
        fuzz_registry_token,
        lambda: [b'{"token": "abc", "expires_in": 300}', b'{"access_token": "x"}', b"[]"],
    ),
    "www_authenticate": (
        fuzz_www_authenticate,
        lambda: _text_seeds(
            'Bearer realm="REALM",service="fuzz",scope="repository:fz/app:pull"',
            'Basic realm="x", Bearer realm="REALM"',
            'Bearer realm=REALM,error="invalid_token"',
        ),
    ),
    "link_pagination": (fuzz_link_pagination, _link_seeds),
    "build_log": (fuzz_build_log, lambda: _text_seeds(*_BUILD_LOGS)),
    "dockerfile": (fuzz_dockerfile, lambda: _text_seeds(*_DOCKERFILES)),
    "layerscope_toml": (fuzz_layerscope_toml, lambda: _text_seeds(*_TOMLS)),
    "pyproject": (
        fuzz_pyproject,
        lambda: _text_seeds(
            *(
                "[tool.layerscope]\n"
                + t.replace("[r", "[tool.layerscope.r").replace("[o", "[tool.layerscope.o")
                for t in _TOMLS
            )
        ),
    ),
    "dive_ci": (fuzz_dive_ci, lambda: _text_seeds(*_DIVE_CI)),
}


def target(name: str) -> Target:
    setup()
    return guarded(TARGETS[name][0])


def seeds(name: str) -> list[bytes]:
    setup()
    return TARGETS[name][1]()
