"""The fast path of reading a COCO results file: its fields as numpy columns, checked column by
column.

:func:`check_columns` pulls each field out of the parsed records with C-level ``map`` calls,
tests every record's types and values at once in numpy, and sorts the records into three
groups: clean (their values are the columns), clean but worth a warning (a box outside the
image or of zero area), and the rest, which the reader checks one by one with its full
messages (:func:`labelfix.core.coco_results._check_prediction`). Anything unusual about a whole column
(a number too large for 64 bits, say) sends every record down the one-by-one path; so the fast
path decides nothing the full check would decide differently, it only skips it where the
answer is "valid".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import chain, repeat
from operator import eq, is_, itemgetter, methodcaller
from typing import Any

import numpy as np

from .coco_masks import MISSING, polygons_ok

_NUMBER = (int, float)
_INT = frozenset((int,))
_ABSENT = type(MISSING)  # a plain object: no JSON value has this type


@dataclass
class CheckedColumns:
    """The columns of the records that passed, and what the reader still has to do."""

    image_id: np.ndarray  # int64 (n,), 0 where not clean
    category_id: np.ndarray  # int64 (n,)
    score: np.ndarray  # float64 (n,)
    box: np.ndarray  # float64 (n, 4), NaN where the record has no box (yet)
    has_segmentation: np.ndarray  # bool (n,)
    extra_keys: np.ndarray  # bool (n,): the record has keys beyond the five COCO ones
    plain_rle: np.ndarray  # bool (n,): the segmentation is {"size", "counts": "<string>"}
    slow: np.ndarray  # indices to check one by one, ascending
    warn: np.ndarray  # clean indices whose box needs a warning, ascending
    rle_rows: np.ndarray  # the clean records with a compressed RLE (ascending)
    rle_counts: list[str]  # their counts strings
    rle_pixels: np.ndarray  # their images' height * width
    derive: list[int]  # clean records with a mask but no box: the box comes from the mask
    # (clean masks: compressed RLEs of the image's size and polygon lists)

    @property
    def pending(self) -> list[tuple[int, str, int]]:
        """The compressed RLE strings as (index, counts, h * w) items."""
        rows, pixels = self.rle_rows.tolist(), self.rle_pixels.tolist()
        return list(zip(rows, self.rle_counts, pixels, strict=True))


def _column(records: list[dict], key: str) -> list[Any]:
    """The field of every record (:data:`MISSING` where absent); C-level loops only."""
    try:
        return list(map(itemgetter(key), records))
    except KeyError:
        return list(map(methodcaller("get", key, MISSING), records))


def _of_type(values: list[Any], *kinds: type, found: set[type] | None = None) -> np.ndarray:
    """Per value: is its type one of ``kinds`` (exactly: a bool is no int); ``found``: the
    values' types, when known already (a pass over the values saved)."""
    if found is None:
        found = set(map(type, values))  # one pass; usually one type
    if found <= set(kinds):
        return np.ones(len(values), bool)
    if found.isdisjoint(kinds):
        return np.zeros(len(values), bool)
    out = np.fromiter(map(is_, map(type, values), repeat(kinds[0])), bool, len(values))
    for kind in kinds[1:]:
        out |= np.fromiter(map(is_, map(type, values), repeat(kind)), bool, len(values))
    return out


def _numbers(
    values: list[Any], dtype: type, kinds: tuple[type, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as ``dtype`` and the mask of those that are of ``kinds`` and convert exactly
    (0 elsewhere; integers only within 64 bits)."""
    n = len(values)
    if set(map(type, values)) <= set(kinds):
        try:  # the types are checked: fromiter converts as np.array does, in one pass, faster
            out = np.fromiter(values, dtype, n)
        except (OverflowError, ValueError):
            pass
        else:
            return out, _within_int64(values, out)
    ok = _of_type(values, *kinds)
    out = np.zeros(n, dtype)
    for k in np.flatnonzero(ok).tolist():
        try:
            out[k] = values[k]
        except (OverflowError, ValueError):
            ok[k] = False
    return out, ok & _within_int64(values, out)


def _within_int64(values: list[Any], out: np.ndarray) -> np.ndarray:
    """False where ``values`` has an integer no 64-bit column holds (as the reader's one-by-one
    check says: a float column would take 1e20, the labels' integer columns would not)."""
    ok = np.ones(len(values), bool)
    if out.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            far = np.flatnonzero(np.abs(out) >= 2.0**63)
        for k in far.tolist():
            if type(values[k]) is int and not -(2**63) <= values[k] < 2**63:
                ok[k] = False
    return ok


class ImageTable:
    """The known images as sorted numpy columns (id; height, width), made once per file."""

    def __init__(self, sizes: Mapping[int, tuple[int, int] | None]) -> None:
        known = np.fromiter(
            (k for k, v in sizes.items() if v is not None and type(k) is int), np.int64
        )
        hw = np.array([sizes[k] for k in known.tolist()], dtype=np.int64).reshape(-1, 2)
        order = np.argsort(known)
        self.ids, self.sizes = known[order], hw[order]
        self._distinct: tuple[list[list[int]], np.ndarray] | None = None

    def size_lists(self, at: np.ndarray) -> list[list[int]]:
        """The [height, width] of the images at places ``at`` of the table, as lists (what an
        RLE's "size" is compared with): one list per distinct size, shared, made once (not a
        new list per record, nor one per image: few sizes, and a million images at scale)."""
        if self._distinct is None:
            distinct, which = np.unique(self.sizes.reshape(-1, 2), axis=0, return_inverse=True)
            self._distinct = distinct.tolist(), which.reshape(-1)
        lists, which = self._distinct
        return list(map(lists.__getitem__, which[at].tolist()))


def _plain_rles(
    segs: list[Any], rows: np.ndarray, image_at: np.ndarray, table: ImageTable
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The ``rows`` whose segmentation is a compressed RLE of the image's size ({"size":
    [height, width], "counts": "<string>"}, maybe with other keys), per such row whether those
    two keys are all it has, and their counts strings. C-level loops and numpy only, and few
    passes over the records (each one reaches every record's objects in memory). ``image_at``:
    per record the place of its image in ``table``."""
    none: tuple[np.ndarray, np.ndarray, list[str]] = (np.zeros(0, np.int64), np.zeros(0, bool), [])
    if not rows.size:
        return none
    picked = segs if rows.size == len(segs) else [segs[k] for k in rows.tolist()]
    is_dict = _of_type(picked, dict)
    if not is_dict.all():
        rows = rows[is_dict]
        picked = [picked[k] for k in np.flatnonzero(is_dict).tolist()]
        if not rows.size:
            return none
    counts, sizes = _column(picked, "counts"), _column(picked, "size")
    ok = _of_type(counts, str) & _of_type(sizes, list)
    at = np.flatnonzero(ok)
    listed = sizes if at.size == len(sizes) else [sizes[k] for k in at.tolist()]
    # equal to the image's [height, width] (list equality: two items, each ==) ...
    expected = table.size_lists(image_at[rows[at]])
    same = np.fromiter(map(eq, listed, expected), bool, len(listed))
    at = at[same]
    listed = [sizes[k] for k in at.tolist()] if not same.all() else listed
    # ... and integers (1.0 or True would be equal too)
    if not _INT.issuperset(map(type, chain.from_iterable(listed))):
        ints = np.fromiter((_INT.issuperset(map(type, size)) for size in listed), bool, at.size)
        at = at[ints]
    if at.size < len(picked):
        picked = [picked[k] for k in at.tolist()]
        counts = [counts[k] for k in at.tolist()]
    plain = np.fromiter(map(len, picked), np.int64, len(picked)) == 2
    return rows[at], plain, list(counts)


def check_columns(
    records: list[Any],
    sizes: Mapping[int, tuple[int, int] | None],
    category_ids: Collection[int],
    table: ImageTable | None = None,
) -> CheckedColumns | None:
    """Columns and the three groups (see the module); None when the records are not a list of
    objects (the reader then checks them one by one)."""
    n = len(records)
    if n == 0 or set(map(type, records)) != {dict}:
        return None
    image_id, id_ok = _numbers(_column(records, "image_id"), np.int64, (int,))
    category_id, cat_ok = _numbers(_column(records, "category_id"), np.int64, (int,))
    score, score_ok = _numbers(_column(records, "score"), np.float64, _NUMBER)
    table = table or ImageTable(sizes)
    known, hw = table.ids, table.sizes
    pos = np.clip(np.searchsorted(known, image_id), 0, max(len(known) - 1, 0))
    id_ok &= (known[pos] == image_id) if len(known) else False
    height = np.where(id_ok, hw[pos, 0] if len(known) else 0, 0)
    width = np.where(id_ok, hw[pos, 1] if len(known) else 0, 0)
    cats = np.fromiter((c for c in category_ids if type(c) is int), np.int64)
    cat_ok &= np.isin(category_id, cats)
    score_ok &= (score >= 0) & (score <= 1)
    good = id_ok & cat_ok & score_ok

    boxes = _column(records, "bbox")
    box_types = set(map(type, boxes))
    has_box = ~_of_type(boxes, _ABSENT, found=box_types)
    box = np.full((n, 4), np.nan)
    is_list = _of_type(boxes, list, found=box_types)
    rows = np.flatnonzero(is_list)
    box_ok = np.zeros(n, bool)
    if rows.size:
        listed = [boxes[k] for k in rows.tolist()] if rows.size < n else boxes
        four = np.fromiter(map(len, listed), np.int64, rows.size) == 4
        rows = rows[four]
        listed = [boxes[k] for k in rows.tolist()] if rows.size < n else boxes
        if rows.size:
            flat = list(chain.from_iterable(listed))
            values, number = _numbers(flat, np.float64, _NUMBER)
            values, number = values.reshape(-1, 4), number.reshape(-1, 4).all(axis=1)
            x, y, w, h = values.T
            with np.errstate(over="ignore", invalid="ignore"):
                plain = (
                    number
                    & (w >= 0)
                    & (h >= 0)
                    & (x > -np.inf)
                    & (y > -np.inf)
                    & (x + w < np.inf)
                    & (y + h < np.inf)
                )
            box[rows] = values
            box_ok[rows] = plain

    lengths = np.fromiter(map(len, records), np.int64, n)
    if _ABSENT not in box_types and (lengths == 4).all():
        # a box and three other keys each: no segmentation but in records without one of the
        # three fields they need (never clean: checked one by one, their columns read again)
        segs: list[Any] = [MISSING] * n
        seg_types = {_ABSENT}
    else:
        segs = _column(records, "segmentation")
        seg_types = set(map(type, segs))
    has_seg = ~_of_type(segs, _ABSENT, found=seg_types)
    seg_ok = ~has_seg
    derive: list[int] = []
    plain_rle = np.zeros(n, bool)
    seg_rows = np.flatnonzero(has_seg & good & (box_ok | ~has_box))
    rle_rows, plain, rle_counts = _plain_rles(segs, seg_rows, pos, table)
    if rle_rows.size:
        seg_ok[rle_rows] = True
        plain_rle[rle_rows] = plain
        derive = rle_rows[~has_box[rle_rows]].tolist()
    polygon_rows = np.flatnonzero(has_seg & good & _of_type(segs, list, found=seg_types))
    if polygon_rows.size:  # polygon lists the reader takes as they are; the rest one by one
        sides = np.maximum(height, width)[polygon_rows]
        fine = polygons_ok([segs[k] for k in polygon_rows.tolist()], sides)
        fine &= ~(has_box[polygon_rows] & ~box_ok[polygon_rows])
        polygon_rows = polygon_rows[fine]
        seg_ok[polygon_rows] = True
        derive = sorted(derive + polygon_rows[~has_box[polygon_rows]].tolist())
    clean = good & seg_ok & (box_ok | (has_seg & ~has_box & seg_ok))
    x, y, w, h = box.T
    with np.errstate(over="ignore", invalid="ignore"):
        warn = (
            clean
            & box_ok
            & (
                (w == 0)
                | (h == 0)
                | (x < -1)
                | (y < -1)
                | (x + w > width + 1)
                | (y + h > height + 1)
            )
        )
    fields = 3 + has_box.astype(np.int64) + has_seg.astype(np.int64)
    return CheckedColumns(
        image_id=np.where(clean, image_id, 0),
        category_id=np.where(clean, category_id, 0),
        score=np.where(clean, score, 0.0),
        box=box,
        has_segmentation=has_seg,
        extra_keys=lengths > fields,
        plain_rle=plain_rle,
        slow=np.flatnonzero(~clean),
        warn=np.flatnonzero(warn),
        rle_rows=rle_rows,
        rle_counts=rle_counts,
        rle_pixels=height[rle_rows] * width[rle_rows],
        derive=derive,
    )
