"""How the console script ends after a one-shot ``inspect`` (``commands.common.Outliving``).

It ends with ``os._exit`` once the atexit handlers ran and the streams are flushed, without
freeing the analysis object by object. These tests run the real entry point in a subprocess
and check what an ordinary exit guarantees: the whole output (to a file and to a pipe), the
exit code, the atexit handlers, the layer cache written and readable by the next run, and the
same document as ``cli.main`` run in this process (which keeps nothing: no fast exit).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from layerscope import cli
from layerscope.commands.common import Outliving
from layerscope.testing import File, ImageSpec, LayerSpec, Synthetic, Whiteout, write_image

SPEC = ImageSpec(
    layers=[
        LayerSpec(
            [File(f"/data/f{i}.bin", Synthetic(3000 + i, seed=f"f{i}")) for i in range(40)],
            created_by="/bin/sh -c #(nop) ADD dir:1 in /data ",
        ),
        LayerSpec(
            [Whiteout("/data/f1.bin"), File("/data/f2.bin", b"rewritten")],
            created_by="/bin/sh -c rm /data/f1.bin",
        ),
    ]
)

# the console script's entry point, with an atexit handler that leaves a mark
SCRIPT = """
import atexit, pathlib, sys
atexit.register(pathlib.Path(sys.argv[1]).write_text, "atexit ran")
from layerscope.cli import main_entry
sys.argv = ["layerscope"] + sys.argv[2:]
main_entry()
"""


def _run(tmp_path: Path, mark: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        LAYERSCOPE_CACHE_DIR=str(tmp_path / "cache"),
        LAYERSCOPE_DATA_DIR=str(tmp_path / "data"),
    )
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(mark), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_inspect_json_ends_with_its_output_whole(tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    write_image(SPEC, archive)
    out = io.StringIO()
    assert not Outliving.ends_with_command  # in this process: cli.main exits as usual
    env_before = dict(os.environ)
    try:
        os.environ["LAYERSCOPE_CACHE_DIR"] = str(tmp_path / "here-cache")
        os.environ["LAYERSCOPE_DATA_DIR"] = str(tmp_path / "here-data")
        code = cli.main(["inspect", str(archive), "--json", "--quiet"], stdout=out)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    assert code == 0 and Outliving.kept == []
    expected = json.loads(out.getvalue())

    mark = tmp_path / "mark-file"
    written = tmp_path / "out.json"
    args = ["inspect", str(archive), "--json", "--quiet"]
    cold = _run(tmp_path, mark, *args, "--output", str(written))
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr == "" and cold.stdout == ""
    assert mark.read_text() == "atexit ran"
    assert json.loads(written.read_text()) == expected

    mark.unlink()
    piped = _run(tmp_path, mark, *args)  # a warm run, to a pipe
    assert piped.returncode == 0, piped.stderr
    assert mark.read_text() == "atexit ran"
    assert json.loads(piped.stdout) == expected
    text = written.read_text()
    assert piped.stdout == text + ("" if text.endswith("\n") else "\n")

    info = _run(tmp_path, mark, "cache", "info", "--json")  # the cache the fast exits wrote
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["layers"]["count"] == 2, info.stdout


def test_errors_still_exit_as_usual(tmp_path: Path) -> None:
    mark = tmp_path / "mark-file"
    missing = _run(tmp_path, mark, "inspect", str(tmp_path / "nope.tar"), "--json")
    assert missing.returncode == 2
    assert missing.stderr.startswith("layerscope: error:") and "Traceback" not in missing.stderr
    assert mark.read_text() == "atexit ran"
