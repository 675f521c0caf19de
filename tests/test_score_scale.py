"""Whether a prediction set's raw scores mean the same across classes (core.score_scale), and
the opt-in ``scores="comparable"`` analysis that scores missing labels by the pooled curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelfix.core import calibration, score_scale, scoring
from labelfix.core.analyze import analyze
from labelfix.core.errors import KIND_CODE, SUSPECT_COL, AnalysisParams
from labelfix.core.matching import FP, TP
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectIndex

from helpers import real81_project, sql

CLASSES = 12


def _shared_scale(seed: int = 0, per_class: int = 400) -> tuple[np.ndarray, ...]:
    """Twelve classes with their own mixes of sure and unsure predictions, each prediction's
    score the probability that it is right, on every class (one score scale)."""
    rng = np.random.default_rng(seed)
    cats = np.repeat(np.arange(1, CLASSES + 1), per_class)
    logit = rng.normal(np.linspace(-2.0, 2.0, CLASSES)[cats - 1], 1.5)
    scores = 1.0 / (1.0 + np.exp(-logit))
    is_tp = (rng.random(len(cats)) < scores).astype(np.float64)
    return cats, scores, is_tp


def _diagnose(cats: np.ndarray, scores: np.ndarray, is_tp: np.ndarray) -> score_scale.ScoreScale:
    counts = {int(c): int(is_tp[cats == c].sum()) for c in np.unique(cats)}
    positions = calibration.rank_positions(cats, scores, counts)
    counted = np.ones(len(cats), bool)
    scale = score_scale.diagnose(cats, positions, scores, scores, is_tp, counted, counts)
    assert scale is not None
    return scale


def test_one_score_scale_is_comparable_and_a_rescaling_per_class_is_not() -> None:
    cats, scores, is_tp = _shared_scale()
    shared = _diagnose(cats, scores, is_tp)
    assert shared.comparable
    # per class an increasing rescaling, as bench/quality_data.perturb_scores makes them
    powers = np.exp(np.random.default_rng(7).uniform(np.log(0.25), np.log(4.0), CLASSES))
    rescaled = scores ** powers[cats - 1]
    per_class = _diagnose(cats, rescaled, is_tp)
    assert not per_class.comparable
    # the per-class curves see ranks within a class only: the same loss on either scale
    assert per_class.class_loss == shared.class_loss
    assert per_class.pooled_loss > shared.pooled_loss * 1.05
    off = score_scale.sentence(per_class.pooled_loss, per_class.class_loss, used=False)
    assert off.startswith("Scores are not comparable across classes (pooled log loss")
    on = score_scale.sentence(shared.pooled_loss, shared.class_loss, used=False)
    assert on.endswith(": `--scores comparable` may find more missing labels.")


def test_the_verdict_holds_for_any_rescaling_of_all_classes_together() -> None:
    cats, scores, is_tp = _shared_scale(seed=1)
    a = _diagnose(cats, scores, is_tp)
    b = _diagnose(cats, 10.0 * scores**3, is_tp)  # the same order on every class
    assert (a.pooled_loss, a.class_loss, a.comparable) == (b.pooled_loss, b.class_loss, True)


def test_too_few_matches_give_no_diagnostic() -> None:
    cats, scores, is_tp = _shared_scale(per_class=4)  # fewer than 30 tp or fp
    positions = calibration.rank_positions(cats, scores, {1: 5})
    counted = np.ones(len(cats), bool)
    assert score_scale.diagnose(cats, positions, scores, scores, is_tp, counted, {1: 5}) is None


def test_the_fit_stores_the_diagnostic_and_reads_it_back() -> None:
    cats, scores, is_tp = _shared_scale(seed=2)
    outcome = np.where(is_tp > 0, TP, FP)
    counts = {int(c): int(is_tp[cats == c].sum()) for c in np.unique(cats)}
    fit = scoring.fit_detector(cats, scores, counts, cats, scores, outcome)
    assert fit.score_scale is not None and fit.score_scale.comparable
    back = scoring.DetectorFit.from_json(fit.to_json(), cats, scores)
    assert back.score_scale == fit.score_scale
    old = {k: v for k, v in fit.to_json().items() if k != "score_scale"}  # stored before it
    assert scoring.DetectorFit.from_json(old, cats, scores).score_scale is None
    # the pooled probability rises with the raw score, whatever the class
    probe = np.r_[0.1, 0.5, 0.9, scores[:50], -1.0, 2.0]  # the set's own scores, and others
    p = score_scale.pooled_probability(fit.score_scale, fit.sorted_reference(), probe)
    assert p[0] < p[1] < p[2]
    # counted from the class-sorted reference: the positions the diagnostic fitted on
    labels = fit.score_scale.labels
    u = score_scale.set_positions(score_scale.set_reference(scores), labels, probe)
    assert np.array_equal(p, fit.score_scale.curve(u))


def test_params_round_trip_and_old_params_read_back_per_class() -> None:
    params = AnalysisParams(scores="comparable")
    assert AnalysisParams.from_json(params.to_json()) == params
    old = AnalysisParams().to_json()
    del old["scores"]
    assert AnalysisParams.from_json(old).scores == "per-class"
    assert AnalysisParams().scores == "per-class"


def _suspects(project: Path, params: AnalysisParams) -> tuple[dict, dict]:
    store = Store.open(project)
    try:
        set_id = store.prediction_sets()[0]["id"]
        analyze(store, set_id, params)
        index = SuspectIndex.load(store, set_id)
        rows = [index.row(p) for p in range(len(index))]
        report = store.analysis_report(store.current_analysis([set_id])["id"])
    finally:
        store.close()
    key = ("kind", "image_id", "annotation_id", "other_annotation_id", "prediction_id")
    return {tuple(r[k] for k in key): r["score"] for r in rows}, report["sets"][str(set_id)]


def test_the_comparable_mode_changes_only_missing_label_scores(tmp_path: Path) -> None:
    project = real81_project(tmp_path / "p.labelfix")
    default, report = _suspects(project, AnalysisParams())
    comparable, report_on = _suspects(project, AnalysisParams(scores="comparable"))
    assert default.keys() == comparable.keys()  # the same suspects, only scored differently
    missing = {k for k in default if k[0] == "missing_label"}
    assert missing
    assert all(default[k] == comparable[k] for k in default if k not in missing)
    changed = [k for k in missing if default[k] != comparable[k]]
    assert len(changed) > len(missing) // 2
    # CenterNet's scores mean the same across classes: the report says so, and which mode ran
    assert report["score_scale"]["comparable"] and report["score_scale"]["scores"] == "per-class"
    assert report_on["score_scale"]["scores"] == "comparable"


def test_comparable_missing_touches_missing_label_rows_only() -> None:
    cats, scores, is_tp = _shared_scale(seed=3)
    outcome = np.where(is_tp > 0, TP, FP)
    counts = {int(c): int(is_tp[cats == c].sum()) for c in np.unique(cats)}
    fit = scoring.fit_detector(cats, scores, counts, cats, scores, outcome)
    raw = np.full((3, max(SUSPECT_COL.values()) + 1), np.nan)
    raw[:, 0] = [KIND_CODE["missing_label"], KIND_CODE["wrong_class"], KIND_CODE["missing_label"]]
    raw[:, SUSPECT_COL["confidence"]] = [0.9, 0.9, 0.2]
    raw[:, SUSPECT_COL["probability"]] = 0.5
    got = score_scale.comparable_missing(raw, fit.score_scale, fit.sorted_reference())
    assert got[1, SUSPECT_COL["probability"]] == 0.5
    assert got[0, SUSPECT_COL["probability"]] > got[2, SUSPECT_COL["probability"]]
    assert np.array_equal(
        np.delete(got, SUSPECT_COL["probability"], 1),
        np.delete(raw, SUSPECT_COL["probability"], 1),
        equal_nan=True,
    )
    assert score_scale.comparable_missing(raw, None, fit.sorted_reference()) is raw


def test_the_comparable_mode_scores_the_same_in_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project too large for memory (analysed in passes) scores as the one-step analysis."""
    from labelfix.core import analyze_passes

    project = real81_project(tmp_path / "p.labelfix")
    params = AnalysisParams(scores="comparable")
    found = []
    for in_passes in (False, True):
        monkeypatch.setattr(analyze_passes, "in_passes", lambda *a, on=in_passes: on)
        with Store.open(project) as store:
            summary = analyze(store, params=params)
            rows = sql(
                store,
                "SELECT key, kind, score, probability FROM suspects WHERE analysis_id = ? "
                "ORDER BY key",
                [summary.analysis_id],
            ).fetchall()
            found.append((rows, store.detector_fit(summary.analysis_id)))
    assert found[0][0] == found[1][0] and len(found[0][0]) > 50
    assert found[0][1]["score_scale"] == found[1][1]["score_scale"]
