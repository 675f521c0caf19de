"""The detector's habits and per-class report (core.habits), and their use in scoring."""

from __future__ import annotations

import numpy as np

from labelfix.core import habits, scoring
from labelfix.core.errors import (
    KIND_CODE,
    SUSPECT_COL,
    SUSPECT_COLUMNS,
    AnalysisParams,
)
from labelfix.core.matching import (
    FP,
    IGNORED,
    TP,
    ImageMatches,
    ImagePredictions,
    average_precision_per_category,
)
from labelfix.core.suspect_scores import OWN_WEIGHT_WRONG_CLASS, UNOPPOSED_PRECISION

COL = SUSPECT_COL


def test_overlap_totals_take_the_best_b_prediction_per_label() -> None:
    # labels 0, 1 of class 1 (sheep), label 2 of class 2; predictions of class 3 (cow)
    label_cat = np.array([1, 1, 2])
    totals = habits.overlap_totals(
        label_cat,
        pair_label=np.array([0, 0, 1, 1, 2, 2]),
        pair_category=np.array([3, 3, 3, 1, 3, 2]),
        pair_iou=np.array([0.8, 0.6, 0.5, 0.9, 0.2, 0.9]),
        pair_probability=np.array([0.7, 0.9, 0.4, 0.8, 0.9, 0.6]),
        min_iou=0.4,
    )
    # label 0: best cow 0.9; label 1: cow 0.4 (its own-class pair does not count); label 2: the
    # cow overlaps too little, its own class does not count
    assert list(totals) == [(1, 3)] and abs(totals[(1, 3)] - 1.3) <= habits.TOTAL_STEP


def test_overlap_totals_add_up_the_same_in_any_chunks() -> None:
    """An analysis in passes adds other chunks' totals than one in memory: the same sums."""
    rng = np.random.default_rng(5)
    n = 3000
    label_cat = rng.integers(1, 4, n)
    pair_label = np.arange(n)
    pair_cat = rng.integers(4, 6, n)
    prob = rng.random(n)
    iou = np.ones(n)

    def in_chunks(bounds: list[int]) -> dict:
        out: dict = {}
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            habits.add_totals(
                out,
                habits.overlap_totals(
                    label_cat[a:b], pair_label[a:b] - a, pair_cat[a:b], iou[a:b], prob[a:b], 0.4
                ),
            )
        return out

    whole = in_chunks([0, n])
    assert in_chunks([0, 7, 500, 1234, 2999, n]) == whole
    assert in_chunks(list(range(0, n + 1, 100))) == whole


def test_habit_rates_leave_the_row_itself_out() -> None:
    totals = {(1, 3): 2.4, (5, 6): 0.9}
    counts = {1: 3, 5: 40}
    rate = habits.habit_rates(
        np.array([1, 5]), np.array([3, 6]), np.array([0.8, 0.9]), totals, counts
    )
    # sheep -> cow on the 2 other sheep labels: (2.4 - 0.8) / (2 + 1); a lone confusion: 0
    assert np.allclose(rate, [1.6 / 3.0, 0.0])


def _wrong_row(label_cat: int, pred_cat: int, prob: float, support: float) -> np.ndarray:
    row = np.full(len(SUSPECT_COLUMNS), np.nan)
    row[0] = KIND_CODE["wrong_class"]
    row[COL["category_id"]], row[COL["predicted_category_id"]] = label_cat, pred_cat
    row[COL["confidence"]], row[COL["probability"]] = 0.3, prob
    row[COL["support"]], row[COL["evidence"]] = support, 0.0
    return row


def test_a_habitual_confusion_scores_lower_than_a_rare_one() -> None:
    raw = np.stack([_wrong_row(1, 3, 0.8, 0.0), _wrong_row(7, 3, 0.8, 0.0)])
    fit = scoring.DetectorFit(
        None, {1: 4, 7: 4}, np.zeros(0), np.zeros(0), habit_totals={(1, 3): 3.0, (7, 3): 0.8}
    )
    s = scoring.score(raw, AnalysisParams(), fit)
    alone = UNOPPOSED_PRECISION * (1 - OWN_WEIGHT_WRONG_CLASS + OWN_WEIGHT_WRONG_CLASS * 0.8)
    assert np.isclose(s[1], alone)  # the detector does this nowhere else
    assert np.isclose(s[0], alone * (1 - (3.0 - 0.8) / 4.0))  # it does it on most sheep
    v1 = scoring.score(raw, AnalysisParams(score_version=1), fit)
    assert np.allclose(v1, [0.8 * (1 - (3.0 - 0.8) / 4.0), 0.8])


def test_class_report_matches_pycocotools_ap_and_counts() -> None:
    rng = np.random.default_rng(0)
    n = 300
    image = rng.integers(1, 30, n)
    cat = rng.integers(1, 4, n)
    score = rng.random(n)
    outcome = np.where(rng.random(n) < score, TP, FP).astype(np.int8)
    outcome[rng.random(n) < 0.05] = IGNORED
    prob = score  # any monotone stand-in
    counts = {1: 60, 2: 50, 3: 40}
    report = habits.class_report(image, cat, score, prob, outcome, counts, cut=0.5)
    order = np.argsort(image, kind="stable")
    want = average_precision_per_category(
        [ImagePredictions(np.arange(n), cat[order], score[order], np.zeros((n, 4)))],
        [ImageMatches(outcome[order], np.full(n, -1), np.full(n, np.nan), np.zeros((n, 0)))],
        counts,
    )
    for c in (1, 2, 3):
        assert np.isclose(report[c]["ap"], np.mean(want[c]))
        above = (cat == c) & (prob >= 0.5)
        tp, fp = np.sum(above & (outcome == TP)), np.sum(above & (outcome == FP))
        assert report[c]["precision"] == tp / (tp + fp)
        assert report[c]["recall"] == tp / counts[c]


def test_confusion_table_counts_each_label_once() -> None:
    table = habits.confusion_table(
        label_category=np.array([1, 1, 2, 2]),
        pair_label=np.array([0, 0, 1, 2]),
        pair_category=np.array([1, 3, 3, 2]),
        pair_iou=np.array([0.9, 0.9, 0.7, 0.2]),
        pair_probability=np.array([0.6, 0.7, 0.5, 0.9]),
        min_iou=0.4,
        min_probability=0.05,
    )
    # label 0: cow beats sheep; label 1: cow; labels 2 (overlap too small) and 3: none
    assert table == {(1, 3): 2, (2, habits.NO_CLASS): 2}


def test_set_report_per_class_equals_the_whole_set_computation() -> None:
    """The report, computed one class at a time (bounded memory), is the whole-set one: class
    metrics from every prediction's probability in image order, reliability bins in position
    order (predictions given in no image order, with tied scores)."""
    from dataclasses import replace

    from labelfix.core import analysis_report, scoring
    from labelfix.core.errors import AnalysisParams

    rng = np.random.default_rng(4)
    n = 4000
    image = rng.integers(1, 200, n)
    cat = rng.choice([1, 2, 5, 9], n)
    score = np.round(rng.random(n), 2)  # ties
    outcome = np.where(rng.random(n) < score, TP, FP).astype(np.int8)
    outcome[rng.random(n) < 0.05] = IGNORED
    counts = {1: 900, 2: 800, 5: 700}  # class 9: no labels
    fit = scoring.fit_detector(cat, score, counts, cat, score, outcome)
    assert fit.calibration is not None
    counts[7] = 10  # labels, no predictions
    fit = replace(fit, label_counts=counts)
    got = analysis_report.set_report(
        {"image_id": image, "outcome": outcome}, cat, score, fit, {}, AnalysisParams()
    )
    prob = fit.probabilities(cat, score)
    classes = habits.class_report(image, cat, score, prob, outcome, counts, 0.5)
    rel = analysis_report.reliability(cat, score, prob, outcome)
    assert list(got["classes"]) == [str(c) for c in classes]
    for c, metrics in classes.items():
        assert got["classes"][str(c)] == {k: analysis_report._number(v) for k, v in metrics.items()}
    assert got["reliability"] == {str(c): v for c, v in rel.items()}
