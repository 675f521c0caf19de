"""Reading a COCO results file (a model's predictions): parsed like the labels file
(:mod:`labelfix.core.coco`), checked column by column in numpy where the records allow and one
by one with the reader's messages where not, numbered as pycocotools' ``loadRes`` numbers them.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from .coco import (
    Problem,
    _box_warnings,
    _check_bbox,
    _check_ref,
    _load_json,
    _parse_json_bytes,
    _plain_box,
    _read_bytes,
    _Report,
)
from .coco_masks import (
    MISSING,
    check_rle_columns,
    check_segmentation,
    derive_boxes,
    describe,
    is_number,
)
from .coco_results_typed import decode_rle_predictions, typed_rle_columns
from .prediction_columns import CheckedColumns, ImageTable, check_columns
from .timing import phase

# --------------------------------------------------------------------------- predictions


@dataclass
class PredictionFile:
    """A validated COCO results file; record i is prediction i + 1."""

    path: Path
    records: list[dict[str, Any]]
    """The records as dicts; but read for the store (``boxes_in_records=False``) from a file
    the typed decoder took (:mod:`.coco_results_typed`), the records are its structs (what the
    store reads is in :attr:`columns` and :attr:`rles`)."""
    has_segmentation: bool
    warnings: list[Problem]
    columns: dict[str, np.ndarray] | None = None
    """The records' fields as numpy columns (image_id, category_id, score, box, and per record
    has_segmentation, extra_keys and plain_rle), when the reader built them."""
    rles: dict[str, Any] | None = None
    """With the columns: every compressed RLE counts string as the check read it, in file
    order: ``place`` (record index), ``height``, ``width`` (its image's: the check makes sure),
    ``end`` (where it ends in the counts) and ``counts`` (the ASCII strings one after another,
    as a list of uint8 arrays: the check's batches, never copied into one)."""


class _PredictionContext:
    """What prediction checks need, plus the records whose bbox must be derived from the mask."""

    __slots__ = (
        "sizes", "category_ids", "pending", "index", "rle", "derive", "clean", "report",
        "table",
    )  # fmt: skip

    def __init__(
        self, sizes: Mapping[int, tuple[int, int]], category_ids: Collection[int], report: _Report
    ) -> None:
        self.sizes = sizes
        self.category_ids = category_ids
        self.pending: list[tuple[Any, str, int]] = []
        self.index: list[int] = []  # the record (index in the chunk) of each pending item
        self.rle: tuple[np.ndarray, list[str], np.ndarray] | None = None
        """Instead of ``pending``, when the column check found every RLE string: (places,
        counts strings, pixels) as columns."""
        self.derive: list[int] = []
        self.clean: list[int] = []  # records read leniently: cleaned once all are valid
        self.report = report
        self.table: ImageTable | None = None  # the images as columns (shared by chunks)


def _check_prediction(i: int, prediction: Any, ctx: _PredictionContext, start: int = 0) -> None:
    """Check one prediction record in full, with a message for everything wrong (``i`` is its
    index in the chunk, ``start + i`` in the file)."""
    report = ctx.report
    if type(prediction) is not dict:
        report.error(f"[{start + i}]", f"prediction must be an object, {describe(prediction)}")
        return
    record = f"[{start + i}] (prediction {start + i + 1})"
    image_id = prediction.get("image_id", MISSING)
    size = None
    if _check_ref(f"{record}.image_id", image_id, ctx.sizes, "image", report):
        size = ctx.sizes[image_id]
    category_id = prediction.get("category_id", MISSING)
    _check_ref(f"{record}.category_id", category_id, ctx.category_ids, "category", report)
    score = prediction.get("score", MISSING)
    if score is MISSING:
        report.error(f"{record}.score", "missing required field")
    elif not (is_number(score) and 0 <= score <= 1):
        report.error(f"{record}.score", f"score must be a number from 0 to 1, {describe(score)}")
    box = prediction.get("bbox", MISSING)
    seg = prediction.get("segmentation", MISSING)
    if type(image_id) is float or type(category_id) is float:
        ctx.clean.append(i)
    if box is not MISSING and _no_shape(seg):
        shown = "null" if seg is None else json.dumps(seg)
        report.assume(
            f"box-only prediction {shown}",
            f"{record}.segmentation",
            f"segmentation is {shown} beside a bbox: a box-only prediction (as pycocotools' "
            "loadRes reads it)",
        )
        ctx.clean.append(i)
        seg = MISSING
    elif type(seg) is list and len(seg) > 1 and [] in seg:
        ctx.clean.append(i)
    if box is MISSING and (seg is MISSING or _no_shape(seg)):
        empty = "" if seg is MISSING else " (its segmentation is empty)"
        report.error(record, f"prediction has neither a bbox nor a segmentation{empty}")
        return
    before = len(ctx.pending)
    seg_ok = seg is MISSING or check_segmentation(
        f"{record}.segmentation", seg, size, report, ctx.pending, False
    )
    ctx.index += [i] * (len(ctx.pending) - before)
    if box is not MISSING:
        checked = _check_bbox(f"{record}.bbox", box, report)
        if checked is not None:
            _box_warnings(f"{record}.bbox", checked, size, report)
    elif seg_ok and size is not None:
        ctx.derive.append(i)


def _no_shape(seg: Any) -> bool:
    """A segmentation that outlines nothing: null, [] or only empty parts ([[]])."""
    return seg is None or (type(seg) is list and all(part == [] for part in seg))


def _clean_predictions(records: list[dict[str, Any]], indices: list[int]) -> None:
    """Store leniently read predictions as understood: integer ids, no empty segmentation
    (box only), no empty polygon parts. Predictions are never exported, so nothing is kept."""
    for i in sorted(set(indices)):
        record = records[i]
        for key in ("image_id", "category_id"):
            if type(record.get(key)) is float:
                record[key] = int(record[key])
        if "segmentation" in record:
            seg = record["segmentation"]
            if _no_shape(seg):
                del record["segmentation"]
            elif type(seg) is list and [] in seg:
                record["segmentation"] = [part for part in seg if part != []]


def _check_prediction_records(
    records: list[Any], ctx: _PredictionContext, start: int = 0
) -> CheckedColumns | None:
    """Check all predictions: column by column (:mod:`.prediction_columns`), the full check
    one by one only for the records that fail there, in file order; returns the columns (None
    when the records could not be read as columns: then every record was checked alone)."""
    fast = check_columns(records, ctx.sizes, ctx.category_ids, ctx.table)
    if fast is None:
        _check_prediction_records_one_by_one(records, ctx, start)
        return None
    slow = set(fast.slow.tolist())
    if not slow:  # the usual file: the column check's RLE strings are all there is, in order
        for i in fast.warn.tolist():
            _warn_box(records, i, ctx, start)
        if ctx.pending or ctx.rle is not None:
            ctx.pending += [(start + k, counts, pixels) for k, counts, pixels in fast.pending]
            ctx.index += fast.rle_rows.tolist()
        else:
            ctx.rle = (fast.rle_rows + start, fast.rle_counts, fast.rle_pixels)
        ctx.derive += fast.derive
        return fast
    pending = [(k, (start + k, counts, pixels)) for k, counts, pixels in fast.pending]
    for i in heapq.merge(fast.slow.tolist(), fast.warn.tolist()):
        if i in slow:
            before = len(ctx.pending)
            _check_prediction(i, records[i], ctx, start)
            pending += [(i, item) for item in ctx.pending[before:]]
        else:
            _warn_box(records, i, ctx, start)
    pending.sort(key=itemgetter(0))  # stable: file order, as one by one
    ctx.pending[:] = [item for _, item in pending]
    ctx.index[:] = [k for k, _ in pending]
    ctx.derive += fast.derive
    return fast


def _warn_box(records: list[Any], i: int, ctx: _PredictionContext, start: int) -> None:
    """The warnings of a clean record's box (zero area, outside the image)."""
    box = records[i]["bbox"]
    size = ctx.sizes[records[i]["image_id"]]
    where = f"[{start + i}] (prediction {start + i + 1}).bbox"
    _box_warnings(where, tuple(box), size, ctx.report)


def _final_columns(
    records: list[dict[str, Any]], fast: CheckedColumns, boxed: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The store's columns once the records are clean: those checked one by one or given a
    box from their mask are read again from their records (of a clean record with a mask,
    only the box changed; ``boxed``: records whose box is in the column already)."""
    skip = np.zeros(len(fast.image_id), bool)
    skip[fast.slow] = True
    if boxed is not None:
        skip[boxed] = True
    derive = np.asarray(fast.derive, np.int64)
    derived = derive[~skip[derive]].tolist()
    slow = set(fast.slow.tolist())
    if derived:
        fast.box[derived] = np.array([records[k]["bbox"] for k in derived], dtype=np.float64)
    for k in sorted(slow):
        r = records[k]
        fast.image_id[k], fast.category_id[k] = r["image_id"], r["category_id"]
        fast.score[k] = r["score"]
        fast.box[k] = r["bbox"]
        fast.has_segmentation[k] = has = "segmentation" in r
        fast.extra_keys[k] = len(r) > 4 + has
        seg = r.get("segmentation")
        fast.plain_rle[k] = type(seg) is dict and len(seg) == 2 and type(seg.get("counts")) is str
    return {
        "image_id": fast.image_id,
        "category_id": fast.category_id,
        "score": fast.score,
        "box": fast.box,
        "has_segmentation": fast.has_segmentation,
        "extra_keys": fast.extra_keys,
        "plain_rle": fast.plain_rle,
    }


def _rle_texts(
    place: np.ndarray,
    texts: list[tuple[bytes, np.ndarray]],
    image_id: np.ndarray,
    images: Mapping[int, tuple[int, int]],
) -> dict[str, Any] | None:
    """:attr:`PredictionFile.rles` from the RLE check's batches (``texts``) of the strings of
    the records ``place`` (file order)."""
    if not place.size:
        return None
    table = ImageTable(images)
    at = np.searchsorted(table.ids, image_id[place])
    return {
        "place": place,
        "height": table.sizes[at, 0],
        "width": table.sizes[at, 1],
        "end": np.cumsum(np.concatenate([np.zeros(0, np.int64), *(n for _, n in texts)])),
        "counts": [np.frombuffer(text, np.uint8) for text, _ in texts],
    }


def _check_prediction_records_one_by_one(
    records: list[Any], ctx: _PredictionContext, start: int = 0
) -> None:
    """Check all predictions: a fast test per record, the full check only where it fails."""
    sizes_get = ctx.sizes.get
    category_ids = ctx.category_ids
    pending_append = ctx.pending.append
    index_append = ctx.index.append
    derive_append = ctx.derive.append
    for i, r in enumerate(records):
        if type(r) is dict:
            iid = r.get("image_id")
            cid = r.get("category_id")
            s = r.get("score")
            box = r.get("bbox", MISSING)
            seg = r.get("segmentation", MISSING)
            size = sizes_get(iid) if type(iid) is int else None
            if (
                size is not None
                and type(cid) is int
                and cid in category_ids
                and (type(s) is float or type(s) is int)
                and 0 <= s <= 1
            ):
                if seg is not MISSING:  # fast only for a compressed RLE of the image's size
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
                        _check_prediction(i, r, ctx, start)
                        continue
                    if box is MISSING:
                        pending_append((start + i, counts, size[0] * size[1]))
                        index_append(i)
                        derive_append(i)
                        continue
                if type(box) is list and len(box) == 4:
                    x, y, w, h = box
                    if _plain_box(x, y, w, h):
                        if seg is not MISSING:
                            pending_append((start + i, counts, size[0] * size[1]))
                            index_append(i)
                        if (
                            w == 0
                            or h == 0
                            or x < -1
                            or y < -1
                            or x + w > size[1] + 1
                            or y + h > size[0] + 1
                        ):
                            _box_warnings(
                                f"[{start + i}] (prediction {start + i + 1}).bbox",
                                (x, y, w, h),
                                size,
                                ctx.report,
                            )
                        continue
        _check_prediction(i, r, ctx, start)


def check_rle_boxes(
    records: list[Any],
    ctx: _PredictionContext,
    fast: CheckedColumns | None,
    images: Mapping[int, tuple[int, int]],
    texts: list[tuple[bytes, np.ndarray]] | None = None,
    start: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Check the RLE strings of ``ctx.pending`` (errors to ``ctx.report``), deriving the boxes
    of the records in ``ctx.derive`` as they are decoded: (record index of each string, its
    box or NaN; see :func:`.coco_masks.check_rle_columns`)."""
    if ctx.rle is not None and ctx.rle[0].size:
        place, strings, pixels = ctx.rle
        places = place
        place = place - start  # ascending: file order
    elif ctx.pending:
        places, strings, pixels = zip(*ctx.pending, strict=True)
        place = np.asarray(ctx.index, np.int64)
    else:
        return np.zeros(0, np.int64), None
    derive = np.asarray(ctx.derive, np.int64)
    wanted = None
    if derive.size:
        at = np.minimum(np.searchsorted(place, derive), place.size - 1)
        hit = place[at] == derive
        rows, indices = at[hit], derive[hit]
        wanted = np.zeros(place.size, np.int64)
        if fast is not None:  # clean records: their image's height from the columns
            clean = np.ones(len(records), bool)
            clean[fast.slow] = False
            table = ctx.table or ImageTable(images)
            ids = fast.image_id[indices]
            wanted[rows] = table.sizes[np.searchsorted(table.ids, ids), 0]
            rest = np.flatnonzero(~clean[indices])
        else:
            rest = np.arange(indices.size)
        for k in rest.tolist():
            wanted[rows[k]] = images[records[int(indices[k])]["image_id"]][0]
    found = check_rle_columns(places, strings, pixels, ctx.report, _prediction_place, wanted, texts)
    return place, found


def put_rle_boxes(
    records: list[Any],
    ctx: _PredictionContext,
    fast: CheckedColumns | None,
    found: tuple[np.ndarray, np.ndarray | None],
    images: Mapping[int, tuple[int, int]],
    into_records: bool = True,
) -> np.ndarray:
    """Give the records of ``ctx.derive`` their box (and the columns, for the records
    :func:`check_rle_boxes` boxed): from ``found``, else from pycocotools
    (:func:`.coco_masks.derive_boxes`). Returns the record indices boxed from ``found``.
    ``into_records=False``: the boxes from ``found`` of clean records go to the columns only
    (what the store reads; a list and a dict entry per record less to make and free)."""
    place, boxes = found
    if boxes is None:
        derive_boxes(records, ctx.derive, images)
        return np.zeros(0, np.int64)
    got = np.flatnonzero(~np.isnan(boxes[:, 0]))
    indices, values = place[got], boxes[got]
    if fast is not None:
        fast.box[indices] = values
    if not into_records and fast is not None:  # the records checked one by one still get theirs
        alone = np.isin(indices, fast.slow)
        indices_written, values = indices[alone], values[alone]
    else:
        indices_written = indices
    for i, box in zip(indices_written.tolist(), values.tolist(), strict=True):
        records[i]["bbox"] = box
    done = np.zeros(len(records), bool)
    done[indices] = True
    derive = np.asarray(ctx.derive, np.int64)
    derive_boxes(records, derive[~done[derive]].tolist(), images)
    return indices


def _prediction_place(place: str | int) -> str:
    """Name a pending RLE string: a record path, or the index of a prediction's record."""
    if type(place) is str:
        return place
    return f"[{place}] (prediction {place + 1}).segmentation.counts"


def _typed_rle_records(
    path: Path, ctx: _PredictionContext, report: _Report
) -> tuple[Any, CheckedColumns | None]:
    """(records, columns) of a file of plain compressed-RLE records, all clean, read by the
    typed decoder (:mod:`.coco_results_typed`); else (the file's bytes, None): the general
    path parses and checks them."""
    with phase("parse JSON"):
        raw = _read_bytes(path, report)
        records = decode_rle_predictions(raw)
    if records is None:
        return raw, None
    ctx.table = ImageTable(ctx.sizes)
    fast = typed_rle_columns(records, ctx.table, ctx.category_ids)
    if fast is None:
        return raw, None
    ctx.rle = (fast.rle_rows, fast.rle_counts, fast.rle_pixels)
    ctx.derive += fast.derive
    return records, fast


def _check_prediction_top_level(data: Any, report: _Report) -> None:
    if type(data) is list:
        return
    if type(data) is dict and "annotations" in data:
        reason = (
            "COCO results must be a JSON array of prediction records; this is an object "
            'with "annotations" (a ground-truth file?)'
        )
    else:
        reason = f"COCO results must be a JSON array of prediction records, {describe(data)}"
    raise report.fail("top level", reason)


def read_predictions(
    path: str | Path,
    images: Mapping[int, tuple[int, int]],
    category_ids: Collection[int],
    *,
    boxes_in_records: bool = True,
) -> PredictionFile:
    """Read and validate a COCO results file against images (id -> (height, width)) and
    categories. ``boxes_in_records=False`` (the store's import): the boxes derived from the
    masks of the records the column check passed are in :attr:`PredictionFile.columns` only,
    not added to the records (as they are with the default, as ``loadRes`` does)."""
    with phase("validate"):
        return _read_predictions(path, images, category_ids, boxes_in_records)


def _read_predictions(
    path: str | Path,
    images: Mapping[int, tuple[int, int]],
    category_ids: Collection[int],
    boxes_in_records: bool = True,
) -> PredictionFile:
    file = os.fspath(path)
    report = _Report(file)
    known_categories = (
        category_ids if isinstance(category_ids, (set, frozenset)) else set(category_ids)
    )
    ctx = _PredictionContext(images, known_categories, report)
    fast = None
    if not boxes_in_records:  # the store's import: the usual segm file as typed structs
        data, fast = _typed_rle_records(Path(path), ctx, report)
        if fast is None:
            with phase("parse JSON"):
                data = _parse_json_bytes(data, report)
    else:
        data = _load_json(Path(path), report)
    typed = fast is not None
    if not typed:
        _check_prediction_top_level(data, report)
        fast = _check_prediction_records(data, ctx)
    texts: list[tuple[bytes, np.ndarray]] = []
    found = check_rle_boxes(data, ctx, fast, images, texts)
    report.raise_if_errors()
    if not data:
        report.warn("top level", "the file holds no predictions")
    _clean_predictions(data, ctx.clean)
    if typed and found[1] is not None:
        # the few records pycocotools boxes (derive_boxes) as the dicts it reads
        for i in found[0][np.isnan(found[1][:, 0])].tolist():
            data[i] = data[i].as_dict()
    boxed = put_rle_boxes(data, ctx, fast, found, images, boxes_in_records)
    columns = None if fast is None else _final_columns(data, fast, boxed)
    rles = None
    if columns is not None:
        has_segmentation = bool(data) and bool(columns["has_segmentation"].all())
        rles = _rle_texts(found[0], texts, columns["image_id"], images)
    else:
        has_segmentation = bool(data) and all("segmentation" in r for r in data)
    warnings = report.all_warnings()
    return PredictionFile(Path(path), data, has_segmentation, warnings, columns, rles)
