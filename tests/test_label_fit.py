"""How well the detector fits a label against how well it fits the labels it matched
(core.label_fit, score version 4)."""

from __future__ import annotations

import numpy as np

from labelfix.core import label_fit, scoring
from labelfix.core.errors import (
    KIND_CODE,
    SUSPECT_COL,
    AnalysisParams,
    batch_suspects,
    chunk_facts,
    chunk_suspects,
)
from labelfix.core.matching import FP, IGNORED, TP, match_image
from labelfix.core.suspect_scores import LABEL_FIT_POWER, score_suspects

from helpers import image_labels, image_predictions

COL = SUSPECT_COL


def test_counts_take_only_true_positives_by_their_iou() -> None:
    outcome = np.array([TP, TP, FP, IGNORED, TP])
    iou = np.array([0.55, 0.9, 0.3, 0.7, 0.9])
    counts = label_fit.tp_iou_counts(outcome, iou)
    assert counts.sum() == 3 and counts[550] == 1 and counts[900] == 2
    # a share of the true positives fitting their labels better than the given IoU
    share = label_fit.better_share(counts, np.array([0.4, 0.6, 0.95, 0.9]))
    assert np.allclose(share, [1.0, 2 / 3, 0.0, 0.0])
    assert np.allclose(label_fit.better_share(np.zeros(label_fit.BINS), np.array([0.5])), [1.0])


def test_best_same_iou_takes_every_prediction_of_the_class_at_any_confidence() -> None:
    labs = image_labels((1, 1, 0, 0, 100, 100), (2, 2, 300, 300, 50, 50))
    pr = image_predictions(
        (7, 1, 0.9, 50, 0, 100, 100),  # IoU 1/3 with label 1
        (8, 1, 0.001, 0, 0, 100, 90),  # IoU 0.9 with label 1, hardly confident
        (9, 2, 0.9, 0, 0, 100, 100),  # another class on label 1
    )
    facts = chunk_facts([(pr, labs)], [match_image(pr, labs)], [5], AnalysisParams())
    assert np.allclose(label_fit.best_same_iou(facts, np.array([0, 1])), [0.9, 0.0])
    # of any class: the other class's box on label 1 fits it fully
    got = label_fit.best_same_iou(facts, np.array([0, 1]), any_class=True)
    assert np.allclose(got, [1.0, 0.0])


def test_version_7_takes_a_box_of_any_class_as_the_labels_best_fit() -> None:
    """A label that another class's unmatched prediction fits tightly is drawn on an object's
    extent: from score version 7 its inaccurate_label suspect scores by that fit (but not by a
    box matched to a label of its own class: that is the other object's extent)."""
    labs = image_labels((1, 1, 0, 0, 100, 100), (2, 3, 0, 0, 100, 98))
    pr = image_predictions(
        (7, 1, 0.9, 50, 0, 100, 100),  # a confident partial overlap of the label's class
        (8, 2, 0.2, 0, 0, 100, 95),  # another class fits the label at IoU 0.95
        (9, 3, 0.8, 0, 0, 100, 98),  # a tp on label 2, at IoU 0.98 with label 1
    )
    params = AnalysisParams()
    facts = chunk_facts([(pr, labs)], [match_image(pr, labs)], [5], params)
    raw = chunk_suspects(facts, None, params)
    (row,) = np.flatnonzero(raw[:, 0] == KIND_CODE["inaccurate_label"])
    v6 = AnalysisParams(score_version=6)
    assert np.isclose(label_fit.row_best_iou(facts, raw, v6)[row], 1 / 3)
    best = label_fit.row_best_iou(facts, raw, params)
    assert np.isclose(best[row], 0.95)
    counts = label_fit.tp_iou_counts(np.full(4, TP), np.array([0.6, 0.7, 0.8, 0.97]))
    fit = scoring.with_tp_iou_counts(
        scoring.DetectorFit(None, {1: 1}, np.zeros(0, np.int64), np.zeros(0), {}, None), counts
    )
    got = scoring.score(raw, params, fit, best)
    assert np.isclose(got[row], score_suspects(raw, params)[row] * 0.25**LABEL_FIT_POWER)


def test_an_inaccurate_label_the_detector_fits_well_elsewhere_scores_lower() -> None:
    params = AnalysisParams()
    labs = image_labels((1, 1, 0, 0, 100, 100))
    # a confident partial overlap, and a weak same-class box that fits the label at IoU 0.9
    pr = image_predictions((7, 1, 0.9, 50, 0, 100, 100), (8, 1, 0.001, 0, 0, 100, 90))
    m = match_image(pr, labs)
    facts = chunk_facts([(pr, labs)], [m], [5], params)
    raw = chunk_suspects(facts, None, params)
    assert np.array_equal(raw, batch_suspects([(pr, labs)], [m], [5], params), equal_nan=True)
    (row,) = np.flatnonzero(raw[:, 0] == KIND_CODE["inaccurate_label"])
    best = label_fit.row_best_iou(facts, raw, params)
    assert np.isclose(best[row], 0.9) and np.isnan(np.delete(best, row)).all()
    # the detector's true positives: a quarter fit their labels better than 0.9
    counts = label_fit.tp_iou_counts(np.full(4, TP), np.array([0.6, 0.7, 0.8, 0.95]))
    fit = scoring.DetectorFit(None, {1: 1}, np.zeros(0, np.int64), np.zeros(0), {}, None)
    plain = scoring.score(raw, params, fit, best)
    fitted = scoring.score(raw, params, scoring.with_tp_iou_counts(fit, counts), best)
    assert np.isclose(fitted[row], plain[row] * 0.25**LABEL_FIT_POWER)
    assert np.array_equal(np.delete(fitted, row), np.delete(plain, row))
    assert np.array_equal(plain, score_suspects(raw, params))
    # analyses scored before version 4 keep their scores
    v3 = AnalysisParams(score_version=3)
    assert np.array_equal(
        scoring.score(raw, v3, scoring.with_tp_iou_counts(fit, counts), best),
        score_suspects(raw, v3),
    )


def test_the_counts_are_stored_with_the_fit_and_read_back() -> None:
    counts = label_fit.tp_iou_counts(np.full(3, TP), np.array([0.6, 0.6, 0.93]))
    cats, scores = np.array([1, 1]), np.array([0.5, 0.2])
    fit = scoring.with_tp_iou_counts(scoring.DetectorFit(None, {1: 2}, cats, scores, {}), counts)
    back = scoring.DetectorFit.from_json(fit.to_json(), cats, scores)
    assert back.tp_iou_counts == fit.tp_iou_counts and sum(back.tp_iou_counts) == 3
    old = {k: v for k, v in fit.to_json().items() if k != "tp_iou_counts"}  # stored before v4
    assert scoring.DetectorFit.from_json(old, cats, scores).tp_iou_counts is None
