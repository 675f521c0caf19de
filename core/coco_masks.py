"""Segmentation checks of the strict COCO reader: polygons and RLE masks.

Split out of :mod:`labelfix.core.coco` (which re-exports :func:`rle_string_totals`); the reader
calls these with its problem report. Beyond the COCO format, they refuse what would make
pycocotools crash or hang later: polygon vertices more than one image size outside the image,
and RLE counts that do not add up to height * width (or are malformed). Compressed RLE strings
are checked in batches: the usual ones by :mod:`labelfix.core.rle_fast` (narrow numpy passes),
the rest by the exact decoder here, whose answers are the rule.

Also here: the small JSON value helpers both modules use in their messages and checks.
"""

from __future__ import annotations

import contextlib
import math
import os
import reprlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, repeat
from typing import Any, Protocol

import numpy as np
from pycocotools import mask as mask_utils

from .rle_fast import fast_decode

MISSING: Any = object()
"""Marks a field absent from a record (``record.get(key, MISSING)``)."""

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NUMBER_TYPES = frozenset((int, float))
_INT_TYPES = frozenset((int,))
_LIST_TYPE = frozenset((list,))
_INF = math.inf
_MAX_RUN = 2**32  # pycocotools stores run lengths as 32-bit unsigned ints
_JSON_KINDS = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}
_REPR = reprlib.Repr()
_REPR.maxlist = 8
_REPR.maxdict = 4
_REPR.maxstring = 40
_REPR.maxother = 40
_REPR.maxlong = 40
_REPR.maxlevel = 3


class Reporter(Protocol):
    """Where checks send their errors (the reader's per-file report)."""

    def error(self, record: str, reason: str) -> None:
        """Record one error at a record path."""

    def assume(self, kind: str, record: str, reason: str) -> None:
        """Record a lenient reading (a warning) at a record path."""


def describe(value: Any) -> str:
    """Describe a JSON value for a message: its kind and a short repr ("got an array [1, 2]")."""
    kind = _JSON_KINDS.get(type(value), type(value).__name__)
    if value is None:
        return "got null"
    return f"got {kind} {_REPR.repr(value)}"


def is_number(value: Any) -> bool:
    """True for a JSON number (int or float, not bool)."""
    return type(value) in _NUMBER_TYPES


def is_finite_number(value: Any) -> bool:
    """True for a finite JSON number: a finite float, or an integer a 64-bit column holds (a
    larger one cannot be stored, and beyond 1e308 not even made a float)."""
    if type(value) is float:
        return math.isfinite(value)
    return type(value) is int and _INT64_MIN <= value <= _INT64_MAX


def _polygon_range(size: tuple[int, int] | None) -> tuple[float, float]:
    """The coordinates a polygon may use: one image size beyond the image on every side.

    pycocotools rasterises polygons with memory and time in proportion to their perimeter in
    pixels (a vertex at 1e9 takes tens of GB, 1e308 crashes it), so far-out vertices are errors.
    """
    if size is None:
        return -_INF, _INF
    side = max(size)
    return -float(side), 2.0 * side


def _check_polygons(
    record: str, parts: list[Any], size: tuple[int, int] | None, report: Reporter
) -> bool:
    """Check a list of polygons: each >= 6 finite numbers, an even count, near the image."""
    if parts and all(map(is_number, parts)):
        report.error(
            record,
            "a flat list of numbers is not a COCO segmentation; "
            "polygons go in a list of lists: [[x1, y1, x2, y2, ...]]",
        )
        return False
    lo, hi = _polygon_range(size)
    ok = True
    for j, part in enumerate(parts):
        if part == [] and len(parts) > 1:  # exporters leave these beside the real parts
            report.assume(
                "empty polygon part",
                f"{record}[{j}]",
                "empty polygon part beside real ones: ignored for geometry (kept as written "
                "on export)",
            )
            continue
        if type(part) is not list:
            report.error(f"{record}[{j}]", f"polygon must be an array of numbers, {describe(part)}")
            ok = False
        elif not all(map(is_finite_number, part)):
            bad = next(v for v in part if not is_finite_number(v))
            report.error(
                f"{record}[{j}]", f"polygon coordinates must be finite numbers, {describe(bad)}"
            )
            ok = False
        elif len(part) < 6:
            report.error(
                f"{record}[{j}]",
                f"polygon needs at least 3 points (6 numbers), got {len(part)} numbers",
            )
            ok = False
        elif len(part) % 2:
            report.error(
                f"{record}[{j}]", f"polygon has an odd number of coordinates ({len(part)})"
            )
            ok = False
        elif not lo <= min(part) <= max(part) <= hi:
            far = min(part) if min(part) < lo else max(part)
            report.error(
                f"{record}[{j}]",
                f"polygon coordinate {far!r} is far outside the {size[1]}x{size[0]} image "
                f"(allowed {lo:g} to {hi:g}; pycocotools cannot rasterise it safely)",
            )
            ok = False
    return ok


def _polygons_ok(parts: list[Any], lo: float, hi: float) -> bool:
    """Fast happy-path test of a polygon list (no messages); False means look closer."""
    if not parts:
        return False
    issuperset = _NUMBER_TYPES.issuperset
    isfinite = math.isfinite
    try:
        for part in parts:
            if (
                type(part) is not list
                or len(part) < 6
                or len(part) & 1
                or not issuperset(map(type, part))
                or not isfinite(sum(part))
                or min(part) < lo
                or max(part) > hi
            ):
                return False
    except OverflowError:  # an integer beyond any float: the full check names it
        return False
    return True


def _check_rle(
    record: str,
    rle: dict[str, Any],
    size: tuple[int, int] | None,
    report: Reporter,
    pending: list[tuple[Any, str, int]],
) -> bool:
    """Check an RLE object: size [h, w] (matching the image) and compressed/uncompressed counts."""
    rle_size = rle.get("size", MISSING)
    counts = rle.get("counts", MISSING)
    ok = True
    if rle_size is MISSING:
        report.error(f"{record}.size", "missing required field of an RLE mask")
        ok = False
    elif not (
        type(rle_size) is list
        and len(rle_size) == 2
        and all(type(v) is int and 0 <= v <= _INT64_MAX for v in rle_size)
    ):
        report.error(
            f"{record}.size", f"RLE size must be [height, width] integers, {describe(rle_size)}"
        )
        ok = False
    elif size is not None and tuple(rle_size) != tuple(size):
        report.error(
            f"{record}.size",
            f"RLE size {rle_size!r} differs from the image's [height, width] {list(size)!r}",
        )
        ok = False
    if counts is MISSING:
        report.error(f"{record}.counts", "missing required field of an RLE mask")
        return False
    if type(counts) is str:
        if ok:
            pending.append((f"{record}.counts", counts, rle_size[0] * rle_size[1]))
        return ok
    if type(counts) is not list:
        report.error(
            f"{record}.counts",
            "RLE counts must be a string (compressed) or an array "
            f"of integers (uncompressed), {describe(counts)}",
        )
        return False
    if not (
        _INT_TYPES.issuperset(map(type, counts))
        and (not counts or (min(counts) >= 0 and max(counts) < _MAX_RUN))
    ):
        bad = next(v for v in counts if type(v) is not int or not 0 <= v < _MAX_RUN)
        report.error(
            f"{record}.counts",
            f"uncompressed RLE counts must be integers from 0 to 2**32 - 1, {describe(bad)}",
        )
        return False
    if ok and sum(counts) != rle_size[0] * rle_size[1]:
        report.error(
            f"{record}.counts",
            f"uncompressed RLE counts cover {sum(counts)} pixels but size "
            f"{rle_size[0]}x{rle_size[1]} has {rle_size[0] * rle_size[1]}",
        )
        return False
    return ok


def check_segmentation(
    record: str,
    seg: Any,
    size: tuple[int, int] | None,
    report: Reporter,
    pending: list[tuple[Any, str, int]],
    allow_empty: bool,
) -> bool:
    """Check polygons or an RLE mask."""
    if type(seg) is list:
        if not seg and not allow_empty:
            report.error(record, "segmentation is empty")
            return False
        lo, hi = _polygon_range(size)
        return _polygons_ok(seg, lo, hi) or _check_polygons(record, seg, size, report)
    if type(seg) is dict:
        return _check_rle(record, seg, size, report, pending)
    report.error(
        record,
        "segmentation must be an array of polygons or an RLE object "
        f"with size and counts, {describe(seg)}",
    )
    return False


def rle_string_totals(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Decode compressed RLE counts strings (vectorised): per string, pixel total and validity.

    Valid means: only characters '0'..'o', every value complete, no value wider than 60 bits, and
    every run length from 0 to 2**32 - 1 (anything else makes pycocotools misread the mask, and
    a total above height * width makes its decode write past the mask buffer).
    """
    runs = _decode_runs(strings)
    return runs.totals, runs.valid


class _Runs:
    """The run lengths of many RLE strings, decoded at once: each non-empty string's runs
    from an even place (``start``) of one array, in ``length`` places (``count`` runs, then a
    zero after an odd count)."""

    __slots__ = ("totals", "valid", "nonempty", "runs", "start", "length", "count", "text", "sizes")

    def __init__(self, n: int) -> None:
        self.totals = np.zeros(n, dtype=np.int64)
        self.valid = np.ones(n, dtype=bool)
        self.nonempty = np.zeros(0, dtype=np.int64)
        self.runs = self.start = self.length = self.count = self.nonempty
        self.text = b""  # the strings one after another, as ASCII
        self.sizes = np.zeros(n, dtype=np.int64)  # their lengths


def _decode_runs(strings: list[str]) -> _Runs:
    """Per string: total, validity (see :func:`rle_string_totals`) and the runs themselves."""
    n = len(strings)
    out = _Runs(n)
    totals, valid = out.totals, out.valid
    lengths = out.sizes = np.fromiter(map(len, strings), dtype=np.int64, count=n)
    nonempty = np.flatnonzero(lengths)
    if nonempty.size == 0:
        return out
    joined = "".join(strings)
    if not joined.isascii():
        valid &= np.fromiter((s.isascii() for s in strings), dtype=bool, count=n)
    out.text = joined.encode("ascii", "replace")
    code = np.frombuffer(out.text, dtype=np.uint8) - np.uint8(48)
    string_end = np.cumsum(lengths)
    bad = np.flatnonzero(code > 63)  # characters below '0' wrap around to > 63
    if bad.size:
        valid[np.searchsorted(string_end, bad, side="right")] = False
        code[bad] = 0
    last_char = string_end[nonempty] - 1
    valid[nonempty[code[last_char] > 31]] = False  # the 0x20 "more" bit: the value is unfinished
    code[last_char] &= 0x1F  # never let a value run on into the next string
    # values: a value ends at a character without the "more" bit, 5 bits per character, the
    # last one signed (its bit 0x10): value = signed(last) << 5 * (width - 1) + the lower bits
    ends = np.flatnonzero(code < 32)
    n_values = np.diff(np.searchsorted(ends, last_char, side="right"), prepend=0)
    head = np.cumsum(n_values) - n_values  # each (non-empty) string's first value
    value_end = head + n_values

    def invalidate(value_positions: np.ndarray) -> None:
        if value_positions.size:
            valid[nonempty[np.searchsorted(value_end, value_positions, side="right")]] = False

    value = ((code[ends] ^ np.uint8(16)).view(np.int8) - np.int8(16)).astype(np.int64)
    more = np.flatnonzero(code > 31)  # most values are one character wide: few of these
    if more.size:
        wide = np.searchsorted(ends, more)  # the values they are part of (ascending)
        wide = wide[np.flatnonzero(np.diff(wide, prepend=-1))]
        w = ends[wide] - np.where(wide > 0, ends[wide - 1], -1)
        invalidate(wide[w > 12])  # wider than 12 characters (60 bits)
        w = np.minimum(w, 12)
        first = ends[wide] - w + 1
        value[wide] <<= 5 * (w - 1)
        k, lower = 0, np.arange(wide.size)
        while lower.size:
            value[wide[lower]] += (code[first[lower] + k] & np.int64(0x1F)) << (5 * k)
            k += 1
            lower = lower[w[lower] - 1 > k]
        if w.max() > 6:  # beyond 30 bits: sums of many could overflow
            np.clip(value, -_MAX_RUN, _MAX_RUN, out=value)  # out-of-range runs fail below
    # run m is value[m] + run[m - 2] for m > 2: two chains of running sums per string (odd m;
    # even m from 2). Each string is laid out from an even place of a padded array, so its
    # values pair up as rows (even m, odd m) and one cumulative sum down the rows runs both
    # chains of every string at once; each string's sums then restart from the row before it.
    padded = n_values + (n_values & 1)
    padded_start = np.cumsum(padded) - padded
    odd = value_end[n_values & 1 == 1]  # a zero after each string of an odd count
    chains = np.insert(value, odd, 0) if odd.size else value.copy()
    chains[padded_start] = 0  # run 0 is its value alone
    rows = chains.reshape(-1, 2).cumsum(axis=0)
    first_row = padded_start // 2
    restart = np.zeros((first_row.size, 2), dtype=np.int64)
    restart[1:] = rows[first_row[1:] - 1]
    rows -= np.repeat(restart, padded // 2, axis=0)
    runs = rows.reshape(-1)
    runs[padded_start] = value[head]
    runs[(padded_start + padded - 1)[n_values & 1 == 1]] = 0  # the padding after an odd count
    out_of_range = np.flatnonzero(runs.view(np.uint64) >= _MAX_RUN)
    if out_of_range.size:
        owner = np.searchsorted(padded_start + padded, out_of_range, side="right")
        valid[nonempty[owner]] = False
    totals[nonempty] = np.add.reduceat(runs, padded_start)
    out.nonempty, out.runs, out.start, out.length, out.count = (
        nonempty, runs, padded_start, padded, n_values
    )  # fmt: skip
    return out


def _boxes(decoded: _Runs, chosen: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """pycocotools' ``toBbox`` of the valid strings ``chosen`` (indices into the decoded
    strings; ``heights`` their masks' heights), from their decoded runs: (x, y, w, h) rows,
    NaN where this leaves the string to pycocotools (an empty run after the first, or a mask
    of 2**32 pixels or more).

    toBbox looks at whole (background, foreground) pairs of runs: a foreground run starts at
    pixel s and ends at pixel e (column-major, so column = pixel // height, row = pixel %
    height); the box spans the columns and rows of all those ends, and every row where a run
    crosses from one column into the next. A string of fewer than two runs has a zero box."""
    boxes = np.full((chosen.size, 4), np.nan)
    if not chosen.size:
        return boxes
    nonempty = decoded.nonempty
    if nonempty.size == decoded.totals.size:  # no empty string: string i is nonempty[i]
        k, where = np.arange(chosen.size), chosen
    else:
        where = np.minimum(np.searchsorted(nonempty, chosen), max(nonempty.size - 1, 0))
        present = (nonempty[where] == chosen) if nonempty.size else np.zeros(chosen.size, bool)
        boxes[~present] = 0.0  # an empty string: no runs
        k = np.flatnonzero(present)
        where, heights = where[k], heights[k]
    start, pairs = decoded.start[where], decoded.count[where] // 2
    boxes[k[pairs == 0]] = 0.0
    use = np.flatnonzero((pairs > 0) & (decoded.totals[chosen[k]] < 2**32))
    if not use.size:
        return boxes
    k, start, pairs = k[use], start[use], pairs[use]
    height = heights[use].astype(np.float64)
    if k.size == nonempty.size:  # every string: its pairs are the rows of the runs as laid out
        rows = decoded.runs.reshape(-1, 2)
        background, foreground = rows[:, 0], rows[:, 1]
        first_pair, counts = start // 2, decoded.length // 2
        pad = (first_pair + counts - 1)[decoded.count & 1 == 1]  # a last run without its pair
    else:
        first_pair, counts, pad = np.cumsum(pairs) - pairs, pairs, None
        # pair p of a string: runs[at] (background), runs[at + 1] (foreground)
        at = 2 * np.arange(int(first_pair[-1] + pairs[-1]))
        at += np.repeat(start - 2 * first_pair, pairs)
        background, foreground = decoded.runs[at], decoded.runs[at + 1]
    pair_end = np.cumsum(background + foreground)
    before = np.zeros(k.size, dtype=np.int64)
    before[1:] = pair_end[first_pair[1:] - 1]
    pair_end -= np.repeat(before, counts)
    empty = foreground == 0
    empty[1:] |= background[1:] == 0
    empty[first_pair] = foreground[first_pair] == 0  # a first background run may be empty
    # column = pixel // height, row = pixel % height; exact in doubles below 2**53
    h = np.repeat(height, counts)
    first, last = (pair_end - foreground).astype(np.float64), (pair_end - 1).astype(np.float64)
    x0, x1 = np.floor(first / h), np.floor(last / h)
    y0, y1 = first - x0 * h, last - x1 * h
    if pad is not None and pad.size:  # no part of the box
        x0[pad] = y0[pad] = np.inf
        x1[pad] = y1[pad] = -np.inf
        empty[pad] = False
    xs = np.minimum.reduceat(x0, first_pair)
    xe = np.maximum.reduceat(x1, first_pair)
    crosses = np.maximum.reduceat(x0 < x1, first_pair)
    ys = np.where(crosses, 0.0, np.minimum.reduceat(y0, first_pair))
    ye = np.where(crosses, height - 1, np.maximum.reduceat(y1, first_pair))
    found = np.column_stack([xs, ys, xe - xs + 1, ye - ys + 1])
    found[np.maximum.reduceat(empty, first_pair)] = np.nan  # left to pycocotools
    boxes[k] = found
    return boxes


_RLE_CHUNK_CHARS = 200_000  # small batches keep the numpy arrays in cache


def check_rle_strings(
    pending: list[tuple[Any, str, int]],
    report: Reporter,
    where: Any = str,
    heights: Mapping[Any, int] | None = None,
    texts: list[tuple[bytes, np.ndarray]] | None = None,
) -> dict[Any, list[float]]:
    """Decode pending compressed RLE strings in batches; report malformed or mis-sized ones.

    Each item is (place, counts, pixels); ``where(place)`` names the record for a message.
    ``heights``: place -> mask height of the items whose box is wanted; returns place -> box
    (pycocotools' ``toBbox``, from the same decoding) for those it could compute (see
    :func:`check_rle_columns`; :func:`derive_boxes` does the others). ``texts``: gets each
    batch's strings as the decoding encoded them (ASCII, one after another) and their lengths.
    """
    if not pending:
        return {}
    places, strings, pixels = zip(*pending, strict=True)
    wanted = None
    if heights:
        wanted = np.fromiter(map(heights.get, places, repeat(0)), np.int64, len(places))
    found = check_rle_columns(places, strings, pixels, report, where, wanted, texts)
    if found is None:
        return {}
    chosen = np.flatnonzero(~np.isnan(found[:, 0])).tolist()
    return dict(zip([places[k] for k in chosen], found[chosen].tolist(), strict=True))


def check_rle_columns(
    places: Sequence[Any],
    strings: Sequence[str],
    pixels: Sequence[int],
    report: Reporter,
    where: Any = str,
    wanted: np.ndarray | None = None,
    texts: list[tuple[bytes, np.ndarray]] | None = None,
) -> np.ndarray | None:
    """:func:`check_rle_strings` of items given as columns; ``wanted``: per item the mask
    height where its box is wanted, else 0. Returns the boxes (one row per item; NaN where not
    wanted, the string failed its check, or pycocotools must say: :func:`derive_boxes`).

    The usual strings are decoded by :func:`.rle_fast.fast_decode`; the few it leaves (anything
    not plainly well-formed) by :func:`_decode_runs`, whose answers are the rule.
    """
    n = len(strings)
    boxes = None if wanted is None else np.full((n, 4), np.nan)
    lengths_all = np.fromiter(map(len, strings), np.int64, n)
    ends = np.cumsum(lengths_all)
    if isinstance(pixels, np.ndarray):  # the column check's (not one numpy scalar at a time)
        pixels_all: np.ndarray | None = pixels.astype(np.int64, copy=False)
    else:
        try:
            pixels_all = np.fromiter(pixels, np.int64, n)
        except OverflowError:  # a size beyond 64 bits: no string adds up to it
            pixels_all = None
    cuts = rle_batches(ends)

    def decode(cut: tuple[int, int]) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray | None]:
        start, stop = cut
        heights = None if wanted is None else wanted[start:stop]
        return _decode_batch(strings[start:stop], lengths_all[start:stop], heights)

    with _batches(len(cuts)) as run:
        for (start, stop), (text, totals, valid, found) in zip(
            cuts, run(decode, cuts), strict=True
        ):
            if texts is not None:
                texts.append((text, lengths_all[start:stop]))
            if pixels_all is not None:
                wrong = np.flatnonzero(~valid | (totals != pixels_all[start:stop]))
            else:
                wrong = np.flatnonzero(~valid | np.array([t != p for t, p in zip(
                    totals.tolist(), pixels[start:stop], strict=True)]))  # fmt: skip
            for k in wrong.tolist():
                place, counts, size = places[start + k], strings[start + k], pixels[start + k]
                if not valid[k]:
                    report.error(
                        where(place),
                        f"compressed RLE counts string is malformed: {describe(counts)}",
                    )
                elif totals[k] != size:
                    report.error(
                        where(place),
                        f"compressed RLE counts cover {totals[k]} pixels but its size has {size}",
                    )
            if boxes is not None and found is not None:
                found[wrong] = np.nan
                boxes[start:stop] = found
    return boxes


def rle_batches(ends: np.ndarray) -> list[tuple[int, int]]:
    """The batches (first, one past the last string) :func:`check_rle_columns` decodes strings
    in, given where each string ends in their text (``ends``: the cumulative lengths)."""
    n = len(ends)
    cuts, start = [], 0
    while start < n:
        base = int(ends[start - 1]) if start else 0
        stop = min(int(np.searchsorted(ends, base + _RLE_CHUNK_CHARS)) + 1, n)
        cuts.append((start, stop))
        start = stop
    return cuts


def _decode_batch(
    batch: Sequence[str], lengths: np.ndarray, heights: np.ndarray | None
) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray | None]:
    """One batch of strings: (their ASCII text, totals, validity, boxes where ``heights``)."""
    joined = "".join(batch)
    text = joined.encode("ascii", "replace")
    other = None
    if not joined.isascii():
        other = ~np.fromiter(map(str.isascii, batch), bool, len(batch))
    return (text, *decode_rle_text(text, lengths, heights, batch, other))


def decode_rle_text(
    text: bytes | memoryview,
    lengths: np.ndarray,
    heights: np.ndarray | None,
    batch: Sequence[str] | None = None,
    slow_too: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Counts strings given as their ASCII text one after another (``lengths[k]`` characters
    each; ``batch``: the same as strings, if at hand): (totals, validity, boxes where
    ``heights``), the exact decoder's answers. ``slow_too``: strings for the exact decoder
    whatever the fast one says."""
    totals, slow, found = fast_decode(text, lengths, heights)
    if slow_too is not None:
        slow |= slow_too
    valid = ~slow
    exact = np.flatnonzero(slow)
    if exact.size:  # the exact decoder's answers for the rest
        if batch is None:  # the text is ASCII: its strings' characters are its bytes
            starts = (np.cumsum(lengths) - lengths)[exact].tolist()
            picked = [
                bytes(text[a : a + n]).decode("ascii")
                for a, n in zip(starts, lengths[exact].tolist(), strict=True)
            ]
        else:
            picked = [batch[k] for k in exact.tolist()]
        decoded = _decode_runs(picked)
        totals[exact], valid[exact] = decoded.totals, decoded.valid
        if found is not None and heights is not None:
            sub = np.flatnonzero(decoded.valid & (heights[exact] > 0))
            found[exact[sub]] = _boxes(decoded, sub, heights[exact[sub]])
    return totals, valid, found


@contextlib.contextmanager
def _batches(count: int) -> Iterator[Callable]:
    """``map`` for the batches of :func:`check_rle_columns`: on a second thread too when there
    are many (numpy lets go of the GIL inside its loops, so two batches decode at once)."""
    workers = min(2, os.cpu_count() or 1)
    if count < 4 or workers < 2:
        yield map
        return
    with ThreadPoolExecutor(workers) as pool:
        yield pool.map


def polygons_ok(segs: list[Any], sides: np.ndarray) -> np.ndarray:
    """Per segmentation: is it a polygon list the reader takes as it is (what
    :func:`_polygons_ok` says, near an image whose larger side is ``sides[k]``), tested in one
    numpy pass over every coordinate; False also for anything unusual (the reader then checks
    that one alone, with its messages and lenient readings)."""
    n = len(segs)
    ok = np.zeros(n, bool)
    if set(map(type, segs)) == {list}:  # the usual: no per-item test
        is_list = np.ones(n, bool)
    else:
        is_list = np.fromiter((type(seg) is list for seg in segs), bool, n)
    rows = np.flatnonzero(is_list)
    lists = segs if rows.size == n else [segs[k] for k in rows.tolist()]
    n_parts = np.fromiter(map(len, lists), np.int64, rows.size)
    parts = list(chain.from_iterable(lists))
    try:
        if not _LIST_TYPE.issuperset(map(type, parts)):
            raise TypeError
        flat = list(chain.from_iterable(parts))
        if not _NUMBER_TYPES.issuperset(map(type, flat)):
            raise TypeError
        coords = np.fromiter(flat, np.float64, len(flat))  # types checked: as np.array, faster
    except (TypeError, OverflowError):  # one by one, as the reader's fast test does
        for k in rows.tolist():
            side = float(sides[k])
            ok[k] = _polygons_ok(segs[k], -side, 2.0 * side)
        return ok
    lengths = np.fromiter(map(len, parts), np.int64, len(parts))
    bad_part = (lengths < 6) | (lengths % 2 == 1)
    finite = np.isfinite(coords)
    if not finite.all():
        part_end = np.cumsum(lengths)
        bad_part[np.searchsorted(part_end, np.flatnonzero(~finite), side="right")] = True
        coords[~finite] = 0.0
    filled = np.flatnonzero(lengths)
    if filled.size:
        starts = (np.cumsum(lengths) - lengths)[filled]
        side = np.repeat(np.asarray(sides, np.float64)[rows], n_parts)[filled]
        low = np.minimum.reduceat(coords, starts)
        high = np.maximum.reduceat(coords, starts)
        bad_part[filled] |= (low < -side) | (high > 2.0 * side)
    some = np.flatnonzero(n_parts)  # an empty list is no polygon (the reader says so)
    if some.size:
        first_part = (np.cumsum(n_parts) - n_parts)[some]
        ok[rows[some]] = np.add.reduceat(bad_part, first_part) == 0
    return ok


def _mask_rle(seg: Any, height: int, width: int) -> dict[str, Any]:
    """One compressed RLE for a validated segmentation (polygons merged, as pycocotools does)."""
    if type(seg) is list:
        return mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    if type(seg["counts"]) is list:
        return mask_utils.frPyObjects(seg, height, width)
    return seg


def derive_boxes(
    records: list[dict[str, Any]],
    indices: list[int],
    sizes: Mapping[int, tuple[int, int]],
    known: Mapping[int, list[float]] | None = None,
    offset: int = 0,
) -> None:
    """Write a mask-derived "bbox" into segmentation-only records (pycocotools toBbox);
    ``known``: index + ``offset`` -> box already computed (by :func:`check_rle_strings`)."""
    if known:
        rest = []
        for i in indices:
            box = known.get(i + offset)
            if box is None:
                rest.append(i)
            else:
                records[i]["bbox"] = box
        indices = rest
    if not indices:
        return
    rles: list[Any] = [None] * len(indices)
    single: dict[tuple[int, int], list[int]] = {}  # one-polygon lists by image size
    for k, i in enumerate(indices):
        record = records[i]
        seg = record["segmentation"]
        size = sizes[record["image_id"]]
        if type(seg) is list and len(seg) == 1:
            single.setdefault(size, []).append(k)
        else:
            rles[k] = _mask_rle(seg, *size)
    for (height, width), ks in single.items():  # merging one polygon's RLE changes nothing
        polygons = [records[indices[k]]["segmentation"][0] for k in ks]
        for k, rle in zip(ks, mask_utils.frPyObjects(polygons, height, width), strict=True):
            rles[k] = rle
    boxes = mask_utils.toBbox(rles).tolist()
    for i, box in zip(indices, boxes, strict=True):
        records[i]["bbox"] = box
