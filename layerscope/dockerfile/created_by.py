"""History ``created_by`` strings of the classic builder, BuildKit and buildah (formats.md 8a)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s+")
_SHELL = re.compile(r"^(?:/bin/sh|/bin/bash|sh) -c ")
_ARGS = re.compile(r"^\|\d+(?: [^ =]+=[^ ]*)* ")
_COUNT = re.compile(r"^\|(\d+) ")
_BUILDKIT_SUFFIX = " # buildkit"
_CONTENT_HASH = re.compile(r"((?:file|dir|multi):[0-9a-f]{64}) in (.*)$")
_GO_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_KEYWORDS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL "
    "STOPSIGNAL USER VOLUME WORKDIR".split()
)
BUILDKIT_COMMENT = "buildkit.dockerfile.v0"
BUILDKIT_EXPORTER_COMMENT = "buildkit.exporter.image.v0"


@dataclass(frozen=True, slots=True)
class CreatedBy:
    """A history ``created_by`` string taken apart."""

    keyword: str
    """RUN, COPY, ENV, ...; "" when the string names no instruction (e.g. a base's ADD rootfs)."""
    body: str
    """The instruction's arguments: the shell command of a RUN, ``APP_MODE=test`` of an ENV,
    ``dir:<hex> in /app/`` of a classic COPY (no shell prefix, ``#(nop)``, `` # buildkit``)."""
    build_args: tuple[tuple[str, str], ...]
    """The ``|N k=v ...`` build arguments a RUN was given."""
    builder: str
    """``classic``, ``buildkit``, ``buildah`` or ``unknown``; a best guess from the string."""
    destination: str | None = None
    """COPY/ADD destination as recorded."""
    sources: tuple[str, ...] = ()
    """COPY/ADD sources: paths (BuildKit) or one ``file:<hex>``/``dir:<hex>`` content hash."""

    @property
    def text(self) -> str:
        return f"{self.keyword} {self.body}".strip()


def instruction_from_created_by(created_by: str) -> str:
    """The Dockerfile instruction a history entry came from, as a person would write it.

    ``/bin/sh -c #(nop)  ENV A=b`` -> ``ENV A=b``; ``/bin/sh -c apt-get update`` ->
    ``RUN apt-get update``; BuildKit's ``RUN /bin/sh -c x # buildkit`` -> ``RUN x``.
    """
    text = created_by.strip()
    if not text:
        return ""
    if text.endswith(_BUILDKIT_SUFFIX.strip()) and text.endswith(_BUILDKIT_SUFFIX):
        text = text[: -len(_BUILDKIT_SUFFIX)].rstrip()
    nop = _NOP.match(text)
    if nop:
        return text[nop.end() :].strip()
    keyword = text.split(" ", 1)[0]
    if keyword in _KEYWORDS:
        if keyword == "RUN":
            body = text[4:]
            body = _ARGS.sub("", body, count=1)
            body = _SHELL.sub("", body, count=1)
            return "RUN " + body.strip()
        return text
    body = _ARGS.sub("", text, count=1)
    shell = _SHELL.match(body)
    if shell:
        return "RUN " + body[shell.end() :].strip()
    return "RUN " + body


def parse_created_by(created_by: str, comment: str = "") -> CreatedBy:
    """Take a ``created_by`` string apart; the history ``comment`` helps name the builder."""
    text = created_by.strip()
    builder = "unknown"
    if comment == BUILDKIT_COMMENT:
        builder = "buildkit"
    elif comment.startswith("FROM "):
        builder = "buildah"
    if text.endswith(_BUILDKIT_SUFFIX):
        text = text[: -len(_BUILDKIT_SUFFIX)].rstrip()
        builder = "buildkit"
    nop = _NOP.match(text)
    if nop:
        keyword, _, body = text[nop.end() :].strip().partition(" ")
        if builder == "unknown" and nop.group(0).endswith("  "):
            builder = "classic"
        elif builder == "unknown" and keyword not in ("COPY", "ADD", "WORKDIR"):
            builder = "buildah"  # the classic builder writes two spaces after #(nop) here
        return _with_paths(keyword.upper(), body.strip(), (), builder)
    keyword, _, rest = text.partition(" ")
    if keyword in _KEYWORDS and keyword != "RUN":
        if builder == "unknown":
            builder = "buildkit"
        return _with_paths(keyword, rest.strip(), (), builder)
    if keyword == "RUN":
        if builder == "unknown":
            builder = "buildkit"
        text = rest
    args, text = _build_args(text)
    shell = _SHELL.match(text)
    body = text[shell.end() :] if shell else text
    if builder == "unknown":
        builder = "classic"
    if not body and not args:
        return CreatedBy("", "", (), builder)
    return CreatedBy("RUN", body.strip(), args, builder)


def _build_args(text: str) -> tuple[tuple[tuple[str, str], ...], str]:
    count = _COUNT.match(text)
    if count is None:
        return (), text
    rest = text[count.end() :]
    args: list[tuple[str, str]] = []
    for _ in range(int(count.group(1))):
        word, _, rest = rest.partition(" ")
        name, _, value = word.partition("=")
        args.append((name, value))
    return tuple(args), rest


def _with_paths(
    keyword: str, body: str, args: tuple[tuple[str, str], ...], builder: str
) -> CreatedBy:
    if keyword not in ("COPY", "ADD"):
        return CreatedBy(keyword, body, args, builder)
    hashed = _CONTENT_HASH.search(body)
    if hashed:
        return CreatedBy(keyword, body, args, builder, hashed.group(2).strip(), (hashed.group(1),))
    words = [word for word in body.split() if not word.startswith("--")]
    if not words:
        return CreatedBy(keyword, body, args, builder)
    if body.lstrip().startswith("["):
        try:
            listed = json.loads(body[body.index("[") :])
            words = [str(item) for item in listed]
        except ValueError:
            pass
    return CreatedBy(keyword, body, args, builder, words[-1], tuple(words[:-1]))


def go_quoted_list(text: str) -> tuple[str, ...] | None:
    """``["sh" "-c" "x"]`` (Go ``%q`` of a list) or a JSON list -> its items; None otherwise."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        value = json.loads(text)
        if isinstance(value, list):
            return tuple(str(item) for item in value)
    except ValueError:
        pass
    items: list[str] = []
    for match in _GO_QUOTED.finditer(text):
        try:
            items.append(json.loads(f'"{match.group(1)}"'))
        except ValueError:
            items.append(match.group(1))
    return tuple(items)
