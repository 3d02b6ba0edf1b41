"""Align the layers of two images by content, not by position.

The leading layers with equal chain IDs are shared (same base, or build cache hits). The rest are
aligned by a weighted longest-common-subsequence over a similarity score, so a layer inserted or
removed mid-stack leaves the later pairs matched:

- identical diff_id (and not the empty tar): 1.0;
- otherwise ``0.5 * instruction + 0.5 * paths``, where ``instruction`` is 1.0 when the normalised
  instructions are equal (``COPY file:<hex> in /app`` with another hex counts as equal: same
  instruction, changed content), half the word overlap when only the keyword is the same, else 0;
  and ``paths`` is the Jaccard index of the non-directory paths the two layers write.

Layers whose best score is under ``MATCH_THRESHOLD`` stay unpaired: added or removed layers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from layerscope.dockerfile import instruction_from_created_by
from layerscope.model import EMPTY_TAR_DIFF_ID, EntryKind, Image, Layer

__all__ = [
    "MATCH_THRESHOLD",
    "PairStatus",
    "LayerPair",
    "Alignment",
    "align_layers",
    "normalize_instruction",
    "layer_similarity",
]

MATCH_THRESHOLD = 0.3
"""Smallest similarity at which two layers outside the shared prefix are paired."""

_CONTENT_HASH = re.compile(r"\b(file|dir|multi):[0-9a-f]{64}\b")


class PairStatus(Enum):
    """How two aligned layers relate."""

    SHARED = "shared"
    """In the leading run of equal chain IDs: same base, or a build cache hit."""
    IDENTICAL = "identical"
    """Same diff_id after the shared prefix (e.g. a COPY after an inserted layer)."""
    CHANGED = "changed"
    """Matched by instruction or content, with another diff_id."""
    ADDED = "added"
    """Only in the new image."""
    REMOVED = "removed"
    """Only in the old image."""


@dataclass(frozen=True, slots=True)
class LayerPair:
    """One row of the alignment: a layer of the old image, of the new one, or both."""

    old_index: int | None
    new_index: int | None
    status: PairStatus
    similarity_ratio: float | None
    """The score that paired them (None for added and removed layers)."""
    same_instruction: bool
    """Both sides exist and their normalised instructions are equal."""


@dataclass(frozen=True, slots=True)
class Alignment:
    """Aligned layer pairs, oldest first; the first ``shared_count`` are SHARED."""

    shared_count: int
    pairs: tuple[LayerPair, ...]

    def pair_of_old(self) -> dict[int, int]:
        """Old layer index -> index of its pair."""
        return {p.old_index: i for i, p in enumerate(self.pairs) if p.old_index is not None}

    def pair_of_new(self) -> dict[int, int]:
        """New layer index -> index of its pair."""
        return {p.new_index: i for i, p in enumerate(self.pairs) if p.new_index is not None}

    def count(self, status: PairStatus) -> int:
        """How many pairs have this status."""
        return sum(1 for pair in self.pairs if pair.status is status)


def normalize_instruction(created_by: str) -> str:
    """The instruction of a history entry with whitespace collapsed and content hashes masked."""
    text = " ".join(instruction_from_created_by(created_by).split())
    return _CONTENT_HASH.sub(r"\1:*", text)


def _paths(layer: Layer) -> frozenset[str]:
    files = frozenset(e.path for e in layer.entries if e.kind is not EntryKind.DIR)
    return files or frozenset(e.path for e in layer.entries)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    common = len(small & large)
    return common / (len(a) + len(b) - common)


def _instruction_score(old: str, new: str) -> float:
    if old == new:
        return 1.0
    old_words, new_words = old.split(), new.split()
    if not old_words or not new_words or old_words[0] != new_words[0]:
        return 0.0
    return 0.5 * _jaccard(frozenset(old_words), frozenset(new_words))


def layer_similarity(old: Layer, new: Layer) -> float:
    """Similarity of two layers in [0, 1] (see the module docstring)."""
    return _Scorer((old,), (new,)).score(0, 0)


class _Scorer:
    """Similarity scores with per-layer path sets and instructions computed once."""

    def __init__(self, old: tuple[Layer, ...], new: tuple[Layer, ...]) -> None:
        self.old, self.new = old, new
        self.old_instr = [normalize_instruction(layer.created_by) for layer in old]
        self.new_instr = [normalize_instruction(layer.created_by) for layer in new]
        self._old_paths: dict[int, frozenset[str]] = {}
        self._new_paths: dict[int, frozenset[str]] = {}

    def score(self, i: int, j: int) -> float:
        old, new = self.old[i], self.new[j]
        if old.diff_id == new.diff_id and old.diff_id != EMPTY_TAR_DIFF_ID:
            return 1.0
        instr = _instruction_score(self.old_instr[i], self.new_instr[j])
        if i not in self._old_paths:
            self._old_paths[i] = _paths(old)
        if j not in self._new_paths:
            self._new_paths[j] = _paths(new)
        a, b = self._old_paths[i], self._new_paths[j]
        small, large = sorted((len(a), len(b)))
        if large and 0.5 * instr + 0.5 * small / large < MATCH_THRESHOLD:
            return 0.5 * instr  # the Jaccard index is at most small / large: no match either way
        return 0.5 * instr + 0.5 * _jaccard(a, b)


def _shared_prefix(old: Image, new: Image) -> int:
    count = 0
    for a, b in zip(old.chain_ids, new.chain_ids, strict=False):
        if a != b:
            break
        count += 1
    return count


def align_layers(old: Image, new: Image) -> Alignment:
    """Pair the layers of ``old`` and ``new`` (see the module docstring)."""
    shared = _shared_prefix(old, new)
    pairs = [LayerPair(i, i, PairStatus.SHARED, 1.0, True) for i in range(shared)]
    rest_old, rest_new = old.layers[shared:], new.layers[shared:]
    scorer = _Scorer(rest_old, rest_new)
    n, m = len(rest_old), len(rest_new)
    # best[i][j]: the best total score aligning rest_old[i:] with rest_new[j:].
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    scores: dict[tuple[int, int], float] = {}
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            value = max(below[j], row[j + 1])
            similarity = scorer.score(i, j)
            if similarity >= MATCH_THRESHOLD:
                scores[(i, j)] = similarity
                value = max(value, below[j + 1] + similarity)
            row[j] = value
    i = j = 0
    while i < n or j < m:
        score = scores.get((i, j))
        if score is not None and i < n and j < m and best[i][j] == best[i + 1][j + 1] + score:
            a, b = rest_old[i], rest_new[j]
            status = PairStatus.IDENTICAL if a.diff_id == b.diff_id else PairStatus.CHANGED
            same = scorer.old_instr[i] == scorer.new_instr[j]
            pairs.append(LayerPair(a.index, b.index, status, score, same))
            i += 1
            j += 1
        elif i < n and (j == m or best[i][j] == best[i + 1][j]):
            pairs.append(LayerPair(rest_old[i].index, None, PairStatus.REMOVED, None, False))
            i += 1
        else:
            pairs.append(LayerPair(None, rest_new[j].index, PairStatus.ADDED, None, False))
            j += 1
    return Alignment(shared, tuple(pairs))
