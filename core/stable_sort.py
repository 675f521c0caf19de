"""Stable sorts for the suspect index: equal values keep their position order (so a flipped
sort mirrors runs of ties), floats by a radix-style pass over ranks where it is faster than
numpy's stable sort, and names ranked once per column."""

from __future__ import annotations

import numpy as np


def name_ranks(col: np.ndarray, names: dict[int, str]) -> np.ndarray:
    """Each id's rank among the column's distinct ids ordered by name (ties: lower id first)."""
    if len(col) == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(col.min()), int(col.max())
    if hi - lo < 4 * len(col) + 65_536:  # dense ids: a lookup table instead of np.unique's sort
        present = np.zeros(hi - lo + 1, dtype=bool)
        present[col - lo] = True
        uniq = np.flatnonzero(present) + lo
        inverse = None
    else:
        uniq, inverse = np.unique(col, return_inverse=True)
    rank = np.argsort(
        np.argsort([names.get(int(u), "") for u in uniq], kind="stable"), kind="stable"
    )
    if inverse is not None:
        return rank[inverse]
    lut = np.zeros(hi - lo + 1, dtype=np.int64)
    lut[uniq - lo] = rank
    return lut[col - lo]


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, faster for integers (radix sort for a small range,
    else an unstable sort of keys made unique by the position)."""
    n = len(values)
    if n and values.dtype.kind in "iu":
        lo, span = int(values.min()), int(values.max()) - int(values.min())
        if span < 2**15:
            return np.argsort((values.astype(np.int64) - lo).astype(np.int16), kind="stable")
        if (span + 1) * n < 2**62:
            return np.argsort((values.astype(np.int64) - lo) * n + np.arange(n))
    if n and values.dtype.kind == "f" and not np.isnan(values).any():
        return stable_float_argsort(values)
    return np.argsort(values, kind="stable")


RADIX_GROUPS = 2**15
"""Below this many distinct values a float sort finishes with a radix sort of their ranks."""


def stable_float_argsort(values: np.ndarray) -> np.ndarray:
    """A stable argsort of NaN-free floats: an unstable sort (~2.5x faster at 1M values), then
    the runs of equal values are put back in position order: by a radix sort of each value's
    rank when there are few distinct values (a confidence column: ~10k in 1M), else by sorting
    only the tied slots."""
    order = np.argsort(values, kind="quicksort")
    ordered = values[order]
    tie = ordered[1:] == ordered[:-1]
    if not tie.any():
        return order
    if len(values) - int(np.count_nonzero(tie)) <= RADIX_GROUPS:
        rank = np.empty(len(values), dtype=np.int16)
        rank[order] = np.cumsum(np.r_[False, ~tie], dtype=np.int64) - 32768
        return np.argsort(rank, kind="stable")  # numpy sorts 16-bit integers by radix
    return ties_in_position_order(order, tie)


def ties_in_position_order(order: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Put each run of equal values (``tie[i]``: slot i+1 equals slot i) in position order."""
    n = len(order)
    tied = np.zeros(n, dtype=bool)
    tied[1:] |= tie
    tied[:-1] |= tie
    group = np.cumsum(np.r_[True, ~tie])  # run number of each sorted slot, ascending
    slots = np.flatnonzero(tied)  # each run of ties occupies consecutive slots
    keys = group[slots].astype(np.int64) * n + order[slots]
    order[slots] = order[slots][np.argsort(keys)]
    return order
