"""Calibration of a detector's confidences, fitted per analysis from its own matches.

A detector's raw confidence means different things on different detectors (and on different
classes of one detector): 0.4 can be a sure hit for one and noise for another. The matching
already tells, for every prediction, whether it is a true positive. From it we learn, per class,
how likely a prediction at a given confidence is to be right, and the suspect rules compare
those probabilities instead of raw confidences.

The curve's x axis is the prediction's *score quantile*: its mid-rank among all predictions of
its class in the prediction set, in (0, 1). Ranks do not change when a detector's scores are
rescaled by any increasing function per class, so neither does anything fitted or computed from
them: the same predictions with another score scale get the same probabilities, exactly.

Per class, a probability is fitted by isotonic regression (pool adjacent violators, PAV) of the
prediction's outcome (tp = 1, fp = 0; ignored ones are left out) on its quantile. Classes with
few predictions borrow from the curve of all classes pooled: each PAV block of a class is
shrunk toward the pooled curve as if ``prior_strength`` predictions had followed it, then the
shrunk blocks are made monotone again. Between block centres the curve is linear; beyond the
outermost centres it is flat.

The fitted :class:`Calibration` is small JSON-able data (knots per class) to store with the
analysis and plot as a reliability curve; :func:`probabilities` applies it given the quantiles.
Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Quantile bins a class is summarised in before PAV (keeps the fit linear-time at any size;
# a bin is 0.1% of a class's predictions).
QUANTILE_BINS = 1000
# How many predictions' worth of weight the pooled curve has against a class's own blocks.
PRIOR_STRENGTH = 20.0
# Labels' worth added to every class's label count in its rank positions, so that the most
# confident prediction of a class without labels sits at 1/2, not at 0 (see rank_positions).
RANK_PRIOR_LABELS = 0.5
# Fewer true or false positives than this: too little evidence to fit a curve (the analysis
# then keeps the detector's raw confidences; see core.scoring.fit_detector).
MIN_OUTCOMES = 30
# Standard deviation (log-odds) of the classes' offsets from the pooled curve (class_offset).
OFFSET_SPREAD = 1.0


@dataclass(frozen=True)
class Curve:
    """A monotone map from score quantile to probability: knots, linear between, flat outside.

    ``score`` is the class's raw score at each knot's quantile (for plotting reliability against
    the detector's own confidence); ``weight`` the number of predictions behind each knot;
    ``n`` / ``tp`` the predictions (non-ignored) and true positives it was fitted on.
    """

    u: tuple[float, ...]
    p: tuple[float, ...]
    score: tuple[float, ...] = ()
    weight: tuple[float, ...] = ()
    n: int = 0
    tp: int = 0

    def __call__(self, u: np.ndarray) -> np.ndarray:
        """The curve's probability at quantiles ``u``."""
        u = np.asarray(u, dtype=np.float64)
        if not self.u:
            return np.zeros(u.shape)
        return np.interp(u, self.u, self.p)

    def to_json(self) -> dict[str, Any]:
        """JSON-able dict (knots exact, so a re-analysis computes what the analysis did)."""
        return {
            "u": list(self.u),
            "p": list(self.p),
            "score": [round(v, 6) for v in self.score],
            "weight": [round(v, 3) for v in self.weight],
            "n": self.n,
            "tp": self.tp,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Curve:
        """The curve from its JSON dict."""
        return cls(
            tuple(map(float, data["u"])),
            tuple(map(float, data["p"])),
            tuple(map(float, data.get("score", ()))),
            tuple(map(float, data.get("weight", ()))),
            int(data.get("n", 0)),
            int(data.get("tp", 0)),
        )


@dataclass(frozen=True)
class Calibration:
    """Per-class curves and the pooled curve that classes without their own fall back to."""

    overall: Curve
    classes: dict[int, Curve] = field(default_factory=dict)
    prior_strength: float = PRIOR_STRENGTH

    def curve(self, category_id: int) -> Curve:
        """The curve of a class (the pooled one if the class had no fitted predictions)."""
        return self.classes.get(int(category_id), self.overall)

    def to_json(self) -> dict[str, Any]:
        """JSON-able dict: ``{"x": "score_quantile", "overall": ..., "classes": {id: ...}}``."""
        return {
            "x": "score_quantile",
            "prior_strength": self.prior_strength,
            "overall": self.overall.to_json(),
            "classes": {str(c): v.to_json() for c, v in sorted(self.classes.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        """The calibration from its JSON dict."""
        return cls(
            Curve.from_json(data["overall"]),
            {int(c): Curve.from_json(v) for c, v in data.get("classes", {}).items()},
            float(data.get("prior_strength", PRIOR_STRENGTH)),
        )


class RankReference:
    """A prediction set's (class, score) pairs sorted once, for :func:`rank_positions` of any
    number of queries (an analysis asks once per chunk of images)."""

    def __init__(self, ref_categories: np.ndarray, ref_scores: np.ndarray) -> None:
        cats = np.asarray(ref_categories, dtype=np.int64)
        scores = np.asarray(ref_scores, dtype=np.float64)
        self.classes = np.unique(cats)
        self.values = np.unique(scores)
        # one integer key per pair, sorted: class first, then the score's place among all scores
        keys = np.searchsorted(self.classes, cats)
        keys *= len(self.values) + 1
        keys += np.searchsorted(self.values, scores)
        keys.sort()
        self.keys = keys
        self.class_end = np.searchsorted(
            self.keys, (np.arange(len(self.classes)) + 1) * (len(self.values) + 1)
        )

    def positions(
        self, label_counts: dict[int, int], categories: np.ndarray, scores: np.ndarray
    ) -> np.ndarray:
        """The rank positions of these (class, score) pairs (see :func:`rank_positions`)."""
        categories = np.asarray(categories, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float64)
        x = np.ones(len(scores))
        if not len(scores) or not len(self.classes):
            return x
        step = 1 << 20  # a million at a time: the temporaries stay small for any set
        for a in range(0, len(scores), step):
            x[a : a + step] = self._positions(
                label_counts, categories[a : a + step], scores[a : a + step]
            )
        return x

    def _positions(
        self, label_counts: dict[int, int], categories: np.ndarray, scores: np.ndarray
    ) -> np.ndarray:
        x = np.ones(len(scores))
        cls = np.minimum(np.searchsorted(self.classes, categories), len(self.classes) - 1)
        known = self.classes[cls] == categories
        place = _sorted_search(self.values, scores)
        exact = (place < len(self.values)) & (
            self.values[np.minimum(place, len(self.values) - 1)] == scores
        )
        key = cls * (len(self.values) + 1) + place
        lo = _sorted_search(self.keys, key)  # the class's scores below
        hi = _sorted_search(self.keys, key + exact)  # ... and equal to it
        above = self.class_end[cls] - hi
        rank = above + np.maximum(hi - lo - 1, 0) / 2.0
        prior = np.array(
            [float(label_counts.get(c, 0)) + RANK_PRIOR_LABELS for c in self.classes.tolist()]
        )
        n = prior[cls]
        x[known] = (n / (n + rank + 0.5))[known]
        return x


def _sorted_search(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """``np.searchsorted(haystack, needles)`` with the needles looked up in sorted order (the
    same result, several times faster on a large haystack: the lookups walk it in order)."""
    order = np.argsort(needles, kind="stable")
    out = np.empty(len(needles), dtype=np.int64)
    out[order] = np.searchsorted(haystack, needles[order])
    return out


def rank_positions(
    ref_categories: np.ndarray,
    ref_scores: np.ndarray,
    label_counts: dict[int, int],
    categories: np.ndarray | None = None,
    scores: np.ndarray | None = None,
    reference: RankReference | None = None,
) -> np.ndarray:
    """Each score's rank position in its class: ``n / (n + r + 1/2)`` in (0, 1).

    ``r`` is the score's mid-rank from the top among the reference scores of its class (0 for
    the most confident; tied scores share it) and ``n`` the class's number of labels plus
    :data:`RANK_PRIOR_LABELS`: the position is about 1/2 or more for a class's n most confident
    predictions, the ones a perfect detector would have matched. It depends on ranks only, so
    it is the same for any increasing rescaling of a class's scores, and it means about the
    same on classes with many or few labels (a pooled curve over it fits every class roughly).

    The reference is the whole prediction set (so a re-analysis of some images gets the
    positions the full analysis had); by default the positions of the reference itself.
    ``reference``: the same reference already sorted (:class:`RankReference`).
    """
    if categories is None or scores is None:
        categories, scores = ref_categories, ref_scores
    if reference is None:
        reference = RankReference(ref_categories, ref_scores)
    return reference.positions(label_counts, categories, scores)


def _pav(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted isotonic (non-decreasing) fit of ``y`` in order: each point's block index, and
    the blocks' values (strictly increasing)."""
    values: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist(), strict=True):
        values.append(yi)
        weights.append(wi)
        sizes.append(1)
        while len(values) > 1 and values[-2] >= values[-1]:
            wv = weights[-2] + weights[-1]
            v = (values[-2] * weights[-2] + values[-1] * weights[-1]) / wv if wv > 0 else values[-1]
            sizes[-2] += sizes[-1]
            values[-2], weights[-2] = v, wv
            del values[-1], weights[-1], sizes[-1]
    return np.repeat(np.arange(len(sizes)), sizes), np.asarray(values)


def _bins(u: np.ndarray, y: np.ndarray, extra: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Per non-empty quantile bin: count, sum of y, sum of u (and of ``extra``), in u order."""
    b = np.minimum((u * QUANTILE_BINS).astype(np.int64), QUANTILE_BINS - 1)
    n = np.bincount(b, minlength=QUANTILE_BINS).astype(np.float64)
    sums = [np.bincount(b, weights=v, minlength=QUANTILE_BINS) for v in (y, u)]
    if extra is not None:
        sums.append(np.bincount(b, weights=extra, minlength=QUANTILE_BINS))
    full = n > 0
    return (n[full], *(s[full] for s in sums))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1.0 - 1e-4)
    return np.log(p / (1.0 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def class_offset(prior_logit: np.ndarray, y: np.ndarray, spread: float = OFFSET_SPREAD) -> float:
    """A class's shift of the pooled curve in log-odds, fitted on all its predictions.

    Maximum a posteriori ``b`` of ``P(tp) = sigmoid(prior_logit + b)`` with a normal prior of
    standard deviation ``spread`` on ``b`` (Newton's method): a class whose predictions are right
    less often than the pooled curve says gets a negative offset, from all of its data at once.
    """
    b = 0.0
    for _ in range(50):
        q = _sigmoid(prior_logit + b)
        grad = float(np.sum(y - q)) - b / spread**2
        hess = float(np.sum(q * (1.0 - q))) + 1.0 / spread**2
        step = grad / hess
        b += step
        if abs(step) < 1e-9:
            break
    return b


def _fit(u: np.ndarray, y: np.ndarray, prior: np.ndarray | None, strength: float) -> Curve:
    """One curve by isotonic regression of y on u; with ``prior`` (a probability per point),
    each block shrunk toward the prior's mean over it, then made monotone again."""
    if prior is None:
        n, sy, su = _bins(u, y)
        block, value = _pav(sy / n, n)
        weight = np.bincount(block, weights=n)
    else:
        n, sy, su, sprior = _bins(u, y, prior)
        block, value = _pav(sy / n, n)
        bn = np.bincount(block, weights=n)
        shrunk = np.bincount(block, weights=sy) + strength * np.bincount(block, weights=sprior) / bn
        shrunk /= bn + strength
        # the shrunk blocks may violate monotonicity: fit again, blocks as points
        block2, value = _pav(shrunk, bn + strength)
        block = block2[block]
        weight = np.bincount(block, weights=n)
    knot_u = np.bincount(block, weights=su) / weight
    return Curve(
        tuple(knot_u.tolist()),
        tuple(np.clip(value, 0.0, 1.0).tolist()),
        weight=tuple(weight.tolist()),
        n=int(len(u)),
        tp=int(round(float(y.sum()))),
    )


def _knot_scores(curve: Curve, scores: np.ndarray, labels: int) -> Curve:
    """The curve with each knot's raw score (the class's score at that position) filled in."""
    if not curve.u or not len(scores):
        return curve
    desc = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    n = labels + RANK_PRIOR_LABELS
    rank = n / np.maximum(np.asarray(curve.u), 1e-12) - n - 0.5
    q = desc[np.clip(np.rint(rank), 0, len(desc) - 1).astype(np.int64)]
    return Curve(curve.u, curve.p, tuple(q.tolist()), curve.weight, curve.n, curve.tp)


def fit_calibration(
    categories: np.ndarray,
    positions: np.ndarray,
    is_tp: np.ndarray,
    label_counts: dict[int, int],
    counted: np.ndarray | None = None,
    scores: np.ndarray | None = None,
    prior_strength: float = PRIOR_STRENGTH,
) -> Calibration:
    """Fit the pooled and per-class curves from each prediction's rank position and outcome.

    Per class the prior is the pooled curve shifted by the class's :func:`class_offset`.
    ``counted`` marks the predictions to learn from (tp or fp; not the ignored ones); ``scores``
    (optional, raw) only label the knots for plotting.
    """
    categories = np.asarray(categories, dtype=np.int64)
    u = np.asarray(positions, dtype=np.float64)
    y = np.asarray(is_tp, dtype=np.float64)
    keep = np.ones(len(u), bool) if counted is None else np.asarray(counted, bool)
    if not keep.any():
        return Calibration(Curve((0.5,), (0.0,)), {}, prior_strength)
    overall = _fit(u[keep], y[keep], None, prior_strength)
    classes: dict[int, Curve] = {}
    every = _by_class(categories, np.arange(len(categories)))  # one sort for both uses
    for c, members in every.items():  # each class's predictions in their order
        sel = members[keep[members]]
        if not len(sel):
            continue
        g = _logit(overall(u[sel]))
        prior = _sigmoid(g + class_offset(g, y[sel]))
        curve = _fit(u[sel], y[sel], prior, prior_strength)
        if scores is not None:
            curve = _knot_scores(curve, np.asarray(scores)[every[c]], label_counts.get(c, 0))
        classes[c] = curve
    return Calibration(overall, classes, prior_strength)


def _by_class(categories: np.ndarray, indices: np.ndarray) -> dict[int, np.ndarray]:
    """``indices`` grouped by their category, ascending within each class (one sort)."""
    order = indices[np.argsort(categories[indices], kind="stable")]
    classes, starts = np.unique(categories[order], return_index=True)
    ends = np.r_[starts[1:], len(order)].astype(np.int64)
    return {
        c: order[s:e]
        for c, s, e in zip(classes.tolist(), starts.tolist(), ends.tolist(), strict=True)
    }


def probabilities(
    calibration: Calibration, categories: np.ndarray, positions: np.ndarray
) -> np.ndarray:
    """The calibrated probability of each prediction (its class's curve at its position)."""
    categories = np.asarray(categories, dtype=np.int64)
    u = np.asarray(positions, dtype=np.float64)
    out = calibration.overall(u)
    for c, sel in _by_class(categories, np.arange(len(categories))).items():
        curve = calibration.classes.get(c)
        if curve is not None:
            out[sel] = curve(u[sel])
    return out
