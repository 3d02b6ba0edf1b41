"""Build-log parsers on small logs written by hand after formats.md 8b: rawjson (which the
engine's 20.10 client cannot write),
failures, malformed input. Real logs are in test_buildlogs_real.py."""

from __future__ import annotations

import base64
import json

import pytest

from layerscope.buildlogs import (
    BuildLogError,
    BuildLogFormat,
    detect_format,
    normalise_instruction,
    parse_build_log,
)
from layerscope.errors import LayerscopeError

IMAGE = "sha256:" + "ab" * 32


def status(**kwargs: object) -> str:
    return json.dumps(kwargs)


def rawjson_log() -> str:
    """A SolveStatus stream: FROM cached, COPY cached, RUN ran 3.5 s and logged one line."""
    t0 = "2024-05-01T10:00:00.000000001Z"
    from_v = {"digest": "sha256:01", "name": "[1/3] FROM docker.io/library/debian:bookworm"}
    copy_v = {"digest": "sha256:02", "inputs": ["sha256:01"], "name": "[2/3] COPY app /app"}
    run_v = {"digest": "sha256:03", "inputs": ["sha256:02"], "name": "[3/3] RUN apt-get update"}
    export = {"digest": "sha256:04", "name": "exporting to image"}
    data = base64.b64encode(b"Get:1 http://deb.debian.org/debian bookworm InRelease\n").decode()
    return "\n".join(
        [
            status(vertexes=[{"digest": "sha256:00", "name": "[internal] load build definition",
                              "started": t0, "completed": "2024-05-01T10:00:00.020000000Z"}]),
            status(vertexes=[{**from_v, "started": t0, "completed": t0, "cached": True}]),
            status(vertexes=[{**copy_v, "started": "2024-05-01T10:00:00.500000000Z",
                              "completed": "2024-05-01T10:00:00.500000000Z", "cached": True}]),
            status(vertexes=[{**run_v, "started": "2024-05-01T10:00:01.250000000Z"}]),
            status(logs=[{"vertex": "sha256:03", "stream": 1, "data": data,
                          "timestamp": "2024-05-01T10:00:02.000000000Z"}]),
            status(vertexes=[{**run_v, "started": "2024-05-01T10:00:01.250000000Z",
                              "completed": "2024-05-01T10:00:04.750000000Z"}]),
            status(vertexes=[{**export, "started": "2024-05-01T10:00:05.000000000Z"}],
                   statuses=[{"id": f"writing image {IMAGE}", "vertex": "sha256:04",
                              "timestamp": "2024-05-01T10:00:05.100000000Z"},
                             {"id": "naming to docker.io/library/demo:1", "vertex": "sha256:04",
                              "timestamp": "2024-05-01T10:00:05.200000000Z"}]),
            "",
        ]
    )  # fmt: skip


def test_rawjson_merges_vertexes_by_digest() -> None:
    log = parse_build_log(rawjson_log())
    assert log.format is BuildLogFormat.BUILDKIT_RAWJSON
    assert [(s.step_number, s.instruction, s.cached) for s in log.steps] == [
        (1, "FROM docker.io/library/debian:bookworm", None),
        (2, "COPY app /app", True),
        (3, "RUN apt-get update", False),
    ]
    # 10:00:04.75 - 10:00:01.25 = 3.5 s; the cached COPY started and completed at once.
    assert log.steps[2].duration_seconds == pytest.approx(3.5)
    assert log.steps[1].duration_seconds == 0.0
    assert log.steps[2].vertex == "sha256:03"
    assert (log.image_id, log.tags) == (IMAGE, ("docker.io/library/demo:1",))


def test_rawjson_nanoseconds_and_unfinished_vertex() -> None:
    v = {"digest": "sha256:09", "name": "[stage-1 2/4] RUN make"}
    text = "\n".join([
        status(vertexes=[{**v, "started": "2024-05-01T23:59:59.999999999Z"}]),
        status(vertexes=[{**v, "completed": "2024-05-02T00:00:00.000000001+00:00"}]),
        status(vertexes=[{"digest": "sha256:0a", "name": "[stage-1 3/4] RUN sleep 100",
                          "started": "2024-05-02T00:00:01Z"}]),
    ])  # fmt: skip
    log = parse_build_log(text)
    done, cut = log.steps
    assert done.stage == "stage-1" and done.cached is False
    assert done.duration_seconds == pytest.approx(2e-9, abs=1e-9)  # across midnight
    assert cut.cached is None and cut.duration_seconds is None


def test_rawjson_error() -> None:
    v = {"digest": "sha256:0b", "name": "[2/2] RUN false", "started": "2024-05-01T10:00:00Z"}
    err = 'process "/bin/sh -c false" did not complete successfully: exit code: 1'
    text = status(vertexes=[{**v, "completed": "2024-05-01T10:00:00.5Z", "error": err}])
    log = parse_build_log(text)
    assert (log.steps[0].cached, log.steps[0].error, log.error) == (False, err, err)


PLAIN_FAILED = """\
#4 [1/2] COPY rootfs/ /
#4 sha256:fbe92263b25c9449c544c9cfb7ad8ccbe867ebc5cc72d220269f2d22341703a3
#4 CACHED

#5 [2/2] RUN false
#5 sha256:d88c0e8fa161703987a2fee73a7abbb78bf7a582fbcb71fed23ec58c7bf69c55
#5 0.315 something went wrong
#5 ERROR: executor failed running [/bin/sh -c false]: exit code: 1
------
 > [2/2] RUN false:
------
error: failed to solve: executor failed running [/bin/sh -c false]: exit code: 1
"""


def test_plain_failed_build() -> None:
    log = parse_build_log(PLAIN_FAILED)
    assert log.format is BuildLogFormat.BUILDKIT_PLAIN
    copy, run = log.steps
    assert (copy.cached, copy.error) == (True, None)
    assert run.cached is False
    assert run.error == "executor failed running [/bin/sh -c false]: exit code: 1"
    assert log.error == "executor failed running [/bin/sh -c false]: exit code: 1"
    assert log.image_id is None


def test_plain_multistage_labels_and_order() -> None:
    text = (
        "#7 [stage-1 2/2] COPY --from=builder /out /out\n#7 DONE 0.2s\n\n"
        "#6 [builder 2/2] RUN make\n#6 DONE 12.5s\n\n"
        "#8 [stage-1 1/2] WORKDIR /app\n#8 CACHED\n"
    )
    log = parse_build_log(text)
    # Stage order of first appearance, then step number.
    assert [(s.stage, s.step_number, s.cached, s.duration_seconds) for s in log.steps] == [
        ("stage-1", 1, True, None),
        ("stage-1", 2, False, 0.2),
        ("builder", 2, False, 12.5),
    ]


def test_classic_engine_api_json_stream() -> None:
    lines = [
        {"stream": "Step 1/2 : FROM busybox\n"},
        {"stream": " ---\u003e 3f57d9401f8d\n"},
        {"stream": "Step 2/2 : RUN echo hi\n"},
        {"stream": " ---\u003e Running in 0123456789ab\n"},
        {"stream": "hi\n"},
        {"stream": " ---\u003e 4a5b6c7d8e9f\n"},
        {"aux": {"ID": IMAGE}},
        {"stream": "Successfully built 4a5b6c7d8e9f\n"},
        {"stream": "Successfully tagged demo:1\n"},
    ]
    log = parse_build_log("\n".join(json.dumps(line) for line in lines))
    assert log.format is BuildLogFormat.CLASSIC
    assert [(s.instruction, s.cached) for s in log.steps] == [
        ("FROM busybox", None),
        ("RUN echo hi", False),
    ]
    assert (log.image_id, log.tags) == (IMAGE, ("demo:1",))


def test_classic_failure() -> None:
    text = (
        "Step 1/2 : FROM scratch\n ---> \nStep 2/2 : RUN false\n ---> Running in 1ca77fb594e1\n"
        "The command '/bin/sh -c false' returned a non-zero code: 1\n"
    )
    log = parse_build_log(text)
    assert log.steps[1].error == "The command '/bin/sh -c false' returned a non-zero code: 1"
    assert log.steps[1].cached is False and log.image_id is None


def test_buildah_multistage_prefix_and_error() -> None:
    text = (
        "[1/2] STEP 1/2: FROM alpine AS builder\n[1/2] STEP 2/2: RUN make\n--> 3e992a2a9ae\n"
        "[2/2] STEP 1/2: FROM alpine\n[2/2] STEP 2/2: RUN false\n"
        'Error: error building at STEP "RUN false": exit status 1\n'
    )
    log = parse_build_log(text)
    assert log.format is BuildLogFormat.BUILDAH
    assert [(s.stage, s.step_number, s.cached) for s in log.steps] == [
        ("0", 1, None), ("0", 2, False), ("1", 1, None), ("1", 2, False),
    ]  # fmt: skip
    assert log.error == 'error building at STEP "RUN false": exit status 1'
    assert log.steps[3].error == log.error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello\nworld\n", "not a build log"),
        ("", "not a build log"),
        ('{"vertexes": []}\n{not json\n', "line 2: not a BuildKit SolveStatus"),
        ('{"vertexes": [{"name": "x"}]}\n', "line 1: not a BuildKit SolveStatus"),
        ('{"vertexes": [{"digest": "d", "started": "yesterday"}]}', "not an RFC 3339 time"),
        ('{"stream": "Step 1/1 : FROM a\\n"}\n[1, 2\n', "line 2: not a JSON build message"),
    ],
)
def test_malformed_logs(text: str, message: str) -> None:
    with pytest.raises(BuildLogError) as info:
        parse_build_log(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, LayerscopeError)


def test_detect_format_and_normalise() -> None:
    assert detect_format("\n\n#1 [internal] load\n") is BuildLogFormat.BUILDKIT_PLAIN
    assert detect_format("Sending build context\nStep 1/3 : FROM a\n") is BuildLogFormat.CLASSIC
    assert detect_format("STEP 1: FROM a\n") is BuildLogFormat.BUILDAH
    assert normalise_instruction("run  echo   hi") == "RUN echo hi"
