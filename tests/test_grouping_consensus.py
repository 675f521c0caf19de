"""One suspect per object (core.grouping), several prediction sets (core.consensus) and the
default cut (core.review_cut)."""

from __future__ import annotations

import numpy as np

from labelfix.core import result_rows
from labelfix.core.consensus import Cover, SetSuspects, combined_score, merge_sets
from labelfix.core.errors import KIND_CODE
from labelfix.core.grouping import group_suspects
from labelfix.core.review_cut import default_cut, expected_errors

from helpers import scored_suspects

K = KIND_CODE


def test_rows_of_one_prediction_and_one_label_form_groups() -> None:
    kind = np.array(
        [
            K["missing_label"],  # 0: prediction 7 as a new object
            K["inaccurate_label"],  # 1: prediction 7 says label 1 is off
            K["wrong_class"],  # 2: prediction 7 sits on label 2 (other class)
            K["wrong_class"],  # 3: label 5, prediction 9
            K["inaccurate_label"],  # 4: label 5 again, prediction 10
            K["spurious_label"],  # 5: label 6 alone
            K["duplicate_label"],  # 6: labels 8 / 6
            K["missing_label"],  # 7: prediction 11 alone
        ]
    )
    ann = np.array([-1, 1, 2, 5, 5, 6, 8, -1])
    other = np.array([-1, -1, -1, -1, -1, -1, 6, -1])
    pred = np.array([7, 7, 7, 9, 10, -1, -1, 11])
    score = np.array([0.3, 0.6, 0.2, 0.4, 0.5, 0.1, 0.95, 0.55])
    g = group_suspects(kind, ann, other, pred, score)
    groups = [set(np.flatnonzero(g.group == k).tolist()) for k in range(g.group.max() + 1)]
    # numbered by best score: duplicate+spurious (0.95), prediction 7 (0.6), 11 (0.55), label 5
    assert groups == [{5, 6}, {0, 1, 2}, {7}, {3, 4}]
    assert g.rank.tolist() == [1, 0, 2, 1, 0, 1, 0, 0]
    assert np.allclose(g.group_score, [0.6, 0.6, 0.6, 0.5, 0.5, 0.95, 0.95, 0.55])
    assert g.primary().tolist() == [1, 4, 6, 7]


def test_groups_chain_through_shared_ids_and_ignore_nan() -> None:
    kind = np.array([K["wrong_class"], K["inaccurate_label"], K["wrong_class"]])
    ann = np.array([1.0, 2.0, 2.0])
    pred = np.array([4.0, 4.0, 5.0])
    g = group_suspects(kind, ann, np.full(3, np.nan), pred, np.array([0.2, 0.2, 0.9]))
    assert len(set(g.group.tolist())) == 1  # 1 -4- 2 -5: one object's alternatives
    # equal scores: wrong_class (a label's own class) before inaccurate_label
    assert g.rank.tolist() == [1, 2, 0]


def _set(rows: list[tuple], cover: Cover | None = None) -> SetSuspects:
    """Rows of (kind, image, annotation, other, box, score, probability); what the set's true
    positives explain."""
    return SetSuspects(
        kind=np.array([K[r[0]] for r in rows]),
        image_id=np.array([r[1] for r in rows]),
        annotation_id=np.array([r[2] for r in rows]),
        other_annotation_id=np.array([r[3] for r in rows]),
        box=np.array([r[4] for r in rows], dtype=float).reshape(-1, 4),
        score=np.array([r[5] for r in rows], dtype=float),
        probability=np.array([r[6] for r in rows], dtype=float),
        cover=cover,
    )


NO_BOX = (np.nan,) * 4


def test_one_set_changes_nothing() -> None:
    a = _set(
        [
            ("wrong_class", 1, 3, -1, (0, 0, 10, 10), 0.4, 0.7),
            ("missing_label", 1, -1, -1, (50, 50, 10, 10), 0.6, 0.6),
            ("duplicate_label", 2, 8, 7, NO_BOX, 0.9, np.nan),
        ]
    )
    m = merge_sets([a], version=10)
    assert sorted(m.row.tolist()) == [0, 1, 2]
    assert np.allclose(m.score[np.argsort(m.row)], a.score)
    assert m.n_sets().tolist() == [1, 1, 1]


def test_support_from_several_sets_scores_higher() -> None:
    a = _set(
        [
            ("wrong_class", 1, 3, -1, (0, 0, 10, 10), 0.4, 0.7),
            ("missing_label", 1, -1, -1, (50, 50, 20, 20), 0.6, 0.6),
            ("duplicate_label", 2, 8, 7, NO_BOX, 0.9, np.nan),
            ("missing_label", 2, -1, -1, (0, 0, 20, 20), 0.5, 0.5),
        ]
    )
    b = _set(
        [
            ("wrong_class", 1, 3, -1, (1, 0, 10, 10), 0.5, 0.8),  # same label: support
            ("missing_label", 1, -1, -1, (52, 51, 20, 20), 0.3, 0.3),  # same object
            ("duplicate_label", 2, 8, 7, NO_BOX, 0.9, np.nan),
            ("missing_label", 3, -1, -1, (0, 0, 20, 20), 0.5, 0.5),  # another image
        ]
    )
    m = merge_sets([a, b], version=10)
    assert len(m.row) == 5
    by = {(int(s), int(r)): i for i, (s, r) in enumerate(zip(m.set_index, m.row, strict=True))}
    wrong = by[(1, 0)]  # b's row represents it (best score), a supports it
    assert sorted(m.support_set[wrong].tolist()) == [0, 1]
    assert np.isclose(m.score[wrong], 1 - 0.6 * 0.5)
    missing = by[(0, 1)]
    assert np.isclose(m.score[missing], 1 - 0.4 * 0.7) and m.n_sets()[missing] == 2
    assert np.isclose(m.score[by[(0, 2)]], 0.9)  # a duplicate is no more likely for two sets
    assert m.n_sets()[by[(0, 3)]] == 1 and m.n_sets()[by[(1, 3)]] == 1
    # more support never lowers a score
    assert combined_score(K["wrong_class"], np.array([0.4, 0.0])) == combined_score(
        K["wrong_class"], np.array([0.4])
    )


def _cover(labels: list[int], boxes: dict[int, list[tuple]]) -> Cover:
    return Cover(frozenset(labels), {i: np.array(b, dtype=float) for i, b in boxes.items()})


def test_v12_one_set_changes_nothing_whatever_its_true_positives() -> None:
    rows = [
        ("wrong_class", 1, 3, -1, (0, 0, 10, 10), 0.4, 0.7),
        ("missing_label", 1, -1, -1, (50, 50, 10, 10), 0.6, 0.6),
        ("spurious_label", 2, 4, -1, NO_BOX, 0.3, np.nan),
    ]
    a = _set(rows, _cover([3, 4], {1: [(50, 50, 10, 10)]}))
    m = merge_sets([a], version=12)
    assert m.score[np.argsort(m.row)].tolist() == a.score.tolist()  # to the last bit


def test_v12_suspects_on_a_label_keep_the_best_sets_score_missing_labels_add_up() -> None:
    a = _set(
        [
            ("wrong_class", 1, 3, -1, (0, 0, 10, 10), 0.4, 0.7),
            ("missing_label", 1, -1, -1, (50, 50, 20, 20), 0.6, 0.6),
            ("inaccurate_label", 1, 5, -1, (80, 0, 10, 10), 0.3, 0.5),
        ]
    )
    b = _set(
        [
            ("wrong_class", 1, 3, -1, (1, 0, 10, 10), 0.5, 0.8),
            ("missing_label", 1, -1, -1, (52, 51, 20, 20), 0.3, 0.3),
            ("inaccurate_label", 1, 5, -1, (81, 0, 10, 10), 0.2, 0.5),
        ]
    )
    m = merge_sets([a, b], version=12)
    by = {(int(s), int(r)): i for i, (s, r) in enumerate(zip(m.set_index, m.row, strict=True))}
    # the two sets' scores of a label share its evidence: not counted twice
    assert m.score[by[(1, 0)]] == 0.5 and m.score[by[(0, 2)]] == 0.3
    # two detectors finding one unlabelled object: independent evidence
    assert np.isclose(m.score[by[(0, 1)]], 1 - 0.4 * 0.7)
    assert m.n_sets().tolist() == [2, 2, 2] and m.disagree.tolist() == [0, 0, 0]


def test_v12_a_set_whose_true_positives_explain_the_object_disagrees() -> None:
    a = _set(
        [
            ("wrong_class", 1, 3, -1, (0, 0, 10, 10), 0.6, 0.7),
            ("wrong_class", 1, 4, -1, (20, 0, 10, 10), 0.6, 0.7),
            ("missing_label", 1, -1, -1, (50, 50, 20, 20), 0.4, 0.4),
            ("missing_label", 2, -1, -1, (50, 50, 20, 20), 0.4, 0.4),
            ("spurious_label", 1, 6, -1, NO_BOX, 0.3, np.nan),
            ("duplicate_label", 1, 3, 9, NO_BOX, 0.9, np.nan),
        ]
    )
    # b found none of these; its true positives match labels 3, 6 and 9 and one box on image 1
    # that overlaps a's missing label there (IoU 0.67)
    b = _set([], _cover([3, 6, 9], {1: [(54, 50, 20, 20)], 2: [(0, 0, 20, 20)]}))
    m = merge_sets([a, b], version=12)
    score = m.score[np.argsort(m.row)]
    assert score.tolist() == [0.3, 0.6, 0.2, 0.4, 0.15, 0.9]
    assert m.disagree[np.argsort(m.row)].tolist() == [1, 0, 1, 0, 1, 0]
    # before version 12 no set disagrees; a set that says nothing of its true positives neither
    assert np.allclose(merge_sets([a, b], version=10).score[np.argsort(m.row)], a.score)
    silent = merge_sets([a, _set([])], version=12)
    assert silent.score[np.argsort(silent.row)].tolist() == a.score.tolist()


def test_v12_rows_of_several_sets_carry_the_disagreement() -> None:
    a = scored_suspects([("wrong_class", 1, 3, 7, 0.6), ("wrong_class", 1, 4, 8, 0.5)])
    boxes_a = {7: np.array([0.0, 0, 10, 10]), 8: np.array([20.0, 0, 10, 10])}
    b = scored_suspects([])
    # b's matches: prediction 2 a true positive on label 3, prediction 5 a false positive
    matches = {
        "prediction_id": np.array([2, 5]),
        "image_id": np.array([1, 1]),
        "outcome": np.array([result_rows.TP, result_rows.TP + 1]),
        "annotation_id": np.array([3, -1]),
    }
    cover = result_rows.set_cover(
        matches, np.array([5, 2]), np.array([[40.0, 0, 10, 10], [0.0, 0, 10, 10]])
    )
    assert cover.labels == {3} and cover.boxes[1].tolist() == [[0.0, 0, 10, 10]]
    rows = result_rows.several_sets([(1, a, boxes_a, None), (2, b, {}, cover)], version=12)
    got = sorted(rows.rows[:, result_rows.RCOL["score"]].tolist())
    assert got == [0.3, 0.5]  # label 3 is explained by b's true positive; label 4 is not
    old = result_rows.several_sets([(1, a, boxes_a), (2, b, {})], version=10)
    assert sorted(old.rows[:, result_rows.RCOL["score"]].tolist()) == [0.5, 0.6]


def test_v12_a_set_without_true_positives_explains_nothing() -> None:
    # a re-analysis of one image whose predictions all miss: no true positive at all
    matches = {
        "prediction_id": np.array([5]),
        "image_id": np.array([1]),
        "outcome": np.array([result_rows.TP - 1]),
        "annotation_id": np.array([-1]),
    }
    cover = result_rows.set_cover(matches, np.array([5]), np.array([[40.0, 0, 10, 10]]))
    assert cover.labels == frozenset() and cover.boxes == {}
    empty = {k: v[:0] for k, v in matches.items()}
    assert result_rows.set_cover(empty, np.zeros(0), np.zeros((0, 4))).boxes == {}


def test_default_cut_follows_the_score_distribution() -> None:
    many = np.r_[np.full(1000, 0.8), np.linspace(0.0, 0.49, 500)]
    assert default_cut(many) == 0.5  # plenty likely errors: show those
    few = np.r_[np.full(10, 0.9), np.linspace(0.3, 0.01, 1000)]
    cut = default_cut(few)
    assert 0.2 <= cut < 0.5 and np.sum(few >= cut) <= 360  # an hour's worth
    weak = np.linspace(0.19, 0.0, 2000)
    assert default_cut(weak) == 0.2  # never below the floor
    assert default_cut(np.zeros(0)) == 0.5
    assert np.isclose(expected_errors(np.array([0.9, 0.6, 0.1]), 0.5), 1.5)
