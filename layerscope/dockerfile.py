"""Dockerfile instructions and their link to history ``created_by`` strings (formats.md 8a)."""

from __future__ import annotations

import re

_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s+")
_SHELL = re.compile(r"^(?:/bin/sh|/bin/bash|sh) -c ")
_ARGS = re.compile(r"^\|\d+(?: [^ =]+=[^ ]*)* ")
_BUILDKIT_SUFFIX = " # buildkit"
_KEYWORDS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL "
    "STOPSIGNAL USER VOLUME WORKDIR".split()
)


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
