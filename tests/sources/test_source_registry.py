"""The source seam: the grammar, its help and the dispatch are made from the registered sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope import refs
from layerscope.errors import BadReferenceError, UsageError
from layerscope.model import Image, ImageRef, Platform, SourceKind
from layerscope.sources import GRAMMAR, SOURCES, LoadContext, load_image, parse_ref, ref_help
from layerscope.testing import File, ImageSpec, LayerSpec, write_image

# The help and the list of transports as they were written by hand before the seam: the
# built-in sources' grammar must still say exactly this.
HAND_WRITTEN_HELP = (
    "image reference: PATH (docker save archive, OCI tar or layout; gzip-compressed too), "
    "docker-archive:PATH[:NAME[:TAG]], oci:DIR[:REF], oci-archive:PATH[:REF], "
    "docker://NAME[:TAG] or daemon://NAME[:TAG] (the Docker engine), "
    "registry://HOST/REPO[:TAG|@DIGEST], or a bare "
    "NAME[:TAG] (the engine if it has the image, else the registry)"
)
HAND_WRITTEN_SUPPORTED = "daemon://, docker://, registry://, docker-archive:, oci:, oci-archive:"


def test_built_in_grammar_says_what_the_hand_written_text_said() -> None:
    assert refs.BUILT_IN.help() == HAND_WRITTEN_HELP
    assert refs.BUILT_IN.supported() == HAND_WRITTEN_SUPPORTED


def test_every_registered_source_is_in_the_help_and_the_grammar() -> None:
    help_text = ref_help()
    kinds = [source.syntax.kind for source in SOURCES]
    assert len(set(kinds)) == len(kinds), "one source per kind"
    for source in SOURCES:
        assert source.syntax.usage in help_text
        for scheme in source.syntax.schemes:
            assert f"{scheme}:" in GRAMMAR.supported()
    with pytest.raises(BadReferenceError) as info:
        parse_ref("nosuch://x")
    assert info.value.message == (
        f"unsupported transport 'nosuch' in 'nosuch://x' (use {GRAMMAR.supported()})"
    )


class _Echo:
    """A source made up here: what adding one takes is a syntax and a load."""

    syntax = refs.RefSyntax(SourceKind("echo"), ("echo",), "echo://NAME (tests)", refs.read_name)

    def load(self, ref: ImageRef, ctx: LoadContext) -> Image:
        raise AssertionError("not loaded")


def test_a_new_syntax_needs_no_edit_of_the_grammar(tmp_path: Path) -> None:
    grammar = refs.Grammar([*GRAMMAR.syntaxes, _Echo.syntax])
    ref = grammar.parse("echo://busybox")
    assert (ref.kind, ref.location) == ("echo", "docker.io/library/busybox:latest")
    assert "echo://NAME (tests), or a bare NAME[:TAG]" in grammar.help()
    assert grammar.supported().startswith("daemon://, docker://, registry://, podman://, echo://")
    # everything else reads as before
    write_image(ImageSpec(layers=[LayerSpec([File("/a", b"a")])]), tmp_path / "a.tar")
    assert grammar.parse(str(tmp_path / "a.tar")) == parse_ref(str(tmp_path / "a.tar"))


def test_load_image_dispatches_on_the_kind(tmp_path: Path) -> None:
    path = tmp_path / "img.tar"
    write_image(ImageSpec(layers=[LayerSpec([File("/etc/x", b"x\n")])]), path)
    assert load_image(str(path)).source == SourceKind.ARCHIVE
    assert load_image(f"oci-archive:{path}").source == "oci-archive"
    with pytest.raises(BadReferenceError) as info:
        load_image(ImageRef(SourceKind("echo"), "x", None, "echo://x"))
    assert info.value.message == "echo://x: no source reads references of kind echo"


def test_load_context_parses_the_platform_for_each_load() -> None:
    ctx = LoadContext(verify=True).loading(platform="linux/arm/v7", progress=None)
    assert (ctx.platform, ctx.verify) == (Platform("linux", "arm", "v7"), True)
    assert LoadContext().loading(platform=None, progress=None).platform is None
    with pytest.raises(UsageError):
        LoadContext().loading(platform="linux/arm/v7/x", progress=None)
