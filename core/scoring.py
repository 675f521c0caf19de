"""The scoring step of an analysis: calibrate the detector from its matches, feed the suspect
rules calibrated probabilities, score the suspects with the detector's habits discounted.

An analysis runs: match every image with raw scores (COCO's order) -> :func:`fit_detector` on
all matches -> :func:`calibrated_items` per chunk -> the rules (``errors.batch_suspects``) ->
:func:`restore_confidence` -> :func:`score` on all rows. A re-analysis of some images reuses the
stored :class:`DetectorFit` (``to_json`` / ``from_json``) instead of fitting again.

Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import calibration, class_context, containment, habits, image_recall, label_fit, score_scale
from .errors import KIND_CODE, SUSPECT_COL, AnalysisParams, ChunkFacts
from .matching import FP, IGNORED, TP, ImageLabels, ImageMatches, ImagePredictions
from .suspect_scores import score_suspects


@dataclass(frozen=True)
class DetectorFit:
    """What an analysis learnt about its detector: the calibration, the label counts per class
    its rank positions were taken against, the whole set's (class, score) reference, the
    wrong_class confusion totals per (label class, predicted class) (its habits), and how well
    its true positives fit their labels (core.label_fit's counts per IoU bin; None for fits
    stored before score version 4), and its true positives with and without same-class context
    (core.class_context's totals; None for fits stored before score version 6)."""

    calibration: calibration.Calibration | None  # None: too few matches, raw scores are used
    label_counts: dict[int, int]
    ref_categories: np.ndarray
    ref_scores: np.ndarray
    habit_totals: dict[tuple[int, int], float] | None = None
    tp_iou_counts: tuple[int, ...] | None = None
    context_totals: tuple[float, ...] | None = None
    # whether the set's raw scores mean the same across classes (core.score_scale; None for
    # fits without calibration or stored before it)
    score_scale: score_scale.ScoreScale | None = None
    # the reference sorted once, shared by the fits of one analysis (made when first needed)
    reference: calibration.RankReference | None = field(default=None, compare=False, repr=False)

    def probabilities(
        self, categories: np.ndarray, scores: np.ndarray, positions: np.ndarray | None = None
    ) -> np.ndarray:
        """Calibrated probabilities of predictions of the set (raw class + score);
        ``positions``: their :meth:`positions`, if known (an analysis takes them once)."""
        if self.calibration is None:
            return np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
        x = self.positions(categories, scores) if positions is None else positions
        return calibration.probabilities(self.calibration, categories, x)

    def positions(self, categories: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """The rank positions of predictions of the set (calibration.rank_positions against
        the reference, with this fit's label counts)."""
        return self.sorted_reference().positions(self.label_counts, categories, scores)

    def sorted_reference(self) -> calibration.RankReference:
        """The reference sorted once (an analysis asks for probabilities chunk by chunk)."""
        if self.reference is None:
            ref = calibration.RankReference(self.ref_categories, self.ref_scores)
            object.__setattr__(self, "reference", ref)  # a cache, not a value of the fit
        return self.reference

    def to_json(self) -> dict[str, Any]:
        """The JSON-able part (curves and label counts; the reference is the prediction set)."""
        out = {
            "calibration": None if self.calibration is None else self.calibration.to_json(),
            "label_counts": {str(c): n for c, n in sorted(self.label_counts.items())},
            "habits": [[a, b, t] for (a, b), t in sorted((self.habit_totals or {}).items())],
        }
        if self.tp_iou_counts is not None:  # sparse: [bin, count] of the non-empty bins
            out["tp_iou_counts"] = [[b, n] for b, n in enumerate(self.tp_iou_counts) if n]
        if self.context_totals is not None:
            out["context"] = list(self.context_totals)
        if self.score_scale is not None:
            out["score_scale"] = self.score_scale.to_json()
        return out

    @classmethod
    def from_json(
        cls, data: dict[str, Any], ref_categories: np.ndarray, ref_scores: np.ndarray
    ) -> DetectorFit:
        """The fit from its JSON dict and the prediction set's classes and scores."""
        cal = data.get("calibration")
        counts = None
        if "tp_iou_counts" in data:
            dense = [0] * label_fit.BINS
            for b, n in data["tp_iou_counts"]:
                dense[int(b)] = int(n)
            counts = tuple(dense)
        return cls(
            None if cal is None else calibration.Calibration.from_json(cal),
            {int(c): int(n) for c, n in data["label_counts"].items()},
            np.asarray(ref_categories, dtype=np.int64),
            np.asarray(ref_scores, dtype=np.float64),
            {(int(a), int(b)): float(t) for a, b, t in data.get("habits", [])},
            counts,
            None if "context" not in data else tuple(map(float, data["context"])),
            None
            if "score_scale" not in data
            else score_scale.ScoreScale.from_json(data["score_scale"]),
        )


def label_counts(labels: Sequence[ImageLabels]) -> dict[int, int]:
    """Regular (not crowd) labels per class."""
    cats = [np.asarray(lab.category_ids)[~np.asarray(lab.iscrowd, bool)] for lab in labels]
    return class_counts(cats)


def class_counts(categories: Sequence[np.ndarray]) -> dict[int, int]:
    """Class -> how many of these parts' class ids are that class."""
    cats = np.concatenate([np.zeros(0, np.int64), *categories]).astype(np.int64)
    values, counts = np.unique(cats, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def fit_detector(
    ref_categories: np.ndarray,
    ref_scores: np.ndarray,
    counts: Mapping[int, int],
    categories: np.ndarray,
    scores: np.ndarray,
    outcome: np.ndarray,
    reference: calibration.RankReference | None = None,
    positions: np.ndarray | None = None,
) -> DetectorFit:
    """Fit the calibration from the matched predictions (class, raw score, outcome).

    ``ref_*`` are the whole prediction set's classes and scores (usually the same predictions);
    ``counts`` the regular labels per class. With fewer than ``calibration.MIN_OUTCOMES`` true
    or false positives there is too little to learn from: the fit keeps the raw scores (clipped
    to [0, 1]) as probabilities. ``reference``: the ``ref_*`` already sorted (another fit's);
    ``positions``: the predictions' rank positions against it, if known.
    """
    ref_categories = np.asarray(ref_categories, dtype=np.int64)
    ref_scores = np.asarray(ref_scores, dtype=np.float64)
    counts = {int(c): int(n) for c, n in counts.items()}
    outcome = np.asarray(outcome)
    n_tp, n_fp = int(np.sum(outcome == TP)), int(np.sum(outcome == FP))
    if min(n_tp, n_fp) < calibration.MIN_OUTCOMES:
        return DetectorFit(None, counts, ref_categories, ref_scores, reference=reference)
    is_tp = (outcome == TP).astype(np.float64)
    if reference is None:
        reference = calibration.RankReference(ref_categories, ref_scores)
    x = positions
    if x is None:
        x = calibration.rank_positions(
            ref_categories, ref_scores, counts, categories, scores, reference=reference
        )
    cal = calibration.fit_calibration(
        categories,
        x,
        is_tp,
        counts,
        outcome != IGNORED,
        np.asarray(scores, np.float64),
        order=reference.positions_order(x),
    )
    scale = score_scale.diagnose(
        categories, x, ref_scores, scores, is_tp, outcome != IGNORED, counts
    )
    return DetectorFit(
        cal, counts, ref_categories, ref_scores, score_scale=scale, reference=reference
    )


def calibrated_items(
    items: Sequence[tuple[ImagePredictions, ImageLabels]], fit: DetectorFit
) -> list[tuple[ImagePredictions, ImageLabels]]:
    """The same images with each prediction's score replaced by its calibrated probability."""
    if not items:
        return []
    cats = np.concatenate([p.category_ids for p, _ in items]).astype(np.int64)
    scores = np.concatenate([p.scores for p, _ in items]).astype(np.float64)
    prob = fit.probabilities(cats, scores)
    out, start = [], 0
    for p, lab in items:
        out.append((replace(p, scores=prob[start : start + len(p)]), lab))
        start += len(p)
    return out


def restore_confidence(
    raw: np.ndarray, items: Sequence[tuple[ImagePredictions, ImageLabels]]
) -> np.ndarray:
    """Rows found on calibrated items with ``probability`` = the probability the rules compared
    and ``confidence`` = the prediction's raw score again (looked up by prediction id in the
    raw ``items``)."""
    if not len(raw):
        return raw.copy()
    ids = np.concatenate([np.zeros(0, np.int64), *(p.ids for p, _ in items)])
    scores = np.concatenate([np.zeros(0), *(p.scores for p, _ in items)])
    return restore_scores(raw, ids, scores)


def restore_scores(raw: np.ndarray, ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """:func:`restore_confidence` with the raw scores given by prediction id (``ids``)."""
    out = raw.copy(order="K")  # column-major rows stay so (errors.chunk_suspects)
    if not len(out):
        return out
    out[:, SUSPECT_COL["probability"]] = out[:, SUSPECT_COL["confidence"]]
    ids = np.asarray(ids).astype(np.int64)
    scores = np.asarray(scores).astype(np.float64)
    order = np.argsort(ids, kind="stable")
    ids, scores = ids[order], scores[order]
    pid = out[:, SUSPECT_COL["prediction_id"]]
    has = pid >= 0
    pos = np.searchsorted(ids, pid[has].astype(np.int64))
    out[has, SUSPECT_COL["confidence"]] = scores[pos]
    return out


def chunk_habits(
    calibrated: Sequence[tuple[ImagePredictions, ImageLabels]],
    matched: Sequence[ImageMatches],
    params: AnalysisParams,
) -> dict[tuple[int, int], float]:
    """:func:`habits.overlap_totals` of a chunk of calibrated images and their matches (add the
    chunks with :func:`habits.add_totals`)."""
    label_cat, pair_label, pair_cat, pair_iou, pair_prob = [], [], [], [], []
    start = 0
    for (p, lab), m in zip(calibrated, matched, strict=True):
        n = len(lab)
        if len(p) and n:
            regular = ~np.asarray(lab.iscrowd, bool)
            i, j = np.nonzero((m.ious >= params.wrong_class_iou) & regular[None, :])
            pair_label.append(j + start)
            pair_cat.append(p.category_ids[i])
            pair_iou.append(m.ious[i, j])
            pair_prob.append(p.scores[i])
        label_cat.append(lab.category_ids)
        start += n
    if not pair_label:
        return {}
    return habits.overlap_totals(
        np.concatenate(label_cat),
        np.concatenate(pair_label),
        np.concatenate(pair_cat),
        np.concatenate(pair_iou),
        np.concatenate(pair_prob),
        params.wrong_class_iou,
    )


def facts_habits(
    facts: ChunkFacts, probability: np.ndarray, params: AnalysisParams
) -> dict[tuple[int, int], float]:
    """:func:`chunk_habits` of a chunk's facts (errors.chunk_facts) and its predictions'
    probabilities: the same pairs in the same order, so the same totals."""
    f = facts
    sel = np.flatnonzero((f.ious >= params.wrong_class_iou) & ~f.l_crowd[f.pair_label])
    pred = f.pair_pred[sel]
    if not len(f.ious):
        return {}
    return habits.overlap_totals(
        f.l_cat,
        f.pair_label[sel],
        f.p_cat[pred],
        f.ious[sel],
        np.asarray(probability, dtype=np.float64)[pred],
        params.wrong_class_iou,
    )


def with_context_totals(fit: DetectorFit, parts: Sequence[np.ndarray | None]) -> DetectorFit:
    """The fit with the chunks' core.class_context totals added up (None: not counted)."""
    total = np.zeros(class_context.N_TOTALS)
    for part in parts:
        if part is not None:
            total += part
    return replace(fit, context_totals=tuple(total.tolist()))


def with_tp_iou_counts(fit: DetectorFit, counts: np.ndarray | None) -> DetectorFit:
    """The fit with the true positives' IoU counts (core.label_fit) of its analysis."""
    return replace(fit, tp_iou_counts=None if counts is None else tuple(int(n) for n in counts))


def score(
    raw: np.ndarray,
    params: AnalysisParams,
    fit: DetectorFit,
    best_iou: np.ndarray | None = None,
    contained: np.ndarray | None = None,
    context: np.ndarray | None = None,
    image_found: np.ndarray | None = None,
) -> np.ndarray:
    """Scores of the rows, wrong_class discounted by the fit's habits (if it has them), (score
    version 4) inaccurate_label by how well the detector fits the label: ``best_iou`` per row,
    nan where it does not apply (core.label_fit.row_best_iou), (score version 5)
    missing_label by its prediction's containment in a same-class label: ``contained`` per
    row, nan where it does not apply (core.containment.row_containment), and (score version 6)
    missing_label by its prediction's same-class context and wrong_class by its label's:
    ``context`` per row, nan where it does not apply (core.class_context.row_context), by the
    fit's context totals; (score version 7) wrong_class also by its prediction's context and
    inaccurate_label by its prediction's being on a part (core.part_context), both on the
    probability in their own term; (score version 10) a spurious_label of a class the fit's
    prediction set never predicts scores 0 (:func:`unseen_class_spurious`; fitted analyses)
    and every spurious_label's score is weighed by the detector's recall (:func:`set_recall`);
    (score version 11) by the share of the other labels of its image the detector found,
    shrunk towards that recall: ``image_found`` per row, (n, 2), nan where it does not apply
    (core.image_recall.row_image_found).
    With ``params.scores`` "comparable", a missing_label's probability is the fit's pooled
    curve's (core.score_scale.comparable_missing)."""
    if params.scores == "comparable":
        raw = score_scale.comparable_missing(raw, fit.score_scale, fit.sorted_reference())
    out = _score(raw, params, fit, best_iou)
    if params.score_version >= 10 and len(out):
        out[unseen_class_spurious(raw, fit)] = 0.0
        recall = set_recall(fit)
        if recall is not None:
            spurious = raw[:, 0].astype(np.int64) == KIND_CODE["spurious_label"]
            if params.score_version >= 11 and image_found is not None:
                out[spurious] *= image_recall.weight(image_found[spurious], recall)
            else:
                out[spurious] *= recall
    if contained is not None and params.score_version >= 5 and len(out):
        out = containment.discount(out, contained)
    if (
        context is not None
        and fit.context_totals is not None
        and params.score_version >= 6
        and len(out)
    ):
        probability = None
        if params.score_version >= 7:  # the wrong_class prediction's probability by context
            probability = raw[:, SUSPECT_COL["probability"]]
            probability = np.where(
                np.isnan(probability), raw[:, SUSPECT_COL["confidence"]], probability
            )
        factor = class_context.factors(fit.context_totals, context, raw[:, 0], probability)
        out = np.clip(out * factor, 0.0, 1.0)
    return out


def set_recall(fit: DetectorFit) -> float | None:
    """The share of the set's (regular) labels its true positives matched, in [0, 1]; None
    when the fit does not know its true positives (fits stored before score version 4).

    A spurious_label's evidence, that no prediction of any class overlaps the label, holds as
    far as the detector finds labelled objects at all: a label it leaves alone is a spurious
    label or one of the (1 - recall) it misses. Its score is multiplied by the recall (1 for a
    detector that finds every labelled object). Bench (seed 5): CenterNet's scores cut at 0.5
    (131 predictions for 798 labels) left 603 labels without any prediction and 238 of the 286
    groups above the default cut spurious_labels; at 0.25, 71 of 277 (5 of 376 uncut).
    """
    if fit.tp_iou_counts is None:
        return None
    labels = sum(fit.label_counts.values())
    if labels <= 0:
        return None
    return float(min(1.0, sum(fit.tp_iou_counts) / labels))


def unseen_class_spurious(raw: np.ndarray, fit: DetectorFit) -> np.ndarray:
    """The spurious_label rows whose label's class no prediction of the fit's set has.

    A spurious_label's evidence is that the detector, which could have seen the object, put no
    prediction on it. A detector that never predicts the class at all (trained on a subset of
    the classes, or exported with some left out) says nothing about such a label: bench, the
    20 VOC classes of CenterNet / NanoDet on coco_real81 (seed 5): 60 / 56 of the suspects
    above the default cut were spurious_labels of the 60 other classes.

    Only a fitted analysis (``fit.calibration``) knows its set's classes (its sorted reference,
    kept in every way an analysis runs): without one, no row is picked.
    """
    spurious = raw[:, 0].astype(np.int64) == KIND_CODE["spurious_label"]
    if fit.calibration is None or not spurious.any():
        return np.zeros(len(raw), bool)
    classes = fit.sorted_reference().classes  # the set's classes, sorted
    cat = raw[spurious, SUSPECT_COL["category_id"]].astype(np.int64)
    at = np.clip(np.searchsorted(classes, cat), 0, max(len(classes) - 1, 0))
    seen = np.zeros(len(cat), bool) if not len(classes) else classes[at] == cat
    out = np.zeros(len(raw), bool)
    out[np.flatnonzero(spurious)[~seen]] = True
    return out


def _score(
    raw: np.ndarray,
    params: AnalysisParams,
    fit: DetectorFit,
    best_iou: np.ndarray | None,
) -> np.ndarray:
    """:func:`score` up to score version 4."""
    fit_share = None
    if best_iou is not None and fit.tp_iou_counts is not None and len(raw):
        fit_share = np.full(len(raw), np.nan)
        known = ~np.isnan(best_iou)
        fit_share[known] = label_fit.better_share(fit.tp_iou_counts, best_iou[known])
    if not len(raw) or fit.habit_totals is None:
        return score_suspects(raw, params, fit_share=fit_share)
    wrong = raw[:, 0].astype(np.int64) == KIND_CODE["wrong_class"]
    habit = np.zeros(len(raw))
    if wrong.any():
        own = raw[wrong, SUSPECT_COL["probability"]]
        own = np.where(np.isnan(own), raw[wrong, SUSPECT_COL["confidence"]], own)
        habit[wrong] = habits.habit_rates(
            raw[wrong, SUSPECT_COL["category_id"]],
            raw[wrong, SUSPECT_COL["predicted_category_id"]],
            own,
            fit.habit_totals,
            fit.label_counts,
        )
    return score_suspects(raw, params, habit, fit_share)
