"""Go's ``sort.Sort`` for int keys, so that ties come out in the order a Go program gives them.

Go 1.19+ sorts with pdqsort, which is not stable: tools written in Go (dive) list equal items in
an order only this exact algorithm reproduces. Ported from Go 1.24 ``src/sort/zsortinterface.go``
and ``src/sort/sort.go`` (``Sort``, ``xorshift``, ``nextPowerOfTwo``).
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["go_sort"]

T = TypeVar("T")
_M64 = (1 << 64) - 1


def go_sort(keys: list[int], values: list[T]) -> None:
    """Go 1.24 ``sort.Sort`` (pdqsort, not stable) of ``values`` by ``keys`` ascending, in place."""
    if len(keys) <= 1:
        return
    if len(set(keys)) == len(keys):  # no ties: every correct sort gives Go's order
        order = sorted(range(len(keys)), key=keys.__getitem__)
        values[:] = [values[i] for i in order]
        keys.sort()
        return
    _GoSorter(keys, values).sort()


class _GoSorter:
    """A line-by-line port of Go 1.24 ``sort/zsortinterface.go``; ``Less`` is ``k[i] < k[j]``."""

    def __init__(self, keys: list[int], values: list[Any]) -> None:
        self.k = keys
        self.v = values

    def swap(self, i: int, j: int) -> None:
        k, v = self.k, self.v
        k[i], k[j] = k[j], k[i]
        v[i], v[j] = v[j], v[i]

    def sort(self) -> None:
        n = len(self.k)
        self.pdqsort(0, n, n.bit_length())

    def insertion_sort(self, a: int, b: int) -> None:
        k = self.k
        for i in range(a + 1, b):
            j = i
            while j > a and k[j] < k[j - 1]:
                self.swap(j, j - 1)
                j -= 1

    def sift_down(self, lo: int, hi: int, first: int) -> None:
        k = self.k
        root = lo
        while True:
            child = 2 * root + 1
            if child >= hi:
                return
            if child + 1 < hi and k[first + child] < k[first + child + 1]:
                child += 1
            if not k[first + root] < k[first + child]:
                return
            self.swap(first + root, first + child)
            root = child

    def heap_sort(self, a: int, b: int) -> None:
        hi = b - a
        for i in range((hi - 1) // 2, -1, -1):
            self.sift_down(i, hi, a)
        for i in range(hi - 1, -1, -1):
            self.swap(a, a + i)
            self.sift_down(0, i, a)

    def pdqsort(self, a: int, b: int, limit: int) -> None:
        k = self.k
        was_balanced = was_partitioned = True
        while True:
            length = b - a
            if length <= 12:
                self.insertion_sort(a, b)
                return
            if limit == 0:
                self.heap_sort(a, b)
                return
            if not was_balanced:
                self.break_patterns(a, b)
                limit -= 1
            pivot, hint = self.choose_pivot(a, b)
            if hint == 2:  # decreasing
                self.reverse_range(a, b)
                pivot = (b - 1) - (pivot - a)
                hint = 1
            if was_balanced and was_partitioned and hint == 1:
                if self.partial_insertion_sort(a, b):
                    return
            if a > 0 and not k[a - 1] < k[pivot]:
                a = self.partition_equal(a, b, pivot)
                continue
            mid, was_partitioned = self.partition(a, b, pivot)
            left, right = mid - a, b - mid
            threshold = length // 8
            if left < right:
                was_balanced = left >= threshold
                self.pdqsort(a, mid, limit)
                a = mid + 1
            else:
                was_balanced = right >= threshold
                self.pdqsort(mid + 1, b, limit)
                b = mid

    def partition(self, a: int, b: int, pivot: int) -> tuple[int, bool]:
        k = self.k
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while i <= j and k[i] < k[a]:
            i += 1
        while i <= j and not k[j] < k[a]:
            j -= 1
        if i > j:
            self.swap(j, a)
            return j, True
        self.swap(i, j)
        i, j = i + 1, j - 1
        while True:
            while i <= j and k[i] < k[a]:
                i += 1
            while i <= j and not k[j] < k[a]:
                j -= 1
            if i > j:
                break
            self.swap(i, j)
            i, j = i + 1, j - 1
        self.swap(j, a)
        return j, False

    def partition_equal(self, a: int, b: int, pivot: int) -> int:
        k = self.k
        self.swap(a, pivot)
        i, j = a + 1, b - 1
        while True:
            while i <= j and not k[a] < k[i]:
                i += 1
            while i <= j and k[a] < k[j]:
                j -= 1
            if i > j:
                return i
            self.swap(i, j)
            i, j = i + 1, j - 1

    def partial_insertion_sort(self, a: int, b: int) -> bool:
        k = self.k
        i = a + 1
        for _ in range(5):
            while i < b and not k[i] < k[i - 1]:
                i += 1
            if i == b:
                return True
            if b - a < 50:
                return False
            self.swap(i, i - 1)
            if i - a >= 2:
                for j in range(i - 1, 0, -1):  # Go's loop runs down to 1, not to a + 1
                    if not k[j] < k[j - 1]:
                        break
                    self.swap(j, j - 1)
            if b - i >= 2:
                for j in range(i + 1, b):
                    if not k[j] < k[j - 1]:
                        break
                    self.swap(j, j - 1)
        return False

    def break_patterns(self, a: int, b: int) -> None:
        length = b - a
        if length >= 8:
            random = length
            modulus = 1 << length.bit_length()
            start = a + (length // 4) * 2 - 1
            for idx in range(start, start + 3):
                random ^= (random << 13) & _M64
                random ^= random >> 7
                random ^= (random << 17) & _M64
                other = random & (modulus - 1)
                if other >= length:
                    other -= length
                self.swap(idx, a + other)

    def choose_pivot(self, a: int, b: int) -> tuple[int, int]:
        """Returns the pivot and a hint: 0 unknown, 1 increasing, 2 decreasing."""
        length = b - a
        swaps = [0]
        i, j, m = a + length // 4, a + length // 4 * 2, a + length // 4 * 3
        if length >= 8:
            if length >= 50:
                i = self.median(i - 1, i, i + 1, swaps)
                j = self.median(j - 1, j, j + 1, swaps)
                m = self.median(m - 1, m, m + 1, swaps)
            j = self.median(i, j, m, swaps)
        if swaps[0] == 0:
            return j, 1
        if swaps[0] == 12:
            return j, 2
        return j, 0

    def median(self, a: int, b: int, c: int, swaps: list[int]) -> int:
        a, b = self.order2(a, b, swaps)
        b, c = self.order2(b, c, swaps)
        a, b = self.order2(a, b, swaps)
        return b

    def order2(self, a: int, b: int, swaps: list[int]) -> tuple[int, int]:
        if self.k[b] < self.k[a]:
            swaps[0] += 1
            return b, a
        return a, b

    def reverse_range(self, a: int, b: int) -> None:
        i, j = a, b - 1
        while i < j:
            self.swap(i, j)
            i, j = i + 1, j - 1
