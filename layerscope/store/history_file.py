"""Build history as a portable file: JSON lines, versioned (``history export`` / ``import``).

The first line is the header, every other line one build:

    {"format": "layerscope-history", "version": 1}
    {"repository": "docker.io/team/app", "tag": "b7", "image_id": "sha256:...",
     "created": "2024-05-01T10:00:00Z", "ref": "team/app:b7", "recorded_at": 1714557600.0,
     "layers": [{"index": 0, "diff_id": "sha256:...", "chain_id": "sha256:...",
                 "size_bytes": 5, "compressed_size_bytes": null, "created_by": "...",
                 "instruction": "...", "history_created": null, "is_base": true,
                 "log_cached": null, "log_duration_seconds": null,
                 "gzip_estimate_bytes": 2}, ...]}

Importing is recording: a build whose repository already has its image id adds nothing (its
build-log data fills layers that have none), so importing a file twice, or files that overlap,
merges them. A reader refuses a newer ``version`` than it knows. ``gzip_estimate_bytes`` (a
layer stored uncompressed: its estimated gzip size) came later within version 1: a line without
it reads as unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import UsageError
from ..model import BuildRecord, Digest, LayerRecord

FORMAT = "layerscope-history"
VERSION = 1

_LAYER_FIELDS: dict[str, tuple[type, ...]] = {
    "index": (int,),
    "diff_id": (str,),
    "chain_id": (str,),
    "size_bytes": (int,),
    "compressed_size_bytes": (int, type(None)),
    "created_by": (str,),
    "instruction": (str,),
    "history_created": (str, type(None)),
    "is_base": (bool, type(None)),
    "log_cached": (bool, type(None)),
    "log_duration_seconds": (int, float, type(None)),
}
_OPTIONAL_LAYER_FIELDS: dict[str, tuple[type, ...]] = {
    "gzip_estimate_bytes": (int, type(None)),
}
"""Layer keys added within version 1: absent in older files (None), checked when present."""
_BUILD_FIELDS: dict[str, tuple[type, ...]] = {
    "repository": (str,),
    "tag": (str, type(None)),
    "image_id": (str,),
    "created": (str, type(None)),
    "ref": (str,),
    "recorded_at": (int, float),
    "layers": (list,),
}


def header() -> str:
    return json.dumps({"format": FORMAT, "version": VERSION})


def build_line(build: BuildRecord) -> str:
    """One build as a JSON line (no newline): the fields the reader checks, in that order."""
    doc: dict[str, Any] = {key: getattr(build, key) for key in _BUILD_FIELDS if key != "layers"}
    keys = (*_LAYER_FIELDS, *_OPTIONAL_LAYER_FIELDS)
    doc["layers"] = [{key: getattr(layer, key) for key in keys} for layer in build.layers]
    return json.dumps(doc, ensure_ascii=False)


def dump(builds: Iterable[BuildRecord]) -> Iterator[str]:
    """The file's lines, header first, each ending in a newline."""
    yield header() + "\n"
    for build in builds:
        yield build_line(build) + "\n"


def _checked(value: Any, fields: dict[str, tuple[type, ...]], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    for key, types in fields.items():
        if key not in value:
            raise ValueError(f"{what} has no {key!r}")
        item = value[key]
        if isinstance(item, bool) and bool not in types:
            raise ValueError(f"{what}: {key!r} has the wrong type")
        if not isinstance(item, types):
            raise ValueError(f"{what}: {key!r} has the wrong type")
    return value


def _build(value: Any) -> BuildRecord:
    doc = _checked(value, _BUILD_FIELDS, "the build")
    layers = []
    for i, raw in enumerate(doc["layers"]):
        layer = _checked(raw, _LAYER_FIELDS, f"layer {i}")
        optional = {key: layer[key] for key in _OPTIONAL_LAYER_FIELDS if key in layer}
        _checked(optional, {key: _OPTIONAL_LAYER_FIELDS[key] for key in optional}, f"layer {i}")
        duration = layer["log_duration_seconds"]
        layers.append(
            LayerRecord(
                index=layer["index"],
                diff_id=Digest(layer["diff_id"]),
                chain_id=Digest(layer["chain_id"]),
                size_bytes=layer["size_bytes"],
                compressed_size_bytes=layer["compressed_size_bytes"],
                created_by=layer["created_by"],
                instruction=layer["instruction"],
                history_created=layer["history_created"],
                is_base=layer["is_base"],
                log_cached=layer["log_cached"],
                log_duration_seconds=None if duration is None else float(duration),
                gzip_estimate_bytes=optional.get("gzip_estimate_bytes"),
            )
        )
    if [layer.index for layer in layers] != list(range(len(layers))):
        raise ValueError("layer indices are not 0, 1, 2, ...")
    return BuildRecord(
        doc["repository"],
        doc["tag"],
        Digest(doc["image_id"]),
        doc["created"],
        doc["ref"],
        tuple(layers),
        float(doc["recorded_at"]),
    )


def load(lines: Iterable[str], where: str) -> list[BuildRecord]:
    """The builds of an exported file; UsageError naming the line when it is not one."""
    builds: list[BuildRecord] = []
    seen_header = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{where} line {number}: not JSON ({exc.msg})") from None
        if not seen_header:
            if not isinstance(value, dict) or value.get("format") != FORMAT:
                raise UsageError(
                    f"{where}: not a layerscope history export (line {number} is not the "
                    f'{{"format": "{FORMAT}", ...}} header)'
                )
            version = value.get("version")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise UsageError(f"{where}: the header has no valid version")
            if version > VERSION:
                raise UsageError(
                    f"{where}: history format version {version} is newer than this layerscope "
                    f"reads ({VERSION}); upgrade layerscope"
                )
            seen_header = True
            continue
        try:
            builds.append(_build(value))
        except ValueError as exc:
            raise UsageError(f"{where} line {number}: {exc}") from None
    if not seen_header:
        raise UsageError(f"{where}: empty file, not a layerscope history export")
    return builds


__all__ = ["FORMAT", "VERSION", "build_line", "dump", "header", "load"]
