"""Read an image config JSON: diff_ids, history and its alignment with layers, ImageConfig.

Shared by every source (archive, daemon, registry).
"""

from __future__ import annotations

from typing import Any

from ..errors import ImageFormatError, NotFoundError
from ..model import Digest, HistoryEntry, ImageConfig, Platform
from ..platforms import normalize_platform, parse_platform


def diff_ids(config: dict[str, Any], label: str) -> list[Digest]:
    rootfs = config.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise ImageFormatError(f"{label}: image config has no rootfs.diff_ids")
    out: list[Digest] = []
    for item in rootfs["diff_ids"]:
        if not isinstance(item, str) or ":" not in item:
            raise ImageFormatError(f"{label}: image config has an invalid diff_id {item!r}")
        out.append(Digest(item))
    return out


def history(config: dict[str, Any]) -> tuple[HistoryEntry, ...]:
    raw = config.get("history")
    if not isinstance(raw, list):
        return ()
    entries = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        entries.append(
            HistoryEntry(
                created_by=str(item.get("created_by") or ""),
                created=item.get("created") if isinstance(item.get("created"), str) else None,
                empty_layer=bool(item.get("empty_layer")),
                comment=str(item.get("comment") or ""),
                author=str(item.get("author") or ""),
            )
        )
    return tuple(entries)


def align_history(history: tuple[HistoryEntry, ...], layer_count: int) -> list[HistoryEntry | None]:
    """Each non-empty history entry belongs to the next layer, in order (image-spec config.md)."""
    out: list[HistoryEntry | None] = []
    for entry in history:
        if entry.empty_layer:
            continue
        if len(out) == layer_count:
            break
        out.append(entry)
    out.extend([None] * (layer_count - len(out)))
    return out


def strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return None


def image_config(raw: Any) -> ImageConfig:
    if not isinstance(raw, dict):
        return ImageConfig()
    labels = raw.get("Labels") or {}
    return ImageConfig(
        env=strings(raw.get("Env")) or (),
        entrypoint=strings(raw.get("Entrypoint")),
        cmd=strings(raw.get("Cmd")),
        user=str(raw.get("User") or ""),
        workdir=str(raw.get("WorkingDir") or ""),
        exposed_ports=tuple(sorted((raw.get("ExposedPorts") or {}).keys()))
        if isinstance(raw.get("ExposedPorts"), dict)
        else (),
        volumes=tuple(sorted((raw.get("Volumes") or {}).keys()))
        if isinstance(raw.get("Volumes"), dict)
        else (),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items()))
        if isinstance(labels, dict)
        else (),
        stop_signal=str(raw.get("StopSignal") or ""),
    )


def config_platform(config: dict[str, Any]) -> Platform:
    """The platform an image config declares (``linux/unknown`` when it says nothing)."""
    return Platform(
        str(config.get("os") or "linux"),
        str(config.get("architecture") or "unknown"),
        config.get("variant") or None,
    )


def declared_platform(cfg: Any) -> Platform | None:
    """The platform an image config declares, or None when it names no architecture."""
    if not isinstance(cfg, dict) or not cfg.get("architecture"):
        return None
    return Platform(
        str(cfg.get("os") or "linux"), str(cfg["architecture"]), cfg.get("variant") or None
    )


def same_platform(have: Platform, wanted: Platform) -> bool:
    """True when ``have`` is ``wanted`` once normalised (a wanted variant must match too)."""
    pa = parse_platform(str(have))
    pb = parse_platform(str(wanted))
    return (
        pa.os == pb.os
        and pa.architecture == pb.architecture
        and (pb.variant is None or pa.variant == pb.variant)
    )


def check_config_platform(cfg: Any, wanted: Platform | None, label: str) -> None:
    """Refuse an image whose config declares another platform than ``--platform`` asked for.

    Every source says it the same way (as an index without the platform does), so a
    single-manifest image is never shown as the platform the user asked for when it is not.
    """
    have = declared_platform(cfg)
    if wanted is not None and have is not None and not same_platform(have, wanted):
        raise NotFoundError(
            f"{label}: no image for platform {normalize_platform(wanted)}; "
            f"the image has: {normalize_platform(have)}"
        )


def check_layer_count(ids: list[Digest], layers: int, label: str) -> None:
    """The config's diff_ids and the manifest's layers pair up one to one."""
    if len(ids) != layers:
        raise ImageFormatError(
            f"{label}: config lists {len(ids)} diff_ids but the manifest has {layers} "
            f"layer{'s' if layers != 1 else ''}"
        )
