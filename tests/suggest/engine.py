"""Helpers of the real-engine suggest tests: build, save, measure, run ``layerscope suggest``."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from layerscope import cli
from layerscope.commands import suggest as suggest_command
from layerscope.commands.common import Background, Streams


def make_context(busybox_rootfs: Path, dest: Path, files: dict[str, bytes]) -> Path:
    """A build context: busybox's ``rootfs/`` plus ``files`` (relative path -> bytes)."""
    shutil.copytree(busybox_rootfs, dest, symlinks=True, dirs_exist_ok=True)
    for rel, data in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dest


def build(docker_cli: str, ctx: Path, tag: str, *, buildkit: bool = True) -> None:
    """``docker build --network none`` of ``ctx`` (fails the test with the builder's output)."""
    env = dict(os.environ, DOCKER_BUILDKIT="1" if buildkit else "0")
    done = subprocess.run(
        [docker_cli, "build", "--network", "none", "-q", "-t", tag, str(ctx)],
        capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"docker build {tag} failed:\n{done.stderr[-3000:]}", pytrace=False)


def save(docker_cli: str, tag: str, out: Path) -> Path:
    """``docker save`` to ``out``."""
    subprocess.run([docker_cli, "save", "-o", str(out), tag], check=True, timeout=300)
    return out


def engine_size(docker_cli: str, tag: str) -> int:
    """The engine's own figure: ``docker image inspect --format {{.Size}}``."""
    done = subprocess.run(
        [docker_cli, "image", "inspect", "--format", "{{.Size}}", tag],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return int(done.stdout.strip())


def suggest_json(argv: list[str], cwd: Path | None = None) -> dict[str, Any]:
    """Run ``layerscope suggest ARGV --json`` in ``cwd`` and parse its output.

    Patch paths are relative to the directory suggest runs in; ``cwd`` defaults to the folder
    of the ``--dockerfile`` argument (the build context), so ``apply_patch(ctx, ...)`` applies
    the patch there."""
    out, err = io.StringIO(), io.StringIO()
    if cwd is None and "--dockerfile" in argv:
        cwd = Path(argv[argv.index("--dockerfile") + 1]).resolve().parent
    argv = ["suggest", *[str(Path(a).resolve()) if Path(a).exists() else a for a in argv]]
    argv += ["--json", "--quiet"]
    with contextlib.chdir(cwd or Path.cwd()):
        if "suggest" in cli.COMMANDS:
            code = cli.main(argv, stdout=out, stderr=err)
        else:  # until the lead registers the subcommand in cli.COMMANDS
            parser = argparse.ArgumentParser()
            suggest_command.add_parser(parser.add_subparsers(dest="command"))
            with Background(err) as background:
                code = suggest_command.run(parser.parse_args(argv), Streams(out, err), background)
    assert code == 0, err.getvalue()
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def apply_patch(ctx: Path, patch: str) -> None:
    """Apply a unified diff with GNU patch (an applier independent of layerscope)."""
    done = subprocess.run(
        ["patch", "-p1", "--forward", "--batch"], input=patch, cwd=ctx,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
