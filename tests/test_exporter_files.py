"""Real exporters' COCO shapes (tests/data/exporters, see its README): each file imports with a
warning for what was assumed, exports back with the same JSON content, loads in pycocotools
after the round trip, and keeps its values as read through edits of other fields and undo."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from labelfix.core import edits
from labelfix.core.analyze import OUTCOME_NAMES, matches
from labelfix.core.cli import run
from labelfix.core.coco import CocoError, read_ground_truth, read_predictions
from labelfix.core.export import coco_dataset
from labelfix.core.store import Store

CORPUS = Path(__file__).resolve().parent / "data" / "exporters"
IMAGES = CORPUS / "images"
# label file -> phrases the import warnings must hold (what the reader assumed)
LABEL_FILES = {
    "cvat_coco_1_0.json": [],
    "roboflow_coco.json": [],
    "labelme2coco.json": [],
    "coco_annotator.json": [
        "annotations[0] (id 1).iscrowd and 3 more like it: iscrowd written as a JSON boolean",
        "annotations[2] (id 3).segmentation: segmentation is [[]]: a box-only label",
    ],
    "pandas_float_ids.json": [
        "images[0].id and 10 more like it: ids written as whole-number floats (here 1.0)"
    ],
    "eval_script_gt.json": [
        "images[0] (id 1).width and 1 more like it: no width and height (missing or null): the "
        "size is read from the image file's header (here 64x48",
        "annotations[0] (id 1).segmentation and 1 more like it: segmentation is null: a box-only",
        "annotations[1] (id 2).segmentation[0]: empty polygon part beside real ones: ignored",
    ],
}


def load(name: str) -> object:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


def import_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, *extra: str
) -> tuple[Path, str]:
    out = tmp_path / f"{Path(name).stem}.labelfix"
    code = run(
        ["import", "--gt", str(CORPUS / name), "--images", str(IMAGES), "-o", str(out), *extra]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err
    return out, err


def test_the_corpus_is_what_its_script_writes(tmp_path: Path) -> None:
    """The committed files are the script's output (so the README's table describes them)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, make in module.FILES.items():
        assert load(name) == json.loads(json.dumps(make())), name
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < 60_000


@pytest.mark.parametrize("name", sorted(LABEL_FILES))
def test_import_warns_what_it_assumed_and_exports_the_same_json(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, err = import_file(capsys, tmp_path, name)
    for phrase in LABEL_FILES[name]:
        assert phrase in err, err
    if not LABEL_FILES[name]:
        assert "warning" not in err, err
    out = tmp_path / "out.json"
    assert run(["export", str(project), "-o", str(out), "-q"]) == 0, capsys.readouterr().err
    assert json.loads(out.read_text(encoding="utf-8")) == load(name)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(out))  # pycocotools reads the round trip
    assert len(coco.getAnnIds()) == len(load(name)["annotations"])


def test_labelme2coco_null_supercategory_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, _ = import_file(capsys, tmp_path, "labelme2coco.json")
    with Store.open(project, readonly=True) as store:
        categories = coco_dataset(store)["categories"]
    assert [c.get("supercategory", "absent") for c in categories] == [None, None]


def test_images_without_a_size_take_the_file_header_s(tmp_path: Path) -> None:
    gt = read_ground_truth(CORPUS / "eval_script_gt.json", IMAGES)
    assert gt.inferred_sizes == {1: (48, 64), 2: (60, 80)}
    assert gt.sizes() == {1: (48, 64), 2: (60, 80), 3: (72, 96)}
    store = Store.create(tmp_path / "p.labelfix")
    store.import_ground_truth(gt, IMAGES)
    assert store.image_sizes() == {1: (48, 64), 2: (60, 80), 3: (72, 96)}
    store.close()


def test_an_image_without_a_size_and_no_readable_file_is_an_error(tmp_path: Path) -> None:
    data = load("eval_script_gt.json")
    data["images"][0]["file_name"] = "gone.jpg"
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CocoError) as info:
        read_ground_truth(path, IMAGES)
    text = str(info.value)
    assert (
        "images[0] (id 1).width: no width and height (missing or null), and the image file " in text
    )
    assert "image file not found" in text and "gone.jpg" in text
    with pytest.raises(CocoError, match="no image folder to read the size"):
        read_ground_truth(CORPUS / "eval_script_gt.json")


def test_string_ids_stay_errors(tmp_path: Path) -> None:
    data = load("pandas_float_ids.json")
    data["annotations"][0]["id"] = "1"
    data["annotations"][1]["image_id"] = 2.5
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CocoError) as info:
        read_ground_truth(path, IMAGES)
    assert "annotations[0].id: id must be an integer, got a string '1'" in str(info.value)
    assert "image id must be an integer, got a number 2.5" in str(info.value)


def test_sahi_box_only_predictions_are_read_as_boxes(tmp_path: Path) -> None:
    gt = read_ground_truth(CORPUS / "cvat_coco_1_0.json", IMAGES)
    preds = read_predictions(CORPUS / "sahi_predictions.json", gt.sizes(), {1, 2, 3})
    assert len(preds.records) == 6 and not preds.has_segmentation
    assert all("segmentation" not in r for r in preds.records)
    assert all(r["category_name"] for r in preds.records)  # unknown keys kept
    [warning] = preds.warnings
    assert "[0] (prediction 1).segmentation and 5 more like it" in str(warning)
    assert "a box-only prediction" in str(warning)


@pytest.mark.parametrize(
    ("segmentation", "kept"),
    [([], None), ([[]], None), (None, None), ([[], [1, 1, 9, 1, 9, 9]], [[1, 1, 9, 1, 9, 9]])],
)
def test_empty_prediction_segmentations(tmp_path: Path, segmentation: object, kept: object) -> None:
    record = {"image_id": 1, "category_id": 1, "bbox": [1, 1, 8, 8], "score": 0.5}
    path = tmp_path / "p.json"
    path.write_text(json.dumps([dict(record, segmentation=segmentation)]))
    [got] = read_predictions(path, {1: (48, 64)}, {1}).records
    assert got.get("segmentation") == kept
    path.write_text(
        json.dumps([{k: v for k, v in record.items() if k != "bbox"} | {"segmentation": []}])
    )
    with pytest.raises(CocoError, match="neither a bbox nor a segmentation"):
        read_predictions(path, {1: (48, 64)}, {1})


def test_sahi_predictions_match_as_pycocotools_matches_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, _ = import_file(
        capsys,
        tmp_path,
        "cvat_coco_1_0.json",
        "--predictions",
        str(CORPUS / "sahi_predictions.json"),
    )
    assert run(["analyze", str(project), "-q"]) == 0
    with Store.open(project, readonly=True) as store:
        got = matches(store, store.active_set_id())
        ours = {
            int(p): (OUTCOME_NAMES[int(o)], int(a))
            for p, o, a in zip(
                got["prediction_id"], got["outcome"], got["annotation_id"], strict=True
            )
        }
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(CORPUS / "cvat_coco_1_0.json"))
        dt = gt.loadRes(str(CORPUS / "sahi_predictions.json"))
        ev = COCOeval(gt, dt, "bbox")
        ev.params.iouThrs = [0.5]
        ev.evaluate()
    theirs = {}
    for e in ev.evalImgs:
        if e is None or e["aRng"] != ev.params.areaRng[0] or e["maxDet"] != 100:
            continue
        for k, pid in enumerate(e["dtIds"]):
            gt_id = int(e["dtMatches"][0][k])
            outcome = "ignored" if e["dtIgnore"][0][k] else ("tp" if gt_id else "fp")
            theirs[int(pid)] = (outcome, gt_id if gt_id else -1)
    assert ours == theirs


def test_edits_keep_the_other_values_as_read_and_undo_restores_them(tmp_path: Path) -> None:
    work = tmp_path / "coco_annotator.json"
    shutil.copy(CORPUS / "coco_annotator.json", work)
    store = Store.create(tmp_path / "p.labelfix")
    store.import_ground_truth(read_ground_truth(work, IMAGES), IMAGES)
    original = load("coco_annotator.json")
    change = edits.SetCategory(1, 2)
    change.apply(store)
    moved = edits.SetGeometry(3, bbox=[41, 21, 20, 12])  # the [[]] box-only label
    moved.apply(store)
    data = coco_dataset(store)
    first, third = data["annotations"][0], data["annotations"][2]
    assert first["category_id"] == 2 and first["iscrowd"] is False  # iscrowd as read
    assert third["bbox"] == [41.0, 21.0, 20.0, 12.0] and third["segmentation"] == [[]]
    moved.revert(store)
    change.revert(store)
    assert coco_dataset(store) == original
    store.close()


def test_a_new_polygon_replaces_a_segmentation_read_with_an_empty_part(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "p.labelfix")
    store.import_ground_truth(read_ground_truth(CORPUS / "eval_script_gt.json", IMAGES), IMAGES)
    assert store.annotation(2)["segmentation"] == [[30, 40, 44, 30, 52, 44]]  # geometry: real part
    edit = edits.SetGeometry(2, segmentation=[[30, 40, 46, 30, 52, 44]])
    edit.apply(store)
    label = next(a for a in coco_dataset(store)["annotations"] if a["id"] == 2)
    assert label["segmentation"] == [[30.0, 40.0, 46.0, 30.0, 52.0, 44.0]]
    edit.revert(store)
    assert coco_dataset(store) == load("eval_script_gt.json")
    store.close()
