"""Bad input: one line on stderr, exit 2 (3 for unavailable sources), no traceback, no stray files.

Every case runs the real command line in a subprocess whose working and home directories are
empty folders, and checks afterwards that they are still empty and that the cache holds no spool.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from layerscope.testing import (
    File,
    ImageSpec,
    LayerSpec,
    RawMember,
    Symlink,
    Synthetic,
    write_image,
)

from .conftest import DIVE_FIXTURES

GOOD = ImageSpec(
    layers=[
        LayerSpec(
            [
                File("/etc/hosts", b"127.0.0.1 localhost\n"),
                File("/data/blob.bin", Synthetic(40_000, seed="blob")),
            ],
            created_by="/bin/sh -c #(nop) ADD file:1 in / ",
        ),
        LayerSpec([File("/app/main.py", b"print('hi')\n")], created_by="/bin/sh -c echo"),
    ],
    repo_tags=["example.com/bad/app:1"],
)


def _run(tmp: Path, *args: str) -> tuple[int, str, str]:
    work, home, cache, data = (tmp / n for n in ("work", "home", "cache", "data"))
    for folder in (work, home):
        folder.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "LAYERSCOPE_CACHE_DIR": str(cache),
        "LAYERSCOPE_DATA_DIR": str(data),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "layerscope", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert list(work.iterdir()) == [], "wrote into the working directory"
    assert list(home.iterdir()) == [], "wrote into the home directory"
    spool = cache / "spool"
    assert not spool.exists() or list(spool.iterdir()) == [], "left a spool file behind"
    return proc.returncode, proc.stdout, proc.stderr


def _assert_one_line_error(code: int, err: str, expected: str, exit_code: int = 2) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("layerscope: error: ")
    assert expected in lines[0], lines[0]
    assert code == exit_code


def _rewrite(src: Path, dst: Path, edit: Callable[[str, bytes], bytes | None]) -> None:
    """Copy a tar archive member by member, letting ``edit`` change or drop (None) contents."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for info in tin:
            data = tin.extractfile(info).read() if info.isfile() else None  # type: ignore[union-attr]
            if data is not None:
                new = edit(info.name, data)
                if new is None:
                    continue
                info.size = len(new)
                tout.addfile(info, io.BytesIO(new))
            else:
                tout.addfile(info)


def _inspect(tmp: Path, ref: str, *extra: str) -> tuple[int, str, str]:
    return _run(tmp, "inspect", ref, "--json", *extra)


def test_truncated_archive(tmp_path: Path) -> None:
    src = write_image(GOOD, tmp_path / "good.tar", format="docker-legacy").path
    cut = tmp_path / "cut.tar"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    code, out, err = _inspect(tmp_path, str(cut))
    _assert_one_line_error(code, err, "truncated")
    assert out == ""


def test_corrupt_gzip_layer(tmp_path: Path) -> None:
    src = write_image(GOOD, tmp_path / "good.tar", format="oci-tar", compression="gzip").path
    bad = tmp_path / "bad.tar"

    def flip(name: str, data: bytes) -> bytes:
        if data[:2] == b"\x1f\x8b" and len(data) > 1000:
            mid = len(data) // 2
            return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
        return data

    _rewrite(src, bad, flip)
    code, _, err = _inspect(tmp_path, str(bad))
    _assert_one_line_error(code, err, "corrupt")


def test_missing_blob_in_layout(tmp_path: Path) -> None:
    result = write_image(GOOD, tmp_path / "layout", format="oci-dir", compression="gzip")
    layer = result.images[0].layers[1].digest.split(":", 1)[1]
    (result.path / "blobs" / "sha256" / layer).unlink()
    code, _, err = _inspect(tmp_path, str(result.path))
    _assert_one_line_error(code, err, "missing")


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("Layers", ["nowhere/layer.tar"], "missing"),
        ("Config", "nowhere.json", "missing"),
        ("Layers", ["../../../../etc/passwd"], "escapes"),
        ("Layers", ["/etc/passwd"], "missing"),  # rooted in the archive, never the host
    ],
)
def test_manifest_pointing_nowhere_or_outside(
    tmp_path: Path, field: str, value: object, expected: str
) -> None:
    src = write_image(GOOD, tmp_path / "good.tar", format="docker-legacy").path
    bad = tmp_path / "bad.tar"

    def edit(name: str, data: bytes) -> bytes:
        if name == "manifest.json":
            doc = json.loads(data)
            doc[0][field] = value if field == "Config" else value + doc[0]["Layers"][1:]  # type: ignore[operator]
            return json.dumps(doc).encode()
        return data

    _rewrite(src, bad, edit)
    code, _, err = _inspect(tmp_path, str(bad))
    _assert_one_line_error(code, err, expected)


def test_layout_blob_symlinked_outside_is_refused(tmp_path: Path) -> None:
    result = write_image(GOOD, tmp_path / "layout", format="oci-dir", compression="gzip")
    layer = result.path / "blobs" / "sha256" / result.images[0].layers[0].digest.split(":", 1)[1]
    outside = tmp_path / "outside-secret"
    outside.write_bytes(layer.read_bytes())
    layer.unlink()
    layer.symlink_to(outside)
    code, _, err = _inspect(tmp_path, str(result.path))
    _assert_one_line_error(code, err, "outside")


@pytest.mark.parametrize(
    "member,expected",
    [
        (RawMember("../../etc/passwd", b"x"), "escapes the image root"),
        (RawMember("app/../../../x", b"x"), "escapes the image root"),
        (
            RawMember("app/link", typeflag=b"2", linkname="../../../etc/shadow"),
            "escapes the image root",
        ),
        (RawMember("app/hard", typeflag=b"1", linkname="../../outside"), "escapes the image root"),
        (RawMember("huge.bin", b"", size=8 << 30, pad=False), "truncated"),
        (RawMember("p", b"", pax={"size": str(1 << 50)}), "truncated"),
        (RawMember("app/.wh.", b""), "invalid whiteout"),
    ],
)
def test_hostile_layer_members(tmp_path: Path, member: RawMember, expected: str) -> None:
    spec = ImageSpec(layers=[LayerSpec([File("/ok", b"ok"), member], created_by="x")])
    path = write_image(spec, tmp_path / "hostile.tar", format="docker-25").path
    code, _, err = _inspect(tmp_path, str(path))
    _assert_one_line_error(code, err, expected)


def test_symlink_inside_the_root_is_fine(tmp_path: Path) -> None:
    spec = ImageSpec(layers=[LayerSpec([Symlink("/usr/lib/x", "../../lib/x")], created_by="x")])
    path = write_image(spec, tmp_path / "ok.tar", format="docker-25").path
    code, out, err = _inspect(tmp_path, str(path))
    assert code == 0, err
    assert json.loads(out)["image"]["layer_count"] == 1


def test_outer_member_declaring_more_than_the_file_holds(tmp_path: Path) -> None:
    src = write_image(GOOD, tmp_path / "good.tar", format="docker-legacy").path
    raw = bytearray(src.read_bytes())
    # make the first member declare an absurd size and fix its header checksum
    raw[124:136] = b"%011o\0" % (1 << 33)
    raw[148:156] = b"        "
    raw[148:156] = b"%06o\0 " % sum(raw[:512])
    bad = tmp_path / "absurd.tar"
    bad.write_bytes(bytes(raw))
    code, _, err = _inspect(tmp_path, str(bad))
    _assert_one_line_error(code, err, "not a readable tar archive (unexpected end of data)")


@pytest.mark.parametrize(
    "name",
    [
        "test-gzip-image.tar",
        "test-zstd-image.tar",
        "test-uncompressed-image.tar",
        "test-estargz-image.tar",
    ],
)
def test_plain_tars_that_are_not_images(tmp_path: Path, name: str) -> None:
    code, _, err = _inspect(tmp_path, str(DIVE_FIXTURES / name))
    _assert_one_line_error(code, err, "not an image archive")


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "empty"),
        (bytes(range(256)) * 12, "not a readable tar"),
        (b"\x1f\x8b\x08" + bytes(range(256)) * 2, "corrupt"),
    ],
    ids=["empty", "random", "bad-gzip"],
)
def test_files_that_are_not_archives(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "junk.tar"
    path.write_bytes(content)
    code, _, err = _inspect(tmp_path, str(path))
    _assert_one_line_error(code, err, expected)


def test_directory_that_is_not_a_layout(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "readme").write_text("hi")
    code, _, err = _inspect(tmp_path, f"oci:{folder}")
    _assert_one_line_error(code, err, "not an OCI image layout")


def test_bare_existing_directory_is_a_path_not_a_docker_hub_name(tmp_path: Path) -> None:
    """``inspect emptydir`` in the folder that holds it: the directory, not Docker Hub."""
    work = tmp_path / "work"
    (work / "emptydir").mkdir(parents=True)
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "LAYERSCOPE_CACHE_DIR": str(tmp_path / "cache"),
        "LAYERSCOPE_DATA_DIR": str(tmp_path / "data"),
        "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock",
    }
    for arg in ("emptydir", "./emptydir"):
        proc = subprocess.run(
            [sys.executable, "-m", "layerscope", "inspect", arg, "--json"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        _assert_one_line_error(proc.returncode, proc.stderr, "not an OCI image layout")
        assert "registry" not in proc.stderr


def test_missing_file_and_bad_usage(tmp_path: Path) -> None:
    code, _, err = _inspect(tmp_path, str(tmp_path / "no-such.tar"))
    _assert_one_line_error(code, err, "no such file")
    code, _, err = _run(tmp_path, "inspect")
    _assert_one_line_error(code, err, "REF")
    # The subcommand is named once and the help that answers it is pointed at.
    assert err.startswith("layerscope: error: inspect: ") and "layerscope inspect --help" in err
    code, _, err = _run(tmp_path, "frobnicate")
    _assert_one_line_error(code, err, "frobnicate")
    assert err.count("layerscope") == 2 and err.rstrip().endswith("(see layerscope --help)")


@pytest.mark.parametrize(
    "command",
    [
        ["inspect", "x.tar"],
        ["check", "x.tar"],
        ["suggest", "x.tar"],
        ["diff", "a", "b"],
        ["history"],
        ["cache", "info"],
    ],  # fmt: skip
)
def test_an_unknown_option_points_at_the_subcommands_help(
    tmp_path: Path, command: list[str]
) -> None:
    code, _, err = _run(tmp_path, *command, "--no-such-option")
    _assert_one_line_error(code, err, "unrecognized arguments: --no-such-option")
    assert err.startswith(f"layerscope: error: {command[0]}: ")
    assert err.rstrip().endswith(f"(see layerscope {command[0]} --help)")


def test_check_takes_f_like_inspect_and_suggest(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY x /x\n")
    for command in ("inspect", "suggest", "check"):
        code, out, err = _run(tmp_path, command, "--help")
        assert code == 0 and "--dockerfile FILE, -f FILE" in out, (command, out)
    image = str(DIVE_FIXTURES / "test-docker-image.tar")
    code, _, err = _run(tmp_path, "check", image, "-f", str(dockerfile), "--json")
    assert code in (0, 1) and "unrecognized" not in err, err


@pytest.mark.parametrize("command", ["inspect", "check", "suggest", "report"])
def test_a_dockerfile_that_cannot_be_read_is_one_line_exit_2(tmp_path: Path, command: str) -> None:
    """One reader, one behaviour: a --dockerfile that is missing, a folder or not UTF-8 text
    is named in a one-line usage error before any image is read."""
    image = str(DIVE_FIXTURES / "test-docker-image.tar")
    latin1 = tmp_path / "Dockerfile.latin1"
    latin1.write_bytes(b"FROM scratch\nLABEL who=\xe7a\n")
    missing = tmp_path / "nowhere" / "Dockerfile"
    cases = ((missing, "No such file or directory"), (tmp_path, "Is a directory"),
             (latin1, "not UTF-8 text"))  # fmt: skip
    for path, why in cases:
        extra = ("-o", str(tmp_path / "page.html")) if command == "report" else ("--json",)
        code, out, err = _run(tmp_path, command, image, "-f", str(path), *extra, "-q")
        _assert_one_line_error(code, err, f"cannot read Dockerfile {path}: {why}")
        assert out == ""
    assert not (tmp_path / "page.html").exists()


@pytest.mark.parametrize("command", ["inspect", "check", "suggest", "diff"])
def test_help_names_every_reference_form(tmp_path: Path, command: str) -> None:
    """``daemon://`` is accepted, so the help that lists the forms names it too."""
    code, out, _ = _run(tmp_path, command, "--help")
    text = " ".join(out.split()).replace("- ", "-")  # argparse wraps after a hyphen
    assert code == 0
    for form in (
        "docker-archive:",
        "oci:",
        "oci-archive:",
        "docker://",
        "daemon://",
        "registry://",
    ):
        assert form in text, (form, out)


def test_digest_mismatch(tmp_path: Path) -> None:
    """A layer that does not hash to its diff_id: refused with --verify; without it the layer is
    read as it is (as dive does) and a one-line warning says it was not cached."""
    result = write_image(GOOD, tmp_path / "layout", format="oci-dir", compression="none")
    blob = result.path / "blobs" / "sha256" / result.images[0].layers[0].digest.split(":", 1)[1]
    data = bytearray(blob.read_bytes())
    at = data.index(b"127.0.0.1")
    data[at] = ord("9")  # same size, different content
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    code, _, err = _inspect(tmp_path, str(result.path), "--verify", "--no-cache")
    _assert_one_line_error(code, err, "hashes to")
    code, out, err = _inspect(tmp_path, str(result.path))
    assert code == 0 and json.loads(out)["image"]["layer_count"] == 2
    assert err.startswith("layerscope: warning: ") and "not cached" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, out, err = _inspect(tmp_path, str(result.path), "--no-cache")
    assert code == 0 and json.loads(out)["image"]["layer_count"] == 2 and err == ""


def test_blob_size_differs_from_descriptor(tmp_path: Path) -> None:
    result = write_image(GOOD, tmp_path / "layout", format="oci-dir", compression="none")
    blob = result.path / "blobs" / "sha256" / result.images[0].layers[1].digest.split(":", 1)[1]
    blob.chmod(0o644)
    with open(blob, "ab") as handle:
        handle.write(bytes(512))
    code, _, err = _inspect(tmp_path, str(result.path))
    _assert_one_line_error(code, err, "bytes but the manifest says")


def test_config_that_is_not_json_and_diff_id_count_mismatch(tmp_path: Path) -> None:
    src = write_image(GOOD, tmp_path / "good.tar", format="docker-legacy").path
    for edit_config, expected in (
        (lambda doc: b"{not json", "not valid JSON"),
        (
            lambda doc: json.dumps(
                {**doc, "rootfs": {"type": "layers", "diff_ids": doc["rootfs"]["diff_ids"][:1]}}
            ).encode(),
            "diff_ids",
        ),
    ):
        bad = tmp_path / "bad.tar"

        def edit(name: str, data: bytes, fn=edit_config) -> bytes:  # type: ignore[no-untyped-def]
            if name.endswith(".json") and "/" not in name and name != "manifest.json":
                return fn(json.loads(data))  # type: ignore[no-any-return]
            return data

        _rewrite(src, bad, edit)
        code, _, err = _inspect(tmp_path, str(bad))
        _assert_one_line_error(code, err, expected)


def test_unknown_platform_lists_what_is_there(tmp_path: Path) -> None:
    path = write_image(GOOD, tmp_path / "img.tar", format="oci-tar").path
    code, _, err = _inspect(tmp_path, str(path), "--platform", "linux/s390x")
    _assert_one_line_error(code, err, "linux/amd64")


def test_gzip_outer_archive_spool_is_removed_even_on_error(tmp_path: Path) -> None:
    spec = ImageSpec(layers=[LayerSpec([RawMember("../x", b"x")], created_by="x")])
    path = write_image(spec, tmp_path / "img.tar.gz", format="docker-legacy", outer_gzip=True).path
    code, _, err = _inspect(tmp_path, str(path))
    _assert_one_line_error(code, err, "escapes")
    good = write_image(GOOD, tmp_path / "good.tar.gz", format="docker-legacy", outer_gzip=True).path
    code, out, err = _inspect(tmp_path, str(good))
    assert code == 0, err
    assert json.loads(out)["image"]["layer_count"] == 2


def test_spool_lives_in_the_cache_directory() -> None:
    from layerscope.sources import spool_dir

    assert spool_dir().is_relative_to(Path(os.environ["LAYERSCOPE_CACHE_DIR"]))


def test_a_truncated_tar_gz_names_the_file(tmp_path: Path) -> None:
    src = write_image(GOOD, tmp_path / "good.tar", format="docker-legacy").path
    cut = tmp_path / "image.tar.gz"
    whole = gzip.compress(src.read_bytes())
    cut.write_bytes(whole[: len(whole) // 2])
    code, out, err = _inspect(tmp_path, str(cut))
    _assert_one_line_error(code, err, f"{cut}: truncated gzip-compressed archive")
    assert out == ""


def test_counts_agree_with_their_nouns(tmp_path: Path) -> None:
    """'1 layers', '(1 rebuilds)', 'lines 7' read wrong; plurals only for other counts."""
    from layerscope.analysis.suggest.facts import ReorderFacts
    from layerscope.analysis.suggest.model import (
        LineSpan,
        Suggestion,
        SuggestionKind,
        SuggestionReport,
    )
    from layerscope.render.suggest import render_suggest_text

    one = ImageSpec(layers=[LayerSpec([File("/etc/hosts", b"x\n")], created_by="ADD x /")])
    path = write_image(one, tmp_path / "one.tar", format="docker-25").path
    code, out, err = _run(tmp_path, "inspect", str(path), "--text")
    assert code == 0, err
    assert "· 1 layer\n" in out and "1 layers" not in out
    made = [
        Suggestion("reorder-1", SuggestionKind.REORDER_FOR_CACHE,
                   ReorderFacts("COPY . /app", "COPY", 7, 9, runs=1),
                   (1,), ("COPY . /app",), (LineSpan(7, 7),), (), 0,
                   estimated_saving_rebuilds=1),
        Suggestion("reorder-2", SuggestionKind.REORDER_FOR_CACHE,
                   ReorderFacts("COPY . /app", "COPY", 3, 9, runs=2),
                   (2,), ("COPY . /app",), (LineSpan(3, 4), LineSpan(9, 9)), (), 0,
                   estimated_saving_rebuilds=2),
    ]  # fmt: skip
    text = render_suggest_text(SuggestionReport(tuple(made), 0, None, (), ()), ref="app")
    assert "(1 rebuild)" in text and "(2 rebuilds)" in text
    assert "\n  line 7\n" in text and "\n  lines 3-4, 9\n" in text


@pytest.mark.parametrize(
    "command",
    [
        ["inspect", "{image}", "--json"],  # a big write, from emit
        ["inspect", "{image}", "--text"],  # a small one, flushed by emit
        ["history"],  # printed, flushed as the process ends
    ],
)
def test_a_full_disk_under_stdout_is_one_line_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    """stdout redirected to a full device (``> /dev/full``): ENOSPC on the write or the last
    flush is an error line and exit 2, as for ``--output`` on a full disk."""
    image = tmp_path / "good.tar"
    write_image(GOOD, image, "docker-legacy")
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "HOME": str(work),
        "LAYERSCOPE_CACHE_DIR": str(tmp_path / "cache"),
        "LAYERSCOPE_DATA_DIR": str(tmp_path / "data"),
    }
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "layerscope", *(a.format(image=image) for a in command)],
            cwd=work,
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    _assert_one_line_error(proc.returncode, proc.stderr, "cannot write the output: No space")
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    ("words", "took"),
    [
        (["inspect", "--html", "{image}"], "{image}"),
        (["diff", "--html", "{image}", "{image}"], "{image}"),
        (["scan", "--html", "registry://127.0.0.1:9"], "registry://127.0.0.1:9"),
    ],
)
def test_html_that_took_the_image_says_so(tmp_path: Path, words: list[str], took: str) -> None:
    """``--html [FILE]`` takes the next word: before the image, it takes the image. The error
    for the missing image says which word --html took and how to write it."""
    image = tmp_path / "good.tar"
    write_image(GOOD, image, "docker-legacy")
    code, out, err = _run(tmp_path, *(w.format(image=image) for w in words))
    _assert_one_line_error(code, err, f"--html took {took.format(image=image)!r} as the page's")
    assert "--html=FILE" in err and out == ""
    assert not list(tmp_path.glob("**/*.html")), "wrote a page"


def test_html_file_named_plainly_and_no_image_is_the_plain_error(tmp_path: Path) -> None:
    code, _, err = _run(tmp_path, "inspect", "--html=report.html")
    _assert_one_line_error(code, err, "the following arguments are required: REF")
    assert "--html took" not in err
