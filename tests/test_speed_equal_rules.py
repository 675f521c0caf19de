"""The matching's and the suspect rules' shortcuts give the very orders and pairs of the plain
way: np.lexsort as stable sorts with small integer keys by radix (core.key_sort: the
matching's score order, the rules' missing-label and best-per-label orders, the habit and
confusion tables), and each tp's pair with its matched label found among the tp predictions'
pairs only (core.errors.batch_facts)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelfix.core import errors, key_sort, matching
from labelfix.core.matching import FP, IGNORED, TP

from helpers import tied_scores


def _key(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """A sort key of one kind: scores (ties, zeros of both signs, inf, nan) or integers of a
    small or large range, bools, 16-bit ones."""
    if kind == "float":
        return -tied_scores(rng, n, nan=True)
    if kind == "bool":
        return rng.random(n) < 0.5
    if kind == "int16":
        return rng.integers(-300, 300, n).astype(np.int16)
    span = {"small": 90, "edge": 2**15, "wide": 2**40}[kind]
    return rng.integers(-span // 3, span, n)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 400),
    st.lists(
        st.sampled_from(["float", "bool", "int16", "small", "edge", "wide"]), min_size=1, max_size=4
    ),
)
def test_key_sort_lexsort_equals_np_lexsort(seed: int, n: int, kinds: list[str]) -> None:
    """The sorts of the matching's score order, the missing-label order, the best candidate
    per label and the habit / confusion tables: np.lexsort's order with radix sorts."""
    rng = np.random.default_rng(seed)
    keys = [_key(rng, n, kind) for kind in kinds]
    assert np.array_equal(key_sort.lexsort(keys), np.lexsort(keys))


def test_the_matching_score_order_is_lexsort_by_group_and_descending_score() -> None:
    rng = np.random.default_rng(5)
    for span in (3, 90, 40_000, 2**40):
        image = np.sort(rng.integers(0, 70, 500))
        category = rng.integers(-5, span, 500)
        score = tied_scores(rng, 500, nan=True)
        batch = SimpleNamespace(pred_image=image, pred_category=category, pred_score=score)
        turn, _ = matching._score_order(batch)
        want = np.lexsort((-score, matching._group_key(image, category)))
        assert np.array_equal(np.argsort(turn), want)


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
