"""Strict COCO reader: parse and validate ground-truth and prediction (results) files.

Words used here:
- problem: one thing wrong in a file: where (the record path) and why (the reason), with a
  severity. An *error* stops the read; a *warning* is returned with the data.
- ground truth: a COCO instances file, an object with ``images``, ``categories``, ``annotations``.
- predictions: a COCO results file, a JSON array of records with ``image_id``, ``category_id``,
  ``score`` and a ``bbox`` and/or a ``segmentation``. Record i is prediction i + 1, as
  pycocotools ``loadRes`` numbers them.

Records are kept exactly as parsed (unknown keys included). The one change the reader makes is to
add a ``bbox`` derived from the mask to segmentation-only prediction records, as ``loadRes`` does.

Beyond the COCO format itself, the reader refuses what would make pycocotools crash or hang later:
polygon vertices more than one image size outside the image, and RLE counts that do not add up
to height * width. An empty ground-truth ``segmentation`` list (box-only exporters) is accepted.
"""

from __future__ import annotations

import json
import math
import os
import reprlib
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

MAX_LISTED = 50
"""How many errors are kept and listed in detail; the rest are only counted."""

_GT_SECTIONS = ("images", "annotations", "categories")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NUMBER_TYPES = frozenset((int, float))
_INT_TYPES = frozenset((int,))
_LIST_TYPE = frozenset((list,))
_INF = math.inf
_MAX_RUN = 2**32  # pycocotools stores run lengths as 32-bit unsigned ints
_MISSING: Any = object()
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


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where it is, why it is wrong, and whether it is fatal."""

    file: str
    record: str
    reason: str
    severity: str  # "error" | "warning"

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: {self.reason}"


class CocoError(ValueError):
    """The one documented validation error: all problems found (errors), reported together."""

    def __init__(self, file: str, problems: list[Problem], total: int | None = None) -> None:
        self.file = file
        self.problems = list(problems)
        self.total = max(total or 0, len(self.problems))
        super().__init__(self._report())

    def _report(self) -> str:
        lines = [f"{self.file}: {self.total} problem(s) found"]
        lines += [f"  {p.record}: {p.reason}" for p in self.problems[:MAX_LISTED]]
        listed = min(len(self.problems), MAX_LISTED)
        if self.total > listed:
            lines.append(f"  ... and {self.total - listed} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._report()

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.problems, self.total))


class _Report:
    """Collects the problems of one file: the first MAX_LISTED errors in detail, all warnings."""

    __slots__ = ("file", "errors", "error_count", "warnings")

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[Problem] = []
        self.error_count = 0
        self.warnings: list[Problem] = []

    def error(self, record: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(Problem(self.file, record, reason, "error"))

    def warn(self, record: str, reason: str) -> None:
        self.warnings.append(Problem(self.file, record, reason, "warning"))

    def fail(self, record: str, reason: str) -> CocoError:
        """Record one more error and return the CocoError to raise now."""
        self.error(record, reason)
        return CocoError(self.file, self.errors, self.error_count)

    def raise_if_errors(self) -> None:
        if self.error_count:
            raise CocoError(self.file, self.errors, self.error_count)


def _got(value: Any) -> str:
    """Describe a JSON value for a message: its kind and a short repr."""
    kind = _JSON_KINDS.get(type(value), type(value).__name__)
    if value is None:
        return "got null"
    return f"got {kind} {_REPR.repr(value)}"


def _is_number(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES


def _is_finite_number(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES and math.isfinite(value)


def _is_id(value: Any) -> bool:
    return type(value) is int and _INT64_MIN <= value <= _INT64_MAX


def _label(section: str, index: int, record_id: Any) -> str:
    if _is_id(record_id):
        return f"{section}[{index}] (id {record_id})"
    return f"{section}[{index}]"


# --------------------------------------------------------------------------- JSON


def _line_col(data: bytes, pos: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, pos) + 1
    return line, pos - (data.rfind(b"\n", 0, pos) + 1) + 1


def _load_json(path: Path, report: _Report) -> Any:
    """Read and parse a JSON file; every failure becomes a "(file)" error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise report.fail("(file)", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        bad = data[exc.start]
        reason = f"not UTF-8 text: byte 0x{bad:02x} at line {line} column {col}"
        raise report.fail("(file)", reason) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise report.fail("(file)", "the file is empty, expected JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = " (the file ends too early: truncated?)" if truncated else ""
        reason = f"not valid JSON: {exc.msg}: line {exc.lineno} column {exc.colno}{hint}"
        raise report.fail("(file)", reason) from None
    except RecursionError:
        raise report.fail("(file)", "JSON is nested too deeply to read") from None


# --------------------------------------------------------------------------- shared field checks


def _check_id(
    record: str, value: Any, first_index: dict[int, int], index: int, section: str, report: _Report
) -> bool:
    """Check a record's own id (present, int64, unique); remember where it was first seen."""
    if value is _MISSING:
        report.error(f"{record}.id", "missing required field")
        return False
    if not _is_id(value):
        if type(value) is int:
            report.error(f"{record}.id", f"id {value} does not fit in a 64-bit integer")
        else:
            report.error(f"{record}.id", f"id must be an integer, {_got(value)}")
        return False
    first = first_index.setdefault(value, index)
    if first != index:
        report.error(f"{record}.id", f"duplicate id {value} (first used by {section}[{first}])")
        return False
    return True


def _check_ref(
    record: str, value: Any, known: Mapping[int, Any] | Collection[int], what: str, report: _Report
) -> bool:
    """Check a reference to an image or category id."""
    if value is _MISSING:
        report.error(record, "missing required field")
    elif type(value) is not int:
        report.error(record, f"{what} id must be an integer, {_got(value)}")
    elif value not in known:
        report.error(record, f"unknown {what} id {value} (no {what} has this id)")
    else:
        return True
    return False


def _check_bbox(
    record: str, value: Any, report: _Report
) -> tuple[float, float, float, float] | None:
    """Check [x, y, width, height]: 4 finite numbers, no negative size, no overflow."""
    if value is _MISSING:
        report.error(record, "missing required field")
        return None
    if not (type(value) is list and len(value) == 4 and all(map(_is_finite_number, value))):
        report.error(record, f"bbox must be 4 finite numbers [x, y, width, height], {_got(value)}")
        return None
    x, y, w, h = value
    if w < 0 or h < 0:
        report.error(record, f"bbox width and height must not be negative, got {value!r}")
        return None
    if not (math.isfinite(x + w) and math.isfinite(y + h)):
        report.error(record, f"bbox x + width or y + height overflows to infinity, got {value!r}")
        return None
    return x, y, w, h


def _box_warnings(
    record: str,
    box: tuple[float, float, float, float],
    size: tuple[int, int] | None,
    report: _Report,
) -> None:
    """Warn about zero-area boxes and boxes more than 1 px outside the image."""
    x, y, w, h = box
    if w == 0 or h == 0:
        report.warn(record, f"zero-area box (width {w!r}, height {h!r})")
    if size is None:
        return
    height, width = size
    if x < -1 or y < -1 or x + w > width + 1 or y + h > height + 1:
        report.warn(
            record,
            f"box [x1 {x!r}, y1 {y!r}, x2 {x + w!r}, y2 {y + h!r}] extends more than 1 px "
            f"outside the {width}x{height} image",
        )


# --------------------------------------------------------------------------- segmentation


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
    record: str, parts: list[Any], size: tuple[int, int] | None, report: _Report
) -> bool:
    """Check a list of polygons: each >= 6 finite numbers, an even count, near the image."""
    if parts and all(map(_is_number, parts)):
        report.error(
            record,
            "a flat list of numbers is not a COCO segmentation; "
            "polygons go in a list of lists: [[x1, y1, x2, y2, ...]]",
        )
        return False
    lo, hi = _polygon_range(size)
    ok = True
    for j, part in enumerate(parts):
        if type(part) is not list:
            report.error(f"{record}[{j}]", f"polygon must be an array of numbers, {_got(part)}")
            ok = False
        elif not all(map(_is_finite_number, part)):
            bad = next(v for v in part if not _is_finite_number(v))
            report.error(
                f"{record}[{j}]", f"polygon coordinates must be finite numbers, {_got(bad)}"
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
    return True


def _check_rle(
    record: str,
    rle: dict[str, Any],
    size: tuple[int, int] | None,
    report: _Report,
    pending: list[tuple[Any, str, int]],
) -> bool:
    """Check an RLE object: size [h, w] (matching the image) and compressed/uncompressed counts."""
    rle_size = rle.get("size", _MISSING)
    counts = rle.get("counts", _MISSING)
    ok = True
    if rle_size is _MISSING:
        report.error(f"{record}.size", "missing required field of an RLE mask")
        ok = False
    elif not (
        type(rle_size) is list
        and len(rle_size) == 2
        and all(type(v) is int and 0 <= v <= _INT64_MAX for v in rle_size)
    ):
        report.error(
            f"{record}.size", f"RLE size must be [height, width] integers, {_got(rle_size)}"
        )
        ok = False
    elif size is not None and tuple(rle_size) != tuple(size):
        report.error(
            f"{record}.size",
            f"RLE size {rle_size!r} differs from the image's [height, width] {list(size)!r}",
        )
        ok = False
    if counts is _MISSING:
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
            f"of integers (uncompressed), {_got(counts)}",
        )
        return False
    if not (
        _INT_TYPES.issuperset(map(type, counts))
        and (not counts or (min(counts) >= 0 and max(counts) < _MAX_RUN))
    ):
        bad = next(v for v in counts if type(v) is not int or not 0 <= v < _MAX_RUN)
        report.error(
            f"{record}.counts",
            f"uncompressed RLE counts must be integers from 0 to 2**32 - 1, {_got(bad)}",
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


def _check_segmentation(
    record: str,
    seg: Any,
    size: tuple[int, int] | None,
    report: _Report,
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
        f"with size and counts, {_got(seg)}",
    )
    return False


def rle_string_totals(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Decode compressed RLE counts strings (vectorised): per string, pixel total and validity.

    Valid means: only characters '0'..'o', every value complete, no value wider than 60 bits, and
    every run length from 0 to 2**32 - 1 (anything else makes pycocotools misread the mask, and
    a total above height * width makes its decode write past the mask buffer).
    """
    n = len(strings)
    totals = np.zeros(n, dtype=np.int64)
    valid = np.ones(n, dtype=bool)
    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=n)
    nonempty = np.flatnonzero(lengths)
    if nonempty.size == 0:
        return totals, valid
    joined = "".join(strings)
    if not joined.isascii():
        valid &= np.fromiter((s.isascii() for s in strings), dtype=bool, count=n)
    code = np.frombuffer(joined.encode("ascii", "replace"), dtype=np.uint8) - np.uint8(48)
    string_end = np.cumsum(lengths)
    bad = np.flatnonzero(code > 63)  # characters below '0' wrap around to > 63
    if bad.size:
        valid[np.searchsorted(string_end, bad, side="right")] = False
        code[bad] = 0
    last_char = string_end[nonempty] - 1
    more = (code & 0x20).astype(bool)
    valid[nonempty[more[last_char]]] = False  # the last value is unfinished
    more[last_char] = False  # never let a value run on into the next string
    # values: a value ends at a character without the 0x20 "more" bit, 5 bits per character
    ends = np.flatnonzero(~more)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    width = ends - starts + 1
    n_values = np.zeros(n, dtype=np.int64)
    n_values[nonempty] = np.diff(np.searchsorted(ends, last_char, side="right"), prepend=0)
    value_end = np.cumsum(n_values)
    first_value = value_end - n_values

    def invalidate(value_positions: np.ndarray) -> None:
        if value_positions.size:
            valid[np.searchsorted(value_end, value_positions, side="right")] = False

    invalidate(np.flatnonzero(width > 12))
    low = code & 0x1F
    value = low[starts].astype(np.int64)
    for k in range(1, min(int(width.max()), 12)):
        has = np.flatnonzero(width > k)
        value[has] |= low[starts[has] + k].astype(np.int64) << (5 * k)
    negative = np.flatnonzero(code[ends] & 0x10)
    value[negative] -= np.int64(1) << (5 * np.minimum(width[negative], 12))
    np.clip(value, -_MAX_RUN, _MAX_RUN, out=value)  # out-of-range runs fail below anyway
    # run m is value[m] + run[m - 2] for m > 2: two chains of running sums per string, so
    # the total is sum(value[m] * (number of chain members from m on)), and each chain's
    # running sum (restarted for every string) must stay a valid run length
    head = first_value[nonempty]
    m = np.arange(ends.size) - np.repeat(first_value, n_values)
    weight = (np.repeat(n_values, n_values) - m + 1) // 2
    weight[head] = 1
    totals[nonempty] = np.add.reduceat(value * weight, head)
    invalidate(head[value[head].view(np.uint64) >= _MAX_RUN])
    odd = (m & 1).astype(bool)
    even_chain = ~odd
    even_chain[head] = False
    for members in (odd, even_chain):
        chain_values = np.where(members, value, 0)
        per_string = np.add.reduceat(chain_values, head)
        chain_values[head[1:]] -= per_string[:-1]  # restart the running sum at each string
        running = np.cumsum(chain_values)
        invalidate(np.flatnonzero(running.view(np.uint64) >= _MAX_RUN))
    return totals, valid


_RLE_CHUNK_CHARS = 200_000  # small batches keep the numpy arrays in cache


def _check_rle_strings(
    pending: list[tuple[Any, str, int]], report: _Report, where: Any = str
) -> None:
    """Decode pending compressed RLE strings in batches; report malformed or mis-sized ones.

    Each item is (place, counts, pixels); ``where(place)`` names the record for a message.
    """
    start = 0
    while start < len(pending):
        stop, chars = start, 0
        while stop < len(pending) and chars < _RLE_CHUNK_CHARS:
            chars += len(pending[stop][1])
            stop += 1
        batch = pending[start:stop]
        totals, valid = rle_string_totals([item[1] for item in batch])
        for (place, counts, pixels), total, ok in zip(
            batch, totals.tolist(), valid.tolist(), strict=True
        ):
            if not ok:
                report.error(
                    where(place), f"compressed RLE counts string is malformed: {_got(counts)}"
                )
            elif total != pixels:
                report.error(
                    where(place),
                    f"compressed RLE counts cover {total} pixels but its size has {pixels}",
                )
        start = stop


# --------------------------------------------------------------------------- ground truth


@dataclass
class GroundTruth:
    """A validated COCO instances file; records are exactly as parsed."""

    path: Path
    top: dict[str, Any]
    images: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    annotations: list[dict[str, Any]]
    warnings: list[Problem]


def _positive_int(value: Any) -> bool:
    return type(value) is int and 0 < value <= _INT64_MAX


def _check_image_records(images: list[Any], report: _Report) -> dict[int, tuple[int, int] | None]:
    """Check images; return image id -> (height, width), or None where the size is invalid."""
    sizes: dict[int, tuple[int, int] | None] = {}
    first_index: dict[int, int] = {}
    file_names: dict[str, int] = {}
    for i, image in enumerate(images):
        if type(image) is not dict:
            report.error(f"images[{i}]", f"image must be an object, {_got(image)}")
            continue
        image_id = image.get("id", _MISSING)
        record = _label("images", i, image_id)
        id_ok = _check_id(record, image_id, first_index, i, "images", report)
        name = image.get("file_name", _MISSING)
        if name is _MISSING:
            report.error(f"{record}.file_name", "missing required field")
        elif type(name) is not str or not name:
            report.error(
                f"{record}.file_name", f"file_name must be a non-empty string, {_got(name)}"
            )
        else:
            first = file_names.setdefault(name, i)
            if first != i:
                report.warn(
                    f"{record}.file_name", f"file name {name!r} is also used by images[{first}]"
                )
        size_ok = True
        for key in ("width", "height"):
            value = image.get(key, _MISSING)
            if value is _MISSING:
                report.error(f"{record}.{key}", "missing required field")
                size_ok = False
            elif not _positive_int(value):
                report.error(f"{record}.{key}", f"{key} must be a positive integer, {_got(value)}")
                size_ok = False
        if id_ok:
            sizes[image_id] = (image["height"], image["width"]) if size_ok else None
    return sizes


def _check_category_records(categories: list[Any], report: _Report) -> set[int]:
    """Check categories; return the valid category ids."""
    first_index: dict[int, int] = {}
    names: dict[str, int] = {}
    for i, category in enumerate(categories):
        if type(category) is not dict:
            report.error(f"categories[{i}]", f"category must be an object, {_got(category)}")
            continue
        category_id = category.get("id", _MISSING)
        record = _label("categories", i, category_id)
        _check_id(record, category_id, first_index, i, "categories", report)
        name = category.get("name", _MISSING)
        if name is _MISSING:
            report.error(f"{record}.name", "missing required field")
        elif type(name) is not str:
            report.error(f"{record}.name", f"name must be a string, {_got(name)}")
        else:
            first = names.setdefault(name, i)
            if first != i:
                report.warn(
                    f"{record}.name", f"category name {name!r} is also used by categories[{first}]"
                )
    return set(first_index)


class _AnnotationContext:
    """What annotation checks need: known images and categories, ids seen, pending RLE strings."""

    __slots__ = ("sizes", "category_ids", "first_index", "pending", "report")

    def __init__(
        self, sizes: dict[int, tuple[int, int] | None], category_ids: set[int], report: _Report
    ) -> None:
        self.sizes = sizes
        self.category_ids = category_ids
        self.first_index: dict[int, int] = {}
        self.pending: list[tuple[Any, str, int]] = []
        self.report = report


def _check_annotation(i: int, annotation: Any, ctx: _AnnotationContext) -> None:
    """Check one annotation in full, with a message for everything wrong."""
    report = ctx.report
    if type(annotation) is not dict:
        report.error(f"annotations[{i}]", f"annotation must be an object, {_got(annotation)}")
        return
    annotation_id = annotation.get("id", _MISSING)
    record = _label("annotations", i, annotation_id)
    _check_id(record, annotation_id, ctx.first_index, i, "annotations", report)
    image_id = annotation.get("image_id", _MISSING)
    size = None
    if _check_ref(f"{record}.image_id", image_id, ctx.sizes, "image", report):
        size = ctx.sizes[image_id]
    category_id = annotation.get("category_id", _MISSING)
    _check_ref(f"{record}.category_id", category_id, ctx.category_ids, "category", report)
    box = _check_bbox(f"{record}.bbox", annotation.get("bbox", _MISSING), report)
    crowd = annotation.get("iscrowd", 0)
    if type(crowd) is not int or crowd not in (0, 1):
        report.error(f"{record}.iscrowd", f"iscrowd must be 0 or 1, {_got(crowd)}")
    area = annotation.get("area", _MISSING)
    if area is not _MISSING and not (_is_finite_number(area) and area >= 0):
        report.error(f"{record}.area", f"area must be a finite number >= 0, {_got(area)}")
    seg = annotation.get("segmentation", _MISSING)
    if seg is not _MISSING:
        _check_segmentation(f"{record}.segmentation", seg, size, report, ctx.pending, True)
    if box is not None:
        _box_warnings(f"{record}.bbox", box, size, report)


def _check_annotation_records(annotations: list[Any], ctx: _AnnotationContext) -> None:
    """Check all annotations: a fast test per record, the full check only where it fails."""
    sizes_get = ctx.sizes.get
    category_ids = ctx.category_ids
    first_index = ctx.first_index
    bad_polygons = _failing_polygons(
        annotations, _polygon_owners(annotations, ctx.sizes), ctx.sizes
    )
    for i, ann in enumerate(annotations):
        if type(ann) is dict:
            aid = ann.get("id")
            iid = ann.get("image_id")
            cid = ann.get("category_id")
            box = ann.get("bbox")
            crowd = ann.get("iscrowd", 0)
            area = ann.get("area", 0)
            seg = ann.get("segmentation", _MISSING)
            size = sizes_get(iid) if type(iid) is int else None
            if (
                size is not None
                and type(aid) is int
                and _INT64_MIN <= aid <= _INT64_MAX
                and first_index.setdefault(aid, i) == i
                and type(cid) is int
                and cid in category_ids
                and type(crowd) is int
                and (crowd == 0 or crowd == 1)
                and (type(area) is float or type(area) is int)
                and 0 <= area < _INF
                and type(box) is list
                and len(box) == 4
                and (seg is _MISSING or (type(seg) is list and i not in bad_polygons))
            ):
                x, y, w, h = box
                if (
                    (type(x) is float or type(x) is int)
                    and (type(y) is float or type(y) is int)
                    and (type(w) is float or type(w) is int)
                    and (type(h) is float or type(h) is int)
                    and w >= 0
                    and h >= 0
                    and x > -_INF
                    and y > -_INF
                    and x + w < _INF
                    and y + h < _INF
                ):
                    if (
                        w == 0
                        or h == 0
                        or x < -1
                        or y < -1
                        or x + w > size[1] + 1
                        or y + h > size[0] + 1
                    ):
                        _box_warnings(
                            _label("annotations", i, aid) + ".bbox", (x, y, w, h), size, ctx.report
                        )
                    continue
        _check_annotation(i, ann, ctx)


def _polygon_owners(
    annotations: list[Any], sizes: Mapping[int, tuple[int, int] | None]
) -> list[int]:
    """Indices of annotations with a non-empty polygon list on an image of known size."""
    owners = []
    for i, ann in enumerate(annotations):
        if type(ann) is dict:
            seg = ann.get("segmentation")
            iid = ann.get("image_id")
            if type(seg) is list and seg and type(iid) is int and sizes.get(iid) is not None:
                owners.append(i)
    return owners


def _failing_polygons(
    annotations: list[Any], owners: list[int], sizes: Mapping[int, tuple[int, int] | None]
) -> set[int]:
    """Bulk-check the polygon lists of annotations[owners]; return the owners that fail.

    One numpy pass over every coordinate instead of a Python loop per polygon; anything
    unusual (non-list parts, non-numbers, huge ints) falls back to the per-annotation test.
    """
    if not owners:
        return set()
    segs = [annotations[i]["segmentation"] for i in owners]
    parts = list(chain.from_iterable(segs))
    sides = [max(sizes[annotations[i]["image_id"]]) for i in owners]
    try:
        if not _LIST_TYPE.issuperset(map(type, parts)):
            raise TypeError
        flat = list(chain.from_iterable(parts))
        if not _NUMBER_TYPES.issuperset(map(type, flat)):
            raise TypeError
        coords = np.array(flat, dtype=np.float64)
    except (TypeError, OverflowError):
        return {
            i
            for i, seg, side in zip(owners, segs, sides, strict=True)
            if not _polygons_ok(seg, -float(side), 2.0 * side)
        }
    n_parts = np.fromiter(map(len, segs), dtype=np.int64, count=len(segs))
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    part_side = np.repeat(np.asarray(sides, dtype=np.float64), n_parts)
    bad_part = (lengths < 6) | (lengths % 2 == 1)
    finite = np.isfinite(coords)
    if not finite.all():
        part_end = np.cumsum(lengths)
        bad_part[np.searchsorted(part_end, np.flatnonzero(~finite), side="right")] = True
        coords[~finite] = 0.0
    filled = np.flatnonzero(lengths)
    starts = (np.cumsum(lengths) - lengths)[filled]
    low = np.minimum.reduceat(coords, starts)
    high = np.maximum.reduceat(coords, starts)
    side = part_side[filled]
    bad_part[filled] |= (low < -side) | (high > 2.0 * side)
    first_part = np.cumsum(n_parts) - n_parts
    bad_owner = np.add.reduceat(bad_part, first_part) > 0
    return {owners[k] for k in np.flatnonzero(bad_owner).tolist()}


def _check_top_level(data: Any, report: _Report) -> None:
    if type(data) is not dict:
        raise report.fail(
            "top level",
            "a COCO ground-truth file must be a JSON object with images, annotations and "
            f"categories, {_got(data)}",
        )
    for key in _GT_SECTIONS:
        if key not in data:
            report.error("top level", f'missing required key "{key}"')
        elif type(data[key]) is not list:
            report.error("top level", f'"{key}" must be an array, {_got(data[key])}')
    report.raise_if_errors()


def read_ground_truth(path: str | Path, images_dir: str | Path | None = None) -> GroundTruth:
    """Read and validate a COCO instances file; raise CocoError listing every error found."""
    file = os.fspath(path)
    report = _Report(file)
    data = _load_json(Path(path), report)
    _check_top_level(data, report)
    images, categories, annotations = data["images"], data["categories"], data["annotations"]
    sizes = _check_image_records(images, report)
    category_ids = _check_category_records(categories, report)
    ctx = _AnnotationContext(sizes, category_ids, report)
    _check_annotation_records(annotations, ctx)
    _check_rle_strings(ctx.pending, report)
    report.raise_if_errors()
    warnings_found = report.warnings
    if images_dir is not None:
        warnings_found.extend(check_images(images, images_dir, file))
    top = {key: value for key, value in data.items() if key not in _GT_SECTIONS}
    return GroundTruth(Path(path), top, images, categories, annotations, warnings_found)


# --------------------------------------------------------------------------- predictions


@dataclass
class PredictionFile:
    """A validated COCO results file; record i is prediction i + 1."""

    path: Path
    records: list[dict[str, Any]]
    has_segmentation: bool
    warnings: list[Problem]


class _PredictionContext:
    """What prediction checks need, plus the records whose bbox must be derived from the mask."""

    __slots__ = ("sizes", "category_ids", "pending", "derive", "report")

    def __init__(
        self, sizes: Mapping[int, tuple[int, int]], category_ids: Collection[int], report: _Report
    ) -> None:
        self.sizes = sizes
        self.category_ids = category_ids
        self.pending: list[tuple[Any, str, int]] = []
        self.derive: list[int] = []
        self.report = report


def _check_prediction(i: int, prediction: Any, ctx: _PredictionContext) -> None:
    """Check one prediction record in full, with a message for everything wrong."""
    report = ctx.report
    if type(prediction) is not dict:
        report.error(f"[{i}]", f"prediction must be an object, {_got(prediction)}")
        return
    record = f"[{i}] (prediction {i + 1})"
    image_id = prediction.get("image_id", _MISSING)
    size = None
    if _check_ref(f"{record}.image_id", image_id, ctx.sizes, "image", report):
        size = ctx.sizes[image_id]
    category_id = prediction.get("category_id", _MISSING)
    _check_ref(f"{record}.category_id", category_id, ctx.category_ids, "category", report)
    score = prediction.get("score", _MISSING)
    if score is _MISSING:
        report.error(f"{record}.score", "missing required field")
    elif not (_is_number(score) and 0 <= score <= 1):
        report.error(f"{record}.score", f"score must be a number from 0 to 1, {_got(score)}")
    box = prediction.get("bbox", _MISSING)
    seg = prediction.get("segmentation", _MISSING)
    if box is _MISSING and seg is _MISSING:
        report.error(record, "prediction has neither a bbox nor a segmentation")
        return
    seg_ok = seg is _MISSING or _check_segmentation(
        f"{record}.segmentation", seg, size, report, ctx.pending, False
    )
    if box is not _MISSING:
        checked = _check_bbox(f"{record}.bbox", box, report)
        if checked is not None:
            _box_warnings(f"{record}.bbox", checked, size, report)
    elif seg_ok and size is not None:
        ctx.derive.append(i)


def _check_prediction_records(records: list[Any], ctx: _PredictionContext) -> None:
    """Check all predictions: a fast test per record, the full check only where it fails."""
    sizes_get = ctx.sizes.get
    category_ids = ctx.category_ids
    pending_append = ctx.pending.append
    derive_append = ctx.derive.append
    for i, r in enumerate(records):
        if type(r) is dict:
            iid = r.get("image_id")
            cid = r.get("category_id")
            s = r.get("score")
            box = r.get("bbox", _MISSING)
            seg = r.get("segmentation", _MISSING)
            size = sizes_get(iid) if type(iid) is int else None
            if (
                size is not None
                and type(cid) is int
                and cid in category_ids
                and (type(s) is float or type(s) is int)
                and 0 <= s <= 1
            ):
                if seg is not _MISSING:  # fast only for a compressed RLE of the image's size
                    counts = seg.get("counts") if type(seg) is dict else None
                    rle_size = seg.get("size") if type(seg) is dict else None
                    if not (
                        type(counts) is str
                        and type(rle_size) is list
                        and len(rle_size) == 2
                        and type(rle_size[0]) is int
                        and type(rle_size[1]) is int
                        and rle_size[0] == size[0]
                        and rle_size[1] == size[1]
                    ):
                        _check_prediction(i, r, ctx)
                        continue
                    if box is _MISSING:
                        pending_append((i, counts, size[0] * size[1]))
                        derive_append(i)
                        continue
                if type(box) is list and len(box) == 4:
                    x, y, w, h = box
                    if (
                        (type(x) is float or type(x) is int)
                        and (type(y) is float or type(y) is int)
                        and (type(w) is float or type(w) is int)
                        and (type(h) is float or type(h) is int)
                        and w >= 0
                        and h >= 0
                        and x > -_INF
                        and y > -_INF
                        and x + w < _INF
                        and y + h < _INF
                    ):
                        if seg is not _MISSING:
                            pending_append((i, counts, size[0] * size[1]))
                        if (
                            w == 0
                            or h == 0
                            or x < -1
                            or y < -1
                            or x + w > size[1] + 1
                            or y + h > size[0] + 1
                        ):
                            _box_warnings(
                                f"[{i}] (prediction {i + 1}).bbox", (x, y, w, h), size, ctx.report
                            )
                        continue
        _check_prediction(i, r, ctx)


def _prediction_place(place: str | int) -> str:
    """Name a pending RLE string: a record path, or the index of a prediction's record."""
    if type(place) is str:
        return place
    return f"[{place}] (prediction {place + 1}).segmentation.counts"


def _mask_rle(seg: Any, height: int, width: int) -> dict[str, Any]:
    """One compressed RLE for a validated segmentation (polygons merged, as pycocotools does)."""
    if type(seg) is list:
        return mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    if type(seg["counts"]) is list:
        return mask_utils.frPyObjects(seg, height, width)
    return seg


def _derive_boxes(
    records: list[dict[str, Any]], indices: list[int], sizes: Mapping[int, tuple[int, int]]
) -> None:
    """Write a mask-derived "bbox" into segmentation-only records (pycocotools toBbox)."""
    if not indices:
        return
    rles = []
    for i in indices:
        record = records[i]
        height, width = sizes[record["image_id"]]
        rles.append(_mask_rle(record["segmentation"], height, width))
    boxes = mask_utils.toBbox(rles).tolist()
    for i, box in zip(indices, boxes, strict=True):
        records[i]["bbox"] = box


def _check_prediction_top_level(data: Any, report: _Report) -> None:
    if type(data) is list:
        return
    if type(data) is dict and "annotations" in data:
        reason = (
            "COCO results must be a JSON array of prediction records; this is an object "
            'with "annotations" (a ground-truth file?)'
        )
    else:
        reason = f"COCO results must be a JSON array of prediction records, {_got(data)}"
    raise report.fail("top level", reason)


def read_predictions(
    path: str | Path, images: Mapping[int, tuple[int, int]], category_ids: Collection[int]
) -> PredictionFile:
    """Read and validate a COCO results file against images (id -> (height, width)) and categories."""
    file = os.fspath(path)
    report = _Report(file)
    data = _load_json(Path(path), report)
    _check_prediction_top_level(data, report)
    known_categories = (
        category_ids if isinstance(category_ids, (set, frozenset)) else set(category_ids)
    )
    ctx = _PredictionContext(images, known_categories, report)
    _check_prediction_records(data, ctx)
    _check_rle_strings(ctx.pending, report, _prediction_place)
    report.raise_if_errors()
    if not data:
        report.warn("top level", "the file holds no predictions")
    _derive_boxes(data, ctx.derive, images)
    has_segmentation = bool(data) and all("segmentation" in r for r in data)
    return PredictionFile(Path(path), data, has_segmentation, report.warnings)


# --------------------------------------------------------------------------- image files


def _image_size(path: str) -> tuple[int, int] | str:
    """(width, height) from the file's header, or a reason it cannot be read."""
    try:
        with Image.open(path) as image:
            return image.size
    except FileNotFoundError:
        return "image file not found"
    except IsADirectoryError:
        return "image path is a folder, not a file"
    except Exception as exc:  # PIL plugins raise assorted types on corrupt headers
        return f"image file cannot be read ({type(exc).__name__}: {exc})"


def check_images(
    images: list[dict[str, Any]], images_dir: str | Path, file: str = ""
) -> list[Problem]:
    """Warn (one warning per image at most) about image files missing, unreadable or mis-sized."""
    root = os.fspath(images_dir)
    problems: list[Problem] = []
    if not os.path.isdir(root):
        problems.append(Problem(file, "(images folder)", f"not a folder: {root}", "warning"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        problems += _check_image_files(images, root, file)
    return problems


def _check_image_files(images: list[dict[str, Any]], root: str, file: str) -> list[Problem]:
    """Open each image's header; one warning per image that is missing, unreadable or mis-sized."""
    problems: list[Problem] = []
    join = os.path.join
    for i, image in enumerate(images):
        if type(image) is not dict:
            continue
        name = image.get("file_name")
        if type(name) is not str or not name:
            continue
        record = _label("images", i, image.get("id"))
        path = join(root, name)
        found = _image_size(path)
        if type(found) is str:
            problems.append(Problem(file, f"{record}.file_name", f"{found}: {path}", "warning"))
            continue
        width, height = found
        want_w, want_h = image.get("width"), image.get("height")
        if _positive_int(want_w) and _positive_int(want_h) and (want_w, want_h) != (width, height):
            problems.append(
                Problem(
                    file,
                    record,
                    f"image file is {width}x{height} pixels but the record says "
                    f"width {want_w}, height {want_h}: {path}",
                    "warning",
                )
            )
    return problems
