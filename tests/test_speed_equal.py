"""The faster ways give the very numbers of the plain way they were computed before: the report
and habit totals (core.analysis_report, core.habits: part by part, class by class, over rows),
the result rows completed in the analysis's own array (core.result_rows), the groups found
by tables (core.grouping) and a chunk's Batch cut from the input columns (core.analyze)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelfix.core import analysis_chunks, analysis_report, grouping, habits, matching, result_rows
from labelfix.core import analyze as az
from labelfix.core.errors import KIND_CODE, SUSPECT_COL, SUSPECT_COLUMNS, AnalysisParams
from labelfix.core.matching import FP, TP


def _reliability_by_part(score, probability, outcome, bins):
    """class_reliability as it was: np.array_split and one mean per part."""
    order = np.argsort(score, kind="stable")
    s, p = score[order], probability[order]
    tp = (outcome[order] == TP).astype(np.float64)
    rows = []
    for part in np.array_split(np.arange(len(s)), min(bins, len(s))):
        if len(part):
            rows.append(
                [
                    round(float(s[part].mean()), 6),
                    round(float(tp[part].mean()), 6),
                    round(float(p[part].mean()), 6),
                    int(len(part)),
                ]
            )
    return rows


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5000), st.integers(1, 120))
def test_class_reliability_equals_the_mean_of_each_part(seed: int, n: int, bins: int) -> None:
    rng = np.random.default_rng(seed)
    score = np.round(rng.random(n), int(rng.integers(1, 8))) * 10.0 ** int(rng.integers(-3, 3))
    probability = rng.random(n)
    outcome = rng.choice([TP, FP], n)
    got = analysis_report.class_reliability(score, probability, outcome, bins)
    assert got == _reliability_by_part(score, probability, outcome, bins)


def test_class_reliability_of_a_large_class_equals_the_mean_of_each_part() -> None:
    rng = np.random.default_rng(7)
    n = 1_234_567  # parts above numpy's 8192-item buffers
    score, probability = rng.random(n), rng.random(n)
    outcome = rng.choice([TP, FP], n)
    got = analysis_report.class_reliability(score, probability, outcome, 100)
    assert got == _reliability_by_part(score, probability, outcome, 100)


@pytest.mark.parametrize("limit", [0, 10**9])
def test_rows_by_class_are_each_class_positions_ascending(monkeypatch, limit: int) -> None:
    monkeypatch.setattr(analysis_report, "SORTED_CLASSES_UP_TO", limit)
    rng = np.random.default_rng(3)
    category = rng.integers(-2, 9, 5000)
    rows = analysis_report._rows_by_class(category)
    for c in range(-3, 11):
        assert np.array_equal(rows(c), np.flatnonzero(category == c))


def _totals_over_rows(label_category, pair_label, pair_category, pair_iou, pair_prob, min_iou):
    """overlap_totals as it was: np.unique over (a, b) rows, a dict built from numpy rows."""
    label_category = np.asarray(label_category, dtype=np.int64)
    lab = np.asarray(pair_label, dtype=np.int64)
    cat = np.asarray(pair_category, dtype=np.int64)
    keep = (np.asarray(pair_iou) >= min_iou) & (cat != label_category[lab])
    lab, cat = lab[keep], cat[keep]
    prob = np.asarray(pair_prob, dtype=np.float64)[keep]
    if not len(lab):
        return {}
    order = np.lexsort((-prob, cat, lab))
    lab, cat, prob = lab[order], cat[order], prob[order]
    first = np.r_[True, (lab[1:] != lab[:-1]) | (cat[1:] != cat[:-1])]
    a, b, best = label_category[lab[first]], cat[first], prob[first]
    pairs, inverse = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
    units = np.rint(best / habits.TOTAL_STEP).astype(np.int64)
    total = np.zeros(len(pairs), dtype=np.int64)
    np.add.at(total, inverse.reshape(-1), units)
    return {
        (int(k[0]), int(k[1])): float(t) * habits.TOTAL_STEP
        for k, t in zip(pairs, total, strict=True)
    }


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**32 - 1), st.integers(0, 400), st.sampled_from([3, 90, 2**20, 2**40, 2**61])
)
def test_overlap_totals_equal_the_totals_over_rows(seed: int, n: int, classes: int) -> None:
    rng = np.random.default_rng(seed)
    label_category = rng.integers(-classes, classes, 50)
    args = (
        label_category,
        rng.integers(0, 50, n),
        rng.integers(-classes, classes, n),
        rng.random(n),
        rng.random(n),
        0.4,
    )
    got = habits.overlap_totals(*args)
    want = _totals_over_rows(*args)
    assert list(got.items()) == list(want.items())
    assert all(type(a) is int and type(b) is int for a, b in got)


def test_one_set_rows_completed_in_place_equal_the_copied_rows() -> None:
    rng = np.random.default_rng(2)
    n = 300
    scored = np.full((n, len(SUSPECT_COLUMNS) + 1), np.nan)
    col = SUSPECT_COL
    scored[:, col["kind"]] = rng.choice(list(KIND_CODE.values()), n)
    scored[:, col["annotation_id"]] = np.where(rng.random(n) < 0.7, rng.integers(0, 80, n), -1)
    scored[:, col["prediction_id"]] = np.where(rng.random(n) < 0.7, rng.integers(0, 90, n), -1)
    scored[:, -1] = np.round(rng.random(n), 2)
    want = result_rows.one_set(scored.copy(), 4).rows
    into = np.full((n, len(result_rows.RESULT_COLUMNS)), -7.0)
    into[:, : scored.shape[1]] = scored
    got = result_rows.one_set(into[:, : scored.shape[1]], 4, into=into).rows
    assert got is into and got.tobytes() == want.tobytes()
    with pytest.raises(ValueError, match="cannot hold"):
        result_rows.one_set(scored, 4, into=into[:-1])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 400))
def test_groups_are_the_same_with_dense_and_far_apart_ids(seed: int, n: int) -> None:
    """Grouping finds its nodes by a table over dense ids, else by a sort and search: only
    which ids are equal matters, so spreading the ids apart changes nothing."""
    rng = np.random.default_rng(seed)

    def column(p: float, top: int) -> np.ndarray:
        return np.where(rng.random(n) < p, rng.integers(0, top, n), -1).astype(np.float64)

    kind = rng.choice(list(KIND_CODE.values()), n).astype(np.float64)
    ann, other, pred = column(0.7, 60), column(0.1, 60), column(0.6, 80)
    score = np.round(rng.random(n), 2)
    dense = grouping.group_suspects(kind, ann, other, pred, score)
    far = [np.where(c >= 0, c * 1e12 + 7, c) for c in (ann, other, pred)]
    spread = grouping.group_suspects(kind, *far, score)
    for name in ("group", "rank", "group_score"):
        assert getattr(dense, name).tobytes() == getattr(spread, name).tobytes()


@pytest.mark.parametrize("gaps", [False, True])
def test_a_chunks_batch_is_its_items_concatenated(gaps: bool) -> None:
    """chunk_at cuts a boxes chunk's Batch straight from the input columns (a slice, or the
    images' row ranges where rows of images outside the analysis sit between theirs)."""
    rng = np.random.default_rng(4)
    image_ids = list(range(0, 40, 2 if gaps else 1))
    all_images = np.arange(40)
    n_lab = rng.integers(0, 5, len(all_images))
    n_pred = rng.integers(0, 7, len(all_images))
    keep_lab = np.repeat(np.isin(all_images, image_ids), n_lab)
    labels = np.zeros((int(n_lab.sum()), 10))
    labels[:, 0] = np.arange(len(labels)) + 100
    labels[:, 1] = np.repeat(all_images, n_lab)
    labels[:, 2] = rng.integers(1, 4, len(labels))
    labels[:, 3:7] = rng.uniform(1, 50, (len(labels), 4))
    labels[:, 7] = rng.random(len(labels)) < 0.1
    labels[:, 8] = rng.uniform(1, 900, len(labels))
    m = int(n_pred.sum())
    preds = {
        "id": np.arange(m, dtype=np.int64) + 1000,
        "image_id": np.repeat(all_images, n_pred).astype(np.int64),
        "category_id": rng.integers(1, 4, m).astype(np.int64),
        "score": rng.random(m),
        "box": rng.uniform(1, 50, (m, 4)),
    }
    inputs = az.AnalysisInputs(1, AnalysisParams(), image_ids, labels[keep_lab], preds)
    for start in range(0, len(image_ids), 7):
        chunk = analysis_chunks.chunk_at(inputs, start, 7)
        want = matching.batch_of(chunk.items)
        for name, value in vars(want).items():
            got = getattr(chunk.batch, name)
            assert got.dtype == value.dtype and np.array_equal(got, value), name


def _confusion_over_rows(label_category, pair_label, pair_category, pair_iou, pair_prob, iou, cut):
    """confusion_table as it was: np.unique over (label class, best class) rows."""
    label_category = np.asarray(label_category, dtype=np.int64)
    keep = (np.asarray(pair_iou) >= iou) & (np.asarray(pair_prob) >= cut)
    lab = np.asarray(pair_label, dtype=np.int64)[keep]
    cat = np.asarray(pair_category, dtype=np.int64)[keep]
    prob = np.asarray(pair_prob, dtype=np.float64)[keep]
    best = np.full(len(label_category), habits.NO_CLASS, dtype=np.int64)
    if len(lab):
        order = np.lexsort((np.arange(len(lab)), -prob, lab))
        first = np.r_[True, lab[order][1:] != lab[order][:-1]]
        best[lab[order][first]] = cat[order][first]
    keys, counts = np.unique(np.stack([label_category, best], axis=1), axis=0, return_counts=True)
    return {(int(k[0]), int(k[1])): int(n) for k, n in zip(keys, counts, strict=True)}


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**32 - 1), st.integers(0, 50), st.integers(0, 300), st.sampled_from([4, 2**40])
)
def test_confusion_table_equals_the_table_over_rows(
    seed: int, labels: int, n: int, classes: int
) -> None:
    rng = np.random.default_rng(seed)
    args = (
        rng.integers(-classes, classes, labels),
        rng.integers(0, max(labels, 1), n) if labels else np.zeros(0, np.int64),
        rng.integers(-classes, classes, n if labels else 0),
        rng.random(n if labels else 0),
        rng.random(n if labels else 0),
        0.4,
        0.3,
    )
    got = habits.confusion_table(*args)
    assert list(got.items()) == list(_confusion_over_rows(*args).items())
    assert all(type(a) is int and type(b) is int and type(c) is int for (a, b), c in got.items())
