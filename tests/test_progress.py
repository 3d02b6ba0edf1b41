"""Progress bars appear on a terminal, and never when stdout is not one or with --quiet; text
reports fit the terminal they are printed on."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "demo-app.tar"


def _run_in_pty(args: list[str], env: dict[str, str], columns: int = 0, code: int = 0) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal (``columns`` wide when given);
    return what it drew."""
    leader, follower = pty.openpty()
    if columns:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "layerscope", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            pytest.fail("the CLI did not finish under a pseudo-terminal")
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower side closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    assert proc.returncode == code
    return b"".join(chunks).decode("utf-8", "replace")


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LAYERSCOPE_CACHE_DIR": str(tmp_path / "c"),
        "LAYERSCOPE_DATA_DIR": str(tmp_path / "d"),
        "COLUMNS": "120",
        "TERM": "xterm",
    }


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    drawn = _run_in_pty(["inspect", str(DEMO), "--json", "--no-cache"], _env(tmp_path))
    # the layers' bar (one for all 8 layers when they are read at once, else one per layer);
    # rich draws it at least once more when it stops (then erases it)
    assert re.search(r"layers \(8 at once\)|layer [1-8]/8", drawn), drawn


def test_no_progress_with_quiet_on_a_terminal(tmp_path: Path) -> None:
    drawn = _run_in_pty(["inspect", str(DEMO), "--json", "--no-cache", "--quiet"], _env(tmp_path))
    assert not re.search(r"layers \(8 at once\)|layer [1-8]/8", drawn), drawn


def _stderr_only_on_a_terminal(
    args: list[str], env: dict[str, str], python: tuple[str, ...] = ("-m", "layerscope")
) -> tuple[bytes, bytes]:
    """Run the CLI (or ``python`` arguments) with stdout a pipe and stderr a 120-column
    pseudo-terminal: (stdout, what stderr drew)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    done = subprocess.run(
        [sys.executable, *python, *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
        timeout=60,
    )
    os.close(follower)
    drawn = b""
    while select.select([leader], [], [], 0.2)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert done.returncode == 0
    return done.stdout, drawn


def test_progress_on_stderr_when_only_stderr_is_a_terminal(tmp_path: Path) -> None:
    """``inspect IMG --text > report.txt`` at a terminal: the report goes to the file, the
    progress to the terminal (changed on purpose: it used to need stdout on a terminal too)."""
    args = ["inspect", str(DEMO), "--text", "--no-cache"]
    out, drawn = _stderr_only_on_a_terminal(args, _env(tmp_path))
    assert out.startswith(b"Image ")
    assert re.search(rb"layers \(8 at once\)|layer [1-8]/8", drawn), drawn
    _, drawn = _stderr_only_on_a_terminal([*args, "--quiet"], _env(tmp_path))
    assert drawn == b""


def test_progress_never_shows_more_than_its_total(tmp_path: Path) -> None:
    """An engine export of an image the engine calls 1.0 GB sends 1.1 GB of tar: the bar drops
    its total rather than show 1.1/1.0 GB, and waits with a spinner, not 0.0/1.0 GB ?."""
    script = (
        "import sys\n"
        "from layerscope.commands.common import RichProgress\n"
        "p = RichProgress(sys.stderr)\n"
        "p.stage('exporting demo from the Docker engine', 1_000_000)\n"
        "p._progress.refresh()\n"
        "sys.stderr.write('\\n[first bytes]\\n')\n"
        "p.advance(400_000)\n"
        "p._progress.refresh()\n"
        "sys.stderr.write('\\n[past the estimate]\\n')\n"
        "p.advance(700_000)\n"
        "p._progress.refresh()\n"
        "sys.stderr.write('\\n[end]\\n')\n"
        "p.close()\n"
    )
    _, drawn = _stderr_only_on_a_terminal([], _env(tmp_path), python=("-c", script))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn.decode("utf-8", "replace"))
    sections = re.split(r"\[first bytes\]|\[past the estimate\]|\[end\]", text)

    def last_frame(section: str) -> str:  # rich redraws the live line after each write
        return [f for f in re.split(r"[\r\n]+", section) if f.strip()][-1]

    waiting, started, past = (last_frame(s) for s in sections[:3])
    assert "exporting demo" in waiting and "/1.0 MB" not in waiting, waiting
    assert "0.4/1.0 MB" in started, started
    assert "1.1/? MB" in past and "/1.0 MB" not in past, past


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "layerscope", "inspect", str(DEMO), "--json", "--no-cache"],
        capture_output=True,
        env=_env(tmp_path),
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stderr == b""
    assert done.stdout.startswith(b"{")


@pytest.mark.parametrize(
    ("command", "code"),
    # check exits 1: the demo fails dive's default efficiency budget
    [
        (["inspect", str(DEMO), "--text"], 0),
        (["check", str(DEMO)], 1),
        (["diff", str(DEMO), str(DEMO)], 0),
    ],  # fmt: skip
)
def test_text_fits_the_terminal_width(command: list[str], code: int, tmp_path: Path) -> None:
    """Without $COLUMNS a report is laid out for the terminal's own width (72 here), not a
    fixed 100 columns that the terminal would then wrap."""
    env = {k: v for k, v in _env(tmp_path).items() if k not in ("COLUMNS", "LINES")}
    drawn = _run_in_pty([*command, "--quiet"], env, columns=72, code=code)
    lines = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn).replace("\r", "").splitlines()
    assert len(lines) > 5
    assert max(len(line) for line in lines) <= 72, max(lines, key=len)


PACK = "/app/.git/objects/pack/pack-4b82e1f0c3d5a7b9e2f4a6c8d0e1f3a5b7c9d1e38d69288fbee4904.pack"
LONG_RUN = (
    "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends build-essential "
    "libpq-dev && rm -rf /app/.git"
)


def _long_paths_image(tmp_path: Path) -> Path:
    from layerscope.testing import File, ImageSpec, LayerSpec, Synthetic, Whiteout, write_image

    spec = ImageSpec(
        layers=[
            LayerSpec([File("/etc/os-release", b"ID=1\n")], "/bin/sh -c #(nop) ADD file:0f in /"),
            LayerSpec(
                [File(PACK, Synthetic(300_000, seed="pack"))],
                "COPY . /app # buildkit",
                comment="buildkit.dockerfile.v0",
            ),
            LayerSpec(
                [Whiteout("/app/.git")],
                f"RUN {LONG_RUN} # buildkit",
                comment="buildkit.dockerfile.v0",
            ),
        ]
    )
    return write_image(spec, tmp_path / "long.tar", "docker-25").path


@pytest.mark.parametrize(
    ("command", "code"),
    [(["inspect", "--text"], 0), (["diff", "BASE"], 0), (["check"], 0)],
)
def test_piped_text_never_breaks_a_path_or_cuts_a_cell(
    command: list[str], code: int, tmp_path: Path
) -> None:
    """``layerscope inspect IMG --text | less`` (or ``> report.txt``): off a terminal and
    without $COLUMNS, lines are as long as they need; with $COLUMNS, that width."""
    image = str(_long_paths_image(tmp_path))
    env = {k: v for k, v in _env(tmp_path).items() if k not in ("COLUMNS", "LINES")}
    rest = [str(DEMO) if a == "BASE" else a for a in command[1:]]
    args = [sys.executable, "-m", "layerscope", command[0], *rest, image]
    if command[0] == "inspect":
        args = [sys.executable, "-m", "layerscope", "inspect", image, *rest]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == code, done.stderr
    lines = done.stdout.splitlines()
    # nothing cut to fit (a build context's file:HASH is always shown short, on purpose)
    assert "…" not in re.sub(r"(file|dir):[0-9a-f]{12}…", "", done.stdout), done.stdout
    if command[0] == "check":
        # the list of disabled rules is one line, however long
        assert any(
            "rules disabled: max_size," in line and line.endswith("required_labels")
            for line in lines
        ), done.stdout
        expected = "forbidden_paths, required_labels"
    else:  # the whole instruction on one line
        expected = LONG_RUN.removeprefix("/bin/sh -c ")
        assert any(expected in line for line in lines), done.stdout
    if command[0] == "inspect":
        assert any(PACK in line for line in lines), done.stdout  # the whole path on one line
    out_file = tmp_path / "report.txt"
    assert subprocess.run([*args, "-o", str(out_file)], env=env, timeout=120).returncode == code
    assert expected in out_file.read_text()
    narrow = subprocess.run(args, capture_output=True, text=True, env={**env, "COLUMNS": "70"})
    lines = [line for line in narrow.stdout.splitlines() if image not in line]  # a path is whole
    assert len(lines) > 5 and max(len(line) for line in lines) <= 70, narrow.stdout
