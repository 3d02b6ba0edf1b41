"""A registry filled for ``scan``: bases with versions, apps on them, multi-platform images,
findings, and one repository whose layer blob is gone. Shared by the tests and the benchmark.

Everything is built with ``layerscope.testing`` and pushed with skopeo. The expected figures
are not taken from here: ``api_figures`` reads them back from the registry API.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerscope.testing import Dir, File, ImageSpec, IndexSpec, LayerSpec, Synthetic, write_image

ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
OLD = "2024-01-01T00:00:00Z"
NEW = "2024-06-01T00:00:00Z"


@dataclass
class Plan:
    """What was pushed: ``pushes`` are (skopeo source, repo:tag, all platforms)."""

    pushes: list[tuple[str, str, bool]] = field(default_factory=list)
    on_base: dict[str, list[str]] = field(default_factory=dict)
    """``base/bN:version`` -> the app repo:tags built on it (every platform counts once)."""
    broken: str = "broken/app:1"


def _base_layer(family: int, version: str, arch: str, size: int) -> LayerSpec:
    return LayerSpec(
        [
            Dir("/etc"),
            File("/etc/os-release", f"ID=b{family}\nVERSION={version}\n".encode()),
            Dir("/lib"),
            File(f"/lib/libb{family}.so", Synthetic(size, seed=f"b{family}{version}{arch}")),
        ],
        created_by=f"/bin/sh -c #(nop) ADD file:b{family}-{version}-{arch} in / ",
        created=NEW if version == "v2" else OLD,
    )


def _app_layers(n: int, size: int) -> list[LayerSpec]:
    files: list[File | Dir] = [Dir("/app"), File(f"/app/main{n}", Synthetic(size, seed=f"a{n}"))]
    if n % 3 == 0:
        files += [Dir("/usr"), Dir("/usr/bin"), File("/usr/bin/gcc", Synthetic(4000, seed="gcc"))]
    if n % 4 == 0:
        files += [
            Dir("/app/__pycache__"),
            File("/app/__pycache__/m.cpython-311.pyc", Synthetic(900, seed=f"p{n}")),
        ]
    if n % 5 == 0:
        files += [
            Dir("/var"),
            Dir("/var/cache"),
            Dir("/var/cache/apt"),
            Dir("/var/cache/apt/archives"),
            File("/var/cache/apt/archives/tool_1.0_amd64.deb", Synthetic(2500, seed=f"d{n}")),
        ]
    if n % 7 == 0:  # the same 1 MiB at two paths (zeros: tiny once compressed)
        one = Synthetic(1 << 20, seed="dup", kind="zeros")
        files += [Dir("/data"), File("/data/a.bin", one), File("/data/b.bin", one)]
    return [LayerSpec(files, created_by=f"/bin/sh -c #(nop) COPY app{n} /app")]


def build(workdir: Path, *, apps: int = 30, families: int = 5, size: int = 6000) -> Plan:
    """Write every image under ``workdir``; ``families`` bases, the first two with v1 and v2,
    the last one multi-platform (amd64 + arm64), ``apps`` apps spread over them."""
    plan = Plan()
    archs = {f: ["amd64", "arm64"] if f == families - 1 else ["amd64"] for f in range(families)}
    versions = {f: ["v1", "v2"] if f < 2 else ["v1"] for f in range(families)}

    def write(name: str, item: ImageSpec | IndexSpec, repo_tag: str) -> None:
        multi = isinstance(item, IndexSpec)
        path = workdir / name
        write_image(item, path, format="oci-dir" if multi else "docker-25")
        source = f"oci:{path}" if multi else f"docker-archive:{path}"
        plan.pushes.append((source, repo_tag, multi))

    def image(layers: list[LayerSpec], arch: str, labels: dict[str, str], created: str) -> Any:
        return ImageSpec(
            layers=layers,
            architecture=arch,
            variant="v8" if arch == "arm64" else None,
            config={"Labels": labels} if labels else {},
            created=created,
        )

    def spec(layers_of: Callable[[str], list[LayerSpec]], arch_list: list[str], **kw: Any) -> Any:
        images = [image(layers_of(a), a, **kw) for a in arch_list]
        return images[0] if len(images) == 1 else IndexSpec(images=images)

    for f in range(families):
        for v in versions[f]:
            created = NEW if v == "v2" else OLD
            write(
                f"base{f}{v}",
                spec(
                    lambda a, f=f, v=v: [_base_layer(f, v, a, size)],
                    archs[f],
                    labels={},
                    created=created,
                ),
                f"base/b{f}:{v}",
            )
    for n in range(apps):
        f = n % families
        v = versions[f][(n // families) % len(versions[f])]
        labels = {"org.opencontainers.image.base.name": f"base/b{f}:{v}"} if n % 2 else {}
        tag = f"apps/a{n}:1"
        write(
            f"app{n}",
            spec(
                lambda a, f=f, v=v, n=n: [_base_layer(f, v, a, size), *_app_layers(n, size)],
                archs[f],
                labels=labels,
                created=NEW,
            ),
            tag,
        )
        plan.on_base.setdefault(f"base/b{f}:{v}", []).append(tag)
    broken = ImageSpec(
        layers=[
            _base_layer(0, "v1", "amd64", size),
            LayerSpec([File("/gone", Synthetic(3000, seed="gone"))], created_by="COPY gone /"),
        ]
    )
    write("broken", broken, plan.broken)
    return plan


def push_all(plan: Plan, host: str, push: Callable[[str, str, bool], None]) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda p: push(*p), plan.pushes))


def skopeo_push(host: str) -> Callable[[str, str, bool], None]:
    def push(source: str, repo_tag: str, all_images: bool) -> None:
        cmd = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false"]
        if all_images:
            cmd.append("--all")
        cmd += [source, f"docker://{host}/{repo_tag}"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise AssertionError(f"skopeo push failed: {done.stderr.strip()}")

    return push


def _get(url: str, accept: str | None = None) -> tuple[Any, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = resp.read()
        return json.loads(body), dict(resp.headers), body


def delete_blob(host: str, repo: str, digest: str) -> None:
    """Remove a layer blob from a repository (the registry's blob DELETE)."""
    req = urllib.request.Request(f"http://{host}/v2/{repo}/blobs/{digest}", method="DELETE")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 202, resp.status


def manifests_of(host: str, repo: str, tag: str) -> list[dict[str, Any]]:
    """The image manifests a tag resolves to (every platform; attestations left out)."""
    doc, _h, _b = _get(f"http://{host}/v2/{repo}/manifests/{tag}", ACCEPT)
    if "manifests" not in doc:
        return [dict(doc, _digest=_digest_of(host, repo, tag))]
    out = []
    for desc in doc["manifests"]:
        if desc.get("platform", {}).get("os") == "unknown":
            continue
        child, _h, _b = _get(f"http://{host}/v2/{repo}/manifests/{desc['digest']}", ACCEPT)
        out.append(dict(child, _digest=desc["digest"]))
    return out


def _digest_of(host: str, repo: str, tag: str) -> str:
    req = urllib.request.Request(
        f"http://{host}/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT}, method="HEAD"
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return str(resp.headers["Docker-Content-Digest"])


def api_figures(host: str) -> dict[str, Any]:
    """The registry totals, computed from the Distribution API alone (small pages, so the
    catalog's Link pagination is followed here too)."""
    repos: list[str] = []
    url: str | None = f"http://{host}/v2/_catalog?n=7"
    while url:
        doc, headers, _b = _get(url)
        repos += doc["repositories"]
        link = headers.get("Link")
        url = f"http://{host}{link.split(';')[0].strip('<> ')}" if link else None
    tags = 0
    images: dict[str, dict[str, int]] = {}
    owner: dict[str, str] = {}
    for repo in repos:
        doc, _h, _b = _get(f"http://{host}/v2/{repo}/tags/list")
        for tag in doc["tags"] or []:
            tags += 1
            for man in manifests_of(host, repo, tag):
                images[man["_digest"]] = {layer["digest"]: layer["size"] for layer in man["layers"]}
                owner[man["_digest"]] = repo
    stored: dict[str, int] = {}
    for layers in images.values():
        stored.update(layers)
    referenced = sum(sum(layers.values()) for layers in images.values())
    users: dict[str, int] = {}
    for layers in images.values():
        for digest in layers:
            users[digest] = users.get(digest, 0) + 1
    exclusive = {
        m: sum(s for d, s in layers.items() if users[d] == 1) for m, layers in images.items()
    }
    return {
        "repositories": len(repos),
        "tags": tags,
        "images": len(images),
        "unique_layers": len(stored),
        "stored_compressed_bytes": sum(stored.values()),
        "referenced_compressed_bytes": referenced,
        "shared_compressed_bytes": referenced - sum(stored.values()),
        "_exclusive": exclusive,
        "_layers": images,
        "_owner": owner,
    }
