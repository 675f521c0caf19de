"""Scores on prediction files shaped as real exporters write them (bench/quality_data.py's
variants): a detector that knows only some of the dataset's classes, scores cut at a
threshold. Small synthetic images through the production rules and core.scoring."""

from __future__ import annotations

import numpy as np

from labelfix.core import calibration, image_recall, label_fit, scoring
from labelfix.core.errors import (
    KIND_CODE,
    KINDS,
    SUSPECT_COL,
    AnalysisParams,
    batch_suspects,
    chunk_facts,
)
from labelfix.core.matching import match_image

from helpers import image_labels as labels
from helpers import image_predictions as preds

PERSON, DOG = 1, 18


def scored(lab, pr, params: AnalysisParams, set_classes: list[int]) -> list[dict]:
    """The scored suspects of one image (kind, label id, score); the prediction set's classes
    (the fit's reference) are ``set_classes``."""
    raw = batch_suspects([(pr, lab)], [match_image(pr, lab)], [1], params)
    cats = np.asarray(set_classes, dtype=np.int64)
    fitted = calibration.Calibration(calibration.Curve((0.5,), (0.5,)), {})  # any fit
    fit = scoring.DetectorFit(fitted, {}, cats, np.full(len(cats), 0.5), habit_totals={})
    s = scoring.score(raw, params, fit)
    return [
        {"kind": KINDS[int(r[0])], "label": int(r[SUSPECT_COL["annotation_id"]]), "score": v}
        for r, v in zip(raw, s, strict=True)
    ]


def test_a_label_of_a_class_the_detector_never_predicts_is_not_spurious() -> None:
    # a person label and a dog label that nothing overlaps; the detector predicts persons only
    # (a model trained on a subset of the classes): its silence says nothing about the dog
    lab = labels((1, PERSON, 0, 0, 100, 100), (2, DOG, 200, 0, 100, 100))
    pr = preds((7, PERSON, 0.9, 0, 200, 100, 100))
    found = [
        s for s in scored(lab, pr, AnalysisParams(), [PERSON]) if s["kind"] == "spurious_label"
    ]
    by_label = {s["label"]: s["score"] for s in found}
    assert by_label[1] > 0.2  # the person the detector could have seen
    assert by_label[2] == 0.0
    # before score version 10 the dog label was as spurious as the person
    v9 = AnalysisParams(score_version=9)
    old = {
        s["label"]: s["score"]
        for s in scored(lab, pr, v9, [PERSON])
        if s["kind"] == "spurious_label"
    }
    assert old[2] == old[1] > 0.2
    # a set that predicts dogs somewhere (here: elsewhere in the set) scores it as before
    known = {
        s["label"]: s["score"]
        for s in scored(lab, pr, AnalysisParams(), [PERSON, DOG])
        if s["kind"] == "spurious_label"
    }
    assert known[2] == old[2]
    # an analysis without a fitted calibration (too few matches) keeps the old scores
    fit = scoring.DetectorFit(None, {}, np.array([PERSON]), np.array([0.5]), habit_totals={})
    raw = batch_suspects([(pr, lab)], [match_image(pr, lab)], [1], AnalysisParams())
    unfitted = scoring.score(raw, AnalysisParams(), fit)
    assert sorted(unfitted[raw[:, 0] == KIND_CODE["spurious_label"]].tolist()) == sorted(
        old.values()
    )


def _fit_matching(tps: int, labels_of_class: int) -> scoring.DetectorFit:
    """A fitted detector on a set of ``labels_of_class`` person labels that matched ``tps``."""
    fitted = calibration.Calibration(calibration.Curve((0.5,), (0.5,)), {})
    counts = np.zeros(label_fit.BINS, np.int64)
    counts[900] = tps  # true positives at IoU 0.9
    fit = scoring.DetectorFit(
        fitted, {PERSON: labels_of_class}, np.array([PERSON]), np.array([0.5]), habit_totals={}
    )
    return scoring.with_tp_iou_counts(fit, counts)


def test_a_spurious_label_counts_as_much_as_the_detector_finds_the_labelled_objects() -> None:
    # scores cut high (0.5 on CenterNet: 131 predictions for 798 labels) leave most labels
    # without any prediction: "nobody predicted it" then says little; the suspect's score is
    # weighed by the share of the set's labels the detector matched (its recall)
    lab = labels((1, PERSON, 0, 0, 100, 100))
    pr = preds((7, PERSON, 0.9, 0, 200, 100, 100))
    raw = batch_suspects([(pr, lab)], [match_image(pr, lab)], [1], AnalysisParams())
    spurious = raw[:, 0] == KIND_CODE["spurious_label"]
    assert spurious.sum() == 1
    v9 = AnalysisParams(score_version=9)
    before = scoring.score(raw, v9, _fit_matching(1, 4))[spurious][0]
    assert before == scoring.score(raw, v9, _fit_matching(4, 4))[spurious][0] > 0.2
    assert np.isclose(
        scoring.score(raw, AnalysisParams(), _fit_matching(1, 4))[spurious][0], before / 4
    )
    # a detector that finds every labelled object: as before
    assert scoring.score(raw, AnalysisParams(), _fit_matching(4, 4))[spurious][0] == before
    # no other kind moves
    other = ~spurious
    assert np.array_equal(
        scoring.score(raw, AnalysisParams(), _fit_matching(1, 4))[other],
        scoring.score(raw, v9, _fit_matching(1, 4))[other],
    )


def _quality_data():
    """bench/quality_data.py, where the variants live."""
    import importlib
    import sys
    from pathlib import Path

    bench = str(Path(__file__).resolve().parents[1] / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    return importlib.import_module("quality_data")


def test_the_bench_variants_have_the_shapes_they_name() -> None:
    q = _quality_data()
    rng = np.random.default_rng(3)
    recs = [
        {
            "image_id": int(i % 3),
            "category_id": int(rng.integers(1, 5)),
            "bbox": [float(v) for v in (*rng.uniform(0, 50, 2), *rng.uniform(5, 40, 2))],
            "score": float(rng.uniform()),
        }
        for i in range(120)
    ]
    assert all(r["score"] >= 0.25 for r in q.cut_scores(recs, 0.25))
    top = q.top_per_image(recs, 5)
    for img in range(3):
        mine = sorted((r["score"] for r in recs if r["image_id"] == img), reverse=True)
        assert sorted((r["score"] for r in top if r["image_id"] == img), reverse=True) == mine[:5]
    assert {r["score"] for r in q.round_scores(recs, 2)} <= {k / 100 for k in range(101)}
    kept = q.agnostic_nms(recs, 0.5)
    for img in range(3):
        boxes = np.asarray([r["bbox"] for r in kept if r["image_id"] == img])
        iou = q._xywh_iou_matrix(boxes)
        np.fill_diagonal(iou, 0.0)
        assert iou.max() <= 0.5  # no two boxes of any classes overlap more
    # every record it dropped overlaps a kept, higher-scored one of any class
    dropped = [r for r in recs if r not in kept]
    assert dropped
    for r in dropped:
        mates = [k for k in kept if k["image_id"] == r["image_id"] and k["score"] > r["score"]]
        both = q._xywh_iou_matrix(np.asarray([r["bbox"]] + [k["bbox"] for k in mates]))
        assert both[0, 1:].max() > 0.5
    assert {r["category_id"] for r in q.only_classes(recs, frozenset({1, 2}))} <= {1, 2}


def test_a_spurious_label_counts_as_much_as_the_detector_finds_the_rest_of_its_image() -> None:
    # two images of five person labels; the detector (scores cut at an exporter's threshold)
    # found four of the first image's and one of the second's (a dark or filtered photo): a
    # label nothing overlaps is weak evidence where the detector missed its neighbours too
    row = [(i, PERSON, 150 * i, 0, 100, 100) for i in range(1, 6)]
    lab1, lab2 = labels(*row), labels(*[(10 + i, *r) for i, *r in row])
    pr1 = preds(*[(i, PERSON, 0.9, 150 * i, 0, 100, 100) for i in range(1, 5)])
    pr2 = preds((5, PERSON, 0.9, 150 * 5, 0, 100, 100))
    items = [(pr1, lab1), (pr2, lab2)]
    matched = [match_image(p, lab) for p, lab in items]
    params = AnalysisParams()
    raw = batch_suspects(items, matched, [1, 2], params)
    found = image_recall.row_image_found(chunk_facts(items, matched, [1, 2], params), raw)
    spurious = raw[:, 0] == KIND_CODE["spurious_label"]
    image = raw[:, SUSPECT_COL["image_id"]]
    assert spurious[image == 1].sum() == 1 and spurious[image == 2].sum() == 4
    fit = _fit_matching(5, 10)  # the set's recall: 5 of 10
    new = scoring.score(raw, params, fit, image_found=found)
    v10 = AnalysisParams(score_version=10)
    old = scoring.score(raw, v10, fit, image_found=found)
    assert np.array_equal(old, scoring.score(raw, v10, fit))  # version 10 as it was
    assert len(set(old[spurious].tolist())) == 1  # every one at the set's recall
    full = old[spurious][0] / 0.5  # the score before any recall
    # the other four labels of the image found: (4 + 10 x 0.5) / (4 + 10)
    assert np.allclose(new[spurious & (image == 1)], full * 9 / 14)
    # one of the other four found: (1 + 10 x 0.5) / (4 + 10)
    assert np.allclose(new[spurious & (image == 2)], full * 6 / 14)
    assert np.array_equal(new[~spurious], old[~spurious])  # no other kind moves
    # without the rows' image counts (a caller that has none) the set's recall as before
    assert np.array_equal(scoring.score(raw, params, fit), old)
