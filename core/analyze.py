"""Analysis of a project: match a prediction set to the labels and find the suspects.

Three steps: :func:`read_inputs` reads everything the analysis needs from the store at once;
:func:`compute` matches and scores with pure functions (no store), chunk by chunk of images;
the store's write step then replaces the previous analysis in one transaction, so a cancelled
or crashed run leaves the old one in place. Masks encoded by the computation are cached in the
project by that same write. After an edit only the touched images are re-analysed
(:func:`reanalyze_images`, the same three steps). Suspects that carry a review decision are kept
even when a re-analysis no longer finds them (an accepted fix usually makes its suspect
disappear), so the decision stays visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import (
    analysis_report,
    calibration,
    class_context,
    consensus,
    containment,
    edge_fit,
    habits,
    image_recall,
    label_fit,
    outline_search,
    result_rows,
    scoring,
    suspect_cache,
    suspects,
)
from .analysis_chunks import AnalysisInputs, ChunkInput, chunks
from .errors import (
    SUSPECT_COLUMNS,
    AnalysisParams,
    ChunkFacts,
    batch_facts,
    chunk_facts,
    chunk_suspects,
)
from .in_thread import InThread
from .matching import (
    FP,
    IGNORED,
    TP,
    Batch,
    BatchMatches,
    ImageLabels,
    ImageMatches,
    ImagePredictions,
    mask_ious,
    match_batch,
    match_many,
)
from .progress import Cancelled, Progress, ShouldStop
from .store import Store
from .store.masks import LABELS_OWNER, predictions_owner
from .timing import phase, timed

OUTCOME_NAMES = {TP: "tp", FP: "fp", IGNORED: "ignored"}

__all__ = ["AnalysisParams", "Cancelled", "analyze", "matches", "reanalyze_images"]


class AnalysisError(RuntimeError):
    """An analysis that cannot run on this project as asked (e.g. masks without masks)."""


@dataclass
class AnalysisSummary:
    """What a finished analysis found."""

    analysis_id: int
    images: int
    predictions: int
    suspects: dict[str, int]
    stale_images: int = 0
    warnings: tuple[str, ...] = ()  # e.g. image files the image evidence could not read


# ---------------------------------------------------------------------- read
REFERENCE_IN_THREAD = 100_000
"""From this many predictions a full analysis sorts its calibration reference in a thread
while it reads the labels (~0.08 s at 500k predictions, overlapped)."""


def read_inputs(
    store: Store,
    set_id: int,
    params: AnalysisParams,
    image_ids: Iterable[int] | None = None,
    analysis_id: int | None = None,
) -> AnalysisInputs:
    """The read step: the labels and predictions of these images (all by default); for a
    re-analysis of ``analysis_id``, the detector fit it stored too."""
    masks = params.geometry == "masks"
    with store.snapshot():  # one consistent snapshot
        info = store.prediction_set(set_id)
        if info is None:
            raise AnalysisError(f"{store.location} has no prediction set {set_id}")
        if masks and not info["has_segmentation"]:
            raise AnalysisError(
                f"prediction set {info['name']!r} has no segmentation, so masks cannot be "
                "compared; use --geometry boxes"
            )
        ids = store.image_ids() if image_ids is None else sorted(set(image_ids))
        if image_ids is None:
            preds = store.prediction_arrays(set_id)
        elif ids:  # only the parts of a large set that hold these images
            preds = store.predictions_in_range(set_id, ids[0], ids[-1] + 1)
            keep = np.isin(preds["image_id"], np.asarray(ids, dtype=np.int64))
            preds = {k: v[keep] for k, v in preds.items()}
        else:
            preds = {k: v[:0] for k, v in store.prediction_part(set_id, 0).items()}
        reference = None  # a full analysis's calibration reference, sorted as labels are read
        if analysis_id is None and params.calibrate and len(preds["id"]) >= REFERENCE_IN_THREAD:
            cats, scores = preds["category_id"], preds["score"]
            reference = InThread(calibration.RankReference, cats, scores, True)
        labels, label_segs = store.label_columns(
            None if image_ids is None else ids, segmentation=masks
        )
        inputs = AnalysisInputs(set_id, params, ids, labels, preds, store.last_change())
        inputs.reference = reference
        if analysis_id is not None:
            inputs.fit = store.detector_fit(analysis_id, set_id)
            inputs.set_categories = store.prediction_column(set_id, "category_id")
            inputs.set_scores = store.prediction_column(set_id, "score")
        if masks:
            inputs.sizes = store.image_sizes()
            inputs.label_segmentations = label_segs
            inputs.prediction_segmentations, inputs.prediction_rle_counts = (
                store.prediction_mask_inputs(set_id)
            )
            inputs.cached_label_masks = store.cached_masks(LABELS_OWNER)
            inputs.cached_prediction_masks = store.cached_masks(predictions_owner(set_id))
    area = inputs.labels[:, 8]
    missing = np.isnan(area)
    area[missing] = inputs.labels[missing, 5] * inputs.labels[missing, 6]
    return inputs


# ---------------------------------------------------------------------- compute
@dataclass
class AnalysisResult:
    """What the computation hands the write step: every prediction's match (columns
    ``prediction_id, image_id, outcome, annotation_id, iou``), the scored suspects
    (``errors.SUSPECT_COLUMNS`` plus the score) and the newly encoded masks."""

    matches: dict[str, np.ndarray]
    suspects: np.ndarray
    new_masks: list[tuple]
    fit: scoring.DetectorFit | None = None  # the calibration and habits the scores used
    # a full analysis: the confusion table at the report's cut (core.analysis_report)
    confusion: dict[tuple[int, int], int] | None = None
    # every matched prediction's calibrated probability, in the matches' order
    probability: np.ndarray | None = None
    # the suspects with room for core.result_rows' columns after them (``suspects`` is a view
    # of its first columns): a one-set analysis's rows are completed in it, not copied
    rows: np.ndarray | None = None
    # a full analysis: the report's per-class parts (core.analysis_report.class_parts), or
    # (compute's ``report_later``) the thread making them
    report_parts: analysis_report.ClassParts | None = None
    report_thread: InThread[analysis_report.ClassParts] | None = None

    def class_parts(self) -> analysis_report.ClassParts | None:
        """The report's per-class parts (waiting for the thread making them; None: to make)."""
        if self.report_thread is not None:
            self.report_parts, self.report_thread = self.report_thread.result(), None
        return self.report_parts


def match_items(
    items: list[tuple[ImagePredictions, ImageLabels]], params: AnalysisParams
) -> tuple[list[ImageMatches], list[np.ndarray | None] | None]:
    """Match per-image items; for masks also each image's label-label IoUs (the suspect rules'
    duplicate_label test), taken from the same pycocotools call as its matching's IoUs
    (matching.mask_ious); None for boxes."""
    g = params.geometry
    if g != "masks":
        return match_many(items, params.iou_threshold, params.max_dets, g), None
    both = [mask_ious(p, lab) for p, lab in items]
    cross = [c for c, _ in both]
    matched = match_many(items, params.iou_threshold, params.max_dets, g, ious=cross)
    return matched, [own for _, own in both]


def _mask_flat_ious(
    items: list[tuple[ImagePredictions, ImageLabels]],
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Every image's cross-class mask IoU matrix raveled and concatenated (a
    :class:`~.matching.Batch`'s pair order), and its label-label IoUs (matching.mask_ious)."""
    both = [mask_ious(p, lab) for p, lab in items]
    flat = np.concatenate([np.zeros(0), *(cross.ravel() for cross, _ in both)])
    return flat, [own for _, own in both]


def _match_columns(
    image_ids: list[int],
    items: list[tuple[ImagePredictions, ImageLabels]],
    matched: list[ImageMatches],
) -> dict[str, np.ndarray]:
    """Prediction id, image id, outcome, matched annotation id and IoU of a chunk's predictions."""
    n = np.array([len(p) for p, _ in items], dtype=np.int64)
    return {
        "prediction_id": np.concatenate([np.zeros(0, np.int64), *(p.ids for p, _ in items)]),
        "image_id": np.repeat(np.asarray(image_ids, dtype=np.int64), n),
        "outcome": np.concatenate([np.zeros(0, np.int8), *(m.outcome for m in matched)]),
        "annotation_id": np.concatenate(
            [np.zeros(0, np.int64), *(m.annotation_id for m in matched)]
        ),
        "iou": np.concatenate([np.zeros(0), *(m.iou for m in matched)]),
    }


def _batch_columns(
    image_ids: list[int], batch: Batch, matched: BatchMatches
) -> dict[str, np.ndarray]:
    """:func:`_match_columns` of a chunk matched as one batch."""
    return {
        "prediction_id": batch.pred_id.copy(),
        "image_id": np.repeat(np.asarray(image_ids, dtype=np.int64), batch.n_preds),
        "outcome": matched.outcome,
        "annotation_id": matched.annotation_id,
        "iou": matched.iou,
    }


def _stored_fit(inputs: AnalysisInputs) -> scoring.DetectorFit | None:
    """The fit a re-analysis reuses (None: fit on the inputs, as a full analysis does)."""
    if inputs.fit is None or inputs.set_categories is None or inputs.set_scores is None:
        return None
    return scoring.DetectorFit.from_json(inputs.fit, inputs.set_categories, inputs.set_scores)


@dataclass
class ChunkMatched:
    """What the first pass over a chunk hands on (the rest stays with its facts): the match
    columns, the predictions' count, the non-crowd labels' classes and the masks encoded."""

    matches: dict[str, np.ndarray]
    n_predictions: int
    label_classes: np.ndarray
    new_masks: list[tuple]


@dataclass
class ChunkFound:
    """What the second pass finds in a chunk: its habit totals (None: not asked for), its
    raw suspect rows (raw confidences put back; None: none) with each row's best same-class
    IoU of its label (core.label_fit), and its confusions (None: not asked for)."""

    habits: dict[tuple[int, int], float] | None
    raw: np.ndarray | None
    best_iou: np.ndarray | None
    confusion: dict[tuple[int, int], int] | None
    contained: np.ndarray | None = None  # per row, core.containment (missing_label rows)
    context: np.ndarray | None = None  # per row, core.class_context (missing_label rows)
    context_totals: np.ndarray | None = None  # core.class_context's (None: not asked for)
    image_found: np.ndarray | None = None  # per row, core.image_recall's (spurious_label rows)


def first_pass(
    chunk: ChunkInput, params: AnalysisParams
) -> tuple[ChunkMatched, ChunkFacts, list[np.ndarray | None] | None]:
    """Match a chunk with raw scores (COCO's order) and make its score-independent facts
    (errors.chunk_facts; for masks the label-label IoUs)."""
    g = params.geometry
    ious = None
    if chunk.batch is not None:  # the whole chunk at once
        with phase("matching"):
            flat = None
            if g == "masks":  # each image's IoUs from pycocotools, raveled in the batch's order
                flat, ious = _mask_flat_ious(chunk.items)
            m = match_batch(chunk.batch, params.iou_threshold, params.max_dets, g, flat)
        columns = _batch_columns(chunk.image_ids, chunk.batch, m)
        with phase("suspect rules"):
            facts = batch_facts(chunk.batch, m, chunk.image_ids, params)
    else:
        with phase("matching"):
            matched, ious = match_items(chunk.items, params)
        columns = _match_columns(chunk.image_ids, chunk.items, matched)
        with phase("suspect rules"):
            facts = chunk_facts(chunk.items, matched, chunk.image_ids, params)
    out = ChunkMatched(columns, len(facts.p_id), facts.l_cat[~facts.l_crowd], chunk.new_masks)
    return out, facts, ious


def second_pass(
    facts: ChunkFacts,
    ious: list[np.ndarray | None] | None,
    probability: np.ndarray,
    params: AnalysisParams,
    want_habits: bool,
    want_confusion: bool,
) -> ChunkFound:
    """A chunk's suspects (errors.chunk_suspects) with its predictions' probabilities (in the
    facts' order), and if asked its habit totals and confusions on those probabilities."""
    totals = scoring.facts_habits(facts, probability, params) if want_habits else None
    context_totals = class_context.facts_totals(facts, probability, params) if want_habits else None
    raw = chunk_suspects(facts, probability, params, ious)
    restored = best = contained = context = found = None
    if len(raw):
        restored = scoring.restore_scores(raw, facts.p_id, facts.p_score)
        best = label_fit.row_best_iou(facts, raw, params)
        contained = containment.row_containment(facts, raw)
        context = class_context.row_context(facts, raw, params)
        found = image_recall.row_image_found(facts, raw)
    confusion = (
        analysis_report.facts_confusion(facts, probability, params) if want_confusion else None
    )
    return ChunkFound(totals, restored, best, confusion, contained, context, context_totals, found)


class _InProcess:
    """The two passes over the chunks in this process, in order (the facts kept between)."""

    def __init__(self, inputs: AnalysisInputs) -> None:
        self._inputs = inputs
        self._kept: list[tuple[ChunkFacts, list[np.ndarray | None] | None]] = []

    def first(
        self, progress: Progress | None, should_stop: ShouldStop | None
    ) -> list[ChunkMatched]:
        params, total = self._inputs.params, len(self._inputs.image_ids)
        out: list[ChunkMatched] = []
        done = 0
        for chunk in timed(chunks(self._inputs), "prepare chunks"):
            if should_stop is not None and should_stop():
                raise Cancelled("analysis cancelled")
            matched, facts, ious = first_pass(chunk, params)
            out.append(matched)
            self._kept.append((facts, ious))
            done += len(chunk.image_ids)
            if progress is not None:
                progress(done, total)
        return out

    def second(
        self,
        probabilities: list[np.ndarray],
        want_habits: bool,
        want_confusion: bool,
        should_stop: ShouldStop | None,
        meanwhile: Callable[[], None] | None = None,
    ) -> list[ChunkFound]:
        """The second pass over the chunks; then ``meanwhile()`` (work that needs no chunk's
        result: with a second process, done while it finishes its chunks)."""
        out = []
        for (facts, ious), prob in zip(self._kept, probabilities, strict=True):
            if should_stop is not None and should_stop():
                raise Cancelled("analysis cancelled")
            out.append(
                second_pass(facts, ious, prob, self._inputs.params, want_habits, want_confusion)
            )
        if meanwhile is not None:
            meanwhile()
        return out

    def close(self) -> None:
        self._kept.clear()


def compute(
    inputs: AnalysisInputs,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    processes: int | None = None,
    report_later: bool = False,
) -> AnalysisResult:
    """The compute step (pure: no store): match every chunk with raw scores (COCO's order);
    calibrate the detector from all matches (a re-analysis reuses the stored fit); find the
    suspects with calibrated probabilities (core.scoring). (A second fit that counted the
    predictions behind likely label errors as partly right ranked worse with the logistic class
    curves and was dropped; see bench/bench_quality.py.)

    Each chunk's facts that do not depend on the scores (errors.chunk_facts: its pairs and
    overlaps, the missing-label candidates; for masks the label-label
    IoUs) are made right after its matching, and the rank positions once. The chunks' two
    passes run in this process, or shared with a forked one (:mod:`.analyze_parallel`, for
    large inputs on several CPUs; ``processes`` overrides the choice): the same functions
    on the same chunks, combined in chunk order, so the same result bit for bit.

    ``report_later``: a full analysis's report parts are made in a thread from the end of the
    second pass on (:meth:`AnalysisResult.class_parts` waits for them), overlapping what the
    caller does next (its rows, its write); else while the second process finishes."""
    from . import analyze_parallel  # it builds on this module

    if inputs.reference is not None:  # no thread runs on when the passes fork
        inputs.reference.result()
    runner = analyze_parallel.runner(inputs, processes)
    try:
        return _compute(inputs, runner, progress, should_stop, report_later)
    finally:
        runner.close()


def _compute(
    inputs: AnalysisInputs,
    runner: _InProcess,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    report_later: bool = False,
) -> AnalysisResult:
    params = inputs.params
    firsts = runner.first(progress, should_stop)
    outs = [_match_columns([], [], []), *(m.matches for m in firsts)]  # typed empty columns
    new_masks = [row for m in firsts for row in m.new_masks]
    match_cols = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
    cats_m, scores_m, outcome = _in_match_order(inputs, match_cols)
    fit = _stored_fit(inputs)
    positions = None  # of the matched predictions, against the fit's reference
    if fit is None:
        cats, scores = inputs.predictions["category_id"], inputs.predictions["score"]
        counts = scoring.class_counts([m.label_classes for m in firsts])
        if params.calibrate:
            with phase("calibration fit"):
                reference = None if inputs.reference is None else inputs.reference.result()
                inputs.reference = None  # handed on to the fit (own_positions: once)
                if reference is None:
                    reference = calibration.RankReference(cats, scores, own=True)
                positions = reference.own_positions(counts, cats_m, scores_m)
                fit = scoring.fit_detector(
                    cats, scores, counts, cats_m, scores_m, outcome, reference, positions
                )
        else:
            fit = scoring.DetectorFit(None, counts, cats, scores, habit_totals={})
        fit = scoring.with_tp_iou_counts(
            fit, label_fit.tp_iou_counts(match_cols["outcome"], match_cols["iou"])
        )
    elif fit.calibration is not None:
        positions = fit.positions(cats_m, scores_m)

    # the suspects with this fit, and the fit with its habits (if it had none); a full
    # analysis also counts the detector's confusions on these probabilities
    with phase("suspect rules"):
        probability = fit.probabilities(cats_m, scores_m, positions)
        bounds = np.cumsum([0, *(m.n_predictions for m in firsts)])
        parts = [probability[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        want_habits, want_confusion = fit.habit_totals is None, inputs.fit is None
        report_parts: list[analysis_report.ClassParts] = []
        fitted = fit  # its label counts (the report's parts use no habits)

        def report_classes() -> None:  # a full analysis's report, but for its confusions
            with phase("report"):
                report_parts.append(
                    analysis_report.class_parts(
                        match_cols, cats_m, scores_m, fitted, probability=probability
                    )
                )

        meanwhile = report_classes if want_confusion and not report_later else None
        found = runner.second(parts, want_habits, want_confusion, should_stop, meanwhile)
        report_thread = None  # from here on this process's own work is lighter: the rows
        if want_confusion and report_later:  # (no timing phase in the thread: not shared)
            report_thread = InThread(
                analysis_report.class_parts,
                match_cols,
                cats_m,
                scores_m,
                fitted,
                analysis_report.REPORT_CUT,
                probability,
            )
        totals: dict[tuple[int, int], float] = {}
        if want_habits:
            for f in found:
                habits.add_totals(totals, f.habits)
            fit = replace(fit, habit_totals=totals)
            fit = scoring.with_context_totals(fit, [f.context_totals for f in found])
        # the rows go straight into the scored array (no concatenation and copy of them),
        # column-major as the chunks' rows (errors.chunk_suspects): read a column at a time
        n_rows = sum(0 if f.raw is None else len(f.raw) for f in found)
        rows = np.empty((n_rows, len(result_rows.RESULT_COLUMNS)), order="F")
        scored = rows[:, : len(SUSPECT_COLUMNS) + 1]
        best = np.empty(n_rows)  # per row, core.label_fit's best same-class IoU of its label
        contained = np.empty(n_rows)  # per row, core.containment's (missing_label rows)
        context = np.empty(n_rows)  # per row, core.class_context's (missing_label rows)
        on_image = np.empty((n_rows, 2))  # per row, core.image_recall's (spurious_label rows)
        at = 0
        for f in found:
            if f.raw is not None:
                scored[at : at + len(f.raw), :-1] = f.raw
                best[at : at + len(f.raw)] = f.best_iou
                contained[at : at + len(f.raw)] = f.contained
                context[at : at + len(f.raw)] = f.context
                on_image[at : at + len(f.raw)] = f.image_found
                at += len(f.raw)
    if not params.calibrate:
        fit = replace(fit, habit_totals=None)  # raw confidences: no habits either
    with phase("suspect rules"):
        if n_rows:
            scored[:, -1] = scoring.score(
                scored[:, :-1], params, fit, best, contained, context, on_image
            )
    confusion = None
    if want_confusion:  # a full analysis reports the detector's confusions
        confusion = {}  # on the calibrated probabilities
        for f in found:
            analysis_report.add_counts(confusion, f.confusion)
    result = AnalysisResult(
        match_cols, scored, new_masks, fit, confusion, probability, rows, *report_parts[:1]
    )
    result.report_thread = report_thread
    return result


def _in_match_order(
    inputs: AnalysisInputs, match_cols: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class, raw score and outcome of each matched prediction, in the matches' order."""
    pred = inputs.predictions
    if np.array_equal(pred["id"], match_cols["prediction_id"]):  # the usual case: the same
        return pred["category_id"], pred["score"], match_cols["outcome"]  # order (image, id)
    order = np.argsort(pred["id"], kind="stable")
    pos = order[np.searchsorted(pred["id"][order], match_cols["prediction_id"])]
    return pred["category_id"][pos], pred["score"][pos], match_cols["outcome"]


# ---------------------------------------------------------------------- public entry points
@dataclass
class _SetOutcome:
    """What a full analysis keeps of one set's computation until the write step."""

    set_id: int
    result: AnalysisResult
    boxes: dict[int, np.ndarray]  # of the suspects' predictions; only merging sets needs them
    report: Callable[[], dict] | None  # makes the set's report (its parts may be in a thread)
    warnings: list[str] = field(default_factory=list)
    cover: consensus.Cover | None = None  # several sets: what its true positives explain


def _suspect_boxes(inputs: AnalysisInputs, result: AnalysisResult, several: bool) -> dict:
    """Prediction id -> box of the suspects' predictions when several sets are merged (a
    one-set analysis does not need them: at 360k suspects the lookup cost a second)."""
    if not several:
        return {}
    preds = inputs.predictions
    pid = result.suspects[:, SUSPECT_COLUMNS.index("prediction_id")]
    return result_rows.prediction_boxes(preds["id"], preds["box"], pid)


def _cover(inputs: AnalysisInputs, result: AnalysisResult, several: bool) -> consensus.Cover | None:
    """What the set's true positives explain, when several sets are merged (core.consensus)."""
    if not several:
        return None
    preds = inputs.predictions
    recall = None if result.fit is None else scoring.set_recall(result.fit)
    return result_rows.set_cover(result.matches, preds["id"], preds["box"], recall)


def _compute_set(
    store: Store,
    set_id: int,
    params: AnalysisParams,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    several: bool = False,
) -> tuple[AnalysisInputs, _SetOutcome]:
    with phase("read"):
        inputs = read_inputs(store, set_id, params)
    result = compute(inputs, progress, should_stop, report_later=True)
    warnings = _image_evidence(store, inputs, result)
    boxes = _suspect_boxes(inputs, result, several)
    report = None
    if result.fit is not None and result.confusion is not None:
        cats, scores, _ = _in_match_order(inputs, result.matches)

        def report() -> dict:  # when the write step needs it: the parts' thread had time
            parts = result.class_parts()
            with phase("report"):
                return analysis_report.set_report(
                    result.matches,
                    cats,
                    scores,
                    result.fit,
                    result.confusion,
                    params,
                    probability=result.probability,
                    parts=parts,
                )

    cover = _cover(inputs, result, several)
    return inputs, _SetOutcome(set_id, result, boxes, report, warnings, cover)


def _image_evidence(store: Store, inputs: AnalysisInputs, result: AnalysisResult) -> list[str]:
    """Score version 8: inaccurate_label scores by the image's edges (core.edge_fit), in
    place, before the rows are grouped; 9: the image-only inaccurate_label suspects after them
    (core.outline_search); the warnings."""
    version = inputs.params.score_version
    if version < 8 or (version < 9 and not len(result.suspects)):
        return []
    with phase("image evidence"):
        if version < 9:
            return edge_fit.from_store(store, result.suspects, inputs.predictions).warnings()
        suspects, edge, found = outline_search.with_edge_fit(
            store, result.suspects, result.matches, inputs.predictions, inputs.image_ids
        )
        if len(suspects) != len(result.suspects):
            result.suspects, result.rows = suspects, None  # the rows are made anew
        return edge.warnings() + found.warnings()


def _rows(outcomes: list[_SetOutcome], version: int, rho: float | None = None) -> result_rows.Rows:
    """The suspect rows of one set (scored and grouped) or of several (merged by the formulas
    of score ``version``, with the sets' dependence ``rho`` a full analysis stored, else
    measured; grouped)."""
    if len(outcomes) == 1:
        result = outcomes[0].result
        return result_rows.one_set(result.suspects, outcomes[0].set_id, into=result.rows)
    merging = [(o.set_id, o.result.suspects, o.boxes, o.cover) for o in outcomes]
    return result_rows.several_sets(merging, version=version, rho=rho)


def analyze(
    store: Store,
    set_id: int | Sequence[int] | None = None,
    params: AnalysisParams | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> AnalysisSummary:
    """Match and score the whole project with one prediction set or several together (by
    default the active ones); atomically replace the previous analysis of those sets.

    Several sets: each is matched, calibrated and scored on its own, then their suspects are
    merged (core.consensus via core.result_rows: a suspect several sets support scores higher)
    and grouped by object. One set: its suspects exactly as the set's own analysis finds them.
    """
    params = params or AnalysisParams()
    if set_id is None:
        set_ids = store.resolve_sets(None)
    elif isinstance(set_id, int | np.integer):
        set_ids = [int(set_id)]
    else:
        set_ids = sorted({int(i) for i in set_id})
    from . import analyze_passes  # it builds on this module

    if len(set_ids) == 1 and analyze_passes.in_passes(store, set_ids[0]):
        # too large for memory: in passes (one set; several are analysed in memory)
        return analyze_passes.analyze_in_passes(store, set_ids[0], params, progress, should_stop)
    outcomes: list[_SetOutcome] = []
    n_images = n_predictions = 0
    start_change = store.last_change()
    for k, sid in enumerate(set_ids):
        part = None
        if progress is not None:

            def part(done: int, total: int, k: int = k) -> None:
                progress(k * max(total, 1) + done, len(set_ids) * max(total, 1))

        inputs, outcome = _compute_set(store, sid, params, part, should_stop, len(set_ids) > 1)
        start_change = min(start_change, inputs.start_change)
        n_images = len(inputs.image_ids)
        n_predictions += len(outcome.result.matches["prediction_id"])
        outcomes.append(outcome)
        del inputs
    if should_stop is not None and should_stop():
        raise Cancelled("analysis cancelled")
    with phase("result rows"):
        rows = _rows(outcomes, params.score_version)
    with phase("write"), store.analysis_writer(set_ids, params) as writer:
        for o in outcomes:
            writer.save_masks(o.result.new_masks)
            writer.add_matches(o.result.matches, o.set_id)
        # a large one-set analysis's rows are sorted for the suspect cache while written
        large = len(set_ids) == 1 and len(rows) >= suspects.CACHE_MIN_ROWS
        writer.add_rows(rows, suspect_cache.cache_orders if large else None)
        report = analysis_report.analysis_report(
            {o.set_id: o.report() for o in outcomes if o.report is not None},
            rows.rows[:, result_rows.RCOL["group_rank"]],
            rows.rows[:, result_rows.RCOL["score"]],
            rows.dependence,
        )
        fits = {o.set_id: o.result.fit.to_json() for o in outcomes if o.result.fit is not None}
        writer.set_details(fits, report)
    counts = dict(writer.counts)
    # edits made while this analysis ran: re-analyse their images on the labels as they are now
    stale = store.images_changed_since(start_change)
    if stale:
        reanalyze_images(store, stale, set_ids)
        counts = store.suspect_counts(writer.analysis_id)
    warnings = tuple(w for o in outcomes for w in o.warnings)
    return AnalysisSummary(
        writer.analysis_id, n_images, n_predictions, counts, len(stale), warnings
    )


def reanalyze_images(
    store: Store, image_ids: Iterable[int], set_id: int | Sequence[int] | None = None
) -> int:
    """Re-match and re-score only these images in the current analysis (of this set or these
    sets; the active ones by default), each set with the fit its analysis stored; returns their
    suspect count."""
    analysis = store.current_analysis(set_id)
    if analysis is None:
        return 0
    ids = sorted(set(image_ids))
    if not ids:
        return 0
    outcomes, matches, masks = [], {}, []
    for sid in analysis["set_ids"]:
        inputs = read_inputs(store, sid, analysis["params"], ids, analysis["id"])
        result = compute(inputs)
        _image_evidence(store, inputs, result)
        several = len(analysis["set_ids"]) > 1
        boxes = _suspect_boxes(inputs, result, several)
        cover = _cover(inputs, result, several)
        outcomes.append(_SetOutcome(sid, result, boxes, None, cover=cover))
        matches[sid] = result.matches
        masks += result.new_masks
    report = store.analysis_report(analysis["id"]) or {}
    rows = _rows(outcomes, analysis["params"].score_version, report.get("dependence"))
    return store.replace_image_results(analysis, ids, matches, rows, masks)


def matches(store: Store, set_id: int | None = None) -> dict[str, np.ndarray]:
    """The match of every prediction of a set (the active one by default; incremental updates
    applied), by id: from the set's own current analysis, else from the current analysis of
    the active sets if it covers this one."""
    set_id = store.resolve_set(None) if set_id is None else set_id
    analysis = store.current_analysis(set_id)
    if analysis is None:
        shared = store.current_analysis()
        if shared is not None and set_id in shared["set_ids"]:
            analysis = shared
    if analysis is None:
        raise AnalysisError(
            f"{store.location} has not been analysed yet; run `labelfix analyze` first"
        )
    return store.match_arrays(analysis["id"], set_id)


def suggested_geometry(store: Store, set_name: str | None = None) -> str:
    """``masks`` when the prediction set has masks and the labels have shapes (polygons or
    RLE) to compare them with, else ``boxes``."""
    info = store.prediction_set(store.resolve_set(set_name))
    if not info or not info["has_segmentation"]:
        return "boxes"
    forms = store.segmentation_forms(1000)
    return "masks" if forms.get("polygon", 0) + forms.get("mask", 0) > 0 else "boxes"


def analysis_params_for(
    store: Store, set_name: str | None, params: AnalysisParams | None = None
) -> AnalysisParams:
    """``params`` (the defaults if None) with the geometry :func:`suggested_geometry` gives."""
    return replace(params or AnalysisParams(), geometry=suggested_geometry(store, set_name))
