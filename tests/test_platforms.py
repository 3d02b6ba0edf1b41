"""Tests for layerscope.platforms.

Expected normalisations and fallback orders are those of containerd/platforms ``database.go``
(normalizeArch) and ``compare.go`` (platformVector / Only), as summarised in formats.md 5f.
"""

from __future__ import annotations

import pytest

from layerscope.errors import NotFoundError, UsageError
from layerscope.model import Platform
from layerscope.platforms import (
    compatible_platforms,
    host_platform,
    is_attestation_descriptor,
    normalize_platform,
    parse_platform,
    platform_compatible,
    platform_matches,
    select_platform,
    select_platform_entry,
)

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
ARMV7 = Platform("linux", "arm", "v7")
ARMV6 = Platform("linux", "arm", "v6")
S390X = Platform("linux", "s390x")
ATTEST = Platform("unknown", "unknown")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", AMD64),
        ("linux/x86_64", AMD64),
        ("linux/x86-64", AMD64),
        ("linux/amd64/v1", AMD64),
        ("linux/amd64/v3", Platform("linux", "amd64", "v3")),
        ("linux/arm64/v8", ARM64),
        ("linux/aarch64", ARM64),
        ("linux/aarch64/8", ARM64),
        ("linux/arm64/v8.0", ARM64),
        ("linux/arm64/v8.2", Platform("linux", "arm64", "v8.2")),
        ("linux/armhf", ARMV7),
        ("linux/armel", ARMV6),
        ("linux/arm", ARMV7),
        ("linux/arm/7", ARMV7),
        ("linux/arm/6", ARMV6),
        ("linux/arm/v5", Platform("linux", "arm", "v5")),
        ("linux/i386", Platform("linux", "386")),
        ("linux/386", Platform("linux", "386")),
        ("Linux/AMD64", AMD64),
        ("  linux/s390x ", S390X),
        ("macos/arm64", Platform("darwin", "arm64")),
        ("windows/amd64", Platform("windows", "amd64")),
        ("arm64", ARM64),  # a lone architecture gets os linux
        ("aarch64", ARM64),
        ("riscv64", Platform("linux", "riscv64")),
    ],
)
def test_parse_platform(text: str, expected: Platform) -> None:
    assert parse_platform(text) == expected


def test_lone_os_takes_host_architecture() -> None:
    assert parse_platform("linux", host=ARMV7) == ARMV7
    assert parse_platform("windows", host=AMD64) == Platform("windows", "amd64")


@pytest.mark.parametrize(
    "text", ["", "/", "linux/", "/amd64", "linux/amd64/v8/x", "linux amd64", "notanarch", "a/b(c)"]
)
def test_parse_platform_errors(text: str) -> None:
    with pytest.raises(UsageError, match="platform"):
        parse_platform(text)


def test_platform_str_roundtrip() -> None:
    assert str(parse_platform("linux/arm")) == "linux/arm/v7"
    assert str(parse_platform("linux/arm64/v8")) == "linux/arm64"


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        ("x86_64", AMD64),
        ("AMD64", AMD64),
        ("aarch64", ARM64),
        ("arm64", ARM64),
        ("armv7l", ARMV7),
        ("armv6l", ARMV6),
        ("armv8l", Platform("linux", "arm", "v8")),
        ("i686", Platform("linux", "386")),
        ("ppc64le", Platform("linux", "ppc64le")),
        ("s390x", S390X),
        ("riscv64", Platform("linux", "riscv64")),
    ],
)
def test_host_platform(machine: str, expected: Platform) -> None:
    assert host_platform(machine) == expected


def test_host_platform_of_this_machine_is_normalised() -> None:
    host = host_platform()
    assert host.os == "linux"
    assert normalize_platform(host) == host


def test_normalize_platform_of_index_values() -> None:
    assert normalize_platform(Platform("linux", "arm64", "v8")) == ARM64
    assert normalize_platform(Platform("linux", "arm", None)) == ARMV7
    assert normalize_platform(Platform("linux", "amd64", "")) == AMD64


def test_platform_matches_is_exact_after_normalising() -> None:
    assert platform_matches(ARM64, Platform("linux", "aarch64", "v8"))
    assert platform_matches(Platform("linux", "arm"), Platform("linux", "arm", "v7"))
    assert not platform_matches(ARMV7, ARMV6)
    assert not platform_matches(AMD64, Platform("linux", "amd64", "v2"))
    assert not platform_matches(AMD64, Platform("windows", "amd64"))


def _names(wanted: str) -> list[str]:
    return [str(p) for p in compatible_platforms(parse_platform(wanted))]


def test_compatible_platforms_follow_containerd_order() -> None:
    assert _names("linux/amd64") == ["linux/amd64", "linux/386"]
    assert _names("linux/amd64/v3") == [
        "linux/amd64/v3",
        "linux/amd64/v2",
        "linux/amd64",
        "linux/386",
    ]
    assert _names("linux/arm/v7") == ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]
    assert _names("linux/arm/v5") == ["linux/arm/v5"]
    assert _names("linux/arm64") == [
        "linux/arm64",
        "linux/arm/v8",
        "linux/arm/v7",
        "linux/arm/v6",
        "linux/arm/v5",
    ]
    assert _names("linux/arm64/v8.2") == [
        "linux/arm64/v8.2",
        "linux/arm64/v8.1",
        "linux/arm64",
        "linux/arm/v8",
        "linux/arm/v7",
        "linux/arm/v6",
        "linux/arm/v5",
    ]
    # v9.x also runs v9.(x-1) ... v9, then v8.(x+5) ... v8 (compare.go: "v9.0 diverged from v8.5").
    assert _names("linux/arm64/v9.1")[:9] == [
        "linux/arm64/v9.1",
        "linux/arm64/v9",
        "linux/arm64/v8.6",
        "linux/arm64/v8.5",
        "linux/arm64/v8.4",
        "linux/arm64/v8.3",
        "linux/arm64/v8.2",
        "linux/arm64/v8.1",
        "linux/arm64",
    ]
    assert _names("linux/s390x") == ["linux/s390x"]


def test_platform_compatible() -> None:
    assert platform_compatible(ARMV7, ARMV6)
    assert not platform_compatible(ARMV6, ARMV7)
    assert platform_compatible(Platform("linux", "amd64", "v3"), Platform("linux", "x86_64"))
    assert not platform_compatible(AMD64, ARM64)


# --- select_platform ----------------------------------------------------------------------------


def test_wanted_exact_match_wins_over_earlier_fallback() -> None:
    candidates = [(ARMV6, "v6"), (ARMV7, "v7")]
    assert select_platform(candidates, ARMV7, host=AMD64) == "v7"


def test_wanted_takes_first_of_several_exact_matches() -> None:
    candidates = [(AMD64, "first"), (Platform("linux", "x86_64"), "second")]
    assert select_platform(candidates, AMD64, host=ARM64) == "first"


def test_wanted_normalises_candidates() -> None:
    candidates = [(Platform("linux", "aarch64", "v8"), "arm"), (AMD64, "amd")]
    assert select_platform(candidates, parse_platform("linux/arm64/v8"), host=AMD64) == "arm"


def test_wanted_falls_back_in_order() -> None:
    candidates = [
        (Platform("linux", "arm", "v5"), "v5"),
        (ARMV6, "v6"),
        (AMD64, "amd"),
    ]
    assert select_platform(candidates, ARMV7, host=AMD64) == "v6"
    amd = [(Platform("linux", "amd64", "v2"), "v2"), (AMD64, "v1")]
    assert select_platform(amd, Platform("linux", "amd64", "v3"), host=ARM64) == "v2"
    entry = select_platform_entry(amd, Platform("linux", "amd64", "v3"), host=ARM64)
    assert entry == (Platform("linux", "amd64", "v2"), "v2")


def test_wanted_missing_lists_platforms() -> None:
    candidates = [(AMD64, 1), (ARM64, 2), (ATTEST, 3), (Platform("linux", "x86_64"), 4)]
    with pytest.raises(NotFoundError) as info:
        select_platform(candidates, S390X, host=AMD64)
    message = str(info.value)
    assert message == "no image for platform linux/s390x; the index has: linux/amd64, linux/arm64"
    # A newer variant is not a fallback for an older one.
    with pytest.raises(NotFoundError):
        select_platform([(Platform("linux", "amd64", "v2"), 1)], AMD64, host=AMD64)


def test_wanted_accepts_candidate_without_platform_last() -> None:
    candidates: list[tuple[Platform | None, str]] = [(None, "any"), (ARMV6, "v6")]
    assert select_platform(candidates, ARMV7, host=AMD64) == "v6"
    assert select_platform(candidates, S390X, host=AMD64) == "any"


def test_without_wanted_the_only_image_is_taken() -> None:
    # Whatever the host, a single image is the answer (attestation skipped).
    assert select_platform([(S390X, "only"), (ATTEST, "att")], None, host=AMD64) == "only"
    assert select_platform([(None, "single")], None, host=AMD64) == "single"


def test_without_wanted_the_host_platform_is_chosen() -> None:
    candidates = [(AMD64, "amd"), (ARM64, "arm64"), (ARMV7, "arm")]
    assert select_platform(candidates, None, host=ARM64) == "arm64"
    assert select_platform(candidates, None, host=AMD64) == "amd"
    assert select_platform(candidates, None, host=Platform("linux", "aarch64")) == "arm64"
    assert select_platform(candidates, None, host=ARMV7) == "arm"


def test_without_wanted_no_host_match_lists_platforms() -> None:
    candidates = [(AMD64, "amd"), (ARM64, "arm64")]
    with pytest.raises(NotFoundError, match="linux/s390x.*linux/amd64, linux/arm64"):
        select_platform(candidates, None, host=S390X)


def test_attestations_are_skipped_by_platform_and_by_predicate() -> None:
    annotated = {"vnd.docker.reference.type": "attestation-manifest"}
    entries: list[tuple[Platform | None, dict[str, str]]] = [
        (AMD64, {}),
        (ATTEST, annotated),
        (ARM64, annotated),  # odd, but its annotation says it is an attestation
    ]
    chosen = select_platform(
        entries,
        None,
        host=S390X,
        is_attestation=lambda d: d.get("vnd.docker.reference.type") == "attestation-manifest",
    )
    assert chosen == {}
    with pytest.raises(NotFoundError, match="no image manifests"):
        select_platform([(ATTEST, 1)], None, host=AMD64)
    with pytest.raises(NotFoundError):
        select_platform([], AMD64, host=AMD64)


def test_is_attestation_descriptor() -> None:
    assert is_attestation_descriptor(ATTEST, {})
    assert is_attestation_descriptor(AMD64, {"vnd.docker.reference.type": "attestation-manifest"})
    assert not is_attestation_descriptor(AMD64, {"vnd.docker.reference.digest": "sha256:x"})
    assert not is_attestation_descriptor(None, {})
