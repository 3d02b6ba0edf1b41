"""Shared helpers for the ready-made specs: classic-builder ``created_by`` strings."""

from __future__ import annotations

import hashlib


def nop(instr: str) -> str:
    """Classic-builder metadata instruction (two spaces after ``#(nop)``)."""
    return f"/bin/sh -c #(nop)  {instr}"


def copy_instr(instr: str, seed: str, dest: str) -> str:
    """Classic-builder COPY/ADD ``created_by``: ``COPY file:<hex> in /app/ `` (trailing space)."""
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"/bin/sh -c #(nop) {instr}:{h} in {dest} "
