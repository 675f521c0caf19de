"""The suspect finder and scorer on small synthetic images: one case per kind, and negatives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelfix.core.errors import (
    KIND_CODE,
    KINDS,
    SUSPECT_COL,
    SUSPECT_COLUMNS,
    AnalysisParams,
    batch_suspects,
    suspect_key,
)
from labelfix.core.matching import ImageLabels, ImageMatches, ImagePredictions, match_image
from labelfix.core.suspect_scores import (
    OWN_WEIGHT_INACCURATE,
    OWN_WEIGHT_WRONG_CLASS,
    UNOPPOSED_PRECISION,
    UNOPPOSED_PRECISION_INACCURATE,
    score_suspects,
)

from helpers import image_labels as labels
from helpers import image_predictions as preds

PARAMS = AnalysisParams()
V1 = AnalysisParams(score_version=1)  # the formulas of analyses stored before score version 2
V2 = AnalysisParams(score_version=2)  # ... and before score version 3
V3 = AnalysisParams(score_version=3)  # ... and before score version 4
U, W_WRONG, W_INACC = UNOPPOSED_PRECISION, OWN_WEIGHT_WRONG_CLASS, OWN_WEIGHT_INACCURATE
U_INACC = UNOPPOSED_PRECISION_INACCURATE  # inaccurate_label's share since score version 3
COL = SUSPECT_COL


def image_suspects(
    lab: ImageLabels, pr: ImagePredictions, m: ImageMatches, image_id: int, params: AnalysisParams
) -> np.ndarray:
    """The production rules (batch_suspects) on one image."""
    return batch_suspects([(pr, lab)], [m], [image_id], params)


def suspects(lab: ImageLabels, pr: ImagePredictions, params: AnalysisParams = PARAMS) -> list[dict]:
    """The scored suspects of one image as dicts (kind name, ids, score)."""
    raw = image_suspects(lab, pr, match_image(pr, lab), 1, params)
    assert raw.shape[1] == len(SUSPECT_COLUMNS)
    scores = score_suspects(raw, params)
    out = []
    for r, s in zip(raw, scores, strict=True):
        d = {name: r[i] for name, i in COL.items()}
        d["kind"] = KINDS[int(r[0])]
        d["score"] = float(s)
        out.append(d)
    return out


def of_kind(found: list[dict], kind: str) -> list[dict]:
    """The suspects of one kind."""
    return [s for s in found if s["kind"] == kind]


def test_prediction_with_no_label_is_missing_label() -> None:
    found = suspects(labels((1, 1, 0, 0, 40, 40)), preds((7, 2, 0.8, 100, 100, 100, 100)))
    missing = of_kind(found, "missing_label")
    assert len(missing) == 1
    s = missing[0]
    assert s["prediction_id"] == 7 and s["predicted_category_id"] == 2 and s["annotation_id"] == -1
    assert 0.0 < s["score"] <= 1.0 and s["score"] == 0.8  # 100 px: full size factor


def test_confident_other_class_prediction_is_wrong_class() -> None:
    found = suspects(labels((1, 1, 10, 10, 60, 60)), preds((7, 2, 0.9, 12, 10, 60, 60)))
    (s,) = of_kind(found, "wrong_class")
    assert s["annotation_id"] == 1 and s["prediction_id"] == 7
    assert s["category_id"] == 1 and s["predicted_category_id"] == 2
    assert 0.0 < s["score"] <= 1.0
    assert not of_kind(found, "missing_label")  # a prediction on a label is not a missing one


def test_kinds_on_a_label_take_weaker_predictions_than_missing_labels() -> None:
    # probability 0.02: below min_score (0.05), above min_score x on_label_score_ratio (0.005)
    lab = labels((1, 1, 10, 10, 60, 60))
    (s,) = suspects(lab, preds((7, 2, 0.02, 12, 10, 60, 60)))
    assert s["kind"] == "wrong_class" and s["prediction_id"] == 7
    assert np.isclose(s["score"], U * (1 - W_WRONG + W_WRONG * 0.02))  # nothing of class 1 on it
    partial = preds((7, 1, 0.02, 40, 10, 60, 60))  # same class, IoU 1/3
    (p,) = of_kind(suspects(lab, partial), "inaccurate_label")
    assert p["prediction_id"] == 7
    (loose,) = suspects(labels((1, 1, 0, 0, 110, 100)), preds((7, 1, 0.02, 0, 0, 200, 100)))
    assert loose["kind"] == "inaccurate_label" and np.isclose(loose["iou"], 0.55)
    # a missing label still needs min_score
    assert not of_kind(suspects(lab, preds((8, 2, 0.02, 200, 200, 60, 60))), "missing_label")
    # below the kinds' own cut nothing; analyses stored before it keep one cut for every kind
    assert suspects(lab, preds((7, 2, 0.004, 12, 10, 60, 60))) == []
    old = AnalysisParams.from_json(
        {k: v for k, v in PARAMS.to_json().items() if k != "on_label_score_ratio"}
    )
    assert old.on_label_score_ratio == 1.0
    assert suspects(lab, preds((7, 2, 0.02, 12, 10, 60, 60)), old) == []


def test_wrong_class_score_falls_with_same_class_support() -> None:
    lab = labels((1, 1, 10, 10, 60, 60))
    alone = suspects(lab, preds((7, 2, 0.9, 12, 10, 60, 60)))
    # a weaker class-1 prediction partly on the label: the detector half agrees with the label
    backed = suspects(lab, preds((7, 2, 0.9, 12, 10, 60, 60), (8, 1, 0.5, 30, 10, 60, 60)))
    (a,) = of_kind(alone, "wrong_class")
    (b,) = of_kind(backed, "wrong_class")
    assert b["score"] < a["score"]
    # nothing of the label's class on it: the score is (almost) the kind's whole precision
    assert np.isclose(a["score"], U * (1 - W_WRONG + W_WRONG * 0.9))
    # supported at probability 0.5: the score falls by its square root (version 3)
    assert np.isclose(b["score"], a["score"] * (1 - np.sqrt(0.5)))
    (b2,) = of_kind(
        suspects(lab, preds((7, 2, 0.9, 12, 10, 60, 60), (8, 1, 0.5, 30, 10, 60, 60)), V2),
        "wrong_class",
    )
    assert np.isclose(b2["score"], a["score"] * (1 - 0.5))  # version 2: by the probability
    # version 1: the margin by which the detector prefers the other class
    (a1,) = of_kind(suspects(lab, preds((7, 2, 0.9, 12, 10, 60, 60)), V1), "wrong_class")
    assert np.isclose(a1["score"], 0.9)
    (b1,) = of_kind(
        suspects(lab, preds((7, 2, 0.9, 12, 10, 60, 60), (8, 1, 0.5, 30, 10, 60, 60)), V1),
        "wrong_class",
    )
    assert np.isclose(a1["score"] - b1["score"], 0.5)
    # an equally confident class-1 prediction on the label: no wrong_class at all
    tied = suspects(lab, preds((7, 2, 0.9, 12, 10, 60, 60), (8, 1, 0.9, 10, 10, 60, 60)))
    assert not of_kind(tied, "wrong_class")


def test_partial_same_class_overlap_is_inaccurate_label() -> None:
    # label 100 x 100, prediction shifted by 50 px: IoU = 50*100 / (2*10000 - 5000) = 1/3
    found = suspects(labels((1, 1, 0, 0, 100, 100)), preds((7, 1, 0.7, 50, 0, 100, 100)))
    (s,) = of_kind(found, "inaccurate_label")
    assert s["annotation_id"] == 1 and s["prediction_id"] == 7
    assert np.isclose(s["iou"], 1 / 3)
    assert np.isclose(s["score"], U_INACC * (1 - W_INACC + W_INACC * 0.7))  # nothing explains it
    assert not of_kind(found, "missing_label")  # same-class overlap 0.33 >= missing_same_iou


def test_inaccurate_label_explained_by_a_confident_match_is_not_raised() -> None:
    lab = labels((1, 1, 0, 0, 100, 100))
    found = suspects(lab, preds((7, 1, 0.7, 50, 0, 100, 100), (8, 1, 0.9, 0, 0, 100, 100)))
    assert not of_kind(found, "inaccurate_label")


def test_partial_overlap_score_falls_with_the_square_root_of_what_explains_the_label() -> None:
    lab = labels((1, 1, 0, 0, 100, 100))
    # a partial overlap at 0.7 and a less confident exact match at 0.4 (it explains the label)
    both = preds((7, 1, 0.7, 50, 0, 100, 100), (8, 1, 0.4, 0, 0, 100, 100))
    (s,) = of_kind(suspects(lab, both), "inaccurate_label")
    assert s["prediction_id"] == 7
    own = 1 - W_INACC + W_INACC * 0.7
    assert np.isclose(s["score"], U_INACC * own * (1 - np.sqrt(0.4)))
    (s2,) = of_kind(suspects(lab, both, V2), "inaccurate_label")
    assert np.isclose(s2["score"], U * own * (1 - 0.4))  # version 2: by the probability


def test_label_matched_but_loose_is_inaccurate_label() -> None:
    # label 110 x 100 inside a 200 x 100 prediction at the same corner: a tp at IoU 0.55
    found = suspects(labels((1, 1, 0, 0, 110, 100)), preds((7, 1, 0.8, 0, 0, 200, 100)))
    (s,) = found
    assert s["kind"] == "inaccurate_label"
    assert s["annotation_id"] == 1 and s["prediction_id"] == 7
    assert np.isclose(s["iou"], 0.55) and s["confidence"] == 0.8
    assert np.isclose(s["score"], U_INACC * (1 - W_INACC + W_INACC * 0.8))  # 105 px: full size
    (v2,) = suspects(labels((1, 1, 0, 0, 110, 100)), preds((7, 1, 0.8, 0, 0, 200, 100)), V2)
    assert np.isclose(v2["score"], U * (1 - W_INACC + W_INACC * 0.8))
    (v1,) = suspects(labels((1, 1, 0, 0, 110, 100)), preds((7, 1, 0.8, 0, 0, 200, 100)), V1)
    assert np.isclose(v1["score"], 0.75 * 0.8)  # version 1: weaker evidence than a partial one
    key = suspect_key("inaccurate_label", int(s["annotation_id"]), int(s["prediction_id"]))
    assert key == "inaccurate_label:1:7"  # the same key (and fix) as a partial-overlap suspect


def test_matched_but_loose_needs_a_loose_confident_match_on_a_regular_label() -> None:
    loose = preds((7, 1, 0.8, 0, 0, 200, 100))
    assert suspects(labels((1, 1, 0, 0, 140, 100)), loose) == []  # IoU 0.7 >= loose_iou
    assert suspects(labels((1, 1, 0, 0, 110, 100)), preds((7, 1, 0.004, 0, 0, 200, 100))) == []
    crowd = suspects(labels((1, 1, 0, 0, 110, 100), crowd=(1,)), loose)
    assert not of_kind(crowd, "inaccurate_label")  # a prediction on a crowd region is ignored
    for off in (0.5, 0.3):  # loose_iou <= iou_threshold: the rule is off
        assert suspects(labels((1, 1, 0, 0, 110, 100)), loose, AnalysisParams(loose_iou=off)) == []


def test_matched_but_loose_scores_as_an_unexplained_partial_overlap_and_one_per_label() -> None:
    lab = labels((1, 1, 0, 0, 100, 100))
    partial = preds((7, 1, 0.7, 50, 0, 100, 100))  # IoU 1/3, unmatched
    (p,) = of_kind(suspects(lab, partial), "inaccurate_label")
    (m,) = suspects(lab, preds((8, 1, 0.7, 0, 0, 100, 180)))  # IoU 0.56, matched
    assert m["iou"] >= PARAMS.iou_threshold > p["iou"]
    assert np.isclose(m["score"], p["score"])  # version 2: as strong (measured, not assumed)
    (p1,) = of_kind(suspects(lab, partial, V1), "inaccurate_label")
    (m1,) = suspects(lab, preds((8, 1, 0.7, 0, 0, 100, 180)), V1)
    assert m1["score"] < p1["score"]  # version 1: weaker
    # both at once: one suspect on the label, the partial overlap's (the more confident one)
    both = suspects(lab, preds((7, 1, 0.9, 50, 0, 100, 100), (8, 1, 0.6, 0, 0, 100, 180)))
    (s,) = of_kind(both, "inaccurate_label")
    assert s["prediction_id"] == 7 and np.isclose(s["iou"], 1 / 3)
    # a small label's loose match is weaker evidence (noisy IoU) than a large one's
    (small,) = suspects(labels((1, 1, 0, 0, 24, 24)), preds((8, 1, 0.7, 0, 0, 24, 43)))
    assert np.isclose(small["iou"], 24 / 43) and np.isclose(small["score"], m["score"] * 0.5)


def test_params_stored_before_loose_iou_read_back_with_the_rule_off() -> None:
    assert AnalysisParams.from_json(AnalysisParams().to_json()) == AnalysisParams()
    old = {
        k: v for k, v in AnalysisParams(iou_threshold=0.45).to_json().items() if k != "loose_iou"
    }
    assert AnalysisParams.from_json(old).loose_iou == 0.45


def test_params_stored_before_score_version_read_back_with_version_1() -> None:
    assert AnalysisParams().score_version == 14
    assert AnalysisParams.from_json(V2.to_json()).score_version == 2
    assert AnalysisParams.from_json(V3.to_json()).score_version == 3
    old = {k: v for k, v in AnalysisParams().to_json().items() if k != "score_version"}
    assert AnalysisParams.from_json(old).score_version == 1


def test_two_same_class_labels_on_one_object_are_a_duplicate() -> None:
    # 100 x 100 and 100 x 95 at the same corner: IoU 0.95
    found = suspects(labels((1, 3, 0, 0, 100, 100), (2, 3, 0, 0, 100, 95)), preds())
    (s,) = of_kind(found, "duplicate_label")
    assert {int(s["annotation_id"]), int(s["other_annotation_id"])} == {1, 2}
    assert np.isclose(s["score"], 0.95)
    key = suspect_key(
        "duplicate_label", int(s["annotation_id"]), None, int(s["other_annotation_id"])
    )
    assert key == "duplicate_label:2:1"


def test_label_with_no_prediction_is_spurious_and_weaker_than_missing() -> None:
    found = suspects(labels((1, 1, 0, 0, 100, 100)), preds((7, 2, 0.9, 300, 300, 100, 100)))
    (spurious,) = of_kind(found, "spurious_label")
    (missing,) = of_kind(found, "missing_label")
    assert spurious["annotation_id"] == 1
    assert 0.0 < spurious["score"] <= 0.5 < missing["score"]


def test_well_matched_label_raises_nothing() -> None:
    found = suspects(labels((1, 1, 10, 10, 50, 50)), preds((7, 1, 0.95, 11, 10, 50, 50)))
    assert found == []


def test_low_confidence_predictions_raise_nothing() -> None:
    found = suspects(
        labels((1, 1, 10, 10, 50, 50)),
        preds((7, 1, 0.95, 11, 10, 50, 50), (8, 2, 0.01, 200, 200, 50, 50)),
    )
    assert found == []


def test_prediction_in_a_crowd_region_is_not_missing() -> None:
    lab = labels((1, 1, 0, 0, 400, 300), crowd=(1,))
    found = suspects(lab, preds((7, 1, 0.9, 100, 100, 40, 80), (8, 1, 0.8, 200, 100, 40, 80)))
    assert not of_kind(found, "missing_label")
    assert not of_kind(found, "spurious_label")  # crowd regions are never spurious


def test_other_class_prediction_in_a_crowd_region_is_missing_from_score_version_7() -> None:
    # a crowd region of books over a shelf and a desk; an unlabelled person sits inside it
    lab = labels((1, 84, 0, 0, 400, 300), crowd=(1,))
    pr = preds((7, 1, 0.9, 100, 100, 100, 150), (8, 84, 0.8, 200, 100, 40, 80))
    missing = of_kind(suspects(lab, pr), "missing_label")
    assert [int(s["prediction_id"]) for s in missing] == [7]  # the book stays explained
    assert missing[0]["score"] == 0.9 and missing[0]["iou"] == 0.0
    v6 = AnalysisParams(score_version=6)  # before: any crowd region explained any class
    assert not of_kind(suspects(lab, pr, v6), "missing_label")


def test_unlabelled_neighbour_in_a_crowd_of_labels_is_missing() -> None:
    # two labelled people and an unlabelled one between them, overlapping each a little
    lab = labels((1, 1, 0, 0, 40, 100), (2, 1, 60, 0, 40, 100))
    found = suspects(
        lab,
        preds((5, 1, 0.9, 0, 0, 40, 100), (6, 1, 0.9, 60, 0, 40, 100), (7, 1, 0.8, 30, 0, 40, 100)),
    )
    missing = of_kind(found, "missing_label")
    assert [int(s["prediction_id"]) for s in missing] == [7]
    assert 0.0 < missing[0]["iou"] < PARAMS.missing_same_iou


def test_missing_label_scores_order_by_confidence_and_size() -> None:
    found = suspects(
        labels(),
        preds((1, 1, 0.9, 0, 0, 64, 64), (2, 1, 0.6, 200, 0, 64, 64), (3, 1, 0.9, 400, 0, 8, 8)),
    )
    score = {int(s["prediction_id"]): s["score"] for s in of_kind(found, "missing_label")}
    assert score[1] > score[2]  # more confident first
    assert score[1] > score[3]  # an 8 px detection is weaker evidence than a 64 px one
    assert np.isclose(score[3], 0.9 * np.sqrt(8 / 96))  # full from 96 px (version 3)
    assert np.isclose(score[1], 0.9 * np.sqrt(64 / 96))
    found = suspects(labels(), preds((3, 1, 0.9, 400, 0, 8, 8)), V2)
    assert np.isclose(found[0]["score"], 0.9 * 0.5)  # versions 1 and 2: full from 32 px


def test_missing_label_nms_keeps_the_most_confident() -> None:
    found = suspects(labels(), preds((1, 1, 0.6, 0, 0, 50, 50), (2, 2, 0.9, 2, 0, 50, 50)))
    assert [int(s["prediction_id"]) for s in of_kind(found, "missing_label")] == [2]


def test_empty_inputs() -> None:
    assert image_suspects(labels(), preds(), match_image(preds(), labels()), 1, PARAMS).shape == (
        0,
        len(SUSPECT_COLUMNS),
    )
    assert score_suspects(np.zeros((0, len(SUSPECT_COLUMNS))), PARAMS).shape == (0,)


def test_kind_codes_are_stable() -> None:
    assert KINDS[:5] == (
        "missing_label",
        "wrong_class",
        "inaccurate_label",
        "duplicate_label",
        "spurious_label",
    )
    assert all(KINDS[KIND_CODE[k]] == k for k in KINDS)
    assert SUSPECT_COLUMNS[:10] == (
        "kind", "image_id", "annotation_id", "other_annotation_id", "prediction_id",
        "category_id", "predicted_category_id", "iou", "confidence", "evidence",
    )  # fmt: skip


box = st.tuples(st.floats(0, 200), st.floats(0, 200), st.floats(1, 120), st.floats(1, 120))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 3), box, st.booleans()), max_size=6),
    st.lists(st.tuples(st.integers(1, 3), st.floats(0, 1), box), max_size=8),
)
def test_scores_always_in_unit_interval(label_rows: list, pred_rows: list) -> None:
    lab = labels(
        *[(i + 1, c, *b) for i, (c, b, _) in enumerate(label_rows)],
        crowd=tuple(i + 1 for i, (_, _, crowd) in enumerate(label_rows) if crowd),
    )
    pr = preds(*[(i + 1, c, s, *b) for i, (c, s, b) in enumerate(pred_rows)])
    found = suspects(lab, pr)
    assert all(0.0 <= s["score"] <= 1.0 for s in found)
    assert all(s["kind"] != "missing_label" or s["confidence"] >= PARAMS.min_score for s in found)
    keys = [
        suspect_key(
            s["kind"],
            int(s["annotation_id"]),
            int(s["prediction_id"]),
            int(s["other_annotation_id"]),
        )
        for s in found
    ]
    assert len(keys) == len(set(keys))
