"""One rule for every new label (drawn, duplicated, an accepted missing_label): its shape
matches the dataset's (polygon datasets get the rectangle polygon), coordinates are rounded to
2 decimals, and the area is the one pycocotools computes from the segmentation."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from labelfix.core import edits, new_labels
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.export import coco_dataset, export_coco
from labelfix.core.review import decide, fix_edit
from labelfix.core.store import Store

from helpers import tiny_dataset, write_json

EXPORTERS = Path(__file__).resolve().parent / "data" / "exporters"


def project(tmp_path: Path, data: dict, name: str = "p") -> Store:
    store = Store.create(tmp_path / f"{name}.labelfix")
    store.import_ground_truth(read_ground_truth(write_json(tmp_path / f"{name}.json", data)), None)
    return store


def pycocotools_area(segmentation: list, height: int, width: int) -> float:
    return float(
        mask_utils.area(mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width)))
    )


def box_dataset(form: str) -> dict:
    """The tiny dataset with box-only labels (``form``: "empty" = [], "absent" = no key)."""
    data = tiny_dataset()
    data["annotations"] = [a for a in data["annotations"] if not a["iscrowd"]]
    for a in data["annotations"]:
        a.pop("segmentation", None)
        if form == "empty":
            a["segmentation"] = []
    return data


def test_the_style_follows_the_dataset(tmp_path: Path) -> None:
    assert new_labels.dataset_style(project(tmp_path, tiny_dataset(), "a")).polygons
    empty = new_labels.dataset_style(project(tmp_path, box_dataset("empty"), "b"))
    assert (empty.polygons, empty.box_segmentation) == (False, "empty")
    absent = new_labels.dataset_style(project(tmp_path, box_dataset("absent"), "c"))
    assert (absent.polygons, absent.box_segmentation) == (False, "absent")
    nothing = dict(tiny_dataset(), annotations=[])
    assert new_labels.dataset_style(project(tmp_path, nothing, "d")).polygons


def test_a_new_box_in_a_polygon_dataset_is_a_rectangle_polygon_with_the_mask_area() -> None:
    image = {"id": 1, "height": 80, "width": 100}
    ann = new_labels.new_label(
        50, image, 3, new_labels.LabelStyle(polygons=True), bbox=[10.333, 20.7, 30.55, 27.04]
    )
    assert ann["bbox"] == [10.33, 20.7, 30.55, 27.04]
    assert ann["segmentation"] == [[10.33, 20.7, 40.88, 20.7, 40.88, 47.74, 10.33, 47.74]]
    assert ann["area"] == pycocotools_area(ann["segmentation"], 80, 100)
    assert ann["area"] != pytest.approx(30.55 * 27.04)  # not width x height
    assert (ann["id"], ann["image_id"], ann["category_id"], ann["iscrowd"]) == (50, 1, 3, 0)


@pytest.mark.parametrize(("form", "segmentation"), [("empty", []), ("absent", None)])
def test_a_new_box_in_a_box_dataset_is_stored_like_its_boxes(
    form: str, segmentation: object
) -> None:
    image = {"id": 1, "height": 80, "width": 100}
    style = new_labels.LabelStyle(polygons=False, box_segmentation=form)
    ann = new_labels.new_label(7, image, 1, style, bbox=[1.005, 2, 3.3333, 4])
    assert ann["segmentation"] == segmentation
    assert ann["bbox"] == [1.0, 2.0, 3.33, 4.0] and ann["area"] == 13.32


def test_a_polygon_is_clamped_rounded_and_measured() -> None:
    image = {"id": 1, "height": 80, "width": 100}
    polygon = [[-5.0, 10.0, 40.12345, 10.0, 418.08000000000004 / 10, 70.0]]
    ann = new_labels.new_label(
        1, image, 1, new_labels.LabelStyle(polygons=False), segmentation=polygon
    )
    assert ann["segmentation"] == [[0.0, 10.0, 40.12, 10.0, 41.81, 70.0]]
    assert ann["bbox"] == [0.0, 10.0, 41.81, 60.0]
    assert ann["area"] == pycocotools_area(ann["segmentation"], 80, 100)


def test_set_geometry_rounds_what_it_computes(tmp_path: Path) -> None:
    store = project(tmp_path, tiny_dataset())
    edit = edits.SetGeometry(
        10, segmentation=[[10.1 + 0.2, 10.0, 40.08000000000004, 10.0, 40.0, 49.999999]]
    )
    edit.apply(store)
    label = store.annotation(10)
    assert label["segmentation"] == [[10.3, 10.0, 40.08, 10.0, 40.0, 50.0]]
    assert label["bbox"] == [10.3, 10.0, 29.78, 40.0]
    assert label["area"] == pycocotools_area(label["segmentation"], 80, 100)
    box = edits.SetGeometry(11, bbox=[50.123, 20.0, 20.0, 19.999])
    box.apply(store)
    assert store.annotation(11)["bbox"] == [50.12, 20.0, 20.0, 20.0]
    assert store.annotation(11)["area"] == 400.0
    store.close()


def test_an_accepted_box_prediction_in_a_polygon_dataset_gets_the_rectangle_and_its_mask_area(
    tmp_path: Path,
) -> None:
    store = project(tmp_path, tiny_dataset())
    preds = [{"image_id": 1, "category_id": 7, "bbox": [60.3, 50.7, 30.55, 27.04], "score": 0.9}]
    path = write_json(tmp_path / "pred.json", preds)
    set_id = store.add_predictions(read_predictions(path, store.image_sizes(), {1, 3, 7}), "m")
    suspect = {"kind": "missing_label", "prediction_id": 1, "set_id": set_id, "key": "k"}
    edit = fix_edit(store, suspect)
    ann = edit.annotation
    assert ann["segmentation"] == [[60.3, 50.7, 90.85, 50.7, 90.85, 77.74, 60.3, 77.74]]
    assert ann["area"] == pycocotools_area(ann["segmentation"], 80, 100)
    assert ann["area"] != round(30.55 * 27.04, 2)  # not width x height, as before
    store.close()


def test_an_exported_polygon_dataset_with_new_labels_works_in_pycocotools(tmp_path: Path) -> None:
    """Every label of the export has a mask pycocotools can build (annToMask), new ones too."""
    store = project(tmp_path, tiny_dataset())
    preds = [{"image_id": 2, "category_id": 1, "bbox": [20.3, 5.6, 25.55, 17.04], "score": 0.9}]
    path = write_json(tmp_path / "pred.json", preds)
    set_id = store.add_predictions(read_predictions(path, store.image_sizes(), {1, 3, 7}), "m")
    suspect = {"kind": "missing_label", "prediction_id": 1, "set_id": set_id, "key": "k"}
    decide(store, [suspect], "accepted").apply(store)
    out = tmp_path / "out.json"
    export_coco(store, out)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(out))
    new = [a for a in coco.dataset["annotations"] if a["id"] not in (10, 11, 12)]
    assert len(new) == 1 and new[0]["segmentation"]
    for ann in coco.dataset["annotations"]:
        if "segmentation" in ann:
            mask = coco.annToMask(ann)
            if ann["id"] not in (10, 11, 12):  # labels as read keep their own areas
                assert mask.sum() == ann["area"]
    assert json.loads(out.read_text())["annotations"][-1]["area"] == float(
        np.float64(new[0]["area"])
    )
    store.close()


def test_values_never_edited_stay_exactly_as_read(tmp_path: Path) -> None:
    data = tiny_dataset()
    data["annotations"][0]["bbox"] = [10.5, 10.000000000000002, 30.0, 40.0]
    store = project(tmp_path, data)
    edits.SetCategory(10, 3).apply(store)
    label = coco_dataset(store)["annotations"][0]
    assert label["bbox"] == [10.5, 10.000000000000002, 30.0, 40.0] and label["area"] == 600.5
    store.close()
