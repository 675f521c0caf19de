"""Integers no 64-bit column holds, in a labels or results file: the import names the file and
the record and stops, as it does for any other bad number, instead of an internal error from
the store (an ``OverflowError`` once the number reached SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelfix.core.cli import run

HUGE = 10**400  # beyond any float; 10**20 fits a float but no SQLite INTEGER


def _labels(**changes: object) -> dict:
    annotation = {"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 12}
    annotation.update(changes)
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10}],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [annotation],
    }


def _import(tmp_path: Path, labels: dict, predictions: list | None = None) -> int:
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(labels))
    args = ["import", "--gt", str(gt), "-o", str(tmp_path / "x.labelfix")]
    if predictions is not None:
        pred = tmp_path / "pred.json"
        pred.write_text(json.dumps(predictions))
        args += ["--predictions", str(pred)]
    return run(args)


@pytest.mark.parametrize(
    ("changes", "record"),
    [
        ({"bbox": [1, 2, HUGE, 4]}, "annotations[0] (id 7).bbox"),
        ({"bbox": [1, 2, 10**20, 4]}, "annotations[0] (id 7).bbox"),
        ({"area": HUGE}, "annotations[0] (id 7).area"),
        ({"area": 10**20}, "annotations[0] (id 7).area"),
        ({"segmentation": [[1, 1, 5, 1, 5, HUGE]]}, "annotations[0] (id 7).segmentation[0]"),
    ],
)
def test_a_huge_integer_in_a_label_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict, record: str
) -> None:
    code = _import(tmp_path, _labels(**changes))
    err = capsys.readouterr().err
    assert code != 0
    assert "internal error" not in err, err
    assert str(tmp_path / "gt.json") in err and record in err, err


@pytest.mark.parametrize("huge", [HUGE, 10**20])
def test_a_huge_integer_in_a_prediction_box_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], huge: int
) -> None:
    prediction = {"image_id": 1, "category_id": 1, "bbox": [0, 0, huge, 2], "score": 0.5}
    code = _import(tmp_path, _labels(), [prediction])
    err = capsys.readouterr().err
    assert code != 0
    assert "internal error" not in err, err
    assert str(tmp_path / "pred.json") in err and "(prediction 1).bbox" in err, err
