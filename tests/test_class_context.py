"""A missing_label among labelled objects of its class is likelier than a lone detection of a
class nobody labelled on the image, by as much as the detector's own matches say
(core.class_context, score version 6); so is a wrong_class's prediction (score version 7)."""

from __future__ import annotations

import numpy as np

from labelfix.core import class_context, scoring
from labelfix.core.errors import (
    KIND_CODE,
    SUSPECT_COL,
    AnalysisParams,
    chunk_facts,
    chunk_suspects,
)
from labelfix.core.matching import match_image
from labelfix.core.suspect_scores import OWN_WEIGHT_WRONG_CLASS, score_suspects

from helpers import image_labels, image_predictions

COL = SUSPECT_COL


def _chunk():  # noqa: ANN202
    """Two images: people (one labelled twice, one crowd) and a dog alone."""
    people = image_labels(
        (1, 1, 0, 0, 100, 100),
        (2, 1, 300, 0, 100, 100),
        (3, 1, 600, 0, 100, 100),  # a crowd region
        (4, 2, 900, 0, 50, 50),
        crowd=(3,),
    )
    people_pr = image_predictions(
        (10, 1, 0.9, 0, 0, 100, 100),  # tp on label 1; label 2 is another person: context
        (11, 1, 0.8, 0, 300, 100, 100),  # unlabelled person next to two labelled ones
        (12, 2, 0.7, 0, 600, 80, 80),  # a second dog, the labelled dog elsewhere: context
        (13, 3, 0.6, 0, 900, 80, 80),  # a cat: no cat labelled
        (14, 1, 0.5, 610, 10, 80, 80),  # in the crowd region: ignored
        (15, 2, 0.85, 300, 0, 100, 100),  # a dog on person 2: wrong_class, label in context
    )
    dog = image_labels((5, 2, 0, 0, 100, 100), (6, 3, 300, 0, 100, 100))
    dog_pr = image_predictions(
        (20, 2, 0.9, 0, 0, 100, 100),  # tp on the one dog: no other dog, no context
        (21, 2, 0.4, 300, 300, 100, 100),  # a dog not labelled, the labelled one elsewhere
        (22, 2, 0.8, 300, 0, 100, 100),  # a dog on the lone cat label 6: wrong_class
    )
    items = [(people_pr, people), (dog_pr, dog)]
    matched = [match_image(p, lab) for p, lab in items]
    params = AnalysisParams()
    return items, matched, chunk_facts(items, matched, [1, 2], params), params


def test_context_is_another_regular_label_of_the_class_besides_the_match() -> None:
    _, _, facts, _ = _chunk()
    by_id = dict(zip(facts.p_id.tolist(), class_context.facts_context(facts).tolist(), strict=True))
    assert by_id == {10: 1, 11: 1, 12: 1, 13: 0, 14: 1, 15: 1, 20: 0, 21: 1, 22: 1}


def test_a_labels_context_is_another_regular_label_of_its_class_on_its_image() -> None:
    _, _, facts, _ = _chunk()
    by_id = dict(zip(facts.l_id.tolist(), class_context.label_context(facts).tolist(), strict=True))
    # labels 1 and 2 are people together (the crowd region does not count, nor is it counted)
    assert by_id == {1: 1, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0}


def test_totals_from_items_equal_those_from_facts() -> None:
    items, matched, facts, params = _chunk()
    got = class_context.items_totals(items, matched, params)
    want = class_context.facts_totals(facts, facts.p_score, params)
    assert np.array_equal(got, want)
    # no context: the cat fp (0.6) and the dog tp (0.9); context: tp 10 and fps 11, 12, 15,
    # 21, 22 (the crowd one is ignored, not counted)
    assert np.allclose(got[:6], [2, 1, 1.5, 6, 1, 4.45])
    # no prediction on a part (core.part_context): all eight counted on the first side
    assert np.allclose(got[6:], [8, 2, 5.95, 0, 0, 0])


def test_factors_are_each_sides_observed_over_expected_against_all() -> None:
    totals = [100.0, 10.0, 20.0, 100.0, 60.0, 50.0]  # 0.5 and 1.2 of expected, 70 / 70 in all
    ctx = np.array([0.0, 1.0, np.nan])
    prior = class_context.CONTEXT_PRIOR
    got = class_context.factors(totals, ctx)
    assert np.isclose(got[0], (10 + prior) / (20 + prior))
    assert np.isclose(got[1], (60 + prior) / (50 + prior))
    assert got[2] == 1.0 and got[0] < 1.0 < got[1]
    assert np.array_equal(class_context.factors([0.0] * 6, ctx), np.ones(3))
    # wrong_class rows: a label with context by the odds without over with; a lone one keeps 1
    kinds = np.full(3, KIND_CODE["wrong_class"])
    wrong = class_context.factors(totals, ctx, kinds)
    assert np.isclose(wrong[1], got[0] / got[1]) and wrong[0] == 1.0 and wrong[2] == 1.0


def test_version_6_scales_missing_labels_and_wrong_classes_and_older_versions_keep_theirs() -> None:
    _, _, facts, params = _chunk()
    raw = chunk_suspects(facts, None, params)
    context = class_context.row_context(facts, raw, params)
    kind = raw[:, COL["kind"]]
    missing = kind == KIND_CODE["missing_label"]
    wrong = kind == KIND_CODE["wrong_class"]
    assert missing.any() and np.isnan(context[~missing & ~wrong]).all()
    assert set(context[missing].tolist()) == {0.0, 1.0}
    by_label = dict(
        zip(raw[wrong, COL["annotation_id"]].tolist(), context[wrong].tolist(), strict=True)
    )
    # the label's context plus twice the prediction's: both dogs have a dog labelled elsewhere
    assert by_label == {2: 3.0, 6: 2.0}
    v6 = AnalysisParams(score_version=6)
    totals = (100.0, 10.0, 20.0, 100.0, 60.0, 50.0)
    fit = scoring.DetectorFit(
        None, {1: 2, 2: 2}, np.zeros(0, np.int64), np.zeros(0), {}, None, totals
    )
    plain = score_suspects(raw, v6)
    got = scoring.score(raw, v6, fit, None, None, context)
    factor = class_context.factors(totals, context, kind)
    assert np.allclose(got, np.clip(plain * factor, 0.0, 1.0))
    assert np.array_equal(got[~missing & ~wrong], plain[~missing & ~wrong])
    assert not np.allclose(got[missing], plain[missing])
    v5 = AnalysisParams(score_version=5)
    assert np.array_equal(scoring.score(raw, v5, fit, None, None, context), score_suspects(raw, v5))
    # a fit stored before version 6 has no totals: nothing to scale by
    old = scoring.DetectorFit(None, {1: 2, 2: 2}, np.zeros(0, np.int64), np.zeros(0), {}, None)
    assert np.array_equal(scoring.score(raw, v6, old, None, None, context), plain)


def test_version_7_weighs_a_wrong_class_prediction_by_its_context_odds() -> None:
    """The same wrong_class row scores higher when its prediction has context on a detector
    whose predictions with context are right more often than their probability says, and lower
    when it has none (the probability in its own term times its side's ratio over all)."""
    _, _, facts, params = _chunk()
    raw = chunk_suspects(facts, None, params)
    raw[:, COL["probability"]] = raw[:, COL["confidence"]]
    wrong = raw[:, COL["kind"]] == KIND_CODE["wrong_class"]
    totals = (100.0, 10.0, 20.0, 100.0, 60.0, 50.0)  # without 0.5 / with 1.2 of expected
    fit = scoring.DetectorFit(
        None, {1: 2, 2: 2}, np.zeros(0, np.int64), np.zeros(0), {}, None, totals
    )
    lone_label = np.where(wrong, 2.0, np.nan)  # predictions with context, labels without
    v6 = AnalysisParams(score_version=6)
    base = scoring.score(raw, v6, fit, None, None, lone_label)
    with_context = scoring.score(raw, params, fit, None, None, lone_label)
    without = scoring.score(raw, params, fit, None, None, np.where(wrong, 0.0, np.nan))
    assert (with_context[wrong] > base[wrong]).all() and (without[wrong] < base[wrong]).all()
    assert np.array_equal(with_context[~wrong], base[~wrong])
    prior = class_context.CONTEXT_PRIOR
    ratio = ((60 + prior * 70 / 70) / (50 + prior)) / (70 / 70)
    w = OWN_WEIGHT_WRONG_CLASS
    p = raw[wrong, COL["probability"]]
    own = (1 - w + w * np.minimum(1.0, p * ratio)) / (1 - w + w * p)
    assert np.allclose(with_context[wrong], base[wrong] * own)


def test_fit_keeps_its_context_totals_in_json_and_reads_older_fits_without() -> None:
    cats, scores = np.array([1, 2], np.int64), np.array([0.5, 0.6])
    fit = scoring.DetectorFit(None, {1: 1}, cats, scores, {}, None, (1.0, 0.0, 0.5, 2, 1, 1.25))
    back = scoring.DetectorFit.from_json(fit.to_json(), cats, scores)
    assert back.context_totals == (1.0, 0.0, 0.5, 2.0, 1.0, 1.25)
    old = {k: v for k, v in fit.to_json().items() if k != "context"}
    assert scoring.DetectorFit.from_json(old, cats, scores).context_totals is None


def test_default_analyses_are_scored_with_version_12() -> None:
    assert AnalysisParams().score_version == 14
