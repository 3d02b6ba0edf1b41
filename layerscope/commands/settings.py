"""Typed settings, built once from the parsed arguments; commands pass these, not ``args``.

``argparse.Namespace`` is untyped: every attribute is ``Any`` and a missing one is found at
run time. Each command turns its namespace into these frozen dataclasses at the top of ``run``
(``from_args``); everything below ``run`` takes the typed fields.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..sources.daemon_build import BUILDERS

if TYPE_CHECKING:
    from ..credentials import Credentials


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """How to read images (``add_source_options``): platform, trust, credentials, caches."""

    platform: str | None = None
    """``--platform`` as given (``OS/ARCH[/VARIANT]``); parsed where an index is read."""
    verify: bool = False
    insecure_registries: tuple[str, ...] = ()
    credentials: Credentials | None = None
    """``--creds`` parsed; None: looked up per registry when asked."""
    no_cache: bool = False
    keep_blobs: bool = False
    quiet: bool = False
    """No progress display."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SourceSettings:
        """From a parser that took ``add_source_options``."""
        return cls(
            platform=args.platform,
            verify=args.verify,
            insecure_registries=tuple(args.insecure_registry),
            credentials=parse_creds(args.creds),
            no_cache=args.no_cache,
            keep_blobs=args.keep_blobs,
            quiet=args.quiet,
        )


def parse_creds(text: str | None) -> Credentials | None:
    """``--creds USER:PASSWORD`` (None when not given)."""
    from ..credentials import parse_user_pass

    return parse_user_pass(text) if text else None


@dataclass(frozen=True, slots=True)
class ImageSettings:
    """What ``inspect`` and ``report`` read besides the image (``add_image_options``)."""

    ref: str
    base: str | None
    dockerfile: str | None
    store: str | None
    sources: SourceSettings

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ImageSettings:
        return cls(args.ref, args.base, args.dockerfile, args.store, SourceSettings.from_args(args))


@dataclass(frozen=True, slots=True)
class ProveSettings:
    """``suggest --prove``: how to build and what the cache experiment edits."""

    mode: str
    """``patch`` (the combined patch) or ``each`` (every suggestion on its own too)."""
    context: str | None
    touch: str | None
    builder: str
    network: str | None
    quiet: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ProveSettings | None:
        """None without ``--prove``."""
        if not args.prove:
            return None
        return cls(args.prove, args.context, args.touch, args.builder, args.network, args.quiet)


@dataclass(frozen=True, slots=True)
class SuggestSettings:
    """``suggest``: the image, the Dockerfile and its context, the proof."""

    ref: str
    dockerfile: str | None
    context: str | None
    dockerignore: str | None
    patch_only: bool
    store: str | None
    sources: SourceSettings
    prove: ProveSettings | None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SuggestSettings:
        return cls(
            ref=args.ref,
            dockerfile=args.dockerfile,
            context=args.context,
            dockerignore=args.dockerignore,
            patch_only=args.patch_only,
            store=args.store,
            sources=SourceSettings.from_args(args),
            prove=ProveSettings.from_args(args),
        )


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """``scan``: what to list, how to read the layers."""

    target: str | None
    refs: str | None
    tags: str | None
    latest: int | None
    workers: int
    dask: str | None
    sources: SourceSettings
    """``--platform`` here filters the platforms listed (default: every one)."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ScanSettings:
        sources = SourceSettings(
            platform=args.platform,
            insecure_registries=tuple(args.insecure_registry),
            credentials=parse_creds(args.creds),
            no_cache=args.no_cache,
            quiet=args.quiet,
        )
        return cls(args.target, args.refs, args.tags, args.latest, args.workers, args.dask, sources)


@dataclass(frozen=True, slots=True)
class DiffSettings:
    """``diff``: the two images and how to compare them."""

    old: str
    new: str
    semantic: bool
    store: str | None
    sources: SourceSettings

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DiffSettings:
        return cls(args.old, args.new, args.semantic, args.store, SourceSettings.from_args(args))


def add_prove_options(parser: argparse.ArgumentParser) -> None:
    """--prove[=each], --context, --touch, --builder, --network."""
    group = parser.add_argument_group("proof (real builds)")
    group.add_argument(
        "--prove",
        nargs="?",
        const="patch",
        choices=("patch", "each"),
        help="build the original and the patched Dockerfile with the real engine and report "
        "estimated vs measured bytes, that the patch builds (dropping a suggestion that breaks "
        "it), and a cache experiment; =each also builds every suggestion on its own",
    )
    group.add_argument(
        "--touch",
        metavar="PATH",
        help="the file (relative to the context) the cache experiment appends a line to "
        "(default: the most recently modified source file a COPY/ADD brings in)",
    )
    group.add_argument(
        "--builder",
        choices=BUILDERS,
        default="auto",
        help="auto (BuildKit through the docker client when there is one, else the classic "
        "builder), buildkit, classic (docker SDK) or buildah (daemonless)",
    )
    group.add_argument(
        "--network", metavar="MODE", help="network for RUN steps during the builds (e.g. host)"
    )
