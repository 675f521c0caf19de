"""Values as read: what the lenient COCO reader assumed, and how an export writes it back.

pycocotools and the exporters' own tools accept a few shapes the COCO format does not name, and
so does LabelFix (each with a warning): a whole-number float id (``1.0``), ``iscrowd`` as a JSON
boolean, a ``null`` segmentation or one whose polygon parts are all empty (a box-only label), an
empty polygon part beside real ones (ignored for geometry), a category whose ``supercategory`` is
not a string (``null`` in labelme2coco's output), an image without ``width`` / ``height`` (read
from the image file's header).

LabelFix stores such a record the way it understands it (integers, a clean segmentation, the
size) and keeps the values as they were in the file in an *as read* record:
``{"set": {key: value as read}, "absent": [keys the file did not have]}``. An export writes the
file's values back for every field LabelFix did not change (:func:`restore`); a field an edit
changes drops out of it (:func:`forget`), so the export then holds the new value (a new box on
a box-only label leaves its ``null`` or ``[[]]`` segmentation as it was).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

AsRead = dict[str, Any]
_MISSING: Any = object()
_ID_KEYS = ("id", "image_id", "category_id")


def _whole_float(value: Any) -> bool:
    return type(value) is float and value.is_integer()


def _record(as_read: AsRead | None, key: str, value: Any) -> AsRead:
    out = as_read if as_read is not None else {"set": {}, "absent": []}
    if value is _MISSING:
        out["absent"].append(key)
    else:
        out["set"][key] = copy.deepcopy(value)
    return out


def clean_segmentation(seg: Any) -> Any:
    """The segmentation LabelFix works with: None (box only) for ``null`` or parts that are all
    empty, the real parts where some are empty, else the value itself (``[]`` stays ``[]``)."""
    if seg is None:
        return None
    if type(seg) is list and seg and [] in seg:
        parts = [part for part in seg if not (type(part) is list and not part)]
        return parts or None
    return seg


def annotation(record: dict[str, Any]) -> tuple[dict[str, Any], AsRead | None]:
    """(the label as LabelFix stores it, the values as read where they differ, else None)."""
    seg = record.get("segmentation", _MISSING)
    crowd = record.get("iscrowd", 0)
    if (
        type(record.get("id")) is int
        and type(record.get("image_id")) is int
        and type(record.get("category_id")) is int
        and type(crowd) is int
        and (type(seg) is not list or not seg or [] not in seg)
        and seg is not None
    ):
        return record, None  # the usual case: nothing assumed
    clean = dict(record)
    as_read: AsRead | None = None
    for key in _ID_KEYS:
        if _whole_float(record.get(key)):
            as_read = _record(as_read, key, record[key])
            clean[key] = int(record[key])
    if type(crowd) is bool:
        as_read = _record(as_read, "iscrowd", crowd)
        clean["iscrowd"] = int(crowd)
    if seg is not _MISSING:
        fixed = clean_segmentation(seg)
        if seg is None or fixed is not seg:
            as_read = _record(as_read, "segmentation", seg)
            if fixed is None:
                del clean["segmentation"]
            else:
                clean["segmentation"] = fixed
    return clean, as_read


def image(
    record: dict[str, Any], size: tuple[int, int] | None
) -> tuple[dict[str, Any], AsRead | None]:
    """(the image as stored, its values as read); ``size`` (height, width) is the one read from
    the image file when the record has none."""
    clean = dict(record)
    as_read: AsRead | None = None
    if _whole_float(record.get("id")):
        as_read = _record(as_read, "id", record["id"])
        clean["id"] = int(record["id"])
    for key, index in (("width", 1), ("height", 0)):
        value = record.get(key, _MISSING)
        if type(value) is not int and size is not None:
            as_read = _record(as_read, key, value)
            clean[key] = size[index]
    return clean, as_read


def category(record: dict[str, Any]) -> tuple[dict[str, Any], AsRead | None]:
    """(the category as stored, its values as read): a whole-float id, a supercategory that is
    not a string (kept as it was: ``null``, a number, ...)."""
    clean = dict(record)
    as_read: AsRead | None = None
    if _whole_float(record.get("id")):
        as_read = _record(as_read, "id", record["id"])
        clean["id"] = int(record["id"])
    if "supercategory" in record and type(record["supercategory"]) is not str:
        as_read = _record(as_read, "supercategory", record["supercategory"])
        del clean["supercategory"]
    return clean, as_read


def restore(record: dict[str, Any], as_read: AsRead | None) -> dict[str, Any]:
    """The record with the values as read put back (in place; returned for convenience)."""
    if as_read:
        for key in as_read.get("absent", ()):
            record.pop(key, None)
        record.update(copy.deepcopy(as_read.get("set", {})))
    return record


def forget(as_read: AsRead | None, keys: Iterable[str]) -> AsRead | None:
    """The as-read record without these fields (an edit changed them); None when empty."""
    if not as_read:
        return None
    keys = set(keys)
    out = {
        "set": {k: v for k, v in as_read.get("set", {}).items() if k not in keys},
        "absent": [k for k in as_read.get("absent", ()) if k not in keys],
    }
    return out if out["set"] or out["absent"] else None
