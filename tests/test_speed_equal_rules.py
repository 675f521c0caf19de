"""The matching's and the suspect rules' shortcuts give the very orders and pairs of the plain
way: stable sorts by radix of small integer keys instead of np.lexsort (core.matching's score
order, core.errors' missing-label order), and each tp's pair with its matched label found among
the tp predictions' pairs only (core.errors.batch_facts)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelfix.core import errors, matching
from labelfix.core.matching import FP, IGNORED, TP


def _scores(rng: np.random.Generator, n: int) -> np.ndarray:
    """Scores with ties, zeros of both signs, infinities and nan."""
    score = np.round(rng.random(n), int(rng.integers(1, 4)))
    special = rng.random(n)
    score[special < 0.05] = 0.0
    score[(special >= 0.05) & (special < 0.1)] = -0.0
    score[(special >= 0.1) & (special < 0.12)] = np.inf
    score[(special >= 0.12) & (special < 0.14)] = np.nan
    return score


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 500), st.sampled_from([3, 90, 40_000, 2**40]))
def test_group_then_descending_score_order_equals_lexsort(seed: int, n: int, span: int) -> None:
    rng = np.random.default_rng(seed)
    image = np.sort(rng.integers(0, max(n // 7, 1), n))
    category = rng.integers(-5, span, n)
    score = _scores(rng, n)
    got = matching._by_group_then_descending(image, category, score)
    want = np.lexsort((-score, matching._group_key(image, category)))
    assert np.array_equal(got, want)
    got = errors._by_image_then_descending(category, score)  # any int key, any range
    assert np.array_equal(got, np.lexsort((-score, category)))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300))
def test_matched_pairs_equal_the_pairs_found_among_all(seed: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    n_images = max(m // 5, 1)
    n_labels = rng.integers(0, 6, n_images)
    l_id = rng.permutation(10 * int(n_labels.sum()) + 1)[: int(n_labels.sum())]
    p_img = np.sort(rng.integers(0, n_images, m))
    per_pred = n_labels[p_img]
    l_start = np.cumsum(n_labels) - n_labels
    pair_pred = np.repeat(np.arange(m), per_pred)
    first = np.cumsum(per_pred) - per_pred
    pair_label = np.arange(len(pair_pred)) + np.repeat(l_start[p_img] - first, per_pred)
    outcome = rng.choice([TP, FP, IGNORED], m)
    outcome[per_pred == 0] = FP
    p_match = np.full(m, -1)
    for i in np.flatnonzero(outcome == TP):  # a label of its image, or (ignored) none there
        own = l_id[l_start[p_img[i]] : l_start[p_img[i]] + per_pred[i]]
        p_match[i] = rng.choice(own) if rng.random() < 0.9 else -7
    got = errors._matched_pairs(outcome, p_match, l_id, per_pred, pair_label)
    want = np.flatnonzero((outcome[pair_pred] == TP) & (l_id[pair_label] == p_match[pair_pred]))
    assert np.array_equal(got, want)
