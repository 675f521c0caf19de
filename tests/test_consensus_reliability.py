"""Several prediction sets weighed by their reliability (core.consensus, score version 13):
each set's suspect scores count by the set's recall over the best set's, so a weaker
detector's overconfident score no longer wins on a suspect both sets find."""

from __future__ import annotations

import numpy as np

from labelfix.core import result_rows
from labelfix.core.consensus import merge_sets, set_weights
from labelfix.core.errors import KIND_CODE

from helpers import scored_suspects, set_suspects

K = KIND_CODE
NO_BOX = (np.nan,) * 4


STRONG = [
    ("wrong_class", 1, 3, (0, 0, 10, 10), 0.4),
    ("missing_label", 1, -1, (50, 50, 20, 20), 0.5),
    ("spurious_label", 2, 8, NO_BOX, 0.3),
]
WEAK = [
    ("wrong_class", 1, 3, (1, 0, 10, 10), 0.7),  # overconfident on the label both find
    ("wrong_class", 1, 4, (20, 0, 10, 10), 0.6),  # alone
    ("missing_label", 1, -1, (52, 51, 20, 20), 0.4),
]


def _by_row(m) -> dict[tuple[int, int], int]:
    return {(int(s), int(r)): i for i, (s, r) in enumerate(zip(m.set_index, m.row, strict=True))}


def test_v13_a_weaker_sets_scores_count_by_its_recall_over_the_best_sets() -> None:
    strong, weak = set_suspects(STRONG, 0.6), set_suspects(WEAK, 0.3)
    assert set_weights([strong, weak], 13).tolist() == [1.0, 0.5]
    m = merge_sets([strong, weak], version=13)
    by = _by_row(m)
    # label 3: the weak set's 0.7 weighs 0.35, the strong set's 0.4 wins and its row (its fix)
    assert m.score[by[(0, 0)]] == 0.4 and (1, 0) not in by
    assert m.score[by[(1, 1)]] == 0.3  # the weak set alone on label 4: 0.6 x 0.5
    assert np.isclose(m.score[by[(0, 1)]], 1 - 0.5 * 0.8)  # noisy-or of 0.5 and 0.4 x 0.5
    assert m.score[by[(0, 2)]] == 0.3  # the best set alone: its own score
    assert m.weight.tolist() == [1.0, 0.5]
    # version 12: the weak set's overconfident score wins and its row stands for the suspect
    old = merge_sets([strong, weak], version=12)
    assert old.score[_by_row(old)[(1, 0)]] == 0.7 and old.score[_by_row(old)[(1, 1)]] == 0.6


def test_v13_only_the_ratio_of_the_recalls_counts_and_one_set_changes_nothing() -> None:
    a = merge_sets([set_suspects(STRONG, 0.6), set_suspects(WEAK, 0.3)], version=13)
    b = merge_sets([set_suspects(STRONG, 0.8), set_suspects(WEAK, 0.4)], version=13)
    assert a.score.tolist() == b.score.tolist() and a.row.tolist() == b.row.tolist()
    one = set_suspects(WEAK, 0.3)
    m = merge_sets([one], version=13)
    assert m.score[np.argsort(m.row)].tolist() == one.score.tolist()  # to the last bit
    # a recall unknown (a cover stored without it): every set weighs 1, as in version 12
    unknown = [set_suspects(STRONG, 0.6), set_suspects(WEAK, None)]
    assert set_weights(unknown, 13).tolist() == [1.0, 1.0]
    assert merge_sets(unknown, version=13).score.tolist() == (
        merge_sets(unknown, version=12).score.tolist()
    )
    assert set_weights([set_suspects(STRONG, 0.6), set_suspects(WEAK, 0.3)], 12).tolist() == [
        1.0,
        1.0,
    ]


def test_v13_rows_carry_the_weighed_score_and_each_sets_own_support() -> None:
    strong = scored_suspects([("wrong_class", 1, 3, 7, 0.4)], confidence=0.9)
    weak = scored_suspects(
        [("wrong_class", 1, 3, 5, 0.7), ("wrong_class", 1, 4, 6, 0.6)], confidence=0.9
    )
    boxes_s = {7: np.array([0.0, 0, 10, 10])}
    boxes_w = {5: np.array([1.0, 0, 10, 10]), 6: np.array([20.0, 0, 10, 10])}
    no_tp = {k: np.zeros(0, np.int64) for k in ("prediction_id", "image_id", "annotation_id")}
    no_tp["outcome"] = np.zeros(0, np.int8)
    cover_s = result_rows.set_cover(no_tp, np.zeros(0), np.zeros((0, 4)), 0.6)
    cover_w = result_rows.set_cover(no_tp, np.zeros(0), np.zeros((0, 4)), 0.3)
    assert cover_s.recall == 0.6
    rows = result_rows.several_sets(
        [(1, strong, boxes_s, cover_s), (2, weak, boxes_w, cover_w)], version=13
    )
    r = rows.rows
    by_label = {int(a): i for i, a in enumerate(r[:, result_rows.RCOL["annotation_id"]])}
    # label 3: the strong set's row (prediction 7) and score; label 4: the weak set's, weighed
    assert r[by_label[3], result_rows.RCOL["prediction_id"]] == 7
    assert r[by_label[3], result_rows.RCOL["score"]] == 0.4
    assert r[by_label[4], result_rows.RCOL["score"]] == 0.3
    # the support lists each set with its own score, as its own analysis found it
    sup = rows.support
    on3 = sup.row == by_label[3]
    own = sorted(zip(sup.set_id[on3].tolist(), sup.score[on3].tolist(), strict=True))
    assert own == [(1, 0.4), (2, 0.7)]
    assert sup.score[sup.row == by_label[4]].tolist() == [0.6]
