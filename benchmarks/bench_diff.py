"""Speed benchmark: ``diff`` of two large images that share a big base, with the base cached.

Writes two docker-save archives with ``layerscope.testing``: the same large base layer
(``large_spec``'s, ``--base-gb`` GiB in ``--files`` files) under a top layer of ``--diff-gb`` GiB
that differs between them. Then, in this process:

1. cold: both images loaded without the layer cache, then diffed;
2. warm: the cache is filled with the base only (an image holding just the base layer is loaded
   once), then both images are loaded through the cache and diffed.

It prints the bytes each load read (from the progress callback), the time per differing GiB, and
how much of the warm run's reading went to the shared base (the claim: none).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from layerscope.analysis.diff import diff_images
from layerscope.model import Image, SourceKind
from layerscope.sources import spool_dir
from layerscope.sources.archive import load_path
from layerscope.sources.context import LoadContext
from layerscope.store.layer_cache import LayerCache
from layerscope.testing import Dir, File, ImageSpec, LayerSpec, Synthetic, write_image
from layerscope.testing.large import LazyEntries
from layerscope.testing.specs import large_spec

GIB = 1024**3


class ByteCounter:
    """A Progress that adds up the bytes the loader reports as read."""

    def __init__(self) -> None:
        self.bytes = 0
        self.stages: list[str] = []

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        self.stages.append(text)

    def advance(self, done_bytes: int) -> None:
        self.bytes += done_bytes


def top_layer(tag: str, total: int, files: int) -> LayerSpec:
    """A layer of ``files`` incompressible files summing to ``total`` bytes (content from tag)."""
    each, extra = divmod(total, files)

    def entries() -> Iterator[Dir | File]:
        yield Dir("/srv")
        yield Dir("/srv/app")
        for i in range(files):
            size = each + (1 if i < extra else 0)
            yield File(f"/srv/app/part{i:05d}.bin", Synthetic(size, f"{tag}:{i}", "binary"))

    return LayerSpec(LazyEntries(files + 2, entries), created_by=f"/bin/sh -c ./build.sh {tag}")


def write(args: argparse.Namespace, workdir: Path) -> dict[str, Path]:
    base = large_spec(
        files=args.files,
        total_bytes=int(args.base_gb * GIB),
        whiteouts=0,
        rewrites=0,
        seed=args.seed,
    ).layers[0]
    diff_bytes = int(args.diff_gb * GIB)
    specs = {
        "base": ImageSpec(layers=[base], repo_tags=["bench/base:1"]),
        "old": ImageSpec(
            layers=[base, top_layer("old", diff_bytes, args.top_files)], repo_tags=["bench/a:1"]
        ),
        "new": ImageSpec(
            layers=[base, top_layer("new", diff_bytes, args.top_files)], repo_tags=["bench/a:2"]
        ),
    }
    paths = {}
    for name, spec in specs.items():
        paths[name] = workdir / f"{name}.tar"
        if not paths[name].exists():
            write_image(spec, paths[name], "docker-25")
    return paths


def load(path: Path, cache: LayerCache | None) -> tuple[Image, int, float]:
    counter = ByteCounter()
    start = time.perf_counter()
    image = load_path(
        path,
        LoadContext(progress=counter, index=cache),
        selector=None,
        spool_dir=spool_dir(),
        ref=str(path),
        source=SourceKind.ARCHIVE,
    )
    return image, counter.bytes, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--files", type=int, default=100_000, help="files in the shared base")
    p.add_argument("--base-gb", type=float, default=2.0, help="GiB in the shared base")
    p.add_argument("--diff-gb", type=float, default=0.25, help="GiB in each differing layer")
    p.add_argument("--top-files", type=int, default=200, help="files in each differing layer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "layerscope-bench-diff"
    )
    args = p.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    paths = write(args, args.workdir)
    differing_gib = 2 * args.diff_gb  # the top layer of each image

    cold_read = cold_load = 0.0
    images = []
    for name in ("old", "new"):
        image, read, seconds = load(paths[name], None)
        images.append(image)
        cold_read += read
        cold_load += seconds
    start = time.perf_counter()
    cold_diff = diff_images(images[0], images[1])
    cold_compare = time.perf_counter() - start

    cache_path = args.workdir / "layers.sqlite"
    cache_path.unlink(missing_ok=True)
    with LayerCache(cache_path) as cache:
        load(paths["base"], cache)  # the base's index is now cached
        warm_read = warm_load = 0.0
        images = []
        for name in ("old", "new"):
            image, read, seconds = load(paths[name], cache)
            images.append(image)
            warm_read += read
            warm_load += seconds
        start = time.perf_counter()
        warm_diff = diff_images(images[0], images[1])
        warm_compare = time.perf_counter() - start
    assert warm_diff.alignment.shared_count == cold_diff.alignment.shared_count == 1
    base_blob = images[0].layers[0].compressed_size_bytes or 0
    top_blobs = sum(image.layers[1].compressed_size_bytes or 0 for image in images)
    warm_total = warm_load + warm_compare
    result = {
        "base_gib": args.base_gb,
        "base_files": args.files,
        "differing_gib": differing_gib,
        "cold": {"read_bytes": cold_read, "load_s": cold_load, "diff_s": cold_compare},
        "warm": {"read_bytes": warm_read, "load_s": warm_load, "diff_s": warm_compare},
        "warm_read_of_base_bytes": max(0, warm_read - top_blobs),
        "warm_s_per_differing_gib": warm_total / differing_gib,
        "cold_s_per_differing_gib": (cold_load + cold_compare) / differing_gib,
    }
    print(f"shared base: {args.base_gb} GiB, {args.files} files (blob {base_blob / GIB:.2f} GiB)")
    print(f"differing layers: {differing_gib} GiB in total (blobs {top_blobs / GIB:.2f} GiB)")
    print(
        f"cold (no cache): read {cold_read / GIB:.2f} GiB, load {cold_load:.1f} s, "
        f"diff {cold_compare:.2f} s"
    )
    print(
        f"warm (base cached): read {warm_read / GIB:.2f} GiB, load {warm_load:.1f} s, "
        f"diff {warm_compare:.2f} s"
    )
    print(f"  bytes of the shared base read when warm: {result['warm_read_of_base_bytes']}")
    print(f"  time per differing GiB (warm): {result['warm_s_per_differing_gib']:.2f} s")
    json.dump(result, sys.stderr)
    sys.stderr.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
