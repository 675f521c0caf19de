"""Several prediction sets that are not independent (core.consensus, score version 14): the
analysis measures how much more often two sets' missing-label candidates coincide than their
true positives do, and missing_label's noisy-or counts the sets as that many independent ones:
two copies of one detector score as the detector alone, independent sets as version 13."""

from __future__ import annotations

import numpy as np
import pytest

from labelfix.core.consensus import (
    SetSuspects,
    dependence,
    design_effect,
    mean_dependence,
    merge_sets,
)
from labelfix.core.errors import KIND_CODE

from helpers import set_suspects

K = KIND_CODE


LABELS = (1, 2, 3, 4)
"""The labels the sets' true positives match (OTHER's: 1, 2, 3, 5)."""


ROWS = [
    ("missing_label", 1, -1, (50, 50, 20, 20), 0.5),
    ("missing_label", 1, -1, (0, 0, 30, 30), 0.3),
    ("missing_label", 2, -1, (10, 10, 40, 40), 0.2),
    ("wrong_class", 2, 7, (0, 0, 10, 10), 0.4),
]
# another detector: one of the three unlabelled objects in common, the other two its own
OTHER = [
    ("missing_label", 1, -1, (51, 52, 20, 20), 0.4),
    ("missing_label", 1, -1, (200, 0, 30, 30), 0.6),
    ("missing_label", 3, -1, (10, 10, 40, 40), 0.3),
]


def _score_of(m, k: int, r: int) -> float:
    at = {(int(s), int(w)): i for i, (s, w) in enumerate(zip(m.set_index, m.row, strict=True))}
    return float(m.score[at[(k, r)]])


def test_v14_two_copies_of_one_detector_score_as_the_detector_alone() -> None:
    one, copy = set_suspects(ROWS, labels=LABELS), set_suspects(ROWS, labels=LABELS)
    assert dependence(one, copy) == 1.0
    m = merge_sets([one, copy], version=14)
    assert m.dependence == 1.0 and len(m.score) == len(ROWS)
    for r, row in enumerate(ROWS):
        assert _score_of(m, 0, r) == pytest.approx(row[4])
    # version 13 counted the copy as independent evidence: 0.5 became 0.75
    old = merge_sets([one, copy], version=13)
    assert _score_of(old, 0, 0) == pytest.approx(0.75)


def test_v14_a_copy_with_its_scores_rescaled_is_as_dependent() -> None:
    """The measure uses the candidates' boxes and the true positives' labels, not the scores:
    a set whose scores are rescaled (per class, by any increasing function) is the same set."""
    one = set_suspects(ROWS, labels=LABELS)
    rescaled = set_suspects([(*r[:4], r[4] ** 3) for r in ROWS], labels=LABELS)
    assert dependence(one, rescaled) == 1.0


def test_v14_the_dependence_is_the_candidates_overlap_over_the_true_positives() -> None:
    one, other = set_suspects(ROWS, labels=LABELS), set_suspects(OTHER, labels=(1, 2, 3, 5))
    # candidates: 1 object of 5 in common (0.2); true positives: 3 labels of 5 (0.6)
    assert dependence(one, other) == pytest.approx(0.2 / 0.6)
    assert dependence(other, one) == pytest.approx(0.2 / 0.6)
    rho = 0.2 / 0.6
    m = merge_sets([one, other], version=14)
    assert m.dependence == pytest.approx(rho)
    effect = design_effect(2, rho)
    assert effect == pytest.approx(1 + rho)
    # the object both find: the noisy-or's evidence over the design effect
    both = 1 - (0.5 * 0.6) ** (1 / effect)
    assert _score_of(m, 0, 0) == pytest.approx(both)
    assert 0.5 < both < 1 - 0.5 * 0.6  # above the better set, below independent sets' noisy-or
    # an object one set finds alone: as if the other said 0, on the same scale
    assert _score_of(m, 1, 1) == pytest.approx(1 - 0.4 ** (1 / effect))
    # a suspect on a label keeps its best set's score (version 12)
    assert _score_of(m, 0, 3) == pytest.approx(0.4)
    # sets with nothing in common among their candidates: version 13's noisy-or
    apart = set_suspects([(*r[:3], (r[3][0] + 500, *r[3][1:]), r[4]) for r in OTHER], labels=LABELS)
    assert dependence(one, apart) == 0.0
    assert merge_sets([one, apart], version=14).score.tolist() == pytest.approx(
        merge_sets([one, apart], version=13).score.tolist()
    )


def test_v14_one_set_and_earlier_versions_change_nothing() -> None:
    one = set_suspects(ROWS, labels=LABELS)
    m = merge_sets([one], version=14)
    assert m.dependence is None
    assert m.score[np.argsort(m.row)].tolist() == pytest.approx(one.score.tolist())
    assert m.score.tolist() == merge_sets([one], version=13).score.tolist()  # to the last bit
    assert design_effect(1, 0.7) == 1.0 and design_effect(3, None) == 1.0
    assert design_effect(3, 0.5) == 2.0  # three sets half dependent: 1.5 independent ones
    two = [set_suspects(ROWS, labels=LABELS), set_suspects(OTHER, labels=(1, 2, 3, 5))]
    assert merge_sets(two, version=13).dependence is None
    # the stored dependence of a full analysis wins over the rows at hand (a re-analysis)
    stored = merge_sets(two, version=14, rho=1.0)
    assert stored.dependence == 1.0 and _score_of(stored, 0, 0) == pytest.approx(
        1 - (0.5 * 0.6) ** 0.5
    )


def test_v14_the_mean_over_pairs_and_unknown_true_positives() -> None:
    a, b, c = (
        set_suspects(ROWS, labels=LABELS),
        set_suspects(ROWS, labels=LABELS),
        set_suspects(OTHER, labels=(1, 2, 3, 5)),
    )
    assert mean_dependence([a, b, c]) == pytest.approx((1 + 2 * (0.2 / 0.6)) / 3)
    unknown = SetSuspects(**{**a.__dict__, "cover": None})
    assert dependence(a, unknown) is None and mean_dependence([a, unknown]) is None
    # without a measure the sets count as independent (version 13's noisy-or)
    assert merge_sets([a, unknown], version=14).score.tolist() == pytest.approx(
        merge_sets([a, unknown], version=13).score.tolist()
    )
