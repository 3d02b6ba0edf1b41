"""File, config and attribution rules of diff_images on in-memory images."""

from __future__ import annotations

from diffkit import L, copy, d, f, image, run, wh

from layerscope.analysis.align import PairStatus
from layerscope.analysis.diff import FileChangeKind, diff_images
from layerscope.model import ImageConfig

BASE = L(
    "/bin/sh -c #(nop) ADD file:" + "a" * 64 + " in / ",
    d("/etc"),
    f("/etc/a", 100),
    f("/etc/b", 50),
)


def kinds(diff):  # type: ignore[no-untyped-def]
    return {c.path: c.kind for c in diff.files}


def test_content_metadata_and_timestamp_changes_are_apart() -> None:
    old = image(BASE, L(run("step"), f("/x", 10), f("/y", 10), f("/z", 10), f("/gone", 7)))
    new = image(
        BASE,
        L(
            run("step"),
            f("/x", 12, content="other"),  # content (and size) changed
            f("/y", 10, mode=0o600),  # same bytes, mode changed
            f("/z", 10, mtime=5.0),  # same bytes and metadata, newer mtime
            f("/new", 3),
        ),
    )
    diff = diff_images(old, new)
    assert kinds(diff) == {
        "/x": FileChangeKind.CONTENT,
        "/y": FileChangeKind.METADATA,
        "/z": FileChangeKind.TIMESTAMP,
        "/new": FileChangeKind.ADDED,
        "/gone": FileChangeKind.REMOVED,
    }
    c = diff.counts
    assert (c.added, c.removed, c.content, c.metadata, c.timestamp) == (1, 1, 1, 1, 1)
    # +2 (/x) +3 (/new) -7 (/gone)
    assert c.size_delta_bytes == 2 + 3 - 7
    assert (c.added_bytes, c.removed_bytes) == (3, 7)
    assert diff.differs


def test_semantic_drops_timestamp_only_changes() -> None:
    old = image(BASE, L(run("step"), d("/app"), f("/app/z", 10)))
    new = image(BASE, L(run("step"), d("/app", mtime=7.0), f("/app/z", 10, mtime=7.0)))
    strict = diff_images(old, new)
    assert kinds(strict) == {"/app/z": FileChangeKind.TIMESTAMP}  # directory mtimes never count
    assert strict.differs
    semantic = diff_images(old, new, semantic=True)
    assert semantic.files == ()
    assert not semantic.differs  # only timestamps differ


def test_directory_counts_only_for_mode_changes() -> None:
    old = image(BASE, L(run("mk"), d("/data"), d("/empty")))
    new = image(BASE, L(run("mk"), d("/data", mode=0o700)))
    # /empty (a directory removed) is not a file change; /data's mode is.
    assert kinds(diff_images(old, new)) == {"/data": FileChangeKind.METADATA}


def test_changes_are_attributed_to_the_instruction_that_made_them() -> None:
    app1 = L(copy("1", "/app/"), d("/app"), f("/app/main.py", 20))
    app2 = L(copy("2", "/app/"), d("/app"), f("/app/main.py", 22, content="v2"))
    build = L(run("make"), f("/app/out", 40))
    old = image(BASE, app1, build)
    new = image(
        BASE,
        app2,
        L(run("apk add curl"), d("/usr"), f("/usr/curl", 500)),
        build,
        L(run("rm /etc/b"), wh("/etc/b")),
    )
    diff = diff_images(old, new)
    pairs = diff.alignment.pairs
    assert [(p.old_index, p.new_index, p.status) for p in pairs] == [
        (0, 0, PairStatus.SHARED),
        (1, 1, PairStatus.CHANGED),
        (None, 2, PairStatus.ADDED),
        (2, 3, PairStatus.IDENTICAL),
        (None, 4, PairStatus.ADDED),
    ]
    where = {c.path: (c.kind, c.pair_index) for c in diff.files}
    assert where == {
        "/app/main.py": (FileChangeKind.CONTENT, 1),
        "/usr/curl": (FileChangeKind.ADDED, 2),
        "/etc/b": (FileChangeKind.REMOVED, 4),  # hidden by the new whiteout layer, not the base
    }
    removed = next(c for c in diff.files if c.path == "/etc/b")
    assert (removed.old_layer_index, removed.new_layer_index) == (0, None)


def test_file_back_when_an_old_layer_deleted_it_is_blamed_on_that_pair() -> None:
    # old deletes /etc/b in its last layer; new drops that layer: /etc/b is back, written by the
    # shared base, but what changed is the removed layer.
    old = image(BASE, L(run("rm /etc/b"), wh("/etc/b")))
    new = image(BASE)
    diff = diff_images(old, new)
    assert [(c.path, c.kind, c.pair_index) for c in diff.files] == [
        ("/etc/b", FileChangeKind.ADDED, 1)
    ]
    assert diff.alignment.pairs[1].status is PairStatus.REMOVED


def test_per_pair_file_diffs() -> None:
    old = image(BASE, L(run("make"), f("/o/a", 10), f("/o/b", 10), f("/o/c", 10)))
    new = image(BASE, L(run("make"), f("/o/a", 10), f("/o/b", 15, content="b2"), f("/o/d", 1)))
    diff = diff_images(old, new)
    shared, changed = diff.pairs
    assert shared.files == () and shared.size_delta_bytes == 0
    assert [(c.path, c.kind) for c in changed.files] == [
        ("/o/b", FileChangeKind.CONTENT),
        ("/o/c", FileChangeKind.REMOVED),
        ("/o/d", FileChangeKind.ADDED),
    ]
    # layer sizes: old 30, new 10 + 15 + 1 = 26
    assert changed.size_delta_bytes == 26 - 30
    assert changed.compressed_delta_bytes is None  # the in-memory layers have no stored size


def test_config_changes() -> None:
    old_cfg = ImageConfig(
        env=("PATH=/bin", "MODE=a"),
        cmd=("sh",),
        user="app",
        exposed_ports=("80/tcp",),
        labels=(("org.opencontainers.image.base.name", "alpine:3.19"), ("team", "x")),
    )
    new_cfg = ImageConfig(
        env=("PATH=/bin", "MODE=b", "NEW=1"),
        cmd=("sh",),
        entrypoint=("/app/run",),
        user="app",
        workdir="/app",
        exposed_ports=("80/tcp", "443/tcp"),
        volumes=("/data",),
        labels=(("org.opencontainers.image.base.name", "alpine:3.20"),),
    )
    diff = diff_images(image(BASE, config=old_cfg), image(BASE, config=new_cfg))
    got = [(c.field, c.key, c.old, c.new) for c in diff.config]
    assert got == [
        ("env", "MODE", "a", "b"),
        ("env", "NEW", None, "1"),
        ("labels", "org.opencontainers.image.base.name", "alpine:3.19", "alpine:3.20"),
        ("labels", "team", "x", None),
        ("entrypoint", None, None, ("/app/run",)),
        ("workdir", None, "", "/app"),
        ("exposed_ports", None, ("80/tcp",), ("443/tcp", "80/tcp")),
        ("volumes", None, (), ("/data",)),
        ("base_image", None, "alpine:3.19", "alpine:3.20"),
    ]
    assert diff.differs


def test_identical_images_do_not_differ() -> None:
    a = image(BASE, L(run("x"), f("/x", 1)))
    diff = diff_images(a, a)
    assert not diff.differs
    assert diff.files == () and diff.config == () and diff.packages == ()
    assert diff.alignment.shared_count == 2
