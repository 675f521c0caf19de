"""Rows of the project's tables <-> the dicts the rest of LabelFix uses (no SQL here)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

IMAGE_KEYS = ("id", "file_name", "width", "height")
CATEGORY_KEYS = ("id", "name", "supercategory")
ANNOTATION_KEYS = ("id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd")
PREDICTION_KEYS = ("image_id", "category_id", "bbox", "segmentation", "score")


def dumps(value: Any) -> str:
    """Compact JSON as stored in the project."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def extra(record: dict, known: Sequence[str]) -> str:
    """The unknown keys of a COCO record as JSON."""
    return dumps({k: v for k, v in record.items() if k not in known})


ANNOTATION_SELECT = (
    "SELECT id, image_id, category_id, x, y, w, h, area, segmentation, iscrowd, has_iscrowd, "
    "extra, revision, position FROM annotations"
)


def annotation_row(a: dict, position: int) -> tuple:
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
    )


def shape_rows(set_id: int, records: list[dict]) -> Iterator[tuple]:
    """prediction_shapes rows for the records that have a segmentation or unknown keys."""
    for i, r in enumerate(records):
        if len(r) <= 4 and "segmentation" not in r:
            continue  # image_id, category_id, bbox, score: all in the arrays
        extra = {k: v for k, v in r.items() if k not in PREDICTION_KEYS}
        seg = r.get("segmentation")
        if seg is None and not extra:
            continue
        yield (
            set_id,
            i + 1,
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
    iscrowd, plus ``extra`` (unknown keys), ``revision`` and ``position``."""
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
    return rec


def decode_extra(row: dict) -> dict:
    row["extra"] = json.loads(row["extra"])
    return row
