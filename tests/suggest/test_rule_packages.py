"""analysis/suggest/packages.py: packages reachable only through Recommends, and build
toolchains left in the final image."""

from __future__ import annotations

import networkx as nx

from layerscope.analysis import analyze
from layerscope.analysis.suggest import SuggestionKind, suggest
from layerscope.analysis.suggest.facts import MultiStageFacts
from layerscope.analysis.suggest.packages import package_graph, recommends_only
from layerscope.dockerfile import parse_dockerfile
from layerscope.model import Digest, HistoryEntry, Image, ImageConfig, Platform
from layerscope.render.suggest_words import notes_words
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import memory_layer as layer
from layerscope.testing.memory import whiteout_entry as wh
from tests.suggest.shapes import BASE, make_image


def test_recommends_only_graph() -> None:
    status = b"""\
Package: app
Status: install ok installed
Depends: lib
Recommends: extra | other

Package: lib
Status: install ok installed

Package: extra
Status: install ok installed
Depends: lib, deep

Package: deep
Status: install ok installed

Package: base
Status: install ok installed
Priority: required
Recommends: lib
"""
    graph, roots = package_graph(status, None)
    assert isinstance(graph, nx.DiGraph)
    assert roots == {"app", "base"}
    # extra only through app's Recommends; deep only through extra; lib is a Depends of app
    assert recommends_only(graph, roots) == {"extra", "deep"}
    extended = b"Package: app\nAuto-Installed: 0\n\nPackage: extra\nAuto-Installed: 0\n"
    graph, roots = package_graph(status, extended)
    assert recommends_only(graph, roots) == set()  # extra was installed by hand


TOOLCHAIN_STATUS = b"""\
Package: gcc-12
Status: install ok installed
Architecture: amd64
Installed-Size: 30

Package: curl
Status: install ok installed
Architecture: amd64
Installed-Size: 2
"""


def test_a_toolchain_in_the_final_image_asks_for_a_build_stage() -> None:
    dpkg = {
        "/var/lib/dpkg/status": TOOLCHAIN_STATUS,
        "/var/lib/dpkg/info/gcc-12.list": b"/usr/bin/gcc-12\n/usr/lib/gcc/cc1\n",
        "/var/lib/dpkg/info/curl.list": b"/usr/bin/curl\n",
    }
    analysis = make_image(
        "cc:1",
        [
            BASE,
            (
                "RUN /bin/sh -c apt-get install -y gcc-12 curl # buildkit",
                [
                    f("/usr/bin/gcc-12", 1000),
                    f("/usr/lib/gcc/cc1", 20_000),
                    f("/usr/bin/curl", 300),
                    *(f(path, len(data)) for path, data in dpkg.items()),
                ],
            ),
        ],
        contents={1: dpkg},
    )
    (stage,) = [s for s in suggest(analysis).suggestions if s.kind is SuggestionKind.MULTI_STAGE]
    assert stage.facts == MultiStageFacts(("gcc-12",))  # curl is no toolchain
    assert stage.estimated_saving_bytes == 1000 + 20_000
    assert stage.ops == () and stage.layers == (1,)  # which artifacts to keep is the user's
