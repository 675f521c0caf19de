"""Do a prediction set's raw scores mean the same across classes? A diagnostic fitted per
analysis, and the pooled curve the opt-in ``scores="comparable"`` mode scores missing labels by.

The analysis calibrates each class on its own (core.calibration: a curve per class over the
prediction's rank position in its class), so a detector whose classes have different score
scales ranks the same as one whose scores are comparable. Some detectors (YOLO-style, trained
with one loss over all classes) do give scores that mean the same on every class; the per-class
curves then throw that away. Whether they do is measured from the matches: one *pooled* curve
of the same logistic form over the prediction's rank position among *all* predictions of the
set (its raw score against every class's scores) against the per-class curves, each fitted on
:data:`FOLDS` - 1 of the predictions and scored on the rest (cross-validated log loss of tp vs
fp, nats per prediction). The scores are comparable when the pooled curve predicts the
held-out matches at least as well as the per-class ones (its log loss is not higher): no
margin, so no constant to choose. Both curves are over rank positions, so the verdict is the
same for any increasing rescaling of *all* scores together; only a rescaling per class changes
it. (A margin of 2% was tried first: the blurred CenterNet scores, 1-2% above, fell on both
sides of it by seed; see bench/quality_log.md.)

Pure numpy: no Qt, no store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import calibration
from .calibration import Curve
from .errors import KIND_CODE, SUSPECT_COL

# Held-out parts of the matched predictions (contiguous runs in match order: mostly whole images).
FOLDS = 5
# At most this many counted (tp or fp) predictions, evenly spaced, are cross-validated on (the
# diagnostic fits 2 x FOLDS curves; the pooled curve itself is fitted on all of them).
MAX_DIAGNOSED = 200_000
# Probabilities are kept this far from 0 and 1 in the log loss (a curve's flat end at 0 or 1
# would make one surprise infinite).
LOSS_EPS = 1e-6
# The one pseudo-class all predictions share in the pooled fit.
_ALL = 0


@dataclass(frozen=True)
class ScoreScale:
    """The diagnostic and the pooled curve: ``pooled_loss`` / ``class_loss`` the held-out log
    losses (nats per prediction) over ``n`` matched predictions; ``curve`` the pooled curve
    over the set-wide rank position (fitted on all matched predictions) with ``labels`` the
    set's regular label count its positions are taken against."""

    pooled_loss: float
    class_loss: float
    n: int
    curve: Curve
    labels: int
    # the set's distinct scores and how many predictions have each, for pooled_probability
    # (a cache, made from the fit's sorted reference when first needed)
    table: tuple[np.ndarray, np.ndarray] | None = field(default=None, compare=False, repr=False)

    @property
    def comparable(self) -> bool:
        """The scores mean about the same on every class (see the module docstring)."""
        return comparable(self.pooled_loss, self.class_loss)

    def to_json(self) -> dict[str, Any]:
        """JSON-able dict (the curve exact: a re-analysis scores as the analysis did)."""
        return {
            "pooled_loss": self.pooled_loss,
            "class_loss": self.class_loss,
            "n": self.n,
            "comparable": self.comparable,
            "labels": self.labels,
            "curve": self.curve.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoreScale:
        """The diagnostic from its JSON dict."""
        return cls(
            float(data["pooled_loss"]),
            float(data["class_loss"]),
            int(data["n"]),
            Curve.from_json(data["curve"]),
            int(data["labels"]),
        )


def comparable(pooled_loss: float, class_loss: float) -> bool:
    """The verdict from the two held-out log losses (see the module docstring)."""
    return pooled_loss <= class_loss


def sentence(
    pooled_loss: float, class_loss: float, used: bool, option: str = "`--scores comparable`"
) -> str:
    """The verdict as one plain sentence (report, app); ``used``: the analysis ran with the
    comparable mode; ``option``: how the reader turns it on."""
    losses = f"(pooled log loss {pooled_loss:.3f} vs per class {class_loss:.3f})"
    if comparable(pooled_loss, class_loss):
        if used:
            return (
                f"Scores look comparable across classes {losses}: missing labels are ranked "
                f"by one curve over all classes ({option})."
            )
        return f"Scores look comparable across classes {losses}: {option} may find more missing labels."
    if used:
        return f"Scores are not comparable across classes {losses}: analyse again without {option}."
    return (
        f"Scores are not comparable across classes {losses}: keep the per-class calibration "
        "(the default)."
    )


def set_reference(ref_scores: np.ndarray) -> calibration.RankReference:
    """All of the set's scores sorted once, every class together (one pseudo-class)."""
    ref = np.asarray(ref_scores, dtype=np.float64)
    return calibration.RankReference(np.zeros(len(ref), np.int64), ref)


def set_positions(
    reference: calibration.RankReference, labels: int, scores: np.ndarray
) -> np.ndarray:
    """The rank positions of ``scores`` among all of the set's scores (calibration's rank
    positions with every class as one, of ``labels`` labels)."""
    scores = np.asarray(scores, dtype=np.float64)
    return reference.positions({_ALL: int(labels)}, np.zeros(len(scores), np.int64), scores)


def pooled_probability(
    scale: ScoreScale, reference: calibration.RankReference, scores: np.ndarray
) -> np.ndarray:
    """The pooled curve's probability that predictions with raw ``scores`` are right.

    ``reference``: the set's scores sorted by class (the fit's own, which every way an analysis
    runs keeps, also when it lets go of the set's columns): each score's rank among all of
    them is counted from its distinct scores, the same numbers :func:`set_positions` gives."""
    if scale.table is None:
        places = len(reference.values) + 1
        counts = np.bincount(reference.keys % places, minlength=places)[:-1]
        object.__setattr__(scale, "table", (reference.values, counts))  # a cache
    values, counts = scale.table
    scores = np.asarray(scores, dtype=np.float64)
    place = np.searchsorted(values, scores)
    exact = (place < len(values)) & (values[np.minimum(place, len(values) - 1)] == scores)
    below = np.r_[0, np.cumsum(counts)]
    equal = np.where(exact, counts[np.minimum(place, len(values) - 1)], 0)
    above = below[-1] - below[place] - equal
    rank = above + np.maximum(equal - 1, 0) / 2.0
    n = float(scale.labels) + calibration.RANK_PRIOR_LABELS
    return scale.curve(n / (n + rank + 0.5))


def diagnose(
    categories: np.ndarray,
    class_positions: np.ndarray,
    ref_scores: np.ndarray,
    scores: np.ndarray,
    is_tp: np.ndarray,
    counted: np.ndarray,
    label_counts: dict[int, int],
) -> ScoreScale | None:
    """The diagnostic of matched predictions (class, rank position in its class, raw score,
    outcome; ``counted``: tp or fp) of a set whose scores are ``ref_scores``; None with too few
    counted ones to hold any out. Up to :data:`MAX_DIAGNOSED` of the counted predictions,
    evenly spaced, are used (for the pooled curve too)."""
    keep = np.flatnonzero(np.asarray(counted, bool))
    y_all = np.asarray(is_tp, dtype=np.float64)
    n_tp = int(y_all[keep].sum())
    if min(n_tp, len(keep) - n_tp) < calibration.MIN_OUTCOMES:
        return None
    if len(keep) > MAX_DIAGNOSED:
        keep = keep[np.unique(np.linspace(0, len(keep) - 1, MAX_DIAGNOSED).astype(np.int64))]
    labels = int(sum(label_counts.values()))
    reference = set_reference(ref_scores)
    u_set = set_positions(reference, labels, np.asarray(scores, np.float64)[keep])
    cats = np.asarray(categories, dtype=np.int64)[keep]
    u_class = np.asarray(class_positions, dtype=np.float64)[keep]
    y = y_all[keep]
    one_class = np.zeros(len(keep), np.int64)
    pooled = _fit(one_class, u_set, y, {_ALL: labels})
    fold = (np.arange(len(keep)) * FOLDS) // len(keep)  # runs in match order: mostly images
    losses = np.zeros(2)
    for k in range(FOLDS):
        train, test = fold != k, fold == k
        per_class = _fit(cats[train], u_class[train], y[train], label_counts)
        one = _fit(one_class[train], u_set[train], y[train], {_ALL: labels})
        losses[0] += _log_loss(
            calibration.probabilities(one, one_class[test], u_set[test]), y[test]
        )
        losses[1] += _log_loss(
            calibration.probabilities(per_class, cats[test], u_class[test]), y[test]
        )
    losses /= len(keep)
    return ScoreScale(
        float(losses[0]),
        float(losses[1]),
        int(len(keep)),
        pooled.classes.get(_ALL, pooled.overall),
        labels,
    )


def _fit(
    cats: np.ndarray, u: np.ndarray, y: np.ndarray, counts: dict[int, int]
) -> calibration.Calibration:
    return calibration.fit_calibration(cats, u, y, counts)


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """The summed log loss of probabilities ``p`` for outcomes ``y`` (1 tp, 0 fp)."""
    p = np.clip(p, LOSS_EPS, 1.0 - LOSS_EPS)
    return float(-np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def comparable_missing(
    raw: np.ndarray, scale: ScoreScale | None, reference: calibration.RankReference
) -> np.ndarray:
    """Suspect rows (core.errors.SUSPECT_COL) with each missing_label's ``probability`` the
    pooled curve's at its raw ``confidence`` (the rows themselves without a ``scale``).

    The pooled probability, not the raw confidence itself: on the tuning seeds 0-4 it ranks
    as well or better (missing_label AP CenterNet 0.278 against 0.274, all kinds 0.551 against
    0.547) and stays a probability on the scale of the other kinds' scores, whatever the
    detector's score scale (bench/quality_log.md)."""
    if scale is None or not len(raw):
        return raw
    missing = raw[:, 0].astype(np.int64) == KIND_CODE["missing_label"]
    if not missing.any():
        return raw
    out = raw.copy()
    conf = raw[missing, SUSPECT_COL["confidence"]]
    out[missing, SUSPECT_COL["probability"]] = pooled_probability(scale, reference, conf)
    return out
