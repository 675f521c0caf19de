"""Strict COCO reader: parse and validate ground-truth and prediction (results) files.

Words used here:
- problem: one thing wrong in a file: where (the record path) and why (the reason), with a
  severity. An *error* stops the read; a *warning* is returned with the data.
- ground truth: a COCO instances file, an object with ``images``, ``categories``, ``annotations``.
- predictions: a COCO results file, a JSON array of records with ``image_id``, ``category_id``,
  ``score`` and a ``bbox`` and/or a ``segmentation``. Record i is prediction i + 1, as
  pycocotools ``loadRes`` numbers them.

Records are kept exactly as parsed (unknown keys included). The one change the reader makes is to
add a ``bbox`` derived from the mask to segmentation-only prediction records, as ``loadRes`` does
(the store's import asks for those boxes in the columns only: ``boxes_in_records=False``).

Beyond the COCO format itself, the reader refuses what would make pycocotools crash or hang later:
polygon vertices more than one image size outside the image, and RLE counts that do not add up
to height * width. An empty ground-truth ``segmentation`` list (box-only exporters) is accepted.
The polygon and RLE checks live in :mod:`labelfix.core.coco_masks`.
"""

from __future__ import annotations

import heapq
import json
import math
import os
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import jsonio
from .coco_masks import (
    MISSING,
    check_rle_strings,
    check_segmentation,
    describe,
    is_finite_number,
    polygons_ok,
    rle_string_totals,
)
from .image_checks import check_images
from .images import header_size
from .timing import phase

MAX_LISTED = 50
"""How many errors are kept and listed in detail; the rest are only counted."""

_GT_SECTIONS = ("images", "annotations", "categories")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INF = math.inf

__all__ = [
    "MAX_LISTED",
    "CocoError",
    "GroundTruth",
    "PredictionFile",
    "Problem",
    "check_images",
    "read_ground_truth",
    "read_predictions",
    "rle_string_totals",
]


def _plain_box(x: Any, y: Any, w: Any, h: Any) -> bool:
    """The fast path's box test: four real numbers (no bool; integers within 64 bits),
    non-negative size, finite ends."""
    return (
        (type(x) is float or (type(x) is int and _INT64_MIN <= x <= _INT64_MAX))
        and (type(y) is float or (type(y) is int and _INT64_MIN <= y <= _INT64_MAX))
        and (type(w) is float or (type(w) is int and w <= _INT64_MAX))
        and (type(h) is float or (type(h) is int and h <= _INT64_MAX))
        and w >= 0
        and h >= 0
        and x > -_INF
        and y > -_INF
        and x + w < _INF
        and y + h < _INF
    )


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
    """Collects the problems of one file: the first MAX_LISTED errors in detail, all warnings,
    and what the reader assumed (one warning per kind of assumption, however many records)."""

    __slots__ = ("file", "errors", "error_count", "warnings", "assumed")

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[Problem] = []
        self.error_count = 0
        self.warnings: list[Problem] = []
        self.assumed: dict[str, list[Any]] = {}

    def assume(self, kind: str, record: str, reason: str) -> None:
        """Record a lenient reading (a warning): the first record of each kind is named, the
        others counted."""
        entry = self.assumed.get(kind)
        if entry is None:
            self.assumed[kind] = [record, reason, 1]
        else:
            entry[2] += 1

    def all_warnings(self) -> list[Problem]:
        """What was assumed (one line per kind), then the other warnings."""
        out = []
        for record, reason, n in self.assumed.values():
            where = record if n == 1 else f"{record} and {n - 1} more like it"
            out.append(Problem(self.file, where, reason, "warning"))
        return out + self.warnings

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


def _is_id(value: Any) -> bool:
    return type(value) is int and _INT64_MIN <= value <= _INT64_MAX


def _whole_float_id(value: Any) -> bool:
    """A float such as 1.0 that some exporters write for an integer id (pycocotools reads it)."""
    return type(value) is float and value.is_integer() and _INT64_MIN <= value <= _INT64_MAX


def _assume_float_id(record: str, value: float, report: _Report) -> None:
    report.assume(
        "float id",
        record,
        f"ids written as whole-number floats (here {value!r}) are read as integers (kept as "
        "written on export)",
    )


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
    with phase("parse JSON"):
        return _parse_json(path, report)


def _parse_json(path: Path, report: _Report) -> Any:
    return _parse_json_bytes(_read_bytes(path, report), report)


def _read_bytes(path: Path, report: _Report) -> bytes:
    """The file's bytes (a "(file)" error when it cannot be read)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise report.fail("(file)", f"cannot read the file: {exc.strerror or exc}") from None


def _parse_json_bytes(data: bytes, report: _Report) -> Any:
    """Parse a file's bytes (:func:`_load_json` without the reading)."""
    with jsonio.gc_paused():
        try:
            return jsonio.decode(data)
        except (jsonio.DecodeError, RecursionError):
            pass  # the standard library reads it (NaN, a BOM) or says what is wrong
        return _parse_json_slowly(data, report)


def _parse_json_slowly(data: bytes, report: _Report) -> Any:
    """``json.loads`` with a message naming the place of any problem."""
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
    if value is MISSING:
        report.error(f"{record}.id", "missing required field")
        return False
    if _whole_float_id(value):
        _assume_float_id(f"{record}.id", value, report)
    elif not _is_id(value):
        if type(value) is int:
            report.error(f"{record}.id", f"id {value} does not fit in a 64-bit integer")
        else:
            report.error(f"{record}.id", f"id must be an integer, {describe(value)}")
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
    if value is MISSING:
        report.error(record, "missing required field")
    elif type(value) is not int and not _whole_float_id(value):
        report.error(record, f"{what} id must be an integer, {describe(value)}")
    elif value not in known:
        report.error(record, f"unknown {what} id {value} (no {what} has this id)")
    else:
        if type(value) is float:
            _assume_float_id(record, value, report)
        return True
    return False


def _check_bbox(
    record: str, value: Any, report: _Report
) -> tuple[float, float, float, float] | None:
    """Check [x, y, width, height]: 4 finite numbers, no negative size, no overflow."""
    if value is MISSING:
        report.error(record, "missing required field")
        return None
    if not (type(value) is list and len(value) == 4 and all(map(is_finite_number, value))):
        report.error(
            record, f"bbox must be 4 finite numbers [x, y, width, height], {describe(value)}"
        )
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
    inferred_sizes: dict[int, tuple[int, int]] = field(default_factory=dict)
    """(height, width) read from the image file for records without width / height."""

    def sizes(self) -> dict[int, tuple[int, int]]:
        """Image id -> (height, width) for every image, file-read sizes included."""
        out = {}
        for im in self.images:
            image_id = int(im["id"])
            size = self.inferred_sizes.get(image_id)
            out[image_id] = size if size is not None else (im["height"], im["width"])
        return out


def _positive_int(value: Any) -> bool:
    return type(value) is int and 0 < value <= _INT64_MAX


class ImageChecks:
    """What image checks remember across the records (and the chunks) of a file: image id ->
    (height, width) (None where the size is invalid), the sizes read from image files for
    records without ``width`` / ``height``, where each id and file name was first used."""

    def __init__(self) -> None:
        self.sizes: dict[int, tuple[int, int] | None] = {}
        self.inferred: dict[int, tuple[int, int]] = {}
        self.first_index: dict[int, int] = {}
        self.file_names: dict[str, int] = {}


def _check_image_records(
    images: list[Any],
    report: _Report,
    images_dir: str | Path | None,
    start: int = 0,
    checks: ImageChecks | None = None,
) -> tuple[dict[int, tuple[int, int] | None], dict[int, tuple[int, int]]]:
    """Check images (``images[0]`` is record ``start`` of the file); return image id ->
    (height, width) (None where the size is invalid) and the sizes read from image files for
    records without ``width`` / ``height`` (of every chunk ``checks`` has seen)."""
    checks = checks or ImageChecks()
    sizes, inferred = checks.sizes, checks.inferred
    first_index, file_names = checks.first_index, checks.file_names
    for i, image in enumerate(images, start):
        if type(image) is not dict:
            report.error(f"images[{i}]", f"image must be an object, {describe(image)}")
            continue
        image_id = image.get("id", MISSING)
        record = _label("images", i, image_id)
        id_ok = _check_id(record, image_id, first_index, i, "images", report)
        name = image.get("file_name", MISSING)
        name_ok = False
        if name is MISSING:
            report.error(f"{record}.file_name", "missing required field")
        elif type(name) is not str or not name:
            report.error(
                f"{record}.file_name", f"file_name must be a non-empty string, {describe(name)}"
            )
        else:
            name_ok = True
            first = file_names.setdefault(name, i)
            if first != i:
                report.warn(
                    f"{record}.file_name", f"file name {name!r} is also used by images[{first}]"
                )
        size_ok = True
        unsized = []
        for key in ("width", "height"):
            value = image.get(key, MISSING)
            if value is MISSING or value is None:
                unsized.append(key)
            elif not _positive_int(value):
                report.error(
                    f"{record}.{key}", f"{key} must be a positive integer, {describe(value)}"
                )
                size_ok = False
        size = None
        if unsized and size_ok:
            size = _size_from_file(record, unsized, name if name_ok else None, images_dir, report)
            size_ok = size is not None
        if id_ok:
            if size is not None:
                inferred[image_id] = size
            sizes[image_id] = (
                (size if size is not None else (image["height"], image["width"]))
                if size_ok
                else None
            )
    return sizes, inferred


def _size_from_file(
    record: str,
    unsized: list[str],
    name: str | None,
    images_dir: str | Path | None,
    report: _Report,
) -> tuple[int, int] | None:
    """(height, width) of an image record without width/height, read from its file's header
    (as the exporters that leave them out expect); an error naming the record when it cannot."""
    keys = " and ".join(unsized)
    missing = f"{record}.{unsized[0]}"
    if images_dir is None or name is None:
        report.error(
            missing,
            f"no {keys} (missing or null), and no image folder to read the size from the image "
            "file; give the image folder",
        )
        return None
    path = os.path.join(os.fspath(images_dir), name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        found, note = header_size(path)
    if found is None:
        report.error(
            missing,
            f"no {keys} (missing or null), and the image file cannot be read: {note}: {path}",
        )
        return None
    width, height = found
    report.assume(
        "size from file",
        missing,
        f"no {keys} (missing or null): the size is read from the image file's header (here "
        f"{width}x{height}; kept as written on export)",
    )
    return height, width


def _check_category_records(categories: list[Any], report: _Report) -> set[int]:
    """Check categories; return the valid category ids."""
    first_index: dict[int, int] = {}
    names: dict[str, int] = {}
    for i, category in enumerate(categories):
        if type(category) is not dict:
            report.error(f"categories[{i}]", f"category must be an object, {describe(category)}")
            continue
        category_id = category.get("id", MISSING)
        record = _label("categories", i, category_id)
        _check_id(record, category_id, first_index, i, "categories", report)
        name = category.get("name", MISSING)
        if name is MISSING:
            report.error(f"{record}.name", "missing required field")
        elif type(name) is not str:
            report.error(f"{record}.name", f"name must be a string, {describe(name)}")
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
        report.error(f"annotations[{i}]", f"annotation must be an object, {describe(annotation)}")
        return
    annotation_id = annotation.get("id", MISSING)
    record = _label("annotations", i, annotation_id)
    _check_id(record, annotation_id, ctx.first_index, i, "annotations", report)
    image_id = annotation.get("image_id", MISSING)
    size = None
    if _check_ref(f"{record}.image_id", image_id, ctx.sizes, "image", report):
        size = ctx.sizes[image_id]
    category_id = annotation.get("category_id", MISSING)
    _check_ref(f"{record}.category_id", category_id, ctx.category_ids, "category", report)
    box = _check_bbox(f"{record}.bbox", annotation.get("bbox", MISSING), report)
    crowd = annotation.get("iscrowd", 0)
    if type(crowd) is bool:
        report.assume(
            "boolean iscrowd",
            f"{record}.iscrowd",
            "iscrowd written as a JSON boolean is read as 1 for true, 0 for false (kept as "
            "written on export)",
        )
    elif type(crowd) is not int or crowd not in (0, 1):
        report.error(f"{record}.iscrowd", f"iscrowd must be 0 or 1, {describe(crowd)}")
    area = annotation.get("area", MISSING)
    if area is not MISSING and not (is_finite_number(area) and area >= 0):
        report.error(f"{record}.area", f"area must be a finite number >= 0, {describe(area)}")
    seg = annotation.get("segmentation", MISSING)
    if seg is None or (type(seg) is list and seg and all(part == [] for part in seg)):
        shown = "null" if seg is None else json.dumps(seg)
        report.assume(
            f"box-only segmentation {shown}",
            f"{record}.segmentation",
            f"segmentation is {shown}: a box-only label (kept as written on export)",
        )
    elif seg is not MISSING:
        check_segmentation(f"{record}.segmentation", seg, size, report, ctx.pending, True)
    if box is not None:
        _box_warnings(f"{record}.bbox", box, size, report)


def _check_annotation_records(
    annotations: list[Any], ctx: _AnnotationContext, start: int = 0
) -> None:
    """Check all annotations: a fast test per record (the polygons of those that pass it
    tested together afterwards, :func:`polygons_ok`), the full check only where it fails.

    The full checks and box warnings run after the loop, in file order: the same messages in
    the same order as checking record by record. (Each id is taken in the loop, where the
    record's turn is, so a duplicate names the same first record.)"""
    sizes_get = ctx.sizes.get
    category_ids = ctx.category_ids
    first_index = ctx.first_index
    slow: list[int] = []  # records for the full check
    odd: list[int] = []  # records passing the fast test with a box to warn about
    shaped: list[int] = []  # records passing it but for their polygons: tested together
    polygons: list[Any] = []
    sides: list[int] = []
    for k, ann in enumerate(annotations):
        i = start + k  # the record's index in the file
        if type(ann) is dict:
            aid = ann.get("id")
            if type(aid) is int:
                own_id = _INT64_MIN <= aid <= _INT64_MAX and first_index.setdefault(aid, i) == i
            else:
                own_id = False
                if _whole_float_id(aid):
                    first_index.setdefault(aid, i)  # as the full check's _check_id does
            iid = ann.get("image_id")
            cid = ann.get("category_id")
            box = ann.get("bbox")
            crowd = ann.get("iscrowd", 0)
            area = ann.get("area", 0)
            seg = ann.get("segmentation", MISSING)
            size = sizes_get(iid) if type(iid) is int else None
            if (
                own_id
                and size is not None
                and type(cid) is int
                and cid in category_ids
                and type(crowd) is int
                and (crowd == 0 or crowd == 1)
                and (type(area) is float or (type(area) is int and area <= _INT64_MAX))
                and 0 <= area < _INF
                and type(box) is list
                and len(box) == 4
                and (seg is MISSING or type(seg) is list)
            ):
                x, y, w, h = box
                if _plain_box(x, y, w, h):
                    if seg is not MISSING and seg:
                        shaped.append(k)
                        polygons.append(seg)
                        sides.append(size[0] if size[0] > size[1] else size[1])
                    if (
                        w == 0
                        or h == 0
                        or x < -1
                        or y < -1
                        or x + w > size[1] + 1
                        or y + h > size[0] + 1
                    ):
                        odd.append(k)
                    continue
        slow.append(k)
    if shaped:
        ok = polygons_ok(polygons, np.asarray(sides, np.float64))
        if not ok.all():
            failed = [shaped[j] for j in np.flatnonzero(~ok).tolist()]
            slow = sorted([*slow, *failed])
            odd = sorted(set(odd).difference(failed))
    report = ctx.report
    for k, is_slow in heapq.merge(((k, True) for k in slow), ((k, False) for k in odd)):
        ann = annotations[k]
        if is_slow:
            _check_annotation(start + k, ann, ctx)
        else:
            record = _label("annotations", start + k, ann["id"]) + ".bbox"
            _box_warnings(record, tuple(ann["bbox"]), ctx.sizes[ann["image_id"]], report)


_RESULT_KEYS = ("image_id", "category_id", "score")


def not_ground_truth(value: Any, count: int | None = None) -> str:
    """Why a top-level JSON value is no COCO labels file; an array of prediction records (of
    ``count`` records, else ``len(value)``) is named as the results file it probably is."""
    first = value[0] if type(value) is list and value else None
    if type(first) is dict and all(k in first for k in _RESULT_KEYS):
        shape = "bbox" if "bbox" in first else "segmentation"
        n = len(value) if count is None else count
        return (
            f"this is an array of {n} prediction records (image_id, category_id, {shape}, "
            "score): a COCO results file? Give it as the predictions; the labels file is a "
            "JSON object with images, annotations and categories"
        )
    return (
        "a COCO ground-truth file must be a JSON object with images, annotations and "
        f"categories, {describe(value)}"
    )


def _check_top_level(data: Any, report: _Report) -> None:
    if type(data) is not dict:
        raise report.fail("top level", not_ground_truth(data))
    for key in _GT_SECTIONS:
        if key not in data:
            report.error("top level", f'missing required key "{key}"')
        elif type(data[key]) is not list:
            report.error("top level", f'"{key}" must be an array, {describe(data[key])}')
    report.raise_if_errors()


def read_ground_truth(
    path: str | Path,
    images_dir: str | Path | None = None,
    *,
    deep_image_checks: bool | None = None,
) -> GroundTruth:
    """Read and validate a COCO instances file; raise CocoError listing every error found.
    With ``images_dir`` the image files are checked too (``deep_image_checks``: see
    :func:`image_checks.check_images`)."""
    data = load_json(path)
    with phase("validate"):
        return check_ground_truth(data, path, images_dir, deep_image_checks=deep_image_checks)


def load_json(path: str | Path) -> Any:
    """Parse a JSON file (CocoError naming the file and what is wrong with it)."""
    return _load_json(Path(path), _Report(os.fspath(path)))


def check_ground_truth(
    data: Any,
    path: str | Path,
    images_dir: str | Path | None = None,
    *,
    deep_image_checks: bool | None = None,
) -> GroundTruth:
    """Validate parsed COCO instances data read from ``path``; raise CocoError listing every
    error found (records as parsed, so a caller may fill in what it knows first)."""
    deep = deep_image_checks
    file = os.fspath(path)
    report = _Report(file)
    _check_top_level(data, report)
    images, categories, annotations = data["images"], data["categories"], data["annotations"]
    sizes, inferred = _check_image_records(images, report, images_dir)
    category_ids = _check_category_records(categories, report)
    ctx = _AnnotationContext(sizes, category_ids, report)
    _check_annotation_records(annotations, ctx)
    check_rle_strings(ctx.pending, report)
    report.raise_if_errors()
    warnings_found = report.all_warnings()
    if images_dir is not None:
        with phase("image checks"):
            warnings_found.extend(check_images(images, images_dir, file, deep))
    top = {key: value for key, value in data.items() if key not in _GT_SECTIONS}
    return GroundTruth(Path(path), top, images, categories, annotations, warnings_found, inferred)


# the results-file reader lives in coco_results (it builds on the checks above); its public
# names stay importable from here
from .coco_results import PredictionFile, read_predictions  # noqa: E402
