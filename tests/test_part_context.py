"""An inaccurate_label suspect resting on a box inside a labelled object of its class (a part)
weighs its prediction's probability by how often the detector's boxes on parts are right
(core.part_context, core.class_context; score version 7)."""

from __future__ import annotations

import numpy as np

from labelfix.core import class_context, part_context, scoring
from labelfix.core.errors import (
    KIND_CODE,
    SUSPECT_COL,
    AnalysisParams,
    chunk_facts,
    chunk_suspects,
)
from labelfix.core.matching import match_image
from labelfix.core.suspect_scores import OWN_WEIGHT_INACCURATE

from helpers import image_labels, image_predictions

COL = SUSPECT_COL


def _chunk():  # noqa: ANN202
    """Toilets (class 1) and a person (class 2), a crowd region of people; boxes on parts."""
    labels = image_labels(
        (1, 1, 0, 0, 100, 100),
        (2, 2, 200, 0, 100, 100),
        (3, 2, 400, 0, 100, 100),  # a crowd region
        (4, 1, 600, 0, 100, 100),
        (5, 1, 800, 0, 100, 100),
        crowd=(3,),
    )
    preds = image_predictions(
        (10, 1, 0.9, 0, 0, 100, 100),  # tp on toilet 1
        (11, 1, 0.6, 10, 10, 40, 40),  # the seat of toilet 1 (IoU 0.16): on a part
        (12, 1, 0.7, 5, 5, 90, 90),  # inside toilet 1 but IoU 0.81: not a part
        (13, 2, 0.5, 210, 10, 40, 40),  # a part of person 2
        (14, 2, 0.5, 410, 10, 40, 40),  # inside the crowd region: not counted
        (15, 1, 0.5, 210, 10, 40, 40),  # inside the person: another class
        (16, 1, 0.8, 650, 0, 100, 100),  # half on toilet 4: partial, not inside
        (17, 1, 0.4, 810, 10, 40, 40),  # the seat of toilet 5, nothing else on it
    )
    items = [(preds, labels)]
    matched = [match_image(p, lab) for p, lab in items]
    params = AnalysisParams()
    return items, matched, chunk_facts(items, matched, [1], params), params


def test_on_a_part_is_inside_a_regular_same_class_label_it_overlaps_partly() -> None:
    items, matched, facts, params = _chunk()
    on_part = part_context.facts_on_part(facts, params)
    got = dict(zip(facts.p_id.tolist(), on_part.tolist(), strict=True))
    assert got == {10: 0, 11: 1, 12: 0, 13: 1, 14: 0, 15: 0, 16: 0, 17: 1}
    from_items = part_context.items_on_part(items, matched, params)
    assert np.array_equal(from_items, on_part)


def test_the_totals_count_the_parts_sides_after_the_context_ones() -> None:
    items, matched, facts, params = _chunk()
    got = class_context.items_totals(items, matched, params)
    assert np.array_equal(got, class_context.facts_totals(facts, facts.p_score, params))
    # counted (tp or fp; the crowd one is ignored): not on a part 10, 12, 15, 16 (tp 10),
    # on a part 11, 13, 17
    assert np.allclose(got[6:], [4, 1, 2.9, 3, 0, 1.5])


def test_version_7_weighs_an_inaccurate_labels_prediction_by_its_part_odds() -> None:
    _, _, facts, params = _chunk()
    raw = chunk_suspects(facts, None, params)
    raw[:, COL["probability"]] = raw[:, COL["confidence"]]
    context = class_context.row_context(facts, raw, params)
    inaccurate = raw[:, COL["kind"]] == KIND_CODE["inaccurate_label"]
    by_label = dict(
        zip(
            raw[inaccurate, COL["annotation_id"]].tolist(),
            context[inaccurate].tolist(),
            strict=True,
        )
    )
    # 13 on the person's part, 16 half on toilet 4, 17 on the seat of toilet 5
    assert by_label == {2: 1.0, 4: 0.0, 5: 1.0}
    # on parts 0.5 of expected, elsewhere 1.2 (the same layout as the context's sides)
    part = (100.0, 60.0, 50.0, 100.0, 10.0, 20.0)
    totals = (100.0, 10.0, 20.0, 100.0, 60.0, 50.0, *part)
    fit = scoring.DetectorFit(
        None, {1: 3, 2: 1}, np.zeros(0, np.int64), np.zeros(0), {}, None, totals
    )
    v6 = scoring.score(raw, AnalysisParams(score_version=6), fit, None, None, context)
    v7 = scoring.score(raw, params, fit, None, None, context)
    on_part = inaccurate & (context == 1)
    off_part = inaccurate & (context == 0)
    assert (v7[on_part] < v6[on_part]).all() and (v7[off_part] > v6[off_part]).all()
    prior = class_context.CONTEXT_PRIOR
    ratio = (10 + prior) / (20 + prior)  # the ratio of all is 70 / 70
    w = OWN_WEIGHT_INACCURATE
    p = raw[on_part, COL["probability"]]
    own = (1 - w + w * np.minimum(1.0, p * ratio)) / (1 - w + w * p)
    assert np.allclose(v7[on_part], v6[on_part] * own)
    # totals stored before version 7 have no parts' sides: the inaccurate rows keep their score
    short = scoring.DetectorFit(
        None, {1: 3, 2: 1}, np.zeros(0, np.int64), np.zeros(0), {}, None, totals[:6]
    )
    old = scoring.score(raw, params, short, None, None, context)
    assert np.array_equal(old[inaccurate], v6[inaccurate])


def test_items_and_facts_agree_on_many_images_some_empty() -> None:
    rng = np.random.default_rng(3)
    items = []
    for n_pred, n_lab in ((5, 4), (0, 3), (4, 0), (12, 6), (0, 0), (7, 7)):
        labels = image_labels(
            *[(100 + i, int(rng.integers(1, 3)), *rng.uniform(0, 60, 2), *rng.uniform(20, 80, 2))
              for i in range(n_lab)],
            crowd=(100,),
        )  # fmt: skip
        preds = image_predictions(
            *[(200 + i, int(rng.integers(1, 3)), rng.uniform(), *rng.uniform(0, 90, 2),
               *rng.uniform(5, 60, 2)) for i in range(n_pred)]
        )  # fmt: skip
        items.append((preds, labels))
    matched = [match_image(p, lab) for p, lab in items]
    params = AnalysisParams()
    facts = chunk_facts(items, matched, list(range(len(items))), params)
    on_part = part_context.facts_on_part(facts, params)
    assert on_part.any() and not on_part.all()
    assert np.array_equal(part_context.items_on_part(items, matched, params), on_part)
