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

Per class, the probability is a logistic curve in the position's log-odds ``z``:
``sigmoid(a + b z + q z^2)``. All classes pooled give ``q`` (the curve's bend: near the top of
a class, more of its predictions are right, but not all) and the centre of normal priors
(standard deviations :data:`CLASS_SD`) on each class's own intercept ``a`` and slope ``b``,
fitted by maximum a posteriori: a class with few predictions keeps about the pooled curve, one
with many follows its own data. A class's curve is stored as knots at up to
:data:`CURVE_KNOTS` of its predictions' positions, never decreasing. (Isotonic curves per
class, shrunk toward the pooled one, were used first: their blocks, fitted on a few dozen
predictions each, ordered the classes' predictions against each other worse; see
bench/bench_quality.py.) All classes pooled, an isotonic regression (pool adjacent violators,
PAV) of the outcome (tp = 1, fp = 0; ignored ones are left out) on the position is the curve of
classes without fitted predictions. Between knots a curve is linear; beyond the outermost
ones it is flat.

The fitted :class:`Calibration` is small JSON-able data (knots per class) to store with the
analysis and plot as a reliability curve; :func:`probabilities` applies it given the quantiles.
Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Quantile bins the pooled predictions are summarised in before PAV (keeps the fit linear-time;
# a bin is 0.1% of the positions).
QUANTILE_BINS = 1000
# Standard deviations of the normal priors on a class's logistic intercept and slope around the
# pooled curve's (log-odds, and log-odds per unit of the position's log-odds).
CLASS_SD = (1.0, 1.0)
# Standard deviation of the (nearly flat) priors of the pooled curve's coefficients.
POOLED_SD = 100.0
# Knots a class's curve is stored with (at its predictions' positions, evenly by rank).
CURVE_KNOTS = 16
# Labels' worth added to every class's label count in its rank positions, so that the most
# confident prediction of a class without labels sits at 1/2, not at 0 (see rank_positions).
RANK_PRIOR_LABELS = 0.5
# Fewer true or false positives than this: too little evidence to fit a curve (the analysis
# then keeps the detector's raw confidences; see core.scoring.fit_detector).
MIN_OUTCOMES = 30


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
    """Per-class curves and the pooled curve that classes without their own fall back to.

    ``method`` says how the class curves were fitted: "logistic" (this module), or "isotonic"
    (analyses stored before it; their knots are applied the same way)."""

    overall: Curve
    classes: dict[int, Curve] = field(default_factory=dict)
    method: str = "logistic"

    def curve(self, category_id: int) -> Curve:
        """The curve of a class (the pooled one if the class had no fitted predictions)."""
        return self.classes.get(int(category_id), self.overall)

    def to_json(self) -> dict[str, Any]:
        """JSON-able dict: ``{"x": "score_quantile", "overall": ..., "classes": {id: ...}}``."""
        return {
            "x": "score_quantile",
            "method": self.method,
            "overall": self.overall.to_json(),
            "classes": {str(c): v.to_json() for c, v in sorted(self.classes.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        """The calibration from its JSON dict."""
        return cls(
            Curve.from_json(data["overall"]),
            {int(c): Curve.from_json(v) for c, v in data.get("classes", {}).items()},
            str(data.get("method", "isotonic")),
        )


class RankReference:
    """A prediction set's (class, score) pairs sorted once, for :func:`rank_positions` of any
    number of queries (an analysis asks once per chunk of images)."""

    def __init__(
        self, ref_categories: np.ndarray, ref_scores: np.ndarray, own: bool = False
    ) -> None:
        """``own``: :meth:`own_positions` will be asked once (it keeps a sort order, 8 bytes
        a pair, until then, and hands it on to the fit of the positions it returns; the sort
        takes a few more temporaries of that size)."""
        cats = np.asarray(ref_categories, dtype=np.int64)
        scores = np.asarray(ref_scores, dtype=np.float64)
        self.classes, cls = _class_index(cats)
        self._own: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._positions_order: tuple[np.ndarray, np.ndarray] | None = None
        keys, order = self._sorted_keys(cls, scores, own)
        del cls
        self.keys = keys
        self.class_end = np.searchsorted(
            self.keys, (np.arange(len(self.classes)) + 1) * (len(self.values) + 1)
        )
        if order is not None:  # kept for own_positions (dropped when used)
            self._own = (cats, scores, order)

    def _sorted_keys(
        self, cls: np.ndarray, scores: np.ndarray, own: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Sets ``values`` (the distinct scores, ascending); returns the pairs' keys (from
        each one's class index ``cls``), sorted (class first, then the score's place among all
        scores), and the order that sorts them (None unless ``own``, and for scores with nan
        or too many classes)."""
        if not own or np.isnan(scores).any() or len(self.classes) >= 1 << 15:
            self.values = np.unique(scores)
            keys = cls  # in place: at 20M pairs each temporary is 160 MB
            keys *= len(self.values) + 1
            keys += np.searchsorted(self.values, scores)
            keys.sort()
            return keys, None
        # one stable sort of the scores gives both np.unique's values and every score's place
        # among them (np.searchsorted's left side: equal scores share it); then a stable radix
        # sort of the classes in that order sorts the keys
        by_score = np.argsort(scores, kind="stable")
        ordered = scores[by_score]
        new = np.empty(len(ordered), dtype=bool)
        new[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        self.values = ordered[new]
        place = np.empty(len(scores), dtype=np.int64)
        place[by_score] = np.cumsum(new) - 1
        del ordered, new
        order = by_score[np.argsort(cls[by_score].astype(np.int16), kind="stable")]
        keys = cls * (len(self.values) + 1) + place
        return keys[order], order

    def own_positions(
        self, label_counts: dict[int, int], categories: np.ndarray, scores: np.ndarray
    ) -> np.ndarray:
        """:meth:`positions` of the reference's own pairs (the very arrays it was made from,
        else those positions are computed as for any pairs): the same numbers from the sort
        the reference made, without a search per pair."""
        own = self._own
        self._own = None  # one use: the order is as large as the set
        if own is None or own[0] is not categories or own[1] is not scores or not len(scores):
            return self.positions(label_counts, categories, scores)
        order = own[2]
        keys = self.keys
        new = np.empty(len(keys), dtype=bool)
        new[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        run = np.cumsum(new) - 1
        run_start = np.flatnonzero(new)
        run_end = np.append(run_start[1:], len(keys))
        lo, hi = run_start[run], run_end[run]  # each sorted pair's run of equal keys
        stride = len(self.values) + 1
        cls = keys // stride
        above = self.class_end[cls] - hi
        rank = above + np.maximum(hi - lo - 1, 0) / 2.0
        prior = np.array(
            [float(label_counts.get(c, 0)) + RANK_PRIOR_LABELS for c in self.classes.tolist()]
        )
        n = prior[cls]
        x = np.empty(len(keys))
        x[order] = n / (n + rank + 0.5)
        # the sort order is also the pairs' (class, position) order, ties in position order
        # (a higher score has a higher position): fit_calibration sorts by those
        self._positions_order = (x, order)
        return x

    def positions_order(self, positions: np.ndarray) -> np.ndarray | None:
        """The (class, position) order of :meth:`own_positions`' very result (handed out
        once; None for any other array), for :func:`fit_calibration`'s ``order``."""
        kept = self._positions_order
        if kept is None or kept[0] is not positions:
            return None
        self._positions_order = None  # as large as the set: not kept once used
        return kept[1]

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


def _class_index(cats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(cats)`` and each one's index in it (np.searchsorted): by a table over the
    range of the class ids where it is small (no sort of the column)."""
    if len(cats):
        lo, hi = int(cats.min()), int(cats.max())
        if hi - lo < 4 * len(cats) + 65_536:
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[cats - lo] = True
            index = np.cumsum(present) - 1
            return np.flatnonzero(present) + lo, index[cats - lo]
    classes = np.unique(cats)
    return classes, np.searchsorted(classes, cats)


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


def _bins(u: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per non-empty quantile bin: count, sum of y, sum of u, in u order."""
    b = np.minimum((u * QUANTILE_BINS).astype(np.int64), QUANTILE_BINS - 1)
    n = np.bincount(b, minlength=QUANTILE_BINS).astype(np.float64)
    sums = [np.bincount(b, weights=v, minlength=QUANTILE_BINS) for v in (y, u)]
    full = n > 0
    return (n[full], *(s[full] for s in sums))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1.0 - 1e-4)
    return np.log(p / (1.0 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def logistic_map(
    x: np.ndarray,
    y: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray | tuple[float, ...],
    offset: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Maximum a posteriori coefficients ``c`` of ``P(tp) = sigmoid(x @ c + offset)`` for
    outcomes ``y`` in [0, 1], with independent normal priors (``mean``, ``sd``) on them
    (Newton's method)."""
    cols = [np.ascontiguousarray(x[:, j], dtype=np.float64) for j in range(x.shape[1])]
    y = np.asarray(y, dtype=np.float64)

    def rows(lo: int, hi: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | float]:
        off = offset[lo:hi] if isinstance(offset, np.ndarray) and offset.ndim else offset
        return [col[lo:hi] for col in cols], y[lo:hi], off

    return _newton(len(y), rows, mean, sd)


# Rows a fit's sums take at a time: its temporaries are a few MB whatever the set's size. The
# sums are numpy's pairwise sums of the whole columns, split where numpy splits them, so a
# fit in slices is bit for bit the fit of the whole arrays (see _pairwise).
FIT_SLICE = 1 << 16

# Counted predictions up to which a fit keeps its design columns (3 x 8 bytes each) between
# its Newton steps (above, they are made again slice by slice in every step), and sorts them
# by stable sorts rather than np.lexsort (_fit_order).
FIT_CACHE_ROWS = 4_000_000

# rows(lo, hi) -> (design columns, outcomes, offset) of the fit's rows lo..hi; a column None
# is a column of ones (its products are left out: the same floats, fewer passes over the rows)
Rows = Callable[[int, int], tuple[list["np.ndarray | None"], np.ndarray, "np.ndarray | float"]]


def _newton(n: int, rows: Rows, mean: np.ndarray, sd: np.ndarray | tuple[float, ...]) -> np.ndarray:
    """:func:`logistic_map` over ``n`` rows handed out in slices by ``rows``."""
    c = np.asarray(mean, dtype=np.float64).copy()
    mean = c.copy()
    precision = 1.0 / np.asarray(sd, dtype=np.float64) ** 2
    k = len(c)
    pairs = [(i, j) for i in range(k) for j in range(i, k)]

    def sums(lo: int, hi: int) -> np.ndarray:
        cols, y, offset = rows(lo, hi)
        q = _sigmoid(_linear(cols, c, hi - lo) + offset)
        r, w = y - q, q * (1.0 - q)
        # sums column by column, not BLAS products: those may add in another order from one
        # run to the next (by the arrays' alignment), and a re-analysis must fit the same
        grad = [np.sum(_times(cols[i], r)) for i in range(k)]
        return np.array(grad + [np.sum(_times(cols[i], cols[j], w)) for i, j in pairs])

    for _ in range(100):
        total = _pairwise(n, sums)
        grad = total[:k] - precision * (c - mean)
        hess = np.diag(precision)
        for (i, j), s in zip(pairs, total[k:].tolist(), strict=True):
            hess[i, j] = hess[j, i] = hess[i, j] + s
        step = np.linalg.solve(hess, grad)
        c += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return c


def _pairwise(n: int, sums: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """The vector ``sums(0, n)`` computed in slices of at most :data:`FIT_SLICE` rows, where
    ``sums(lo, hi)`` is a vector of ``np.sum`` over rows lo..hi. ``np.sum`` of a long array
    adds pairwise: the sum of its first ``m`` items (half, down to a multiple of 8) plus the
    sum of the rest, recursively; splitting at the same places gives the very same floats."""
    if FIT_SLICE < 128:  # numpy adds up to 128 items in one unrolled loop, not in halves
        raise ValueError("FIT_SLICE must be at least 128")

    def part(lo: int, m: int) -> np.ndarray:
        if m <= FIT_SLICE:
            return sums(lo, lo + m)
        half = m // 2
        half -= half % 8
        return part(lo, half) + part(lo + half, m - half)

    return part(0, n)


def _linear(cols: list[np.ndarray | None], c: np.ndarray, n: int | None = None) -> np.ndarray:
    """``x @ c`` from x's columns, term by term (the same sums in every run); a column None
    is a column of ``n`` ones (its terms are the coefficient itself: 1 x c = c exactly)."""
    if cols[0] is None:
        if len(cols) == 1:
            return np.full(n, c[0])
        out = cols[1] * c[1]
        out += c[0]  # c0 + z c1 in either order: the same float
        rest = zip(cols[2:], c[2:], strict=True)
    else:
        out = cols[0] * c[0]
        rest = zip(cols[1:], c[1:], strict=True)
    for col, coef in rest:
        out = out + (_times(None, coef) if col is None else col * coef)
    return out


def _times(*factors: np.ndarray | float | None) -> np.ndarray | float:
    """The product of the factors from the left, a None standing for ones (left out: 1 x a
    is a exactly, so the product is the same float)."""
    out = None
    for f in factors:
        if f is not None:
            out = f if out is None else out * f
    return 1.0 if out is None else out


def _design(u: np.ndarray) -> np.ndarray:
    """The logistic curves' inputs: 1, the position's log-odds z and z^2."""
    z = _logit(u)
    return np.column_stack([np.ones(len(u)), z, z * z])


def _ascending(x: np.ndarray) -> bool:
    """True if ``np.sort(x)`` is ``x`` itself, bit for bit: non-decreasing, no nan, and no
    -0.0 (np.sort may put it either side of an equal 0.0)."""
    if len(x) < 2:
        return True
    if not np.all(x[1:] >= x[:-1]):  # nan fails it
        return False
    zero = x == 0.0
    return not (zero.any() and np.signbit(x[zero]).any())


def _unique(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)``, without its sort where ``x`` is sorted already (:func:`_ascending`)."""
    x = np.asarray(x)
    if x.dtype != np.float64 or not _ascending(x):
        return np.unique(x)
    new = np.empty(len(x), dtype=bool)
    new[:1] = True
    np.not_equal(x[1:], x[:-1], out=new[1:])
    return x[new]


def _class_curve(
    coef: np.ndarray, positions: np.ndarray, u_fit: np.ndarray, y_fit: np.ndarray
) -> Curve:
    """The logistic curve ``coef`` (on :func:`_design`) as knots at up to :data:`CURVE_KNOTS`
    of ``positions`` (a class's predictions, evenly by rank: the curve spans all of them), made
    non-decreasing; each knot's weight is the fitted predictions up to it from the last."""
    grid = _unique(positions)
    if len(grid) > CURVE_KNOTS:
        pick = np.rint(np.linspace(0, len(grid) - 1, CURVE_KNOTS)).astype(np.int64)
        grid = grid[np.unique(pick)]
    design = _design(grid)
    p = _sigmoid(_linear([design[:, j] for j in range(design.shape[1])], coef))
    p = np.maximum.accumulate(p)  # past its peak: flat
    nearest = np.clip(np.searchsorted(grid, u_fit), 0, len(grid) - 1)
    return Curve(
        tuple(grid.tolist()),
        tuple(np.clip(p, 0.0, 1.0).tolist()),
        weight=tuple(np.bincount(nearest, minlength=len(grid)).astype(np.float64).tolist()),
        n=int(len(u_fit)),
        tp=int(round(float(np.sum(y_fit)))),
    )


def _fit(u: np.ndarray, y: np.ndarray) -> Curve:
    """The pooled curve: isotonic regression of y on u (in quantile bins)."""
    return _isotonic(*_bins(u, y), len(u), float(y.sum()))


def _isotonic(n: np.ndarray, sy: np.ndarray, su: np.ndarray, count: int, tp: float) -> Curve:
    """The isotonic curve of binned outcomes (:func:`_bins`) of ``count`` predictions with
    ``tp`` true positives."""
    block, value = _pav(sy / n, n)
    weight = np.bincount(block, weights=n)
    knot_u = np.bincount(block, weights=su) / weight
    return Curve(
        tuple(knot_u.tolist()),
        tuple(np.clip(value, 0.0, 1.0).tolist()),
        weight=tuple(weight.tolist()),
        n=int(count),
        tp=int(round(tp)),
    )


def _knot_scores(curve: Curve, scores: np.ndarray, labels: int) -> Curve:
    """The curve with each knot's raw score (the class's score at that position) filled in."""
    if not curve.u or not len(scores):
        return curve
    desc = np.asarray(scores, dtype=np.float64)
    if not _ascending(desc):  # a class's scores in the fit's order usually are
        desc = np.sort(desc)
    desc = desc[::-1]
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
    class_sd: tuple[float, float] = CLASS_SD,
    order: np.ndarray | None = None,
) -> Calibration:
    """Fit the pooled and per-class curves from each prediction's rank position and outcome.

    ``counted`` marks the predictions to learn from (tp or fp; not the ignored ones); a class's
    curve spans the positions of all its predictions given. ``scores`` (optional, raw) only
    label the knots for plotting.

    Memory: besides the arguments, one sort order (8 bytes a prediction) and the counted
    predictions' positions and outcomes (9 bytes each) are held; the fit's sums run over
    slices of :data:`FIT_SLICE` rows, and one class's predictions are gathered at a time.
    ``order``: the predictions in (class, position) order, ties in position order, if known
    (:meth:`RankReference.positions_order`; checked, so a wrong one only costs the check).
    """
    categories = np.asarray(categories, dtype=np.int64)
    u = np.asarray(positions, dtype=np.float64)
    y = np.asarray(is_tp, dtype=np.float64)
    keep = np.ones(len(u), bool) if counted is None else np.asarray(counted, bool)
    if not keep.any():
        return Calibration(Curve((0.5,), (0.0,)), {})
    # one order for the same predictions however they come (the fit's sums add in it, so an
    # analysis in passes, reading the set in another order, fits the very same curves)
    order = _fit_order(categories, u, keep, y, order)
    sorted_cats = categories[order]
    starts = np.flatnonzero(np.r_[True, sorted_cats[1:] != sorted_cats[:-1]])
    classes = sorted_cats[starts].tolist()
    del sorted_cats
    ends = np.r_[starts[1:], len(order)].astype(np.int64)
    kept_in = np.add.reduceat(keep[order], starts, dtype=np.int64)
    kept_end = np.cumsum(kept_in)
    kept = order[keep[order]]  # the counted predictions in the fit's order
    binary = bool(np.all((y == 0.0) | (y == 1.0)))
    fit = _Counted(u[kept], (y.astype(np.int8) if binary else y)[kept])  # 0/1 in a byte
    del kept
    overall = fit.isotonic()
    pooled = _newton(fit.n, fit.rows(0, fit.n, 3), np.zeros(3), (POOLED_SD,) * 3)
    result: dict[int, Curve] = {}
    for c, a, b, ka, kb in zip(
        classes,
        starts.tolist(),
        ends.tolist(),
        (kept_end - kept_in).tolist(),
        kept_end.tolist(),
        strict=True,
    ):
        if ka == kb:
            continue
        a_b = _newton(kb - ka, fit.rows(ka, kb, 2, pooled[2]), pooled[:2], class_sd)
        members = order[a:b]  # the class's predictions, in the fit's order
        curve = _class_curve(np.r_[a_b, pooled[2]], u[members], fit.u[ka:kb], fit.y[ka:kb])
        if scores is not None:
            curve = _knot_scores(curve, np.asarray(scores)[members], label_counts.get(c, 0))
        result[c] = curve
    return Calibration(overall, result)


def _fit_order(
    categories: np.ndarray,
    u: np.ndarray,
    keep: np.ndarray,
    y: np.ndarray,
    by_position: np.ndarray | None = None,
) -> np.ndarray:
    """``np.lexsort((y, keep, u, categories))`` by stable sorts, least significant key first
    (the same order; the small keys by numpy's radix sort of 8- and 16-bit integers), up to
    :data:`FIT_CACHE_ROWS` predictions (its temporaries take about twice np.lexsort's).
    ``by_position``: the predictions in (class, position) order, ties in position order,
    if known (checked): then only the ties of (class, position) are sorted."""
    binary = bool(np.all((y == 0.0) | (y == 1.0)))
    if by_position is not None and binary and len(by_position) == len(u):
        order = _fit_order_from(categories, u, keep, y, by_position)
        if order is not None:
            return order
    if len(u) > FIT_CACHE_ROWS:
        return np.lexsort((y, keep, u, categories))
    if np.all((y == 0.0) | (y == 1.0)):
        order = np.argsort(keep.astype(np.int8) * 2 + y.astype(np.int8), kind="stable")
    else:
        order = np.lexsort((y, keep))
    order = order[np.argsort(u[order], kind="stable")]
    cats = categories[order]
    if len(cats) and int(cats.max()) - int(cats.min()) < 2**15:
        cats = (cats - int(cats.min())).astype(np.int16)
    return order[np.argsort(cats, kind="stable")]


def _fit_order_from(
    categories: np.ndarray, u: np.ndarray, keep: np.ndarray, y: np.ndarray, by: np.ndarray
) -> np.ndarray | None:
    """:func:`_fit_order` from ``by``, the predictions sorted by (class, position) with ties
    in position order (None if it is not: then the plain sorts)."""
    if len(by) < 2:
        return by.copy()
    c, v = categories[by], u[by]
    same_class = c[1:] == c[:-1]
    same = same_class & (v[1:] == v[:-1])  # a tie of (class, position) with the one before
    ascending = (c[1:] > c[:-1]) | (same_class & (v[1:] > v[:-1])) | (same & (by[1:] > by[:-1]))
    if not ascending.all():  # also nan positions (their comparisons fail)
        return None
    run = np.cumsum(np.r_[0, ~same])  # each (class, position)'s run
    k2y = keep.astype(np.int64)[by] * 2 + y.astype(np.int64)[by]
    return by[np.argsort(run * 4 + k2y, kind="stable")]  # sorted but within the runs


class _Counted:
    """The counted predictions' positions and outcomes in the fit's order, handed out as the
    logistic fits' rows slice by slice."""

    def __init__(self, u: np.ndarray, y: np.ndarray) -> None:
        self.u, self.y, self.n = u, y, len(u)
        # up to FIT_CACHE_ROWS the design's columns are made once, not in every Newton step
        # (elementwise, so the same numbers as made slice by slice)
        self._cached: tuple[np.ndarray, ...] | None = None
        if self.n <= FIT_CACHE_ROWS:
            z = _logit(u)
            self._cached = (z, z * z, y.astype(np.float64))

    def rows(self, start: int, end: int, k: int, bend: float | None = None) -> Rows:
        """Rows ``start..end`` as :func:`_design`'s first ``k`` columns, offset by ``bend``
        times its third (z^2) if given."""

        offsets: dict[tuple[int, int], np.ndarray] = {}  # each slice's, made once (cached)

        def rows(lo: int, hi: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | float]:
            a, b = start + lo, start + hi
            if self._cached is not None:
                z, zz, y = (v[a:b] for v in self._cached)
            else:
                z = _logit(self.u[a:b])
                zz, y = z * z, self.y[a:b].astype(np.float64)
            cols = [None, z] + ([zz] if k > 2 else [])  # None: the column of ones
            if bend is None:
                return cols, y, 0.0
            if self._cached is None:
                return cols, y, bend * zz
            if (a, b) not in offsets:
                offsets[(a, b)] = bend * zz
            return cols, y, offsets[(a, b)]

        return rows

    def isotonic(self) -> Curve:
        """The pooled curve: isotonic regression of y on u in quantile bins (:func:`_fit`)."""
        n = np.zeros(QUANTILE_BINS)
        sums = [np.zeros(QUANTILE_BINS), np.zeros(QUANTILE_BINS)]
        step = self.n if self.n <= FIT_CACHE_ROWS else FIT_SLICE  # small: one bincount each
        for lo in range(0, self.n, max(step, 1)):
            u, y = self.u[lo : lo + step], self.y[lo : lo + step]
            b = np.minimum((u * QUANTILE_BINS).astype(np.int64), QUANTILE_BINS - 1)
            n += np.bincount(b, minlength=QUANTILE_BINS)
            for total, v in zip(sums, (y, u), strict=True):
                if step == self.n:  # bincount adds in order from 0, as np.add.at does
                    total += np.bincount(b, weights=v, minlength=QUANTILE_BINS)
                else:
                    np.add.at(total, b, v)  # in order, as one bincount of all adds them
        full = n > 0
        tp = _pairwise(self.n, lambda lo, hi: np.array([np.sum(self.y[lo:hi])]))[0]
        return _isotonic(n[full], sums[0][full], sums[1][full], self.n, tp)


def _by_class(categories: np.ndarray, indices: np.ndarray) -> dict[int, np.ndarray]:
    """``indices`` grouped by their category, ascending within each class (one sort)."""
    if not len(indices):
        return {}
    cats = categories[indices]
    lo = int(cats.min())
    if int(cats.max()) - lo < 2**15:  # numpy sorts 16-bit integers by radix
        cats = (cats - lo).astype(np.int16)
    order = indices[np.argsort(cats, kind="stable")]
    ordered = categories[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    classes = ordered[starts]
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
