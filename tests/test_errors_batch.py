"""batch_suspects (a chunk of images at once) equals the per-image reference (tests/
suspect_oracle.py) image by image, exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from labelfix.core import analyze as az
from labelfix.core import geometry, result_rows, scoring
from labelfix.core.errors import (
    KIND_CODE,
    SUSPECT_COLUMNS,
    AnalysisParams,
    batch_suspects,
)
from labelfix.core.matching import ImageLabels, ImageMatches, ImagePredictions, match_many
from labelfix.core.store import Store
from labelfix.core.store.analyses import suspect_columns

from helpers import shared_path, sql
from suspect_oracle import image_suspects

Items = list[tuple[ImagePredictions, ImageLabels]]


def _reference(
    items: Items,
    matches: list[ImageMatches],
    image_ids: list[int],
    params: AnalysisParams,
    label_ious: list[np.ndarray | None] | None = None,
) -> np.ndarray:
    """The concatenation of image_suspects over the images (what batch_suspects must return)."""
    parts = [
        image_suspects(lab, p, m, i, params, None if label_ious is None else label_ious[k])
        for k, ((p, lab), m, i) in enumerate(zip(items, matches, image_ids, strict=True))
    ]
    return np.concatenate(parts) if parts else np.zeros((0, len(SUSPECT_COLUMNS)))


def assert_same(got: np.ndarray, want: np.ndarray) -> None:
    """Same shape, same rows in the same order, same values (nan where the reference has nan)."""
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    assert np.array_equal(got, want, equal_nan=True)


def _random_image(
    rng: np.random.Generator, next_id: list[int]
) -> tuple[ImagePredictions, ImageLabels]:
    """0-8 labels (some crowd) and 0-30 predictions, 1-4 classes, many overlaps and score ties."""
    n_cls = int(rng.integers(1, 5))
    n = int(rng.integers(0, 9))
    m = int(rng.integers(0, 31))
    xy = rng.uniform(0, 60, (n, 2))
    wh = rng.uniform(2, 40, (n, 2))
    lab_boxes = np.round(np.hstack([xy, wh]), 1)
    if n > 1 and rng.random() < 0.4:  # an (almost) duplicated label
        lab_boxes[-1] = lab_boxes[0] + rng.choice([0.0, 0.5], 4)
    lab_cat = rng.integers(1, n_cls + 1, n)
    if n > 1 and rng.random() < 0.4:
        lab_cat[-1] = lab_cat[0]
    crowd = rng.random(n) < 0.15
    areas = lab_boxes[:, 2] * lab_boxes[:, 3] * rng.choice([1.0, 0.7], n)
    labels = ImageLabels(
        ids=np.arange(next_id[0], next_id[0] + n, dtype=np.int64),
        category_ids=lab_cat.astype(np.int64),
        boxes=lab_boxes,
        iscrowd=crowd,
        areas=areas,
    )
    next_id[0] += n
    # predictions: jittered copies of labels (same or other class), copies of each other, random
    boxes = np.round(np.hstack([rng.uniform(0, 60, (m, 2)), rng.uniform(1, 40, (m, 2))]), 1)
    for k in range(m):
        r = rng.random()
        if n and r < 0.55:
            src = lab_boxes[rng.integers(n)]
            boxes[k] = src + np.round(rng.normal(0, rng.choice([0.5, 3.0, 8.0]), 4), 1)
        elif k and r < 0.75:
            boxes[k] = boxes[rng.integers(k)] + np.round(rng.normal(0, 2.0, 4), 1)
    boxes[:, 2:] = np.abs(boxes[:, 2:])
    if m and rng.random() < 0.1:
        boxes[0, 2] = 0.0  # a degenerate box
    scores = rng.choice([0.01, 0.04, 0.05, 0.3, 0.5, 0.5, 0.7, 0.9, 0.9, 1.0], m)
    scores = np.where(rng.random(m) < 0.5, scores, np.round(rng.random(m), 2))  # plenty of ties
    preds = ImagePredictions(
        ids=np.arange(next_id[0], next_id[0] + m, dtype=np.int64),
        category_ids=rng.integers(1, n_cls + 1, m).astype(np.int64),
        scores=scores,
        boxes=boxes,
    )
    next_id[0] += m
    return preds, labels


def _random_chunk(seed: int, images: int = 200) -> tuple[Items, list[int]]:
    rng = np.random.default_rng(seed)
    next_id = [1]
    items = [_random_image(rng, next_id) for _ in range(images)]
    image_ids = rng.permutation(np.arange(1000, 1000 + 3 * images))[:images].tolist()
    return items, image_ids


PARAMS = [
    AnalysisParams(),
    AnalysisParams(iou_threshold=0.3, low_iou=0.05, nms_iou=0.3, duplicate_iou=0.6, min_score=0.3),
    AnalysisParams(low_iou=0.0, missing_same_iou=0.6, wrong_class_iou=0.2, max_dets=5),
    AnalysisParams(nms_iou=0.0, min_score=0.0),  # every overlapping candidate suppresses
    AnalysisParams(loose_iou=0.95, min_score=0.0),  # most matches are loose
    AnalysisParams(loose_iou=0.5),  # the matched-but-loose rule off
    AnalysisParams(score_version=6),  # any class's crowd region stops a missing label
]
INACCURATE = float(KIND_CODE["inaccurate_label"])


def _loose_rows(rows: np.ndarray, params: AnalysisParams) -> int:
    """How many rows are matched-but-loose inaccurate labels."""
    return int(((rows[:, 0] == INACCURATE) & (rows[:, 7] >= params.iou_threshold)).sum())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "params", PARAMS, ids=["default", "loose", "zero_low", "nms0", "loose95", "loose_off", "v6"]
)
def test_random_chunks_equal_the_per_image_reference(seed: int, params: AnalysisParams) -> None:
    items, image_ids = _random_chunk(seed)
    matches = match_many(items, params.iou_threshold, params.max_dets)
    want = _reference(items, matches, image_ids, params)
    assert len(want) > 50  # the chunk does raise suspects, of every kind with the defaults
    assert len(np.unique(want[:, 0])) >= (5 if params == AnalysisParams() else 3)
    loose = _loose_rows(want, params)
    assert loose > 10 if params.loose_iou > params.iou_threshold else loose == 0
    assert_same(batch_suspects(items, matches, image_ids, params), want)


@pytest.mark.parametrize("seed", range(3))
def test_given_label_ious_and_odd_values(seed: int) -> None:
    """Per-image label IoU matrices (masks), some missing; nan and exact ties in the IoUs."""
    items, image_ids = _random_chunk(100 + seed)
    rng = np.random.default_rng(seed)
    params = AnalysisParams(duplicate_iou=0.5)
    matches = match_many(items, params.iou_threshold, params.max_dets)
    for mt in matches:
        if mt.ious.size and rng.random() < 0.2:
            mt.ious = mt.ious.copy()
            mt.ious.flat[rng.integers(mt.ious.size)] = np.nan
        if mt.ious.size and rng.random() < 0.3:
            mt.ious = np.round(mt.ious, 1)  # ties between labels of one prediction
    label_ious: list[np.ndarray | None] = []
    for _, lab in items:
        n = len(lab)
        given = np.round(rng.random((n, n)), 1) if rng.random() < 0.7 else None
        label_ious.append(given)
    want = _reference(items, matches, image_ids, params, label_ious)
    assert (want[:, 0] == 3).sum() > 10  # duplicates from the given matrices
    assert_same(batch_suspects(items, matches, image_ids, params, label_ious), want)


def test_long_nms_chains() -> None:
    """Candidates overlapping only their neighbour: greedy NMS keeps every other one."""
    m = 40
    boxes = np.column_stack([np.arange(m) * 4.0, np.zeros(m), np.full(m, 10.0), np.full(m, 10.0)])
    preds = ImagePredictions(
        ids=np.arange(m, dtype=np.int64),
        category_ids=np.ones(m, dtype=np.int64),
        scores=np.linspace(0.9, 0.5, m),
        boxes=boxes,
    )
    empty = ImageLabels(
        ids=np.zeros(0, np.int64),
        category_ids=np.zeros(0, np.int64),
        boxes=np.zeros((0, 4)),
        iscrowd=np.zeros(0, bool),
        areas=np.zeros(0),
    )
    items = [(preds, empty), (preds, empty)]
    params = AnalysisParams(nms_iou=0.4)
    matches = match_many(items)
    want = _reference(items, matches, [7, 3], params)
    assert len(want) < 2 * m
    assert_same(batch_suspects(items, matches, [7, 3], params), want)


def test_empty_chunks() -> None:
    params = AnalysisParams()
    assert batch_suspects([], [], [], params).shape == (0, len(SUSPECT_COLUMNS))
    items, image_ids = _random_chunk(5, images=3)
    no_preds = [
        (ImagePredictions(*(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros((0, 4)))), lab)
        for _, lab in items
    ]
    matches = match_many(no_preds)
    assert_same(
        batch_suspects(no_preds, matches, image_ids, params),
        _reference(no_preds, matches, image_ids, params),
    )


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = shared_path("coco_real81")
    out = tmp_path_factory.mktemp("real") / "real.labelfix"
    r = subprocess.run(
        [
            sys.executable, "-m", "labelfix", "import",
            "--gt", str(root / "annotations" / "instances_real81.json"),
            "--predictions", str(root / "predictions" / "centernet_bbox_results.json"),
            "-o", str(out), "-q",
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out


def test_real_data_equals_reference(real_project: Path) -> None:
    """On real COCO labels and real detections: batch == per image; and what analyze() stores."""
    params = AnalysisParams()
    with Store.open(real_project) as store:
        inputs = az.read_inputs(store, store.resolve_set(None), params)
        (chunk,) = az.chunks(inputs, size=len(inputs.image_ids))
        ids, items = chunk.image_ids, chunk.items
        assert ids == [r[0] for r in sql(store, "SELECT id FROM images ORDER BY id")]
        matches = match_many(items, params.iou_threshold, params.max_dets)
        want = _reference(items, matches, ids, params)
        assert len(want) > 100
        assert _loose_rows(want, params) > 10  # matched-but-loose labels too
        assert_same(batch_suspects(items, matches, ids, params), want)
        sizes = store.image_sizes()
        mask_ious = []  # the label-IoU variant: the labels' masks, in the items' label order
        for i in ids:
            anns = store.annotations_for_image(i)
            rles = [geometry.to_rle(a["segmentation"], *sizes[i], box=a["bbox"]) for a in anns]
            mask_ious.append(
                np.asarray(mask_utils.iou(rles, rles, [0] * len(rles)), np.float64)
                if len(rles) > 1
                else None
            )
        loose = AnalysisParams(duplicate_iou=0.3)
        assert_same(
            batch_suspects(items, matches, ids, loose, mask_ious),
            _reference(items, matches, ids, loose, mask_ious),
        )
        # the whole analysis stores exactly the reference suspects found on the predictions'
        # calibrated probabilities (core.scoring; the fit it stored), raw confidences put back
        summary = az.analyze(store, params=params)
        fit = scoring.DetectorFit.from_json(
            store.detector_fit(summary.analysis_id),
            inputs.predictions["category_id"],
            inputs.predictions["score"],
        )
        assert fit.calibration is not None
        calibrated = scoring.calibrated_items(items, fit)
        want = scoring.restore_confidence(_reference(calibrated, matches, ids, params), items)
        stored = sql(
            store,
            "SELECT kind, image_id, annotation_id, other_annotation_id, prediction_id, iou, "
            "confidence FROM suspects WHERE analysis_id = ? ORDER BY id",
            [summary.analysis_id],
        ).fetchall()
    scored = result_rows.one_set(np.column_stack([want, np.zeros(len(want))]), 1).rows
    rows = list(zip(*suspect_columns(0, scored, 1, False), strict=True))
    assert stored == [(r[3], r[5], r[6], r[7], r[8], r[11], r[12]) for r in rows]
