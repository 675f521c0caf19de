"""A missing_label whose prediction encloses, or lies inside, a same-class label is that
labelled object seen at another extent (core.containment, score version 5)."""

from __future__ import annotations

import numpy as np

from labelfix.core import containment, scoring
from labelfix.core.errors import (
    KIND_CODE,
    SUSPECT_COL,
    AnalysisParams,
    chunk_facts,
    chunk_suspects,
)
from labelfix.core.matching import match_image
from labelfix.core.suspect_scores import score_suspects

from helpers import image_labels, image_predictions

COL = SUSPECT_COL


def _facts(pr, labs, params=None):  # noqa: ANN001, ANN202
    params = params or AnalysisParams()
    return chunk_facts([(pr, labs)], [match_image(pr, labs)], [5], params), params


def test_containment_is_intersection_over_the_smaller_box_with_a_regular_same_class_label() -> None:
    labs = image_labels(
        (1, 1, 0, 0, 20, 40),  # a small person
        (2, 2, 200, 0, 100, 100),  # a dog
        (3, 1, 400, 0, 100, 100),  # a crowd of people
        crowd=(3,),
    )
    pr = image_predictions(
        (7, 1, 0.9, 0, 0, 100, 100),  # encloses label 1 whole (IoU 0.08)
        (8, 1, 0.9, 250, 0, 100, 100),  # half on the dog: another class
        (9, 1, 0.9, 420, 20, 40, 40),  # inside the crowd region
        (10, 1, 0.9, 10, 0, 100, 100),  # half of label 1 inside it
        (11, 1, 0.9, 600, 0, 0, 50),  # an empty box
    )
    facts, _ = _facts(pr, labs)
    got = containment.same_class_containment(facts, np.arange(5))
    assert np.allclose(got, [1.0, 0.0, 0.0, 0.5, 0.0])
    assert containment.same_class_containment(facts, np.zeros(0, np.int64)).shape == (0,)


def test_a_contained_missing_label_scores_half_from_score_version_5() -> None:
    labs = image_labels((1, 1, 0, 0, 20, 40), (2, 1, 500, 500, 50, 50))
    pr = image_predictions(
        (7, 1, 0.9, 0, 0, 100, 100),  # a person box around the labelled person
        (8, 1, 0.8, 200, 200, 100, 100),  # a person nobody labelled
        (9, 1, 0.9, 500, 500, 50, 50),  # matches label 2
    )
    facts, params = _facts(pr, labs)
    raw = chunk_suspects(facts, None, params)
    missing = raw[:, COL["kind"]] == KIND_CODE["missing_label"]
    assert sorted(raw[missing, COL["prediction_id"]].tolist()) == [7, 8]
    contained = containment.row_containment(facts, raw)
    assert np.isnan(contained[~missing]).all()
    by_pred = dict(
        zip(raw[missing, COL["prediction_id"]].tolist(), contained[missing].tolist(), strict=True)
    )
    assert np.isclose(by_pred[7], 1.0) and by_pred[8] == 0.0
    fit = scoring.DetectorFit(None, {1: 2}, np.zeros(0, np.int64), np.zeros(0), {}, None)
    plain = score_suspects(raw, params)
    got = scoring.score(raw, params, fit, None, contained)
    enclosing = raw[:, COL["prediction_id"]] == 7
    assert np.isclose(got[enclosing][0], plain[enclosing][0] * containment.CONTAINED_WEIGHT)
    assert np.array_equal(got[~enclosing], plain[~enclosing])
    # analyses scored before version 5 keep their scores
    v4 = AnalysisParams(score_version=4)
    assert np.array_equal(scoring.score(raw, v4, fit, None, contained), score_suspects(raw, v4))
