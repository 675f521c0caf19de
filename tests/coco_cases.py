"""Small COCO files and assertions shared by the reader tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from labelfix.core.coco import (
    CocoError,
    PredictionFile,
    read_ground_truth,
    read_predictions,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL81 = SHARED_DATA / "coco_real81"
VAL100 = SHARED_DATA / "coco_val2014_100"

SIZES = {1: (100, 200), 2: (50, 60)}  # image id -> (height, width)
CATEGORY_IDS = {1, 3}


# ----------------------------------------------------------------------------- helpers


def valid_gt() -> dict[str, Any]:
    """A small valid COCO dataset with unknown keys at every level."""
    return {
        "info": {"description": "tiny"},
        "licenses": [{"id": 1, "name": "CC"}],
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 200, "height": 100, "source": "x"},
            {"id": 2, "file_name": "b.jpg", "width": 60, "height": 50},
        ],
        "annotations": [
            {
                "id": 7,
                "image_id": 1,
                "category_id": 1,
                "bbox": [10, 10, 20, 30],
                "area": 600,
                "iscrowd": 0,
                "segmentation": [[10, 10, 30, 10, 30, 40, 10, 40]],
                "extra": {"kept": True},
            },
            {"id": 8, "image_id": 2, "category_id": 3, "bbox": [0.5, 1.5, 5.25, 6.0]},
        ],
        "categories": [
            {"id": 1, "name": "cat", "supercategory": "animal"},
            {"id": 3, "name": "dog"},
        ],
        "zzz_unknown": [1, 2, 3],
    }


def write_json(tmp_path: Path, data: Any, name: str = "data.json") -> Path:
    """Write data as JSON (NaN/Infinity allowed, as some tools write them)."""
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def gt_error(tmp_path: Path, data: Any) -> CocoError:
    """Read a ground-truth file that must fail; return the error."""
    path = write_json(tmp_path, data, "gt.json")
    with pytest.raises(CocoError) as info:
        read_ground_truth(path)
    assert str(path) in str(info.value).splitlines()[0]
    return info.value


def assert_gt_error(tmp_path: Path, data: Any, record: str, reason: str) -> CocoError:
    """The error names the file, the record path and the reason, on one line."""
    err = gt_error(tmp_path, data)
    text = str(err)
    assert any(record in line and reason in line for line in text.splitlines()), text
    assert any(p.record == record and reason in p.reason for p in err.problems), err.problems
    assert all(p.severity == "error" and p.file == err.file for p in err.problems)
    return err


def with_annotation(**changes: Any) -> dict[str, Any]:
    """The valid dataset with annotations[0] (id 7) changed; a value of ... deletes the key."""
    data = valid_gt()
    ann = data["annotations"][0]
    for key, value in changes.items():
        if value is ...:
            del ann[key]
        else:
            ann[key] = value
    return data


def with_image(**changes: Any) -> dict[str, Any]:
    """The valid dataset with images[1] (id 2) changed; a value of ... deletes the key."""
    data = valid_gt()
    image = data["images"][1]
    for key, value in changes.items():
        if value is ...:
            del image[key]
        else:
            image[key] = value
    return data


def pred_error(tmp_path: Path, data: Any) -> CocoError:
    """Read a prediction file that must fail; return the error."""
    path = write_json(tmp_path, data, "pred.json")
    with pytest.raises(CocoError) as info:
        read_predictions(path, SIZES, CATEGORY_IDS)
    assert str(path) in str(info.value).splitlines()[0]
    return info.value


def assert_pred_error(tmp_path: Path, data: Any, record: str, reason: str) -> None:
    """The prediction error names the file, the record path and the reason."""
    text = str(pred_error(tmp_path, data))
    assert any(record in line and reason in line for line in text.splitlines()), text


def prediction(**changes: Any) -> dict[str, Any]:
    """A valid bbox prediction on image 1, changed; a value of ... deletes the key."""
    record: dict[str, Any] = {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}
    for key, value in changes.items():
        if value is ...:
            del record[key]
        else:
            record[key] = value
    return record


def read_pred(tmp_path: Path, data: Any) -> PredictionFile:
    return read_predictions(write_json(tmp_path, data, "pred.json"), SIZES, CATEGORY_IDS)


def rle_of(mask: np.ndarray) -> dict[str, Any]:
    """Compressed RLE (str counts, as in JSON) of a 2-D 0/1 mask."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")}


def uncompressed_rle_of(mask: np.ndarray) -> dict[str, Any]:
    """Uncompressed RLE (column-major run lengths starting with background) of a 0/1 mask."""
    flat = mask.astype(np.uint8).flatten(order="F")
    counts, current, run = [], 0, 0
    for value in flat.tolist():
        if value == current:
            run += 1
        else:
            counts.append(run)
            current, run = value, 1
    counts.append(run)
    return {"size": list(mask.shape), "counts": counts}


def crowd_mask() -> np.ndarray:
    mask = np.zeros((100, 200), dtype=np.uint8)
    mask[10:40, 10:30] = 1
    mask[60:70, 150:199] = 1
    return mask
