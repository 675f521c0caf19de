"""The analysis of a project too large for memory: the same result, computed in passes over
groups of images.

:func:`labelfix.core.analyze.compute` keeps every chunk's matches (with their IoU matrices)
until the calibration is fitted, and the whole set's columns besides: at 1M images, 10M labels
and 20M predictions that is far more than a laptop has. Here the project is read one group of
images at a time (an image-id range: labels by a range query, predictions from the parts of the
set that hold them, :mod:`.store.prediction_parts`), cut into the same chunks, and gone through
in passes, each keeping only small per-prediction arrays:

1. match every chunk: keep each prediction's outcome (1 byte) and the label counts per class;
2. fit the calibration (the reference is the set's classes and scores: 16 bytes a prediction);
3. when the fit has no habit totals yet: match again for the totals;
4. match again, find and score the suspects, group them (an object's suspects are on one
   image, so a chunk's groups are the analysis's, numbered after the earlier chunks'), count
   the detector's confusions, and hand each chunk's matches and suspect rows to the store's
   writer (``AnalysisWriter.add``); then the report (per-class metrics from the kept outcomes,
   the confusions, the default review cut over the groups' heads).

Cost: the matching and reading run two or three times instead of once (at 20M predictions a
pass is about a minute here); memory holds one group plus about 30 bytes per prediction. The
rules, calibration and scores are the very functions :func:`~.analyze.compute` calls, in the
same chunk order, so the suspects, matches and fit are identical
(``tests/test_analyze_passes.py``). Masks are encoded in every pass (the project's mask cache
is neither read nor written here).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from . import (
    analysis_report,
    class_context,
    containment,
    edge_fit,
    habits,
    image_recall,
    label_fit,
    outline_search,
    result_rows,
    scoring,
)
from .analysis_chunks import AnalysisInputs, ChunkInput, chunks
from .analyze import AnalysisSummary, _match_columns, match_items
from .errors import SUSPECT_COLUMNS, AnalysisParams, chunk_facts, chunk_suspects
from .matching import ImageMatches
from .progress import Cancelled, Progress, ShouldStop
from .store import Store
from .timing import phase

BOUNDED_LABELS = int(os.environ.get("LABELFIX_BOUNDED_LABELS", 3_000_000))
"""Projects with more labels than this, or a prediction set stored in parts, use passes."""
GROUP_IMAGES = 50_000
"""Images read at a time."""

_GROUP = result_rows.RCOL["group"]
_RANK = result_rows.RCOL["group_rank"]
_SCORE = result_rows.RCOL["score"]
_PID = SUSPECT_COLUMNS.index("prediction_id")


def in_passes(store: Store, set_id: int) -> bool:
    """True when the analysis of this set should run in passes (see the module)."""
    return len(store.prediction_parts(set_id)) > 1 or store.counts()["labels"] > BOUNDED_LABELS


def _groups(store: Store, set_id: int) -> list[tuple[int, int, list[int]]]:
    """Image-id ranges [lo, hi) in order, with their image ids: within a part of the set, at
    most GROUP_IMAGES images each."""
    ids = np.asarray(store.image_ids(), dtype=np.int64)
    bounds = store.prediction_parts(set_id)
    part = np.maximum(np.searchsorted(bounds, ids, side="right") - 1, 0)
    out = []
    starts = np.flatnonzero(np.r_[True, part[1:] != part[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        for a in range(s, e, GROUP_IMAGES):
            b = min(a + GROUP_IMAGES, e)
            hi = int(ids[b]) if b < len(ids) else int(ids[-1]) + 1
            out.append((int(ids[a]), hi, ids[a:b].tolist()))
    return out


def _group_inputs(
    store: Store, set_id: int, params: AnalysisParams, group: tuple[int, int, list[int]]
) -> AnalysisInputs:
    """The inputs of one group of images (as ``read_inputs`` gives them for the project)."""
    lo, hi, ids = group
    masks = params.geometry == "masks"
    with phase("read"), store.snapshot():
        labels, segs = store.label_columns(segmentation=masks, image_range=(lo, hi))
        preds = store.predictions_in_range(set_id, lo, hi)
        inputs = AnalysisInputs(set_id, params, ids, labels, preds, store.last_change())
        if masks:
            inputs.sizes = store.image_sizes()
            inputs.label_segmentations = segs
            inputs.prediction_segmentations, inputs.prediction_rle_counts = (
                store.prediction_mask_inputs(set_id, (lo, hi))
            )
    area = inputs.labels[:, 8]
    missing = np.isnan(area)
    area[missing] = inputs.labels[missing, 5] * inputs.labels[missing, 6]
    return inputs


def _matched_chunks(
    store: Store,
    set_id: int,
    params: AnalysisParams,
    groups: list[tuple[int, int, list[int]]],
    should_stop: ShouldStop | None,
) -> Iterator[tuple[ChunkInput, list[ImageMatches], list[np.ndarray | None] | None]]:
    """Every chunk of the project in image order, matched (and, for masks, its label-label
    IoUs)."""
    for group in groups:
        inputs = _group_inputs(store, set_id, params, group)
        for chunk in chunks(inputs):
            if should_stop is not None and should_stop():
                raise Cancelled("analysis cancelled")
            with phase("matching"):
                matched, label_ious = match_items(chunk.items, params)
            yield chunk, matched, label_ious


def analyze_in_passes(
    store: Store,
    set_id: int,
    params: AnalysisParams,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> AnalysisSummary:
    """Match and score the whole project in passes; atomically replace the set's previous
    analysis (as :func:`labelfix.core.analyze.analyze` does)."""
    from .analyze import reanalyze_images  # the edits made meanwhile, as analyze does

    start_change = store.last_change()
    groups = _groups(store, set_id)
    n_images = sum(len(ids) for _, _, ids in groups)
    ref_cats = store.prediction_column(set_id, "category_id")
    ref_scores = store.prediction_column(set_id, "score")
    passes = 3 if params.calibrate else 2
    done = [0]

    def step(chunk: ChunkInput) -> None:
        done[0] += len(chunk.image_ids)
        if progress is not None:
            progress(done[0], passes * n_images)

    # 1: outcomes and label counts
    outcome_parts: list[np.ndarray] = []
    counts: dict[int, int] = {}
    tp_ious = np.zeros(label_fit.BINS, np.int64)  # how well the true positives fit (label_fit)
    for chunk, matched, _ in _matched_chunks(store, set_id, params, groups, should_stop):
        cols = _match_columns(chunk.image_ids, chunk.items, matched)
        outcome_parts.append(cols["outcome"])
        tp_ious += label_fit.tp_iou_counts(cols["outcome"], cols["iou"])
        for c, n in scoring.label_counts([lab for _, lab in chunk.items]).items():
            counts[c] = counts.get(c, 0) + n
        step(chunk)
    outcome = np.concatenate([np.zeros(0, np.int8), *outcome_parts])
    del outcome_parts
    counts = dict(sorted(counts.items()))
    # in match order (image, then id) the classes and scores are the reference's own order
    if params.calibrate:
        with phase("calibration fit"):
            fit = scoring.fit_detector(ref_cats, ref_scores, counts, ref_cats, ref_scores, outcome)
    else:
        fit = scoring.DetectorFit(None, counts, ref_cats, ref_scores, habit_totals={})
    fit = scoring.with_tp_iou_counts(fit, tp_ious)
    if fit.habit_totals is None:  # 3: the habit totals the scores discount by
        totals: dict[tuple[int, int], float] = {}
        context_parts = []
        for chunk, matched, _ in _matched_chunks(store, set_id, params, groups, should_stop):
            with phase("suspect rules"):
                calibrated = scoring.calibrated_items(chunk.items, fit)
                habits.add_totals(totals, scoring.chunk_habits(calibrated, matched, params))
                context_parts.append(class_context.items_totals(calibrated, matched, params))
        fit = replace(fit, habit_totals=totals)
        fit = scoring.with_context_totals(fit, context_parts)
    # from here on the fit needs only its sorted reference: the set's classes and scores (16
    # bytes a prediction) are read again for the report, after the last pass
    n_predictions = len(ref_cats)
    if fit.calibration is not None:
        fit.sorted_reference()
    fit = replace(fit, ref_categories=np.zeros(0, np.int64), ref_scores=np.zeros(0))
    del ref_cats, ref_scores
    final = fit if params.calibrate else replace(fit, habit_totals=None)
    # 4: the suspects, chunk by chunk into the writer, grouped by object (an object's suspects
    # are on one image, so a chunk's groups are the analysis's, numbered after the earlier ones)
    confusion: dict[tuple[int, int], int] = {}
    heads: list[np.ndarray] = []
    group_base = 0
    budget, warnings = edge_fit.IMAGE_BUDGET, []  # score version 8's image reads, in image order
    image_only = outline_search.IMAGE_BUDGET  # score version 9's image-only search, the same
    with phase("write"), store.analysis_writer(set_id, params) as writer:
        for chunk, matched, label_ious in _matched_chunks(
            store, set_id, params, groups, should_stop
        ):
            with phase("suspect rules"):
                calibrated = scoring.calibrated_items(chunk.items, fit)
                facts = chunk_facts(calibrated, matched, chunk.image_ids, params)
                raw = chunk_suspects(facts, None, params, label_ious)
                raw = scoring.restore_confidence(raw, chunk.items) if len(raw) else raw
                best = label_fit.row_best_iou(facts, raw, params)
                contained = containment.row_containment(facts, raw)
                context = class_context.row_context(facts, raw, params)
                found = image_recall.row_image_found(facts, raw)
                scored = (
                    np.column_stack(
                        [raw, scoring.score(raw, params, final, best, contained, context, found)]
                    )
                    if len(raw)
                    else np.zeros((0, len(SUSPECT_COLUMNS) + 1))
                )
                match_columns = _match_columns(chunk.image_ids, chunk.items, matched)
                if params.score_version >= 9 and (budget > 0 or image_only > 0):
                    scored, evidence, found = _image_only(
                        store, chunk, scored, match_columns, budget, image_only
                    )
                    budget -= evidence.images
                    image_only -= len(found.seen)
                    warnings += evidence.warnings() + found.warnings()
                elif params.score_version >= 8 and len(scored) and budget > 0:
                    evidence = _image_evidence(store, chunk, scored, budget)
                    budget -= evidence.images
                    warnings += evidence.warnings()
                rows = result_rows.one_set(scored, set_id)
                if len(rows):
                    rows.rows[:, _GROUP] += group_base
                    group_base = int(rows.rows[:, _GROUP].max()) + 1
                    heads.append(rows.rows[rows.rows[:, _RANK] == 0, _SCORE])
                analysis_report.add_counts(
                    confusion, analysis_report.chunk_confusion(calibrated, matched, params)
                )
            writer.add(match_columns, rows, [])
            step(chunk)
        with phase("report"):
            per_set = analysis_report.set_report(
                {"image_id": store.prediction_column(set_id, "image_id"), "outcome": outcome},
                store.prediction_column(set_id, "category_id"),
                store.prediction_column(set_id, "score"),
                final,
                confusion,
                params,
            )
            scores = np.concatenate([np.zeros(0), *heads])
            report = analysis_report.analysis_report(
                {set_id: per_set}, np.zeros(len(scores), np.int64), scores
            )
        writer.set_details({set_id: final.to_json()}, report)
        # the writer's finish sorts the matches a column at a time: let go of the rest first
        del outcome, heads, scores, fit, final
    counts_by_kind = dict(writer.counts)
    stale = store.images_changed_since(start_change)
    if stale:
        reanalyze_images(store, stale, set_id)
        counts_by_kind = store.suspect_counts(writer.analysis_id)
    return AnalysisSummary(
        writer.analysis_id, n_images, n_predictions, counts_by_kind, len(stale), tuple(warnings)
    )


def _image_only(
    store: Store,
    chunk: ChunkInput,
    scored: np.ndarray,
    match_columns: dict[str, np.ndarray],
    budget: int,
    image_only: int,
) -> tuple[np.ndarray, edge_fit.ImageEvidence, outline_search.ImageOnly]:
    """core.outline_search.with_edge_fit on a chunk (what is left of both budgets)."""
    preds = [p for p, _ in chunk.items]
    columns = {
        "id": np.concatenate([np.zeros(0, np.int64), *(p.ids for p in preds)]),
        "box": np.concatenate([np.zeros((0, 4)), *(p.boxes for p in preds)]),
    }
    with phase("image evidence"):
        return outline_search.with_edge_fit(
            store, scored, match_columns, columns, chunk.image_ids, budget, image_only
        )


def _image_evidence(
    store: Store, chunk: ChunkInput, scored: np.ndarray, budget: int
) -> edge_fit.ImageEvidence:
    """core.edge_fit on a chunk's scored rows (in place), within what is left of the budget."""
    preds = [p for p, _ in chunk.items]
    columns = {
        "id": np.concatenate([np.zeros(0, np.int64), *(p.ids for p in preds)]),
        "box": np.concatenate([np.zeros((0, 4)), *(p.boxes for p in preds)]),
    }
    with phase("image evidence"):
        return edge_fit.from_store(store, scored, columns, budget)
