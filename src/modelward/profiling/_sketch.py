"""Mergeable, bounded-memory summaries behind numeric profiles (NumPy only).

Two structures, both independent of how the rows were split into batches, so profiling a table
in one call or batch by batch gives the same sample and the same histogram:

- :class:`BottomKSample`: a uniform random sample without replacement of fixed size ``k``.
  Every row gets a pseudo-random 64-bit key, ``splitmix64(row index)``; the sample is the ``k``
  values with the smallest keys. The key depends on the row's position in the table only, so the
  sample does not depend on batching, and rows sampled in one column are the rows sampled in
  every other column without nulls (the sample is a row sample).
- :class:`GridHistogram`: an equal-width histogram with exact counts whose bin width is a power
  of two and whose edges are multiples of it. When new values fall outside the grid, the width is
  doubled (adjacent bins merge exactly) until the grid covers them, so the final grid is the
  finest one covering the whole data range whatever the order of the batches.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["BottomKSample", "GridHistogram", "row_keys", "smallest_key_positions"]

U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]

# splitmix64 constants (Steele, Lea and Flood, 2014): a fast bijective 64-bit mixer.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def row_keys(offset: int, length: int) -> U64:
    """Return ``splitmix64(i)`` for the row indices ``offset .. offset + length - 1``.

    The mixer is a bijection, so keys never collide within a table.
    """
    z = np.arange(offset, offset + length, dtype=np.uint64)
    # uint64 array arithmetic wraps modulo 2**64, which is what the mixer wants.
    z += _GAMMA
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def smallest_key_positions(keys: U64, k: int, below: int | None) -> NDArray[np.intp]:
    """Positions of at most ``k`` smallest keys that are ``< below`` (all keys when ``None``)."""
    if below is None:
        pos = np.arange(keys.size, dtype=np.intp)
    else:
        pos = np.flatnonzero(keys < np.uint64(below))
    if pos.size > k:
        pos = pos[np.argpartition(keys[pos], k - 1)[:k]]
    return pos


class BottomKSample:
    """The ``k`` values with the smallest row keys seen so far."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.keys: U64 = np.empty(0, dtype=np.uint64)
        self.values: F64 = np.empty(0, dtype=np.float64)

    @property
    def threshold(self) -> int | None:
        """Keys at or above this cannot enter any more (``None`` while not full)."""
        if self.keys.size < self.k:
            return None
        return int(self.keys.max())

    def add(self, keys: U64, values: F64) -> None:
        """Offer values with their row keys (ideally pre-filtered by :attr:`threshold`)."""
        if keys.size == 0:
            return
        all_keys = np.concatenate((self.keys, keys))
        all_values = np.concatenate((self.values, values))
        if all_keys.size > self.k:
            keep = np.argpartition(all_keys, self.k - 1)[: self.k]
            all_keys, all_values = all_keys[keep], all_values[keep]
        self.keys, self.values = all_keys, all_values

    def sorted_values(self) -> F64:
        """The sampled values in ascending order."""
        return np.sort(self.values)


def _exponent(lo: float, hi: float, bins: int, integer: bool, start: int | None) -> int:
    """Smallest power-of-two exponent whose aligned grid of ``bins`` bins covers [lo, hi].

    The exponent never goes below ``frexp(max|x|) - 40`` (so a constant column does not get an
    absurdly fine bin) nor below 0 for integer columns (bins at least 1 wide).
    """
    magnitude = max(abs(lo), abs(hi))
    e = math.frexp(magnitude)[1] - 40 if magnitude > 0 else -1000
    if integer:
        e = max(e, 0)
    span = hi - lo
    if span > 0:
        e = max(e, math.frexp(span / bins)[1] - 1)
    if start is not None:
        e = max(e, start)
    while math.floor(math.ldexp(hi, -e)) - math.floor(math.ldexp(lo, -e)) > bins - 1:
        e += 1
    return e


class GridHistogram:
    """Exact-count histogram on a power-of-two grid (see the module docstring)."""

    def __init__(self, bins: int, *, integer: bool = False) -> None:
        self.bins = bins
        self.integer = integer
        self.exponent: int | None = None
        self.origin = 0  # global index of the first bin: its left edge is origin * 2**exponent
        self.counts = np.zeros(bins, dtype=np.int64)
        self.lo = math.inf
        self.hi = -math.inf

    @classmethod
    def from_edges(
        cls,
        edges: tuple[float, ...],
        counts: tuple[int, ...],
        bins: int,
        *,
        lo: float,
        hi: float,
        integer: bool = False,
    ) -> GridHistogram:
        """Rebuild the grid behind a stored histogram (edges must come from this class).

        Args:
            edges: Stored edges.
            counts: Stored counts.
            bins: Grid size the histogram was built with.
            lo: Smallest value counted.
            hi: Largest value counted.
            integer: Whether the column holds integers (bins at least 1 wide).
        """
        hist = cls(bins, integer=integer)
        if not counts:
            return hist
        width = edges[1] - edges[0]
        mantissa, exp = math.frexp(width)
        if mantissa != 0.5 or len(counts) > bins:
            from modelward.errors import InvalidInput

            raise InvalidInput(
                "histogram edges are not on a power-of-two grid; it was not written by modelward"
            )
        hist.exponent = exp - 1
        hist.origin = round(math.ldexp(edges[0], -hist.exponent))
        hist.counts[: len(counts)] = counts
        hist.lo, hist.hi = lo, hi
        return hist

    def _regrid(self, exponent: int, origin: int) -> None:
        if self.exponent is None:
            self.counts[:] = 0
        else:
            shift = exponent - self.exponent
            global_idx = np.arange(self.origin, self.origin + self.bins, dtype=np.int64)
            new_idx = (global_idx >> np.int64(shift)) - np.int64(origin)
            occupied = self.counts > 0
            moved = np.zeros(self.bins, dtype=np.int64)
            np.add.at(moved, new_idx[occupied], self.counts[occupied])
            self.counts = moved
        self.exponent, self.origin = exponent, origin

    def add(self, values: F64, lo: float, hi: float, scratch: F64 | None = None) -> None:
        """Count finite ``values`` whose minimum and maximum are ``lo`` and ``hi``.

        Args:
            values: Finite values.
            lo: ``values.min()``.
            hi: ``values.max()``.
            scratch: Optional float64 buffer of at least ``values.size`` to reuse.
        """
        if values.size == 0:
            return
        self.merge_range(min(self.lo, lo), max(self.hi, hi))
        assert self.exponent is not None
        buf = scratch[: values.size] if scratch is not None else np.empty_like(values)
        # x * 2**-e is exact and floor() of it is the global bin index, so a value lands in the
        # same bin whatever grid it was first counted on. The grid covers [lo, hi], so every
        # index lies in [0, bins) without clipping.
        np.multiply(values, math.ldexp(1.0, -self.exponent), out=buf)
        np.floor(buf, out=buf)
        buf -= float(self.origin)
        self.counts += np.bincount(buf.astype(np.intp), minlength=self.bins)

    def merge_range(self, lo: float, hi: float) -> None:
        """Widen the grid (merging bins exactly) until it covers ``[lo, hi]``."""
        exponent = _exponent(lo, hi, self.bins, self.integer, self.exponent)
        origin = math.floor(math.ldexp(lo, -exponent))
        if exponent != self.exponent or origin != self.origin:
            self._regrid(exponent, origin)
        self.lo, self.hi = lo, hi

    def add_histogram(self, other: GridHistogram) -> None:
        """Add another grid histogram's counts (both are regridded to a common grid)."""
        if other.exponent is None:
            return
        self.merge_range(min(self.lo, other.lo), max(self.hi, other.hi))
        other = other.copy()
        other.merge_range(self.lo, self.hi)
        assert other.exponent == self.exponent
        assert other.origin == self.origin
        self.counts += other.counts

    def copy(self) -> GridHistogram:
        """Return an independent copy."""
        out = GridHistogram(self.bins, integer=self.integer)
        out.exponent, out.origin = self.exponent, self.origin
        out.counts = self.counts.copy()
        out.lo, out.hi = self.lo, self.hi
        return out

    def edges_and_counts(self) -> tuple[tuple[float, ...], tuple[int, ...]]:
        """Edges and counts with empty bins at both ends trimmed."""
        if self.exponent is None:
            return (), ()
        nz = np.flatnonzero(self.counts)
        if nz.size == 0:
            return (), ()
        first, last = int(nz[0]), int(nz[-1])
        edges = tuple(
            math.ldexp(float(self.origin + i), self.exponent) for i in range(first, last + 2)
        )
        counts = tuple(int(c) for c in self.counts[first : last + 1])
        return edges, counts
