"""The analysis's compute step equals the plain way of computing it, bit for bit, on real data.

``compute`` works on each chunk's facts (errors.chunk_facts) with the rank positions taken
once; the reference below works from the per-image items, the way the analysis ran before
(calibrated copies of the items, ``batch_suspects``, ``chunk_habits``, ``chunk_confusion``,
the fit taking its own rank positions). Matches, suspects, fit, confusions and the set report
must come out the same.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from labelfix.core import (
    analysis_report,
    class_context,
    containment,
    habits,
    image_recall,
    label_fit,
    scoring,
)
from labelfix.core import analyze as az
from labelfix.core.errors import SUSPECT_COLUMNS, AnalysisParams, batch_suspects, chunk_facts
from labelfix.core.matching import match_many
from labelfix.core.project import import_project
from labelfix.core.store import Store

from helpers import label_mask_ious, shared_path


def _reference(inputs: az.AnalysisInputs) -> az.AnalysisResult:
    """compute() the plain way, from the items (see the module docstring)."""
    params = inputs.params
    g = params.geometry
    done, outs, masks = [], [az._match_columns([], [], [])], []
    for chunk in az.chunks(inputs):
        matched = match_many(chunk.items, params.iou_threshold, params.max_dets, g)
        outs.append(az._match_columns(chunk.image_ids, chunk.items, matched))
        ious = [label_mask_ious(lab) for _, lab in chunk.items] if g == "masks" else None
        done.append((chunk, matched, ious))
        masks += chunk.new_masks
    match_cols = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
    cats_m, scores_m, outcome = az._in_match_order(inputs, match_cols)
    fit = az._stored_fit(inputs)
    cats, scores = inputs.predictions["category_id"], inputs.predictions["score"]
    if fit is None:
        counts = scoring.label_counts([lab for c, _, _ in done for _, lab in c.items])
        if params.calibrate:
            fit = scoring.fit_detector(cats, scores, counts, cats_m, scores_m, outcome)
        else:
            fit = scoring.DetectorFit(None, counts, cats, scores, habit_totals={})
        fit = scoring.with_tp_iou_counts(
            fit, label_fit.tp_iou_counts(match_cols["outcome"], match_cols["iou"])
        )
    calibrated: list = []
    bests: list = []  # label_fit's best same-class IoU per row
    contained: list = []  # core.containment's per row (missing_label rows)
    context: list = []  # core.class_context's per row (missing, wrong class, inaccurate rows)
    images: list = []  # core.image_recall's per row (spurious_label rows)

    def find(fit: scoring.DetectorFit) -> tuple[np.ndarray, scoring.DetectorFit]:
        raws, totals, context_totals = [], {}, []
        calibrated[:] = [scoring.calibrated_items(c.items, fit) for c, _, _ in done]
        for (chunk, matched, ious), cal in zip(done, calibrated, strict=True):
            if fit.habit_totals is None:
                habits.add_totals(totals, scoring.chunk_habits(cal, matched, params))
                context_totals.append(class_context.items_totals(cal, matched, params))
            raw = batch_suspects(cal, matched, chunk.image_ids, params, ious)
            if len(raw):
                raws.append(scoring.restore_confidence(raw, chunk.items))
                facts = chunk_facts(cal, matched, chunk.image_ids, params)
                bests.append(label_fit.row_best_iou(facts, raw, params))
                contained.append(containment.row_containment(facts, raw))
                context.append(class_context.row_context(facts, raw, params))
                images.append(image_recall.row_image_found(facts, raw))
        raw = np.concatenate(raws) if raws else np.zeros((0, len(SUSPECT_COLUMNS)))
        if fit.habit_totals is not None:
            return raw, fit
        fit = scoring.with_context_totals(replace(fit, habit_totals=totals), context_totals)
        return raw, fit

    raw, fit = find(fit)
    if not params.calibrate:
        fit = replace(fit, habit_totals=None)
    best = np.concatenate(bests) if bests else np.zeros(0)
    inside = np.concatenate(contained) if contained else np.zeros(0)
    ctx = np.concatenate(context) if context else np.zeros(0)
    found = np.concatenate(images) if images else np.zeros((0, 2))
    scored = (
        np.column_stack([raw, scoring.score(raw, params, fit, best, inside, ctx, found)])
        if len(raw)
        else raw
    )
    confusion = None
    if inputs.fit is None:
        confusion = {}
        for (_, matched, _), cal in zip(done, calibrated, strict=True):
            analysis_report.add_counts(
                confusion, analysis_report.chunk_confusion(cal, matched, params)
            )
    return az.AnalysisResult(match_cols, scored, masks, fit, confusion)


def _assert_same(got: az.AnalysisResult, want: az.AnalysisResult, inputs) -> None:
    for k, v in want.matches.items():
        assert got.matches[k].dtype == v.dtype
        assert np.array_equal(got.matches[k], v, equal_nan=True), k
    assert np.array_equal(got.suspects, want.suspects, equal_nan=True)
    assert len(got.suspects) > 20
    assert got.fit.to_json() == want.fit.to_json()
    assert got.confusion == want.confusion
    assert got.new_masks == want.new_masks


def _project(tmp_path: Path, gt: Path, pred: Path) -> Path:
    out = tmp_path / "p.labelfix"
    import_project(out, gt, None, pred, "model")
    return out


@pytest.mark.parametrize("chunk", [7, 500])
@pytest.mark.parametrize("calibrate", [True, False])
def test_real_boxes(tmp_path: Path, monkeypatch, chunk: int, calibrate: bool) -> None:
    """Real COCO labels and real CenterNet detections, in chunks of 7 images and in one."""
    root = shared_path("coco_real81")
    path = _project(
        tmp_path,
        root / "annotations" / "instances_real81.json",
        root / "predictions" / "centernet_bbox_results.json",
    )
    monkeypatch.setattr(az, "chunks", functools.partial(az.chunks, size=chunk))
    params = AnalysisParams(calibrate=calibrate)
    with Store.open(path) as store:
        set_id = store.resolve_set(None)
        inputs = az.read_inputs(store, set_id, params)
        _assert_same(az.compute(inputs), _reference(inputs), inputs)
        if calibrate:  # a re-analysis of some images with the fit the analysis stored
            summary = az.analyze(store, params=params)
            ids = store.image_ids()[10:40]
            again = az.read_inputs(store, set_id, params, ids, summary.analysis_id)
            assert again.fit is not None
            _assert_same(az.compute(again), _reference(again), again)


def test_real_masks(tmp_path: Path, monkeypatch) -> None:
    """COCO val2014's first 100 images with the cocoapi demo's segm results, masks compared."""
    root = shared_path("coco_val2014_100")
    path = _project(
        tmp_path,
        root / "instances_val2014_100.json",
        root / "instances_val2014_fakesegm100_results.json",
    )
    monkeypatch.setattr(az, "chunks", functools.partial(az.chunks, size=9))
    params = AnalysisParams(geometry="masks", duplicate_iou=0.05)  # duplicates by mask IoU
    with Store.open(path) as store:
        inputs = az.read_inputs(store, store.resolve_set(None), params)
        want = _reference(inputs)
        assert any(r[0] == 3 for r in want.suspects)  # duplicate_label rows
        _assert_same(az.compute(inputs), want, inputs)


def test_reliability_bins_per_class_and_without_any_outcome() -> None:
    """Bins by class then raw score (ties in their order); no tp/fp prediction: no class."""
    cat = np.array([3, 1, 3, 3, 1])
    score = np.array([0.5, 0.9, 0.2, 0.5, 0.1])
    prob = np.array([0.4, 0.8, 0.1, 0.3, 0.05])
    outcome = np.array([1, 1, 0, 2, 0], np.int8)  # tp, tp, fp, ignored, fp
    assert analysis_report.reliability(cat, score, prob, outcome, bins=2) == {
        1: [[0.1, 0.0, 0.05, 1], [0.9, 1.0, 0.8, 1]],
        3: [[0.2, 0.0, 0.1, 1], [0.5, 1.0, 0.4, 1]],
    }
    assert analysis_report.reliability(cat, score, prob, np.full(5, 2, np.int8)) == {}
    assert analysis_report.reliability(cat[:0], score[:0], prob[:0], outcome[:0]) == {}
