"""Every model family end to end into a project: ``project.predict`` makes a prediction set
that the analysis uses unchanged (the same matches and suspects as importing the run's own
results file), with the person matched to its label and the unlabelled car found missing."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from onnx_models import constant_model, ultralytics_metadata, write_image

from labelfix.core import project
from labelfix.core.analyze import TP, matches
from labelfix.core.errors import AnalysisParams
from labelfix.core.project import PredictOptions
from labelfix.core.store import Store

NAMES = {0: "person", 1: "bicycle", 2: "car"}
IMAGES = 4
W, H = 640, 480  # letterboxed to 640 x 640 with 80 rows of padding above (centred) or none (YOLOX)
PERSON = [270.0, 215.0, 100.0, 50.0]  # the person label, and where each model puts the person
CAR = [470.0, 130.0, 60.0, 40.0]  # a car no label covers: a missing label


def head(rows: dict[int, list[float]], channels: int) -> np.ndarray:
    out = np.zeros((1, channels, 8400), np.float32)
    for anchor, values in rows.items():
        out[0, : len(values), anchor] = values
    return out


def protos() -> np.ndarray:
    """Prototype 0 covers the person (most of its box), prototype 1 the car."""
    out = -np.ones((1, 32, 160, 160), np.float32)
    yy, xx = np.mgrid[0:160, 0:160]
    out[0, 0][(yy - 80) ** 2 / 9**2 + (xx - 80) ** 2 / 15**2 < 1.2] = 1.0
    out[0, 1][(yy >= 50) & (yy < 60) & (xx >= 118) & (xx < 132)] = 1.0
    return out


def e2e_rows(masks: bool) -> np.ndarray:
    rows = np.zeros((1, 300, 38 if masks else 6), np.float32)
    rows[0, 0, :6] = [270, 295, 370, 345, 0.9, 0]  # letterbox xyxy, score, class
    rows[0, 1, :6] = [470, 210, 530, 250, 0.7, 2]
    if masks:
        rows[0, 0, 6], rows[0, 1, 7] = 1.0, 1.0
    return rows


def build(family: str, path: Path) -> Path:
    """A constant model of the family putting a person on PERSON and a car on CAR."""
    person_cxcywh = [320, 320, 100, 50]  # letterbox (centred: image y + 80)
    car_cxcywh = [500, 230, 60, 40]
    if family == "ultralytics":
        out = head({0: person_cxcywh + [0.9, 0, 0], 1: car_cxcywh + [0, 0, 0.7]}, 7)
        return constant_model(
            path, {"output0": out}, metadata=ultralytics_metadata("detect", NAMES)
        )
    if family == "ultralytics-seg":
        rows = {
            0: person_cxcywh + [0.9, 0, 0] + [1.0] + [0.0] * 31,
            1: car_cxcywh + [0, 0, 0.7] + [0.0, 1.0] + [0.0] * 30,
        }
        outputs = {"output0": head(rows, 39), "output1": protos()}
        return constant_model(path, outputs, metadata=ultralytics_metadata("segment", NAMES))
    if family in ("ultralytics-end2end", "ultralytics-end2end-seg"):
        masks = family.endswith("seg")
        outputs = {"output0": e2e_rows(masks)} | ({"output1": protos()} if masks else {})
        meta = ultralytics_metadata("segment" if masks else "detect", NAMES, end2end="True")
        return constant_model(path, outputs, metadata=meta)
    if family == "rtdetr":  # queries x (cx, cy, w, h normalised to the image, class scores)
        out = np.zeros((1, 300, 7), np.float32)
        out[0, 0] = [320 / W, 240 / H, 100 / W, 50 / H, 0.9, 0, 0]
        out[0, 1] = [500 / W, 150 / H, 60 / W, 40 / H, 0, 0, 0.7]
        meta = ultralytics_metadata("detect", NAMES, head="RTDETRDecoder", version="8.3.40")
        return constant_model(path, {"output0": out}, metadata=meta)
    if family == "yolov5":
        out = np.zeros((1, 25200, 8), np.float32)
        out[0, 0] = person_cxcywh + [0.9, 1, 0, 0]
        out[0, 1] = car_cxcywh + [0.7, 0, 0, 1]
        meta = {"stride": "32", "names": str(NAMES)}
        return constant_model(path, {"output0": out}, metadata=meta)
    if family == "yolox":  # stride-32 cells, top-left letterbox at ratio 1: image coordinates
        out = np.zeros((1, 8400, 8), np.float32)
        # person: cell (10, 7), centre ((10 + 0) * 32, (7 + 0.5) * 32) = (320, 240)
        out[0, 8000 + 7 * 20 + 10] = [0, 0.5, math.log(100 / 32), math.log(50 / 32), 0.9, 1, 0, 0]
        # car: cell (15, 4), centre (500, 150) = ((15 + 0.625) * 32, (4 + 0.6875) * 32)
        out[0, 8000 + 4 * 20 + 15] = [
            0.625, 0.6875, math.log(60 / 32), math.log(40 / 32), 0.7, 0, 0, 1,
        ]  # fmt: skip
        return constant_model(path, {"output": out})
    if family == "torchvision":  # COCO label ids: 1 person, 3 car; masks at the image's size
        masks = np.zeros((2, 1, H, W), np.float32)
        masks[0, 0, 215:265, 275:365] = 0.9
        masks[1, 0, 130:170, 470:530] = 0.8
        outputs = {
            "boxes": np.array([[270, 215, 370, 265], [470, 130, 530, 170]], np.float32),
            "labels": np.array([1, 3], np.int64),
            "scores": np.array([0.9, 0.7], np.float32),
            "masks": masks,
        }
        return constant_model(path, outputs, input_shape=[3, "height", "width"])
    raise AssertionError(family)


FAMILIES = [
    ("ultralytics", False),
    ("ultralytics-seg", True),
    ("ultralytics-end2end", False),
    ("ultralytics-end2end-seg", True),
    ("rtdetr", False),
    ("yolov5", False),
    ("yolox", False),
    ("torchvision", True),
]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("families")
    (folder / "images").mkdir()
    images, annotations = [], []
    x, y, w, h = PERSON
    for i in range(1, IMAGES + 1):
        write_image(folder / "images" / f"{i}.png", W, H, seed=i)
        images.append({"id": i, "file_name": f"{i}.png", "width": W, "height": H})
        annotations.append(
            {"id": i, "image_id": i, "category_id": 1, "iscrowd": 0, "bbox": PERSON,
             "area": w * h, "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]]}
        )  # fmt: skip
    labels = folder / "labels.json"
    categories = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]
    labels.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories})
    )
    return labels, folder / "images"


@pytest.mark.parametrize(("family", "masks"), FAMILIES)
def test_each_family_makes_a_set_the_analysis_uses_unchanged(
    tmp_path: Path, labelled: tuple[Path, Path], family: str, masks: bool
) -> None:
    path = tmp_path / "p.labelfix"
    project.import_project(path, *labelled)
    options = PredictOptions()
    if family == "yolox":  # a raw YOLOX head carries no class names
        names = tmp_path / "classes.txt"
        names.write_text("person\nbicycle\ncar\n")
        options = PredictOptions(classes=names)
    out = tmp_path / "results.json"
    report = project.predict(
        path, build(family, tmp_path / f"{family}.onnx"), "run", options, out=out
    )
    assert report.info.family == family and report.info.masks == masks
    assert report.predicted == IMAGES and report.predictions == 2 * IMAGES and not report.problems
    records = json.loads(out.read_text())
    assert all(("segmentation" in r) == masks for r in records)
    people = [r for r in records if r["category_id"] == 1]
    assert all(np.allclose(r["bbox"], PERSON, atol=0.01) for r in people), people[0]
    params = AnalysisParams(geometry="masks" if masks else "boxes")
    with Store.open(path) as store:
        assert project.suggested_geometry(store, "run") == params.geometry
        project.add_predictions(store, out, "from-json")
        found = {}
        for name in ("run", "from-json"):
            summary = project.analyze_project(store, params, set_name=name)
            found[name] = (summary.suspects, matches(store, store.resolve_set(name)))
    (suspects, ran), (suspects_read, read) = found["run"], found["from-json"]
    assert suspects == suspects_read
    for key, column in ran.items():
        np.testing.assert_array_equal(column, read[key], err_msg=key)
    assert int((ran["outcome"] == TP).sum()) == IMAGES  # each person matches its label
    assert suspects["missing_label"] == IMAGES  # each car is a missing label
