"""The store's import reads the usual segm results file (compressed RLEs, nothing else) with a
typed decoder (core/coco_results_typed.py): the project it builds is the one the general reader
builds, and any file that is not plainly such a file (or holds a value the column check would
not pass) is read the general way, with the same project, warnings or errors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from labelfix.core import coco, coco_results, coco_results_typed
from labelfix.core.project import import_project
from labelfix.core.store import Store

from helpers import ROOT, write_json


def _generate():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(tmp_path: Path) -> tuple[dict, list[dict]]:
    """20 images of polygon labels, 6 RLE predictions an image; one RLE with an empty run after
    the first (its box is pycocotools', not the fast decoder's)."""
    generate = _generate()
    gt = generate.make_ground_truth(20, seed=3)
    preds = generate.make_predictions(gt, 6, seed=4, segm=True)
    h, w = preds[9]["segmentation"]["size"]
    runs = [5, 3, 0, 4, h * w - 12]
    rle = mask_utils.frPyObjects({"size": [h, w], "counts": runs}, h, w)
    preds[9]["segmentation"] = {"size": [h, w], "counts": rle["counts"].decode("ascii")}
    return gt, preds


def _project(tmp_path: Path, gt: dict, preds: list[dict], name: str) -> dict:
    """Import and return what the store holds (or the error's text)."""
    folder = tmp_path / name
    folder.mkdir()
    g, p = write_json(folder / "gt.json", gt), write_json(folder / "p.json", preds)
    try:
        report = import_project(folder / "x.labelfix", g, None, p, "model")
    except coco.CocoError as exc:
        return {"error": str(exc).replace(str(folder), "DIR")}
    with Store.open(folder / "x.labelfix") as store:
        set_id = store.active_set_id()
        arrays = {k: v.tolist() for k, v in store.prediction_arrays(set_id).items()}
        segs = store.prediction_segmentations(set_id)
        return {
            "warnings": [str(w).replace(str(folder), "DIR") for w in report.warnings],
            "arrays": arrays,
            "segmentations": {k: json.loads(v) for k, v in segs.items()},
            "by image": [  # read by image range: the RLE columns must be in the set's order
                sorted(store.prediction_segmentations(set_id, (lo, lo + 4)))
                for lo in range(0, 24, 4)
            ],
            "has_segmentation": store.prediction_set(set_id)["has_segmentation"],
        }


def _both(tmp_path: Path, monkeypatch, gt: dict, preds: list[dict]) -> tuple[dict, dict, int]:
    """The project with the typed reader and without it, and how often the typed one took the
    file."""
    taken = []
    columns = coco_results.typed_rle_columns

    def spy(*args):
        out = columns(*args)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(coco_results, "typed_rle_columns", spy)
    typed = _project(tmp_path, gt, preds, "typed")
    monkeypatch.setattr(coco_results, "decode_rle_predictions", lambda data: None)
    general = _project(tmp_path, gt, preds, "general")
    return typed, general, sum(taken)


def test_clean_file_is_read_typed_into_the_same_project(tmp_path: Path, monkeypatch) -> None:
    gt, preds = _files(tmp_path)
    typed, general, taken = _both(tmp_path, monkeypatch, gt, preds)
    assert taken == 1
    assert "error" not in typed
    assert typed == general


def _mutate(kind: str, preds: list[dict], gt: dict) -> None:
    p = preds[17]
    if kind == "score above 1":
        p["score"] = 1.5
    elif kind == "unknown image":
        p["image_id"] = 10_000
    elif kind == "unknown category":
        p["category_id"] = 999
    elif kind == "size not the image's":
        p["segmentation"]["size"] = [p["segmentation"]["size"][0] + 1, 7]
    elif kind == "float image id":
        p["image_id"] = float(p["image_id"])
    elif kind == "extra key":
        p["source"] = "x"
    elif kind == "a box":
        p["bbox"] = [1.0, 2.0, 3.0, 4.0]
    elif kind == "not by image":
        preds[0], preds[-1] = preds[-1], preds[0]
    elif kind == "malformed counts":
        p["segmentation"]["counts"] = p["segmentation"]["counts"][:-1] + "~"
    elif kind == "uint64 image id":
        p["image_id"] = 2**64 - 1
    elif kind == "list counts":
        h, w = p["segmentation"]["size"]
        p["segmentation"]["counts"] = [h * w]
    elif kind == "empty file":
        preds.clear()
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "score above 1", "unknown image", "unknown category", "size not the image's",
        "float image id", "extra key", "a box", "not by image", "malformed counts",
        "uint64 image id", "list counts", "empty file",
    ],
)  # fmt: skip
def test_other_files_are_read_the_general_way(tmp_path: Path, monkeypatch, kind: str) -> None:
    gt, preds = _files(tmp_path)
    _mutate(kind, preds, gt)
    typed, general, taken = _both(tmp_path, monkeypatch, gt, preds)
    assert typed == general
    assert taken == (1 if kind in ("malformed counts", "not by image") else 0)
    if kind in ("score above 1", "unknown image", "malformed counts", "uint64 image id"):
        assert "prediction 18" in typed["error"]


def test_records_are_structs_only_for_the_store(tmp_path: Path) -> None:
    gt, preds = _files(tmp_path)
    p = write_json(tmp_path / "p.json", preds)
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    cats = {c["id"] for c in gt["categories"]}
    public = coco_results.read_predictions(p, sizes, cats)
    assert all(type(r) is dict and "bbox" in r for r in public.records)
    stored = coco_results.read_predictions(p, sizes, cats, boxes_in_records=False)
    kinds = {type(r) for r in stored.records}
    assert kinds == {coco_results_typed.RlePrediction, dict}  # record 9: boxed by pycocotools
    assert stored.records[9]["bbox"] == public.records[9]["bbox"]
    np.testing.assert_array_equal(stored.columns["box"], public.columns["box"])


def test_file_not_by_image_is_stored_as_from_its_records(tmp_path: Path, monkeypatch) -> None:
    """The counts strings as the check read them, put in the set's order (by image), in many
    pieces, are what the records' own strings give (store.rle_columns)."""
    from labelfix.core import coco_masks
    from labelfix.core.store import predictions as prediction_store

    gt, preds = _files(tmp_path)
    preds = [preds[k] for k in np.random.default_rng(8).permutation(len(preds)).tolist()]
    monkeypatch.setattr(coco_masks, "_RLE_CHUNK_CHARS", 500)  # many pieces
    typed = _project(tmp_path, gt, preds, "typed")
    monkeypatch.setattr(coco_results, "decode_rle_predictions", lambda data: None)
    monkeypatch.setattr(
        prediction_store, "read_rle_columns", lambda pf, masked, ids: (None, masked)
    )
    from_records = _project(tmp_path, gt, preds, "records")
    assert "error" not in typed
    assert typed == from_records
    assert len(typed["segmentations"]) == len(preds)
