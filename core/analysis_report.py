"""How good the detector is, per class, from one analysis's matches: what ``labelfix report``
prints and the desktop's summary panel shows.

Per prediction set of an analysis (:func:`set_report`):

- per class: AP at the analysis's IoU threshold (pycocotools' definition, core.habits.
  class_report), precision and recall of the predictions whose calibrated probability is
  >= :data:`REPORT_CUT` (more likely right than wrong), label and prediction counts;
- the confusion table: per label class A and predicted class B, how many A labels have a B
  prediction (probability >= the cut, IoU >= ``wrong_class_iou``) as their most probable
  overlapping prediction (B == A: the detector agrees; B == -1: none), with the detector's
  habit rate for B on A (core.habits: the mean probability of a B prediction on an A label);
- the reliability of each class's calibration: the predictions in :data:`RELIABILITY_BINS`
  equal-count bins of raw score, each bin's mean score, observed true-positive rate, mean
  calibrated probability and count (plotted against the fitted curve, which is in the fit).

An analysis's report (:func:`analysis_report`) holds these per set and the default review cut
of its suspects (core.review_cut over the head of every group). JSON-able dicts with string
keys; pure functions: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import consensus, habits, review_cut
from .errors import AnalysisParams, ChunkFacts
from .matching import FP, IGNORED, TP, ImageLabels, ImageMatches, ImagePredictions
from .scoring import DetectorFit, set_recall

REPORT_CUT = 0.5  # calibrated probability from which a prediction counts as made
RELIABILITY_BINS = 10


def chunk_confusion(
    calibrated: Sequence[tuple[ImagePredictions, ImageLabels]],
    matched: Sequence[ImageMatches],
    params: AnalysisParams,
    cut: float = REPORT_CUT,
) -> dict[tuple[int, int], int]:
    """:func:`core.habits.confusion_table` of a chunk of images whose predictions carry
    calibrated probabilities as scores (add the chunks with :func:`add_counts`)."""
    label_cat, pair_label, pair_cat, pair_iou, pair_prob = [], [], [], [], []
    start = 0
    for (p, lab), m in zip(calibrated, matched, strict=True):
        regular = ~np.asarray(lab.iscrowd, bool)
        index = np.full(len(lab), -1, dtype=np.int64)
        index[regular] = np.arange(int(regular.sum())) + start
        if len(p) and regular.any():
            i, j = np.nonzero(m.ious >= params.wrong_class_iou)
            keep = regular[j]
            i, j = i[keep], j[keep]
            pair_label.append(index[j])
            pair_cat.append(np.asarray(p.category_ids)[i])
            pair_iou.append(m.ious[i, j])
            pair_prob.append(np.asarray(p.scores)[i])
        label_cat.append(np.asarray(lab.category_ids)[regular])
        start += int(regular.sum())
    if start == 0:
        return {}

    def cat(parts: list, dtype: type) -> np.ndarray:
        return np.concatenate([np.zeros(0, dtype), *parts]).astype(dtype)

    return habits.confusion_table(
        cat(label_cat, np.int64),
        cat(pair_label, np.int64),
        cat(pair_cat, np.int64),
        cat(pair_iou, np.float64),
        cat(pair_prob, np.float64),
        params.wrong_class_iou,
        cut,
    )


def facts_confusion(
    facts: ChunkFacts, probability: np.ndarray, params: AnalysisParams, cut: float = REPORT_CUT
) -> dict[tuple[int, int], int]:
    """:func:`chunk_confusion` of a chunk's facts (errors.chunk_facts) and its predictions'
    probabilities (the same pairs in the same order)."""
    f = facts
    regular = ~f.l_crowd
    if not regular.any():
        return {}
    index = np.cumsum(regular) - 1  # each regular label's place among them
    sel = np.flatnonzero((f.ious >= params.wrong_class_iou) & regular[f.pair_label])
    pred = f.pair_pred[sel]
    return habits.confusion_table(
        f.l_cat[regular],
        index[f.pair_label[sel]],
        f.p_cat[pred],
        f.ious[sel],
        np.asarray(probability, dtype=np.float64)[pred],
        params.wrong_class_iou,
        cut,
    )


def add_counts(
    into: dict[tuple[int, int], int], more: Mapping[tuple[int, int], int]
) -> dict[tuple[int, int], int]:
    """``into`` with ``more`` added pair by pair."""
    for key, value in more.items():
        into[key] = into.get(key, 0) + value
    return into


def reliability(
    category: np.ndarray,
    score: np.ndarray,
    probability: np.ndarray,
    outcome: np.ndarray,
    bins: int = RELIABILITY_BINS,
) -> dict[int, list[list[float]]]:
    """Per class, ``bins`` equal-count bins of its tp/fp predictions by raw score: [mean score,
    observed tp rate, mean calibrated probability, count] per bin, lowest scores first."""
    category = np.asarray(category, dtype=np.int64)
    counted = (outcome == TP) | (outcome == FP)
    out: dict[int, list[list[float]]] = {}
    for c in np.unique(category[counted]).tolist():
        sel = counted & (category == c)
        out[int(c)] = class_reliability(score[sel], probability[sel], outcome[sel], bins)
    return out


def class_reliability(
    score: np.ndarray,
    probability: np.ndarray,
    outcome: np.ndarray,
    bins: int = RELIABILITY_BINS,
    order: np.ndarray | None = None,
) -> list[list[float]]:
    """:func:`reliability`'s bins of one class from its tp/fp predictions (in position order:
    ties of score stay in it); ``order``: ``np.argsort(score, kind="stable")`` if known."""
    if order is None:
        order = np.argsort(score, kind="stable")
    s, p = score[order], probability[order]
    tp = (outcome[order] == TP).astype(np.float64)
    n = len(s)
    k = min(bins, n)
    if not k:
        return []
    # np.array_split's parts: r of q + 1 items, then q items. Each part's mean as a row of a
    # 2-d array: numpy sums every row as it sums that part alone (the same float bits)
    q, r = divmod(n, k)
    cut = r * (q + 1)

    def means(v: np.ndarray) -> list[float]:
        head = v[:cut].reshape(r, q + 1).mean(axis=1)
        return np.concatenate([head, v[cut:].reshape(k - r, q).mean(axis=1)]).tolist()

    sizes = [q + 1] * r + [q] * (k - r)
    return [
        [round(a, 6), round(b, 6), round(c, 6), m]
        for a, b, c, m in zip(means(s), means(tp), means(p), sizes, strict=True)
    ]


def _classes(category: np.ndarray, step: int = 1 << 20) -> list[int]:
    """The distinct classes of a column, a slice at a time (no sorted copy of it)."""
    found: set[int] = set()
    for a in range(0, len(category), step):
        found.update(np.unique(category[a : a + step]).tolist())
    return sorted(found)


SORTED_CLASSES_UP_TO = 4_000_000
"""Up to this many predictions a report finds each class's rows in one sort by class (8 bytes
a prediction); above, one pass over the classes per class (no copy of the set's size)."""


def _rows_by_class(category: np.ndarray) -> Callable[[int], np.ndarray]:
    """A function giving the positions of a class's predictions, ascending."""
    if len(category) > SORTED_CLASSES_UP_TO or not len(category):
        return lambda c: np.flatnonzero(category == c)
    key = category
    lo = int(category.min())
    if int(category.max()) - lo < 2**15:  # numpy sorts 16-bit integers by radix
        key = (category - lo).astype(np.int16)
    order = np.argsort(key, kind="stable")  # ascending positions within each class
    ordered = category[order]

    def rows(c: int) -> np.ndarray:
        lo, hi = np.searchsorted(ordered, [c, c + 1])
        return order[lo:hi]

    return rows


def _descending(score: np.ndarray, up: np.ndarray) -> np.ndarray | None:
    """``np.argsort(-score, kind="mergesort")`` from ``up = np.argsort(score, kind="stable")``:
    the runs of equal scores in reverse, each run still in position order (None: scores with
    nan, which sort last both ways)."""
    ordered = score[up]
    if np.isnan(ordered[-1:]).any():
        return None
    n = len(up)
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    run_start = np.flatnonzero(new)
    run_end = np.append(run_start[1:], n)
    run = np.cumsum(new) - 1
    at = np.arange(n)
    down = np.empty(n, dtype=np.int64)
    down[(n - run_end[run]) + (at - run_start[run])] = up
    return down


ClassParts = tuple[dict[int, dict[str, float]], dict[int, list[list[float]]]]
"""A set report's per-class metrics and reliability bins (:func:`class_parts`)."""


def set_report(
    matches: Mapping[str, np.ndarray],
    category: np.ndarray,
    score: np.ndarray,
    fit: DetectorFit,
    confusion: Mapping[tuple[int, int], int],
    params: AnalysisParams,
    cut: float = REPORT_CUT,
    probability: np.ndarray | None = None,
    parts: ClassParts | None = None,
) -> dict[str, Any]:
    """One prediction set's report (see the module docstring).

    ``matches``: every prediction's match (``prediction_id``, ``image_id``, ``outcome``);
    ``category`` / ``score``: each one's class and raw score in the same order; ``fit``: the
    analysis's fit of the set (its probabilities, label counts and habits); ``probability``:
    the fit's probabilities in that order if the caller has them (else made class by class);
    ``parts``: :func:`class_parts` of these, if made already (an analysis makes them while
    its second process finishes).
    """
    if parts is None:
        parts = class_parts(matches, category, score, fit, cut, probability)
    classes, bins = parts
    totals = fit.habit_totals or {}
    rows = []
    for (a, b), n in sorted(confusion.items(), key=lambda kv: (-kv[1], kv[0])):
        habit = 0.0
        if b not in (a, habits.NO_CLASS):
            habit = float(
                habits.habit_rates(
                    np.array([a]), np.array([b]), np.zeros(1), totals, fit.label_counts
                )[0]
            )
        rows.append([int(a), int(b), int(n), round(habit, 6)])
    out = {
        "cut": cut,
        "iou": params.iou_threshold,
        "classes": {
            str(c): {k: _number(v) for k, v in metrics.items()} for c, metrics in classes.items()
        },
        "confusion": rows,
        "reliability": {str(c): v for c, v in bins.items()},
    }
    recall = set_recall(fit)
    if recall is not None:  # the set's weight among several (core.consensus.recall_weights)
        out["recall"] = _number(recall)
    if fit.score_scale is not None:  # core.score_scale's diagnostic (its curve is in the fit)
        scale = {k: v for k, v in fit.score_scale.to_json().items() if k != "curve"}
        out["score_scale"] = {**scale, "scores": params.scores}
    return out


def set_weights(report: Mapping[str, Any], version: int) -> dict[str, float]:
    """How much each set's suspects weigh among the analysis's sets (score ``version`` 13:
    core.consensus.recall_weights, its recall over the best set's), by set id as in the
    report; empty for one set, an earlier version or a set whose recall is not stored."""
    sets = report.get("sets") or {}
    keys = list(sets)
    recall = [sets[k].get("recall") for k in keys]
    if len(keys) < 2 or version < 13 or None in recall:
        return {}
    weights = consensus.recall_weights(recall, version)
    return {k: round(float(w), 6) for k, w in zip(keys, weights, strict=True)}


def weight_sentence(recall: float, weight: float | None) -> str:
    """How much of the labels a set matched and, analysed with other sets, how much its
    suspects weigh (``labelfix report`` and the app's Model tab)."""
    text = f"Its true positives match {recall:.0%} of the labels"
    if weight is not None:
        text += (
            f"; its suspects weigh {weight:.2f} of the best set's "
            "(each set by its share of labels matched)"
        )
    return text + "."


def dependence_sentence(n_sets: int, rho: float) -> str:
    """How dependent an analysis's sets are and how many independent sets they count as in
    missing_label's noisy-or (score version 14, core.consensus; ``labelfix report``)."""
    effective = n_sets / consensus.design_effect(n_sets, rho)
    return (
        f"The {n_sets} sets' missing-label candidates coincide {rho:.2f} as often as their true "
        f"positives do: a missing label's evidence counts them as {effective:.2f} independent "
        "sets."
    )


def report_dependence_sentence(report: Mapping[str, Any]) -> str | None:
    """:func:`dependence_sentence` of an analysis's report (stored, or ``labelfix report``'s
    data) when it measured its sets' dependence (score version 14, 2+ sets), else None: the
    one rule ``labelfix report`` and the app's Model tab share."""
    rho, n_sets = report.get("dependence"), len(report.get("sets") or ())
    return None if rho is None or n_sets < 2 else dependence_sentence(n_sets, float(rho))


def class_parts(
    matches: Mapping[str, np.ndarray],
    category: np.ndarray,
    score: np.ndarray,
    fit: DetectorFit,
    cut: float = REPORT_CUT,
    probability: np.ndarray | None = None,
) -> ClassParts:
    """:func:`set_report`'s per-class metrics (core.habits.class_metrics: AP, precision and
    recall at the cut, counts) and reliability bins, by class: they need the fit's
    probabilities and label counts, not its habits or the confusions."""
    category = np.asarray(category)
    score = np.asarray(score, dtype=np.float64)
    outcome = np.asarray(matches["outcome"])
    image_id = np.asarray(matches["image_id"])
    # one class at a time: at 20M predictions the whole set's probabilities, copies in image
    # order and masks were gigabytes; a class's own predictions are a small part of them
    counts = {int(c): int(k) for c, k in fit.label_counts.items() if k > 0}
    classes: dict[int, dict[str, float]] = {}
    bins: dict[int, list[list[float]]] = {}
    rows_of = _rows_by_class(category)
    for c in sorted(set(counts) | set(_classes(category))):
        rows = rows_of(c)
        s, o = score[rows], outcome[rows]
        if probability is not None:
            p = probability[rows]
        else:
            p = fit.probabilities(np.full(len(rows), c, np.int64), s) if len(rows) else s
        counted = (o == TP) | (o == FP)
        # the counted predictions by raw score, ties by position: the reliability bins' order;
        # turned into descending order it is also the AP's (when image order is position order)
        up = np.argsort(s[counted], kind="stable") if counted.any() else None
        if c in counts:
            img = image_id[rows]
            down = None  # the AP's order, when its predictions are the counted ones in order
            if up is not None and np.all(img[1:] >= img[:-1]) and np.all(counted != (o == IGNORED)):
                down = _descending(s[counted], up)
            if down is not None:
                classes[c] = habits.class_metrics(c, counts[c], s, p, o, cut, down)
            else:
                at = np.argsort(img, kind="stable")  # image order, ties by position
                classes[c] = habits.class_metrics(c, counts[c], s[at], p[at], o[at], cut)
        if up is not None:
            bins[c] = class_reliability(s[counted], p[counted], o[counted], order=up)
    return classes, bins


def analysis_report(
    per_set: Mapping[int, dict[str, Any]],
    group_rank: np.ndarray,
    scores: np.ndarray,
    dependence: float | None = None,
) -> dict[str, Any]:
    """An analysis's report: each set's (:func:`set_report`, by set id), the default review
    cut (core.review_cut) over the scores of the suspects that head their group, and with
    several sets (score version 14) their mean dependence (core.consensus)."""
    heads = np.asarray(scores, dtype=np.float64)[np.asarray(group_rank) == 0]
    out = {
        "review_cut": review_cut.default_cut(heads),
        "sets": {str(k): v for k, v in per_set.items()},
    }
    if dependence is not None:
        out["dependence"] = float(dependence)  # unrounded: a re-analysis merges with it
    return out


def _number(value: float) -> float | int | None:
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


def confusion_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A set report's confusion table as records: label class, predicted class (None: no
    prediction), count, share of the label class's labels, habit rate; confusions first (most
    frequent first), then agreements and misses."""
    per_class: dict[int, int] = {}
    for a, _b, n, _h in report["confusion"]:
        per_class[a] = per_class.get(a, 0) + n
    out = []
    for a, b, n, habit in report["confusion"]:
        out.append(
            {
                "label_class": a,
                "predicted_class": None if b == habits.NO_CLASS else b,
                "count": n,
                "share": n / per_class[a] if per_class[a] else 0.0,
                "habit": habit,
                "confusion": b not in (a, habits.NO_CLASS),
            }
        )
    out.sort(key=lambda r: (not r["confusion"], -r["count"], r["label_class"]))
    return out
