"""Rows of the project's tables <-> the dicts the rest of LabelFix uses (no SQL here)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from operator import methodcaller
from typing import Any

from .. import as_read, jsonio

IMAGE_KEYS = ("id", "file_name", "width", "height")
CATEGORY_KEYS = ("id", "name", "supercategory")
ANNOTATION_KEYS = ("id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd")
PREDICTION_KEYS = ("image_id", "category_id", "bbox", "segmentation", "score")


def dumps(value: Any) -> str:
    """Compact JSON as stored in the project."""
    return jsonio.encode(value)


def extra(record: dict, known: Sequence[str]) -> str:
    """The unknown keys of a COCO record as JSON."""
    return dumps({k: v for k, v in record.items() if k not in known})


ANNOTATION_SELECT = (
    "SELECT id, image_id, category_id, x, y, w, h, area, segmentation, iscrowd, has_iscrowd, "
    "extra, revision, position, as_read FROM annotations"
)


def image_row(im: dict, position: int, inferred: dict[int, tuple[int, int]]) -> tuple:
    """An images row: the record as LabelFix understands it, plus its values as read."""
    im, read = as_read.image(im, inferred.get(im["id"]))
    return (
        im["id"],
        position,
        im["file_name"],
        im["width"],
        im["height"],
        extra(im, IMAGE_KEYS),
        dumps(read) if read else None,
    )


def category_row(c: dict, position: int) -> tuple:
    """A categories row: the record as LabelFix understands it, plus its values as read."""
    c, read = as_read.category(c)
    return (
        c["id"],
        position,
        c["name"],
        c.get("supercategory"),
        extra(c, CATEGORY_KEYS),
        dumps(read) if read else None,
    )


def annotation_row(a: dict, position: int) -> tuple:
    """An annotations row (without revision): the label as LabelFix understands it (integer
    ids and iscrowd, a clean segmentation), then its values as read."""
    a, read = as_read.annotation(a)
    x, y, w, h = a["bbox"]
    seg = a.get("segmentation", _ABSENT)
    return (
        a["id"],
        position,
        a["image_id"],
        a["category_id"],
        x,
        y,
        w,
        h,
        a.get("area"),
        None if seg is _ABSENT else dumps(seg),
        int(a.get("iscrowd", 0) or 0),
        int("iscrowd" in a),
        extra(a, ANNOTATION_KEYS),
        dumps(read) if read else None,
    )


_KNOWN_ANNOTATION_KEYS = frozenset(ANNOTATION_KEYS)
_KNOWN_PREDICTION_KEYS = frozenset(PREDICTION_KEYS)


def annotation_rows(
    records: list[dict], start: int, others: list[tuple] | None = None
) -> Iterator[tuple]:
    """:func:`annotation_row` of each record (``records[0]`` at position ``start``), the usual
    record (integer ids and iscrowd, no unknown keys, a polygon list without empty parts or an
    RLE) without the per-record detours: the same rows, about twice as fast.

    With ``others``: the usual records' rows come without their last value (``as_read``, None
    for them), and the other records' rows go whole to ``others``; a bulk insert then leaves
    the column out (NULL) rather than binding None, which the sqlite3 module adapts value by
    value (~0.75 us each: 0.03 s of the 0.12 s insert of 37k labels)."""
    known = _KNOWN_ANNOTATION_KEYS
    usual = slice(None) if others is None else slice(-1)
    segs = list(map(methodcaller("get", "segmentation"), records))
    try:  # every segmentation in one call into the encoder
        texts = jsonio.encode_many(segs)
    except (TypeError, ValueError, OverflowError):  # what only json can encode: one by one
        texts = [None] * len(records)
    for i, a, text in zip(range(start, start + len(records)), records, texts, strict=True):
        seg = a.get("segmentation", _ABSENT)
        crowd = a.get("iscrowd", 0)
        if (
            type(crowd) is int
            and type(a["id"]) is int
            and type(a["image_id"]) is int
            and type(a["category_id"]) is int
            and seg is not None
            and (type(seg) is not list or not seg or [] not in seg)
            and a.keys() <= known
        ):
            x, y, w, h = a["bbox"]
            yield (
                a["id"], i, a["image_id"], a["category_id"], x, y, w, h, a.get("area"),
                None if seg is _ABSENT else text or dumps(seg), int(crowd or 0),
                int("iscrowd" in a),
                "{}", None,
            )[usual]  # fmt: skip
        elif others is None:
            yield annotation_row(a, i)
        else:
            others.append(annotation_row(a, i))


def shape_rows(
    set_id: int, records: list[dict], indices: Iterable[int], start: int = 0
) -> Iterator[tuple]:
    """prediction_shapes rows for the records (of these indices) that have a segmentation or
    unknown keys (``records[0]`` is record ``start`` of the file)."""
    known = _KNOWN_PREDICTION_KEYS
    for i in indices:
        r = records[i]
        if len(r) <= 4 and "segmentation" not in r:
            continue  # image_id, category_id, bbox, score: all in the arrays
        extra = {} if r.keys() <= known else {k: v for k, v in r.items() if k not in known}
        seg = r.get("segmentation")
        if seg is None and not extra:
            continue
        yield (
            set_id,
            start + i + 1,
            r["image_id"],
            None if seg is None else dumps(seg),
            dumps(extra) if extra else None,
        )


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def annotation_from_row(row: Sequence[Any]) -> dict:
    """A label as a dict: id, image_id, category_id, bbox, segmentation (None if absent), area,
    iscrowd, plus ``extra`` (unknown keys), ``revision``, ``position`` and ``as_read`` (the
    values the file had where the reader assumed something, see :mod:`labelfix.core.as_read`)."""
    (
        ann_id,
        image_id,
        category_id,
        x,
        y,
        w,
        h,
        area,
        seg,
        iscrowd,
        has_iscrowd,
        extra,
        revision,
        position,
        read,
    ) = row
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": [x, y, w, h],
        "segmentation": None if seg is None else json.loads(seg),
        "area": area,
        "iscrowd": iscrowd,
        "has_iscrowd": bool(has_iscrowd),
        "extra": json.loads(extra),
        "revision": revision,
        "position": position,
        "as_read": None if read is None else json.loads(read),
    }


def ann_to_record(ann: dict) -> dict:
    """The COCO JSON record of a label dict (inverse of :func:`annotation_from_row`)."""
    rec: dict[str, Any] = {
        "id": ann["id"],
        "image_id": ann["image_id"],
        "category_id": ann["category_id"],
    }
    if ann.get("segmentation") is not None:
        rec["segmentation"] = ann["segmentation"]
    if ann.get("area") is not None:
        rec["area"] = ann["area"]
    rec["bbox"] = list(ann["bbox"])
    if ann.get("has_iscrowd", True):
        rec["iscrowd"] = ann.get("iscrowd", 0)
    rec.update(ann.get("extra") or {})
    return as_read.restore(rec, ann.get("as_read"))


def label_from_record(record: dict) -> dict:
    """A label dict (as :func:`annotation_from_row` gives, without revision, position and
    as_read) from a COCO annotation record: its unknown keys go to ``extra``."""
    return {
        "id": record["id"],
        "image_id": record["image_id"],
        "category_id": record["category_id"],
        "bbox": list(record["bbox"]),
        "segmentation": record.get("segmentation"),
        "area": record.get("area"),
        "iscrowd": record.get("iscrowd", 0),
        "has_iscrowd": "iscrowd" in record,
        "extra": {k: v for k, v in record.items() if k not in ANNOTATION_KEYS},
    }


def decode_extra(row: dict) -> dict:
    """A table row with its ``extra`` (and ``as_read``) JSON decoded."""
    row["extra"] = json.loads(row["extra"])
    if "as_read" in row:
        row["as_read"] = None if row["as_read"] is None else json.loads(row["as_read"])
    return row
