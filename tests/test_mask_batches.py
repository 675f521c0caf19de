"""Masks encoded and compared in batches give exactly what one pycocotools call each gives.

``geometry.to_rles`` rasterises an image's polygon labels in one ``frPyObjects`` call;
``matching.mask_ious`` takes an image's prediction-label and label-label IoUs from one ``iou``
call. Both must equal the one-call-each results byte for byte (RLE counts) and bit for bit
(IoUs), including the inputs pycocotools reads in its own way: multi-part polygons, parts of
fewer than 3 points or of an odd length, first parts pycocotools does not read as polygons,
RLE labels (compressed and not), crowd labels and labels without a segmentation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from labelfix.core import analyze as az
from labelfix.core import geometry
from labelfix.core.errors import AnalysisParams
from labelfix.core.matching import ImageLabels, ImagePredictions, iou_matrix, mask_ious
from labelfix.core.store import Store
from labelfix.core.store.masks import LABELS_OWNER, predictions_owner

from helpers import label_mask_ious, shared_path, val2014_segm_project

H, W = 60, 80
TRIANGLE = [10.0, 10.0, 40.0, 12.5, 20.0, 45.0]
SQUARE = [50.0, 5.0, 70.0, 5.0, 70.0, 25.0, 50.0, 25.0]
_UNCOMPRESSED = {"size": [H, W], "counts": [100, 30, 200, 40, H * W - 370]}
_COMPRESSED = mask_utils.frPyObjects(dict(_UNCOMPRESSED), H, W)

# (segmentation, box): every kind of label a project can hold, in an order that puts labels
# pycocotools reads differently between the polygons that go into the one call
CASES: list[tuple[object, list[float]]] = [
    ([TRIANGLE], [10, 10, 30, 35]),
    ([SQUARE, TRIANGLE], [10, 5, 60, 40]),  # multi-part
    ([[5.0, 5.0, 25.0, 5.0, 25.0, 30.0, 5.0, 30.0, 17.0]], [5, 5, 20, 25]),  # odd length
    ([[5.5, 6.5, 30.25, 7.0, 12.0]], [5, 6, 25, 1]),  # 2 points and a half: a line
    ([SQUARE, [1.0, 1.0, 9.0, 9.0]], [1, 1, 69, 24]),  # later part of 4 numbers (a polygon)
    ([SQUARE, [3.0, 4.0]], [3, 4, 67, 21]),  # later part of one point
    ([SQUARE, []], [50, 5, 20, 20]),  # an empty later part
    (None, [12.5, 7.25, 20.5, 30.75]),  # no segmentation: its box
    ([], [0, 0, 15.5, 9.5]),  # an empty list: its box
    (dict(_UNCOMPRESSED), [0, 0, 10, 10]),  # uncompressed RLE (a crowd label, typically)
    ({"size": [H, W], "counts": _COMPRESSED["counts"].decode()}, [0, 0, 10, 10]),  # str counts
    (dict(_COMPRESSED), [0, 0, 10, 10]),  # bytes counts
    ([[0.0, 0.0, 80.0, 0.0, 80.0, 60.0, 0.0, 60.0]], [0, 0, 80, 60]),  # the whole image
    ([[-5.0, -5.0, 100.0, -5.0, 100.0, 90.0]], [0, 0, 80, 60]),  # beyond the image
    ([[3, 4, 20, 4, 20, 30]], [3, 4, 17, 26]),  # ints
    ([[True, 4.5, 20, 4, 20, 30]], [1, 4, 19, 26]),  # a bool (float(True) is 1.0)
    ([(3, 4, 20, 4, 20, 30.5)], [3, 4, 17, 26]),  # a tuple part
    ([[3, 4, 20, 4, 20, 30], (5.0, 5.0, 9.0, 5.0, 9.0, 9.0)], [3, 4, 17, 26]),
    ([[3, 4, "20.5", 4, 20, 30]], [3, 4, 17, 26]),  # a number as text
]


def _one_each(cases: list[tuple[object, list[float]]]) -> list[dict]:
    return [geometry.to_rle(seg, H, W, box=box) for seg, box in cases]


def _same_rles(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert list(g["size"]) == list(w["size"])
        assert g["counts"] == w["counts"]


def test_to_rles_equals_to_rle_for_every_kind() -> None:
    _same_rles(
        geometry.to_rles([s for s, _ in CASES], H, W, [b for _, b in CASES]), _one_each(CASES)
    )


@pytest.mark.parametrize("start", range(len(CASES)))
def test_to_rles_equals_to_rle_whatever_comes_first(start: int) -> None:
    """pycocotools picks its reader from the first item: every case first once."""
    cases = CASES[start:] + CASES[:start]
    _same_rles(
        geometry.to_rles([s for s, _ in cases], H, W, [b for _, b in cases]), _one_each(cases)
    )


def test_to_rles_single_cases_and_none() -> None:
    for seg, box in CASES:
        _same_rles(geometry.to_rles([seg], H, W, [box]), [geometry.to_rle(seg, H, W, box=box)])
    assert geometry.to_rles([], H, W, []) == []
    with pytest.raises(ValueError, match="needs a box"):
        geometry.to_rles([[TRIANGLE], None], H, W, [None, None])


@pytest.mark.parametrize("first", [[1.0, 2.0, 3.0], [1.0, 2.0, 30.0, 40.0]])
def test_to_rles_fails_where_to_rle_fails(first: list[float]) -> None:
    """A first part of fewer than 4 numbers is no input pycocotools reads; one of exactly 4 it
    reads as boxes, which it wants as an array: both fail, the same way in both paths."""
    with pytest.raises(Exception) as one:  # noqa: PT011 - pycocotools raises a bare Exception
        geometry.to_rle([first, TRIANGLE], H, W)
    with pytest.raises(type(one.value), match=re.escape(str(one.value))):
        geometry.to_rles([[TRIANGLE], [first, TRIANGLE]], H, W)


def test_pycocotools_reads_int_parts_as_float_makes_them() -> None:
    """to_rles hands pycocotools lists of ints and floats as they are (to_rle makes every number
    a float first): its ``np.array(part, dtype=double)`` gives the same doubles, also for ints a
    double cannot hold and ints beyond int64 (too far out to rasterise here)."""
    part = [3, 4.5, 2**53 + 1, -(2**53) - 3, 2**63 + 2**11 + 1, 2**70 + 1, -(2**64), 10**20 + 7]
    as_read = np.array(part, dtype=np.double, order="F")
    made = np.array(list(map(float, part)), dtype=np.double, order="F")
    assert as_read.tobytes() == made.tobytes()
    assert geometry._as_read([part]) == [part]
    assert geometry._as_read([[True, 2.0]]) == [[1.0, 2.0]]  # not int or float: converted


def _real_images() -> list[tuple[int, int, list[dict]]]:
    data = json.loads(shared_path("coco_val2014_100", "instances_val2014_100.json").read_text())
    by_image: dict[int, list[dict]] = {}
    for a in data["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    return [(im["height"], im["width"], by_image.get(im["id"], [])) for im in data["images"]]


def test_to_rles_equals_to_rle_on_real_labels() -> None:
    """COCO val2014's first 100 images: multi-part polygons and crowd RLEs."""
    seen_multi = seen_rle = 0
    for h, w, anns in _real_images():
        segs, boxes = [a.get("segmentation") for a in anns], [a["bbox"] for a in anns]
        want = [geometry.to_rle(s, h, w, box=b) for s, b in zip(segs, boxes, strict=True)]
        _same_rles(geometry.to_rles(segs, h, w, boxes), want)
        seen_multi += sum(isinstance(s, list) and len(s) > 1 for s in segs)
        seen_rle += sum(isinstance(s, dict) for s in segs)
    assert seen_multi > 10 and seen_rle > 0


def _image(n_preds: int, crowd: list[bool], seed: int) -> tuple[ImagePredictions, ImageLabels]:
    rng = np.random.default_rng(seed)

    def boxes(k: int) -> np.ndarray:
        xy = rng.uniform(0, 50, (k, 2))
        return np.round(np.column_stack([xy, rng.uniform(3, 40, (k, 2))]), 2)

    pb, lb = boxes(n_preds), boxes(len(crowd))
    labels = ImageLabels(
        ids=np.arange(len(crowd), dtype=np.int64),
        category_ids=np.ones(len(crowd), dtype=np.int64),
        boxes=lb,
        iscrowd=np.asarray(crowd, dtype=bool),
        areas=lb[:, 2] * lb[:, 3],
        rles=[geometry.to_rle(None, H, W, box=b) for b in lb.tolist()],
    )
    preds = ImagePredictions(
        ids=np.arange(n_preds, dtype=np.int64),
        category_ids=np.ones(n_preds, dtype=np.int64),
        scores=rng.uniform(0, 1, n_preds),
        boxes=pb,
        rles=mask_utils.frPyObjects(np.ascontiguousarray(pb), H, W) if n_preds else [],
    )
    return preds, labels


@pytest.mark.parametrize(
    ("n_preds", "crowd"),
    [
        (20, [False] * 7),
        (20, [False, True, False, False]),
        (5, [True, True]),
        (0, [False] * 3),
        (6, [False]),
        (6, [True]),
        (4, []),
        (0, []),
    ],
)
def test_mask_ious_equal_one_call_each(n_preds: int, crowd: list[bool]) -> None:
    overlaps = 0
    for seed in range(5):
        preds, labels = _image(n_preds, crowd, seed)
        cross, own = mask_ious(preds, labels)
        want = iou_matrix(preds, labels, "masks")
        assert cross.shape == want.shape == (n_preds, len(crowd))
        assert cross.tobytes() == np.ascontiguousarray(want).tobytes()  # bit for bit
        overlaps += int((cross > 0).sum())
        if len(crowd) < 2:
            assert own is None
            continue
        plain = mask_utils.iou(labels.rles, labels.rles, [0] * len(crowd))
        assert np.ascontiguousarray(own).tobytes() == np.ascontiguousarray(plain).tobytes()
        assert np.array_equal(own, label_mask_ious(labels))
    assert overlaps > 0 or n_preds == 0 or not crowd  # some IoUs compared are not 0


def test_first_analysis_caches_labels_not_column_predictions(tmp_path: Path) -> None:
    """The label RLEs the analysis caches are to_rle's; predictions kept as RLE columns are not
    cached again (their counts are in the project already); a second analysis, from the cache,
    finds the same."""
    project = val2014_segm_project(tmp_path / "p.labelfix", "segm")
    params = AnalysisParams(geometry="masks")
    with Store.open(project) as store:
        set_id = store.resolve_set(None)
        _, counts = store.prediction_mask_inputs(set_id)
        assert counts  # the set keeps its RLEs as columns
        first = az.compute(az.read_inputs(store, set_id, params), processes=1)
        owners = {row[0] for row in first.new_masks}
        assert owners == {LABELS_OWNER}
        data = json.loads(shared_path("coco_val2014_100", "instances_val2014_100.json").read_text())
        sizes = {im["id"]: (im["height"], im["width"]) for im in data["images"]}
        by_id = {a["id"]: a for a in data["annotations"]}
        assert len(first.new_masks) == len(by_id)
        for _, ann_id, _, h, w, blob in first.new_masks:
            a = by_id[ann_id]
            assert (h, w) == sizes[a["image_id"]]
            assert blob == geometry.to_rle(a["segmentation"], h, w, box=a["bbox"])["counts"]
        store.save_masks(first.new_masks)
        inputs = az.read_inputs(store, set_id, params)
        assert len(inputs.cached_label_masks) == len(by_id)
        assert not store.cached_masks(predictions_owner(set_id))
        second = az.compute(inputs, processes=1)
    assert second.new_masks == []
    for k, v in first.matches.items():
        assert np.array_equal(second.matches[k], v, equal_nan=True), k
    assert np.array_equal(second.suspects, first.suspects, equal_nan=True)
