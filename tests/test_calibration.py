"""Calibration curves (core.calibration): isotonic fit, rank positions, shrinkage, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelfix.core import calibration as cal
from labelfix.core.calibration import Calibration, Curve


def _brute_isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Isotonic regression by repeatedly pooling the first violating pair (slow, obviously right)."""
    blocks = [[float(v), float(k), 1] for v, k in zip(y, w, strict=True)]
    changed = True
    while changed:
        changed = False
        for i in range(len(blocks) - 1):
            if blocks[i][0] >= blocks[i + 1][0]:
                a, b = blocks[i], blocks[i + 1]
                wt = a[1] + b[1]
                blocks[i] = [(a[0] * a[1] + b[0] * b[1]) / wt, wt, a[2] + b[2]]
                del blocks[i + 1]
                changed = True
                break
    return np.concatenate([[v] * n for v, _, n in blocks])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0.5, 3.0)), min_size=1, max_size=40))
def test_pav_is_weighted_isotonic_regression(points: list[tuple[int, float]]) -> None:
    y = np.array([p[0] for p in points], dtype=float)
    w = np.array([p[1] for p in points])
    block, value = cal._pav(y, w)
    fitted = value[block]
    assert np.all(np.diff(value) > 0)  # blocks strictly increasing
    assert np.allclose(fitted, _brute_isotonic(y, w))


def test_rank_positions_are_scale_free_and_relative_to_label_counts() -> None:
    cats = np.array([1, 1, 1, 2, 2, 2, 2])
    scores = np.array([0.9, 0.5, 0.5, 0.3, 0.2, 0.1, 0.05])
    counts = {1: 2, 2: 0}
    x = cal.rank_positions(cats, scores, counts)
    # class 1: n = 2.5; ranks 0 and the tied pair's mid-rank 1.5
    assert np.allclose(x[:3], [2.5 / 3.0, 2.5 / 4.5, 2.5 / 4.5])
    assert np.all(np.diff(x[3:]) < 0) and x[3] == 0.5 / 1.0  # a class without labels
    rescaled = np.where(cats == 1, scores**3 * 7, np.exp(scores))  # increasing per class
    assert np.array_equal(cal.rank_positions(cats, rescaled, counts), x)
    # positions of some predictions against the whole set, as a re-analysis takes them
    assert np.array_equal(cal.rank_positions(cats, scores, counts, cats[3:5], scores[3:5]), x[3:5])


def _synthetic(rng: np.random.Generator, n: int, cats: int) -> tuple[np.ndarray, ...]:
    """Predictions whose chance of being right is their class-specific sigmoid of a latent."""
    cat = rng.integers(1, cats + 1, n)
    latent = rng.normal(0, 1.5, n)
    truth = 1 / (1 + np.exp(-(latent - 1.0 + 0.5 * (cat % 2))))
    tp = rng.random(n) < truth
    return cat, latent, tp, truth


def test_fit_recovers_the_true_probabilities() -> None:
    rng = np.random.default_rng(0)
    cat, score, tp, truth = _synthetic(rng, 20000, 4)
    counts = {c: int(tp[cat == c].sum()) for c in range(1, 5)}
    x = cal.rank_positions(cat, score, counts)
    fitted = cal.fit_calibration(cat, x, tp, counts)
    p = cal.probabilities(fitted, cat, x)
    assert np.mean(np.abs(p - truth)) < 0.04
    # within a class, probabilities keep the scores' order
    for c in range(1, 5):
        sel = cat == c
        order = np.argsort(score[sel])
        assert np.all(np.diff(p[sel][order]) >= -1e-12)


def test_rare_class_borrows_from_the_pooled_curve() -> None:
    rng = np.random.default_rng(1)
    cat, score, tp, _ = _synthetic(rng, 5000, 2)
    # a rare class: 3 predictions, all false positives; its top one is not declared impossible
    cat = np.r_[cat, [9, 9, 9]]
    score = np.r_[score, [3.0, 0.0, -3.0]]
    tp = np.r_[tp, [False, False, False]]
    counts = {1: int(tp[cat == 1].sum()), 2: int(tp[cat == 2].sum()), 9: 2}
    x = cal.rank_positions(cat, score, counts)
    fitted = cal.fit_calibration(cat, x, tp, counts)
    p = cal.probabilities(fitted, cat, x)
    assert 0.05 < p[-3] < fitted.overall(x[-3:-2])[0]  # shrunk, below the pooled curve
    assert p[-3] >= p[-2] >= p[-1]


def test_logistic_map_follows_the_data_and_the_prior() -> None:
    x = np.ones((50, 1))  # an intercept only; the prior says log-odds 0 (probability 1/2)
    assert cal.logistic_map(x, np.ones(50), np.zeros(1), (1.0,))[0] > 0.5
    assert cal.logistic_map(x, np.zeros(50), np.zeros(1), (1.0,))[0] < -0.5
    half = np.r_[np.ones(25), np.zeros(25)]
    assert abs(cal.logistic_map(x, half, np.zeros(1), (1.0,))[0]) < 1e-9
    # a tight prior keeps its mean whatever the data; an offset is taken as given
    assert abs(cal.logistic_map(x, np.ones(50), np.array([0.3]), (1e-4,))[0] - 0.3) < 1e-3
    assert cal.logistic_map(x, half, np.zeros(1), (1.0,), offset=2.0)[0] < -1.5
    # without a prior to speak of: the maximum-likelihood line of a known logistic
    rng = np.random.default_rng(3)
    z = rng.normal(0, 2, 20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-(0.5 + 1.5 * z)))).astype(float)
    coef = cal.logistic_map(np.column_stack([np.ones(20000), z]), y, np.zeros(2), (100.0, 100.0))
    assert np.allclose(coef, [0.5, 1.5], atol=0.1)


def test_class_curves_keep_their_predictions_order_and_span_them() -> None:
    rng = np.random.default_rng(4)
    cat, score, tp, _ = _synthetic(rng, 6000, 3)
    counts = {c: int(tp[cat == c].sum()) for c in range(1, 4)}
    x = cal.rank_positions(cat, score, counts)
    fitted = cal.fit_calibration(cat, x, tp, counts)
    assert fitted.method == "logistic"
    for c in range(1, 4):
        curve = fitted.classes[c]
        assert len(curve.u) <= cal.CURVE_KNOTS
        assert curve.u[0] == x[cat == c].min() and curve.u[-1] == x[cat == c].max()
        assert np.all(np.diff(curve.p) >= 0)
        assert sum(curve.weight) == curve.n == int(np.sum(cat == c))


def test_json_round_trip_and_small() -> None:
    rng = np.random.default_rng(2)
    cat, score, tp, _ = _synthetic(rng, 8000, 80)
    counts = {c: int(tp[cat == c].sum()) for c in range(1, 81)}
    x = cal.rank_positions(cat, score, counts)
    fitted = cal.fit_calibration(cat, x, tp, counts, scores=score)
    text = json.dumps(fitted.to_json())
    assert len(text) < 100_000
    back = Calibration.from_json(json.loads(text))
    assert np.allclose(
        cal.probabilities(back, cat, x), cal.probabilities(fitted, cat, x), atol=1e-5
    )
    assert back.curve(12345) == back.overall  # unknown class: the pooled curve
    old = {k: v for k, v in fitted.to_json().items() if k != "method"}  # stored before logistic
    assert Calibration.from_json({**old, "prior_strength": 20.0}).method == "isotonic"


def test_curve_is_flat_outside_and_linear_between_knots() -> None:
    c = Curve((0.2, 0.6), (0.1, 0.5))
    assert np.allclose(c(np.array([0.0, 0.2, 0.4, 0.6, 1.0])), [0.1, 0.1, 0.3, 0.5, 0.5])


def _rank_positions_by_class(ref_cat, ref_score, counts, cat, score) -> np.ndarray:
    """The definition, one class and one score at a time (the reference for the sorted keys)."""
    out = np.ones(len(score))
    for k, (c, s) in enumerate(zip(cat.tolist(), score.tolist(), strict=True)):
        mine = ref_score[ref_cat == c]
        if not len(mine):
            continue
        above = float(np.sum(mine > s))
        ties = float(np.sum(mine == s))
        rank = above + max(ties - 1.0, 0.0) / 2.0
        n = float(counts.get(c, 0)) + cal.RANK_PRIOR_LABELS
        out[k] = n / (n + rank + 0.5)
    return out


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 200), st.integers(0, 60), st.integers(1, 3))
def test_rank_positions_match_their_definition(seed: int, n: int, m: int, digits: int) -> None:
    rng = np.random.default_rng(seed)
    cats = rng.integers(0, 5, n)
    scores = np.round(rng.random(n), digits)  # ties
    counts = {c: int(rng.integers(0, 9)) for c in range(6) if rng.random() < 0.7}
    pick = rng.integers(0, n, m)
    q_cat = np.where(rng.random(m) < 0.2, rng.integers(-1, 7, m), cats[pick])
    q_score = np.where(rng.random(m) < 0.3, np.round(rng.random(m), digits), scores[pick])
    got = cal.rank_positions(cats, scores, counts, q_cat, q_score)
    want = _rank_positions_by_class(cats, scores, counts, q_cat, q_score)
    assert got.tobytes() == want.tobytes()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.integers(1, 3))
def test_own_positions_are_the_positions_of_the_reference_itself(
    seed: int, n: int, digits: int
) -> None:
    rng = np.random.default_rng(seed)
    spread = 10**12 if seed % 2 else 1  # class ids too far apart for a table
    cats = rng.integers(-3, 5, n) * spread
    scores = np.round(rng.random(n), digits) * rng.choice([-1.0, 1.0], n)  # ties, 0.0 and -0.0
    counts = {c * spread: int(rng.integers(0, 9)) for c in range(-3, 6) if rng.random() < 0.7}
    plain = cal.RankReference(cats, scores)
    own = cal.RankReference(cats, scores, own=True)
    assert own.keys.tobytes() == plain.keys.tobytes()
    assert own.class_end.tobytes() == plain.class_end.tobytes()
    got = own.own_positions(counts, cats, scores)
    assert got.tobytes() == plain.positions(counts, cats, scores).tobytes()
    assert got.tobytes() == _rank_positions_by_class(cats, scores, counts, cats, scores).tobytes()
    # asked again, or for other arrays: the plain positions
    assert own.own_positions(counts, cats, scores).tobytes() == got.tobytes()
    other = cal.RankReference(cats, scores, own=True).own_positions(counts, cats.copy(), scores)
    assert other.tobytes() == got.tobytes()


def test_own_positions_with_nan_scores_fall_back_to_the_search() -> None:
    cats = np.array([1, 1, 2, 1])
    scores = np.array([0.5, np.nan, 0.2, 0.5])
    own = cal.RankReference(cats, scores, own=True)
    want = cal.RankReference(cats, scores).positions({1: 2}, cats, scores)
    assert own.own_positions({1: 2}, cats, scores).tobytes() == want.tobytes()


def test_no_predictions_give_no_probabilities() -> None:
    """A class (or a set) without predictions: an empty answer, not an error."""
    rng = np.random.default_rng(2)
    cat, score, tp, _ = _synthetic(rng, 500, 2)
    counts = {1: int(tp[cat == 1].sum()), 2: int(tp[cat == 2].sum())}
    fitted = cal.fit_calibration(cat, cal.rank_positions(cat, score, counts), tp, counts)
    none = np.zeros(0, np.int64)
    assert len(cal.probabilities(fitted, none, np.zeros(0))) == 0


def test_the_fit_in_slices_is_bit_for_bit_the_fit_of_whole_arrays(monkeypatch) -> None:
    """The fit's sums run over slices split where numpy's pairwise sum splits a whole column,
    so any slice size gives exactly the curves of one np.sum per whole column (the unsliced
    fit), with non-binary outcomes too; the pooled isotonic curve is the whole arrays' one."""
    rng = np.random.default_rng(5)
    n = 30_000
    cat = rng.integers(0, 6, n) * 2
    score = rng.random(n)
    counts = {c: int(rng.integers(0, 300)) for c in range(0, 12, 2)}
    x = cal.rank_positions(cat, score, counts)
    counted = rng.random(n) < 0.9
    for tp in ((rng.random(n) < score).astype(float), np.round(rng.random(n), 1)):
        fits = []
        for size, cache in ((10**9, 10**9), (128, 10**9), (1000, 0), (4099, 0), (10**9, 0)):
            monkeypatch.setattr(cal, "FIT_SLICE", size)
            monkeypatch.setattr(cal, "FIT_CACHE_ROWS", cache)  # design columns kept or not
            fits.append(cal.fit_calibration(cat, x, tp, counts, counted, score).to_json())
        assert all(f == fits[0] for f in fits[1:])
        order = np.lexsort((tp, counted, x, cat))
        keep = counted[order]
        assert cal._fit(x[order][keep], tp[order][keep]).to_json() == fits[0]["overall"]
    # a logistic fit of whole columns, given at once or in slices
    z = rng.normal(0, 2, 5000)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(0.5 + 1.5 * z)))).astype(float)
    design = np.column_stack([np.ones(5000), z])
    coefs = []
    for size in (10**9, 128):
        monkeypatch.setattr(cal, "FIT_SLICE", size)
        coefs.append(cal.logistic_map(design, y, np.zeros(2), (100.0, 100.0), 0.1 * z).tolist())
    assert coefs[0] == coefs[1]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.booleans(), st.sampled_from([5, 2**20]))
def test_the_fit_order_is_lexsort_of_its_keys(seed: int, n: int, binary: bool, span: int) -> None:
    rng = np.random.default_rng(seed)
    cats = rng.integers(-span, span, n)
    u = np.round(rng.random(n), 2)  # ties
    keep = rng.random(n) < 0.8
    y = (rng.random(n) < 0.4).astype(np.float64) if binary else np.round(rng.random(n), 1)
    want = np.lexsort((y, keep, u, cats))
    assert np.array_equal(cal._fit_order(cats, u, keep, y), want)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cal, "FIT_CACHE_ROWS", n // 2)  # a large fit: np.lexsort itself
        assert np.array_equal(cal._fit_order(cats, u, keep, y), want)
