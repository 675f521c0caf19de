"""The report's and the calibration fit's shortcuts give the very numbers of the plain way:
one sort per class for the report's AP and reliability bins (core.analysis_report), the fit's
columns of ones left out of its products and its sorts skipped on sorted input
(core.calibration)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelfix.core import analysis_report, calibration, habits, scoring
from labelfix.core import analyze as az
from labelfix.core.errors import AnalysisParams
from labelfix.core.matching import FP, IGNORED, TP
from labelfix.core.store import Store

from helpers import real81_project, tied_scores


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 400))
def test_descending_order_from_the_ascending_one_equals_a_mergesort(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    score = tied_scores(rng, n)
    up = np.argsort(score, kind="stable")
    if n == 0:
        return
    down = analysis_report._descending(score, up)
    assert np.array_equal(down, np.argsort(-score, kind="mergesort"))
    score[rng.integers(0, n)] = np.nan  # nan sorts last both ways: no shortcut
    assert analysis_report._descending(score, np.argsort(score, kind="stable")) is None


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.booleans())
def test_set_report_equals_the_report_class_by_class(seed: int, n: int, nan: bool) -> None:
    rng = np.random.default_rng(seed)
    category = rng.integers(1, 6, n)
    score = tied_scores(rng, n)
    if nan:
        score[rng.integers(0, n)] = np.nan
    probability = rng.random(n)
    outcome = rng.choice(np.array([TP, FP, IGNORED], np.int8), n, p=[0.4, 0.5, 0.1])
    image_id = np.sort(rng.integers(0, max(n // 5, 1), n))
    counts = {1: 7, 2: 0, 3: int(rng.integers(1, 50)), 5: 3, 6: 2}
    fit = scoring.DetectorFit(None, counts, category, score, habit_totals={})
    matches = {"outcome": outcome, "image_id": image_id}
    got = analysis_report.set_report(
        matches, category, score, fit, {}, AnalysisParams(), probability=probability
    )
    plain = habits.class_report(image_id, category, score, probability, outcome, counts, 0.5)
    want = {str(c): {k: analysis_report._number(v) for k, v in m.items()} for c, m in plain.items()}
    assert repr(got["classes"]) == repr(want)  # repr: nan equals nan
    bins = analysis_report.reliability(category, score, probability, outcome)
    assert repr(got["reliability"]) == repr({str(c): v for c, v in bins.items()})


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.booleans())
def test_unique_and_knot_scores_of_sorted_input_equal_the_sorting_ones(
    seed: int, n: int, shuffle: bool
) -> None:
    rng = np.random.default_rng(seed)
    x = np.sort(tied_scores(rng, n))
    if shuffle:
        rng.shuffle(x)
    got, want = calibration._unique(x), np.unique(x)
    assert got.tobytes() == want.tobytes()
    curve = calibration.Curve((0.1, 0.3, 0.5, 0.9), (0.1, 0.2, 0.3, 0.4))
    knots = calibration._knot_scores(curve, x, 5)
    if n:
        desc = np.sort(x)[::-1]
        rank = (5.5 / np.asarray(curve.u) - 5.5 - 0.5).round()
        want_q = desc[np.clip(rank, 0, n - 1).astype(np.int64)]
        assert np.asarray(knots.score).tobytes() == want_q.tobytes()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(200, 20_000))
def test_fits_without_their_column_of_ones_equal_the_fits_with_it(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    u = np.sort(rng.random(n))
    y = (rng.random(n) < u).astype(np.int8)
    fit = calibration._Counted(u, y)
    design = calibration._design(u)
    pooled = calibration._newton(n, fit.rows(0, n, 3), np.zeros(3), (100.0,) * 3)
    plain = calibration.logistic_map(design, y, np.zeros(3), (100.0,) * 3)
    assert pooled.tobytes() == plain.tobytes()
    a, b = n // 3, n
    own = calibration._newton(b - a, fit.rows(a, b, 2, pooled[2]), pooled[:2], (1.0, 1.0))
    plain = calibration.logistic_map(
        design[a:b, :2], y[a:b], pooled[:2], (1.0, 1.0), pooled[2] * design[a:b, 2]
    )
    assert own.tobytes() == plain.tobytes()


def test_report_parts_made_during_the_analysis_equal_the_ones_made_after(tmp_path) -> None:
    """compute() makes the report's class parts before the habits are totalled (while a second
    process finishes): the same as made from the finished result, on real data."""
    project = real81_project(tmp_path / "p.labelfix")
    with Store.open(project) as store:
        inputs = az.read_inputs(store, store.resolve_set(None), AnalysisParams())
    result = az.compute(inputs, processes=1)
    assert result.report_parts is not None and result.report_parts[0]
    cats, scores, _ = az._in_match_order(inputs, result.matches)
    after = analysis_report.class_parts(
        result.matches, cats, scores, result.fit, probability=result.probability
    )
    assert repr(result.report_parts) == repr(after)
    # made in a thread after the second pass (what analyze asks for): the same parts
    later = az.compute(inputs, processes=2, report_later=True)
    assert later.report_parts is None and later.report_thread is not None
    assert repr(later.class_parts()) == repr(after)
    assert later.report_thread is None


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.booleans())
def test_the_fit_order_from_the_rank_order_is_lexsort_of_its_keys(
    seed: int, n: int, wrong: bool
) -> None:
    """own_positions hands fit_calibration its sort order (checked, so a wrong one only falls
    back): the fit's order is np.lexsort's either way, and so is the fit."""
    rng = np.random.default_rng(seed)
    cats = rng.integers(1, 6, n)
    scores = np.round(rng.random(n), int(rng.integers(1, 4)))
    counts = {1: 5, 2: 40, 4: 1}
    reference = calibration.RankReference(cats, scores, own=True)
    x = reference.own_positions(counts, cats, scores)
    keep = rng.random(n) < 0.9
    y = (rng.random(n) < x).astype(np.float64)
    assert reference.positions_order(x.copy()) is None  # only for own_positions' very array
    hint = reference.positions_order(x)
    assert hint is not None and reference.positions_order(x) is None  # once
    if wrong:
        rng.shuffle(hint)
    want = np.lexsort((y, keep, x, cats))
    assert np.array_equal(calibration._fit_order(cats, x, keep, y, hint), want)
    if n > 60:
        reference = calibration.RankReference(cats, scores, own=True)
        again = reference.own_positions(counts, cats, scores)
        order = reference.positions_order(again)
        fitted = calibration.fit_calibration(cats, again, y, counts, keep, scores, order=order)
        plain = calibration.fit_calibration(cats, again.copy(), y, counts, keep, scores)
        assert fitted.to_json() == plain.to_json()
