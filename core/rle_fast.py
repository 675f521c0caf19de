"""The usual compressed RLE counts strings, checked and boxed in few narrow numpy passes.

:func:`fast_decode` takes a batch of strings (one after another, as ASCII) and, for every
string that is *plainly* well-formed, gives what the exact decoder (``_decode_runs`` in
:mod:`labelfix.core.coco_masks`) gives: its pixel total (the sum of its run lengths, as pycocotools' ``rleFrString`` reads
them) and, where asked, pycocotools' ``toBbox`` of it. Plainly well-formed means: characters
'0'..'o' only, a last character without the 0x20 "more" bit, no value wider than 6 characters
(30 bits), every run length from 0 to 2**30 - 1 and, for a box, no empty run after the first
and fewer than 2**31 pixels. Every other string is marked ``slow``: the exact decoder says what
it is (malformed, out of range, or valid after all). So this module only ever answers where the
answer is the exact decoder's, and never says "malformed" itself.

Why int32 is enough: a value of at most 6 characters lies within +-2**29, so in the running sums
of a chain of runs (run m = value m + run m - 2) the first run to leave [0, 2**31) lands in
[-2**29, 2**31 + 2**29): negative as an int32 whichever way it left. Wrapped int32 sums are
exact modulo 2**32, so every run of a string without a negative one is its true value.
"""

from __future__ import annotations

import numpy as np

FAST_WIDTH = 6
"""The widest value (characters) the fast path decodes; wider ones go to the exact decoder."""
_BIG_RUN = 2**30  # a pair of runs must add up within int32
_NO_ROW = np.int32(2**31 - 1)


def fast_decode(
    text: bytes, lengths: np.ndarray, heights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per string of ``text`` (``lengths[k]`` characters each): pixel total, ``slow`` (left
    to the exact decoder: total and box meaningless) and, with ``heights`` (the mask height
    per string, 0 where no box is wanted), the (x, y, w, h) box, NaN where not computed here."""
    n = lengths.size
    totals = np.zeros(n, np.int64)
    slow = np.zeros(n, bool)
    boxes = None if heights is None else np.full((n, 4), np.nan)
    nonempty = np.flatnonzero(lengths)
    if boxes is not None and nonempty.size < n:
        empty = np.ones(n, bool)
        empty[nonempty] = False
        boxes[empty & (heights > 0)] = 0.0  # no runs: pycocotools' zero box
    if not nonempty.size:
        return totals, slow, boxes
    some = nonempty.size < n
    size = lengths[nonempty] if some else lengths
    background, foreground, n_values, bad = _runs(text, size)
    first_row = np.cumsum((n_values + 1) // 2) - (n_values + 1) // 2
    pair = background + foreground  # no overflow: each run is below 2**30 unless ``bad``
    total = np.add.reduceat(pair, first_row, dtype=np.int64)
    totals[nonempty] = total
    slow[nonempty] = bad
    if boxes is None:
        return totals, slow, boxes
    height = heights[nonempty] if some else heights
    wanted = (height > 0) & ~bad
    if wanted.any():
        boxes[nonempty] = _boxes(
            background, foreground, pair, total, first_row, n_values, height, wanted
        )
    return totals, slow, boxes


def _runs(text: bytes, size: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The run lengths of non-empty strings (``size`` characters each) as rows of (even run,
    odd run), int32 (a zero after an odd count), their numbers of runs, and which strings are
    not plainly well-formed (their runs are then meaningless)."""
    m = size.size
    bad = np.zeros(m, bool)
    code = np.frombuffer(text, np.uint8) - np.uint8(48)  # below '0' wraps around above 63
    end = np.cumsum(size)
    if code.max() > 63:
        wrong = np.flatnonzero(code > 63)
        bad[np.searchsorted(end, wrong, side="right")] = True
        code[wrong] = 0
    last = end - 1
    dangling = code[last] > 31  # the last value is unfinished
    if dangling.any():
        bad |= dangling
        code[last[dangling]] &= 31  # never let a value run on into the next string
    more = np.flatnonzero(code > 31)  # characters of values wider than one: few
    n_values = size - np.bincount(np.searchsorted(end, more, side="right"), minlength=m)
    odd = np.flatnonzero(n_values & 1)
    if odd.size:  # a zero value (the character '0') after each odd count: whole pairs of runs
        at = end[odd]
        code = np.insert(code, at, 0)
        more += np.searchsorted(at, more, side="right")
    # one character's value: 5 bits, the last one (0x10) signed
    signed = (code ^ np.uint8(16)).view(np.int8) - np.int8(16)
    if more.size:
        values = signed[code < 32].astype(np.int32)
        _wide_values(values, code, signed, more, bad, n_values)
    else:
        values = signed.astype(np.int32)
    # run m is value m + run m - 2 for m > 2 (run 0 and run 2 start their chains): with each
    # string from an even place, the even and the odd runs are two lanes of cumulative sums,
    # each string's first row taking away the sums of the string before it
    row_end = np.cumsum((n_values + 1) // 2)
    first_row = row_end - (n_values + 1) // 2
    background, foreground = values[0::2].copy(), values[1::2].copy()
    first = background[first_row].copy()
    background[first_row] = 0
    for lane in (background, foreground):
        if first_row.size > 1:
            lane[first_row[1:]] -= np.add.reduceat(lane, first_row)[:-1]
        np.cumsum(lane, out=lane)
    background[first_row] = first
    foreground[(row_end - 1)[n_values & 1 == 1]] = 0  # the zero after an odd count
    for lane in (background, foreground):
        if lane.min() < 0 or lane.max() >= _BIG_RUN:
            far = np.flatnonzero((lane < 0) | (lane >= _BIG_RUN))
            bad[np.searchsorted(row_end, far, side="right")] = True
    return background, foreground, n_values, bad


def _wide_values(
    values: np.ndarray,
    code: np.ndarray,
    signed: np.ndarray,
    more: np.ndarray,
    bad: np.ndarray,
    n_values: np.ndarray,
) -> None:
    """Put the values wider than one character into ``values`` (their last character's place,
    the others dropped); a string with a value wider than :data:`FAST_WIDTH` is ``bad``."""
    ends = np.empty(more.size, bool)  # the last "more" character of each wide value
    np.not_equal(more[1:], more[:-1] + 1, out=ends[:-1])
    ends[-1] = True
    group_end = np.flatnonzero(ends)
    length = group_end + 1  # a wide value's characters with the "more" bit
    length[1:] -= group_end[:-1] + 1
    last = more[group_end] + 1  # its last character
    place = last - (group_end + 1)  # its place among the values
    wide = signed[last].astype(np.int32)
    for k in range(1, min(int(length.max()), FAST_WIDTH - 1) + 1):  # the lower bits, 5 a time
        lower = (wide << 5) | (code[last - k] & np.int32(31))
        np.copyto(wide, lower, where=length >= k)
    too_wide = length >= FAST_WIDTH
    if too_wide.any():
        padded = n_values + (n_values & 1)
        bad[np.searchsorted(np.cumsum(padded), place[too_wide], side="right")] = True
        wide[too_wide] = 0
    values[place] = wide


def _boxes(
    background: np.ndarray,
    foreground: np.ndarray,
    pair: np.ndarray,
    total: np.ndarray,
    first_row: np.ndarray,
    n_values: np.ndarray,
    height: np.ndarray,
    wanted: np.ndarray,
) -> np.ndarray:
    """pycocotools' ``toBbox`` of the ``wanted`` strings (NaN for the others and where an empty
    run after the first, or 2**31 pixels or more, leave it to pycocotools).

    With no empty run the pixels a string names only go forward, so the box spans the column
    of the first foreground pixel to the column of the last one, and the rows of all its
    foreground runs, or every row if a run crosses from one column into the next. Changes
    ``background`` and ``foreground``."""
    m = first_row.size
    boxes = np.full((m, 4), np.nan)
    pairs = n_values // 2
    per_row = np.empty_like(first_row)
    per_row[:-1] = first_row[1:] - first_row[:-1]
    per_row[-1] = background.size - first_row[-1]
    # where each pair ends, counted from its string's start (int32: the totals below 2**31
    # are the ones used; sums of the others wrap harmlessly)
    pair = pair.copy()
    pair[first_row[1:]] -= total[:-1].astype(np.int32)
    pair_end = np.cumsum(pair, out=pair)
    start = pair_end - foreground  # its first foreground pixel
    side = np.where(wanted, height, 1).astype(np.int32)
    top = _rows_of(start, side, first_row, per_row)
    bottom = top + foreground - 1  # its last foreground pixel's row, unless it crosses
    pad = (first_row + per_row - 1)[n_values & 1 == 1]  # the last run of an odd count
    top[pad], bottom[pad] = _NO_ROW, -1
    has_pair = pairs > 0
    last = first_row + np.maximum(pairs, 1) - 1
    x0 = start[first_row] // side
    x1 = (pair_end[last] - 1) // side
    y0 = np.minimum.reduceat(top, first_row)
    y1 = np.maximum.reduceat(bottom, first_row)
    every_row = y1 >= side  # a run crosses into the next column
    y0 = np.where(every_row, 0, y0)
    y1 = np.where(every_row, height - 1, y1)
    # an empty run after the first: the pixels a string names no longer only go forward
    foreground[pad] = 1
    background[first_row] = 1  # a first background run may be empty
    full = (np.minimum.reduceat(foreground, first_row) > 0) & (
        np.minimum.reduceat(background, first_row) > 0
    )
    found = np.column_stack([x0, y0, x1 - x0 + 1, y1 - y0 + 1]).astype(np.float64)
    found[~has_pair] = 0.0
    ok = wanted & (total < 2**31) & (full | ~has_pair)
    boxes[ok] = found[ok]
    return boxes


def _rows_of(pixel: np.ndarray, side: np.ndarray, first_row: np.ndarray, per_row: np.ndarray):
    """``pixel % side`` of each string's rows (``side``: per string): by stretches of strings
    of one height (the strings of one image lie together), a division by one number each."""
    change = np.flatnonzero(np.diff(side)) + 1
    if change.size > 64:  # heights all mixed up
        return pixel % np.repeat(side, per_row)
    out = np.empty_like(pixel)
    cuts = [0, *first_row[change].tolist(), pixel.size]
    for (a, b), h in zip(
        zip(cuts[:-1], cuts[1:], strict=True), side[np.r_[0, change]].tolist(), strict=True
    ):
        chunk = pixel[a:b]
        np.subtract(chunk, chunk // np.int32(h) * np.int32(h), out=out[a:b])
    return out
