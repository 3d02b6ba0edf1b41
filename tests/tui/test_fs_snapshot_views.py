"""FsSnapshot's keys/values/items/get (the dict's own views, added for the TUI's speed) agree
with the Mapping protocol they replace."""

from __future__ import annotations

from layerscope.analysis import Analysis


def test_views_match_the_mapping_protocol(small: Analysis) -> None:
    for index in range(len(small.image.layers)):
        snapshot = small.filesystem.at(index)
        by_protocol = {path: snapshot[path] for path in iter(snapshot)}
        assert dict(snapshot.items()) == by_protocol
        assert list(snapshot.keys()) == list(by_protocol)
        assert list(snapshot.values()) == list(by_protocol.values())
        assert snapshot.get("/usr/bin/tool") is by_protocol.get("/usr/bin/tool")
        assert snapshot.get("/nope") is None
        assert snapshot.keys() | {"/x"} == set(by_protocol) | {"/x"}  # set operations still work
    # layer 1 deleted /var/tmp/junk: gone from its snapshot, there in layer 0's
    assert small.filesystem.at(0).get("/var/tmp/junk") is not None
    assert small.filesystem.at(1).get("/var/tmp/junk") is None
