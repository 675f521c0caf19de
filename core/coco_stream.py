"""Importing COCO files too large to hold as Python objects, chunk by chunk, into a project.

For files above :data:`STREAM_BYTES` (``LABELFIX_STREAM_BYTES`` in the environment overrides
it) the import does not parse the file whole: :mod:`.json_chunks` finds its structure and
decodes its arrays a chunk at a time, each chunk is checked by the reader's own checks (the
same messages, naming the file and the record by its index in the whole file) and written to
the store, and the memory holds one chunk plus what the checks must remember (image sizes and
file names; label ids as one int64 array, their duplicates found at the end). The sections of a
labels file are read in the order images, categories, annotations, wherever they are in the
file. Errors are collected over the whole file as a whole-file read does; the partial project
is then removed by the caller. What differs from a whole-file read: duplicate label ids are
reported after the other errors, and a broken file's message comes from the chunk it breaks
in.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import json_chunks
from .coco import (
    _GT_SECTIONS,
    CocoError,
    ImageChecks,
    Problem,
    _AnnotationContext,
    _check_annotation_records,
    _check_category_records,
    _check_image_records,
    _Report,
    describe,
    not_ground_truth,
)
from .coco_masks import check_rle_strings
from .coco_results import (
    _check_prediction_records,
    _clean_predictions,
    _final_columns,
    _PredictionContext,
    check_rle_boxes,
    put_rle_boxes,
)
from .image_checks import DEEP_CHECK_IMAGES, ImageFileChecks
from .prediction_columns import ImageTable
from .progress import Cancelled, ShouldStop
from .store import DatabaseError, Store
from .store.base import ServerError
from .store.records import shape_rows
from .timing import phase

STREAM_BYTES = int(os.environ.get("LABELFIX_STREAM_BYTES", 256 << 20))
"""Files larger than this are imported chunk by chunk."""


def streamed(path: str | Path) -> bool:
    """True when ``path`` is large enough to be imported chunk by chunk."""
    try:
        return os.path.getsize(path) > STREAM_BYTES
    except OSError:
        return False  # the whole-file reader says what is wrong


class _AnyIndex(dict):
    """A first-index map that never finds a duplicate (they are found at the end, in numpy)."""

    def setdefault(self, key: Any, default: Any = None) -> Any:  # noqa: D102
        return default


def _scan(fh: BinaryIO, path: Path, report: _Report) -> json_chunks.Structure:
    with phase("parse JSON"):
        try:
            return json_chunks.scan(fh)
        except json_chunks.JsonStructureError as exc:
            raise _json_error(path, exc, report) from None


def _json_error(path: Path, exc: json_chunks.JsonStructureError, report: _Report) -> CocoError:
    line, column = json_chunks.line_and_column(path, exc.pos)
    return report.fail("(file)", f"not valid JSON: {exc.msg}: line {line} column {column}")


def _chunks(
    fh: BinaryIO, path: Path, s: json_chunks.Structure, m: Any, depth: int, report: _Report
):
    """The chunks of an array, a JSON error in one raised as the reader's "(file)" error."""
    start, end = (0, s.size) if m is None else (m.start, m.end)
    it = json_chunks.array_chunks(fh, s, start, end, depth)
    while True:
        with phase("parse JSON"):
            try:
                item = next(it)
            except StopIteration:
                return
            except json_chunks.JsonStructureError as exc:
                raise _json_error(path, exc, report) from None
        yield item


def _value(fh: BinaryIO, path: Path, member: json_chunks.Member, report: _Report) -> Any:
    with phase("parse JSON"):
        try:
            return json_chunks.value(fh, member)
        except json_chunks.JsonStructureError as exc:
            raise _json_error(path, exc, report) from None


def _small_value(fh: BinaryIO, path: Path, m: json_chunks.Member, report: _Report) -> Any:
    """A member's value for a message: decoded when small, else "..."."""
    return _value(fh, path, m, report) if m.end - m.start < 1 << 20 else "..."


def _first_elements(fh: BinaryIO, path: Path, s: json_chunks.Structure, report: _Report) -> list:
    for _, items in _chunks(fh, path, s, None, 1, report):
        return items
    return []


def import_ground_truth(
    store: Store,
    path: Path,
    images_dir: Path | None,
    images_root: Path | None,
    should_stop: ShouldStop | None = None,
    deep_image_checks: bool | None = None,
) -> tuple[int, int, list[Problem]]:
    """Validate a COCO labels file chunk by chunk into the store's new dataset (inside the
    caller's transaction); returns the image and label counts and the warnings. Raises
    CocoError with every error found (the store then holds a partial dataset)."""
    file = os.fspath(path)
    report = _Report(file)
    with open(path, "rb") as fh:
        s = _scan(fh, path, report)
        kind, members = json_chunks.top_level(fh, s)
        if kind != "object":
            first = (
                _first_elements(fh, path, s, report)
                if kind == "array"
                else _value(fh, path, json_chunks.Member("", 0, s.size), report)
            )
            count = len(s.commas[1]) + 1 if kind == "array" and first else None
            raise report.fail("top level", not_ground_truth(first, count))
        sections = {m.key: m for m in members}  # the last of a repeated key, as json does
        for key in _GT_SECTIONS:
            m = sections.get(key)
            if m is None:
                report.error("top level", f'missing required key "{key}"')
            elif json_chunks.first_byte(fh, m.start, m.end) != b"[":
                shown = describe(_value(fh, path, m, report))
                report.error("top level", f'"{key}" must be an array, {shown}')
        report.raise_if_errors()
        top = {m.key: _value(fh, path, m, report) for m in members if m.key not in _GT_SECTIONS}
        store.begin_dataset(top, path, images_root)

        def check() -> None:
            if should_stop is not None and should_stop():
                raise Cancelled("import cancelled")

        n_images = 0
        checks = ImageChecks()
        files: ImageFileChecks | None = None
        for start, chunk in _chunks(fh, path, s, sections["images"], 2, report):
            check()
            with phase("validate"):
                _check_image_records(chunk, report, images_dir, start, checks)
            if images_dir is not None:
                if files is None:
                    n = _elements(s, sections["images"])
                    deep = (
                        n <= DEEP_CHECK_IMAGES if deep_image_checks is None else deep_image_checks
                    )
                    files = ImageFileChecks(images_dir, file, deep)
                with phase("image checks"):
                    files.add(chunk, start)
            if not report.error_count:
                with phase("write SQLite"):
                    store.add_images(chunk, start, checks.inferred)
            n_images += len(chunk)
        categories = _value(fh, path, sections["categories"], report)
        with phase("validate"):
            category_ids = _check_category_records(categories, report)
        if not report.error_count:
            with phase("write SQLite"):
                store.add_categories(categories)
        ctx = _AnnotationContext(checks.sizes, category_ids, report)
        ctx.first_index = _AnyIndex()
        ids: list[np.ndarray] = []
        n_labels, writing = 0, True
        for start, chunk in _chunks(fh, path, s, sections["annotations"], 2, report):
            check()
            with phase("validate"):
                ctx.pending = []
                _check_annotation_records(chunk, ctx, start)
                check_rle_strings(ctx.pending, report)
                ids.append(_label_ids(chunk, start))
            if writing and not report.error_count:
                with phase("write SQLite"):
                    try:
                        store.add_annotations(chunk, start)
                    except (DatabaseError, ServerError):  # a duplicate id: reported below
                        writing = False
            n_labels += len(chunk)
    _report_duplicates(ids, report)
    if not writing and not report.error_count:
        raise RuntimeError("labels could not be written, but no duplicate id was found")
    report.raise_if_errors()
    warnings = report.all_warnings() + ([] if files is None else files.problems())
    store.set_meta("warnings", [str(w) for w in warnings])
    return n_images, n_labels, warnings


def _elements(s: json_chunks.Structure, m: json_chunks.Member) -> int:
    """How many elements (at most) the array of a member has: its commas + 1."""
    commas = s.commas[2]
    lo, hi = np.searchsorted(commas, [m.start, m.end])
    return int(hi - lo) + 1


def _label_ids(chunk: list[Any], start: int) -> np.ndarray:
    """(id, index in the file) of the chunk's labels with an id that is a 64-bit integer (or a
    whole-number float, as the reader reads it)."""
    rows = []
    for k, ann in enumerate(chunk):
        if type(ann) is dict:
            value = ann.get("id")
            if type(value) is float and value.is_integer():
                value = int(value)
            if type(value) is int and -(2**63) <= value < 2**63:
                rows.append((value, start + k))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def _report_duplicates(ids: list[np.ndarray], report: _Report) -> None:
    """Every label whose id an earlier label already used, in file order."""
    both = np.concatenate([np.zeros((0, 2), np.int64), *ids])
    order = np.lexsort((both[:, 1], both[:, 0]))
    value, index = both[order, 0], both[order, 1]
    again = np.flatnonzero(value[1:] == value[:-1]) + 1
    if not again.size:
        return
    first_of_run = np.maximum.accumulate(
        np.where(np.r_[True, value[1:] != value[:-1]], np.arange(len(value)), 0)
    )
    found = sorted(
        (int(index[k]), int(value[k]), int(index[first_of_run[k]])) for k in again.tolist()
    )
    for i, v, first in found:
        report.error(
            f"annotations[{i}] (id {v}).id",
            f"duplicate id {v} (first used by annotations[{first}])",
        )


def add_predictions(
    store: Store,
    path: Path,
    name: str,
    sizes: Mapping[int, tuple[int, int]],
    category_ids: Collection[int],
    *,
    activate: bool = True,
    should_stop: ShouldStop | None = None,
) -> tuple[int, list[Problem]]:
    """Validate a COCO results file chunk by chunk into a new prediction set (one
    transaction); returns its count and warnings, or raises CocoError with every error."""
    file = os.fspath(path)
    report = _Report(file)
    known = category_ids if isinstance(category_ids, (set, frozenset)) else set(category_ids)
    with open(path, "rb") as fh:
        s = _scan(fh, path, report)
        kind, members = json_chunks.top_level(fh, s)
        if kind != "array":
            if kind == "object" and any(m.key == "annotations" for m in members):
                reason = (
                    "COCO results must be a JSON array of prediction records; this is an object "
                    'with "annotations" (a ground-truth file?)'
                )
            else:
                shown = (
                    {m.key: _small_value(fh, path, m, report) for m in members[:5]}
                    if kind == "object"
                    else _value(fh, path, json_chunks.Member("", 0, s.size), report)
                )
                reason = (
                    f"COCO results must be a JSON array of prediction records, {describe(shown)}"
                )
            raise report.fail("top level", reason)
        expected = len(s.commas[1]) + 1
        image_ids = np.fromiter(sizes.keys(), np.int64, len(sizes))
        table = ImageTable(sizes)
        with store.prediction_writer(name, path, image_ids, expected) as writer:
            count, has_segmentation = 0, True
            for start, chunk in _chunks(fh, path, s, None, 1, report):
                if should_stop is not None and should_stop():
                    raise Cancelled("import cancelled")
                ctx = _PredictionContext(sizes, known, report)
                ctx.table = table
                with phase("validate"):
                    fast = _check_prediction_records(chunk, ctx, start)
                    found = check_rle_boxes(chunk, ctx, fast, sizes, None, start)
                count += len(chunk)
                if report.error_count or fast is None:
                    continue
                with phase("build columns"):
                    _clean_predictions(chunk, ctx.clean)
                    boxed = put_rle_boxes(chunk, ctx, fast, found, sizes, False)
                    columns = _final_columns(chunk, fast, boxed)
                    has_segmentation &= bool(columns["has_segmentation"].all())
                    shaped = np.flatnonzero(columns["has_segmentation"] | columns["extra_keys"])
                with phase("write SQLite"):
                    writer.add(
                        start, columns, shape_rows(writer.set_id, chunk, shaped.tolist(), start)
                    )
            report.raise_if_errors()
            if not count:
                report.warn("top level", "the file holds no predictions")
            with phase("write SQLite"):
                writer.finish(count, has_segmentation and count > 0)
                if activate or store.active_set_id() is None:
                    store.set_meta("active_prediction_set", writer.set_id)
                warnings = report.all_warnings()
                store.add_warnings(warnings)
    return count, warnings
