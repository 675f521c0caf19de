"""What a detector does on this dataset, learnt from one analysis's matches.

- :func:`habit_rates`: how often the detector makes a wrong_class suspect's confusion (predicts
  class B on a label of class A) on the *other* labels of class A. A confusion it makes on most
  A labels is its habit (a goat labelled ``sheep`` that every sheep-ish animal gets ``cow`` for),
  not evidence that this one label is wrong.
- :func:`confusion_table`: per label class A and predicted class B, how many A labels have a B
  prediction as their most probable overlapping prediction (B == A: the detector agrees).
- :func:`class_report`: per class, AP at the analysis's IoU (pycocotools' definition), and
  precision / recall of the predictions at a calibrated-probability cut.

Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import key_sort
from .matching import (
    FP,
    IGNORED,
    TP,
    ImageMatches,
    ImagePredictions,
    _category_precision,
    average_precision_per_category,
)

# Labels' worth of "no habit" evidence a class starts with: with this many other labels of
# class A and none confused as B, the habit is 0; a confusion on all of them gives n / (n + 1).
HABIT_PRIOR = 1.0
NO_CLASS = -1  # the confusion table's column for labels no prediction overlaps
# The resolution of overlap_totals (2^-30): sums of its multiples below 2^23 are exact floats.
TOTAL_STEP = 2.0**-30


def overlap_totals(
    label_category: np.ndarray,
    pair_label: np.ndarray,
    pair_category: np.ndarray,
    pair_iou: np.ndarray,
    pair_probability: np.ndarray,
    min_iou: float,
) -> dict[tuple[int, int], float]:
    """How much the detector predicts class B on labels of class A: per (A, B != A), the sum over
    A labels of the most probable B prediction overlapping the label (IoU >= ``min_iou``).

    ``label_category`` per label (leave crowd regions out: give them no pairs); the pairs are
    (prediction, label) overlaps: the label's index, the prediction's class, IoU and calibrated
    probability. Every label counts, also those whose class the detector predicts too: a truck
    that also gets a ``car`` prediction shows the detector's truck -> car habit.
    """
    label_category = np.asarray(label_category, dtype=np.int64)
    lab = np.asarray(pair_label, dtype=np.int64)
    cat = np.asarray(pair_category, dtype=np.int64)
    keep = (np.asarray(pair_iou) >= min_iou) & (cat != label_category[lab])
    lab, cat = lab[keep], cat[keep]
    prob = np.asarray(pair_probability, dtype=np.float64)[keep]
    if not len(lab):
        return {}
    order = key_sort.lexsort((-prob, cat, lab))  # per (label, class): most probable first
    lab, cat, prob = lab[order], cat[order], prob[order]
    first = np.r_[True, (lab[1:] != lab[:-1]) | (cat[1:] != cat[:-1])]
    a, b, best = label_category[lab[first]], cat[first], prob[first]
    pairs, inverse = _unique_pairs(a, b)
    # in whole units of TOTAL_STEP, added as integers: the totals are then exact, so adding
    # chunks' totals in any grouping (an analysis in passes) gives the very same numbers
    units = np.rint(best / TOTAL_STEP).astype(np.int64)
    total = np.zeros(len(pairs), dtype=np.int64)
    np.add.at(total, inverse, units)
    return {
        (k[0], k[1]): float(t) * TOTAL_STEP
        for k, t in zip(pairs.tolist(), total.tolist(), strict=True)
    }


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique`` of the rows (a, b) with its inverse: as one packed int key where the
    ranges allow (several times faster than unique over rows), else over rows."""
    lo_a, lo_b = int(a.min()), int(b.min())
    span_a, span_b = int(a.max()) - lo_a + 1, int(b.max()) - lo_b + 1
    if span_a * span_b >= 2**62:
        pairs, inverse = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
        return pairs, inverse.reshape(-1)
    keys, inverse = np.unique((a - lo_a) * span_b + (b - lo_b), return_inverse=True)
    return np.stack([keys // span_b + lo_a, keys % span_b + lo_b], axis=1), inverse.reshape(-1)


def add_totals(
    into: dict[tuple[int, int], float], more: Mapping[tuple[int, int], float]
) -> dict[tuple[int, int], float]:
    """``into`` with ``more`` added pair by pair (for totals taken chunk by chunk)."""
    for key, value in more.items():
        into[key] = into.get(key, 0.0) + value
    return into


def habit_rates(
    label_category: np.ndarray,
    predicted_category: np.ndarray,
    strength: np.ndarray,
    totals: Mapping[tuple[int, int], float],
    label_counts: Mapping[int, int],
    prior: float = HABIT_PRIOR,
) -> np.ndarray:
    """The habit of each wrong_class row: the detector's B-on-A rate on the *other* A labels.

    One row per wrong_class suspect: its label's class A, the predicted class B and its own
    contribution ``s`` to ``totals`` (the probability of its B prediction); ``totals`` is
    :func:`overlap_totals` over the whole analysis. The habit is ``(S_AB - s) / (N_A - 1 +
    prior)``, clipped to [0, 1]: the mean probability of a B prediction on the other A labels,
    shrunk toward 0 for classes with few labels. Leaving the row itself out keeps a single wrong
    label of a rare class from excusing itself.
    """
    a = np.asarray(label_category, dtype=np.int64)
    b = np.asarray(predicted_category, dtype=np.int64)
    s = np.clip(np.nan_to_num(np.asarray(strength, dtype=np.float64)), 0.0, 1.0)
    if not len(a):
        return np.zeros(0)
    # lists of Python ints: a dict lookup per row without a numpy scalar per value
    total = np.array(
        [totals.get(pair, 0.0) for pair in zip(a.tolist(), b.tolist(), strict=True)],
        dtype=np.float64,
    )
    classes = {c: float(label_counts.get(c, 0)) for c in set(a.tolist())}
    n_a = np.array([classes[c] for c in a.tolist()], dtype=np.float64)
    rate = np.maximum(total - s, 0.0) / (np.maximum(n_a - 1.0, 0.0) + prior)
    return np.clip(rate, 0.0, 1.0)


def confusion_table(
    label_category: np.ndarray,
    pair_label: np.ndarray,
    pair_category: np.ndarray,
    pair_iou: np.ndarray,
    pair_probability: np.ndarray,
    min_iou: float,
    min_probability: float,
) -> dict[tuple[int, int], int]:
    """Counts of (label class, predicted class of its most probable overlapping prediction).

    ``label_category`` per label (regular labels only: leave crowd regions out); the pairs are
    (prediction, label) overlaps: the label's index, the prediction's class, IoU and calibrated
    probability. Pairs below ``min_iou`` or ``min_probability`` do not count; a label without a
    counting pair goes to column :data:`NO_CLASS`. Ties keep the first pair given.
    """
    label_category = np.asarray(label_category, dtype=np.int64)
    keep = (np.asarray(pair_iou) >= min_iou) & (np.asarray(pair_probability) >= min_probability)
    lab = np.asarray(pair_label, dtype=np.int64)[keep]
    cat = np.asarray(pair_category, dtype=np.int64)[keep]
    prob = np.asarray(pair_probability, dtype=np.float64)[keep]
    best = np.full(len(label_category), NO_CLASS, dtype=np.int64)
    if len(lab):
        order = key_sort.lexsort((-prob, lab))  # per label, most probable first, then position
        first = np.r_[True, lab[order][1:] != lab[order][:-1]]
        best[lab[order][first]] = cat[order][first]
    if not len(best):
        return {}
    keys, inverse = _unique_pairs(label_category, best)
    counts = np.bincount(inverse, minlength=len(keys))
    return {(k[0], k[1]): n for k, n in zip(keys.tolist(), counts.tolist(), strict=True)}


def class_report(
    image_id: np.ndarray,
    category: np.ndarray,
    score: np.ndarray,
    probability: np.ndarray,
    outcome: np.ndarray,
    label_counts: Mapping[int, int],
    cut: float = 0.5,
) -> dict[int, dict[str, float]]:
    """Per class with labels: ``ap`` (at the matches' IoU, as pycocotools), and ``precision`` /
    ``recall`` of the predictions whose calibrated probability is >= ``cut``, plus counts.

    One entry per prediction: its image, class, raw score (AP ranks by it, as COCO does; ties
    across images broken by image id), calibrated probability and match outcome. Computed one
    class at a time (:func:`class_metrics`): nothing as long as all predictions is copied.
    """
    image_id = np.asarray(image_id)
    category = np.asarray(category)
    score = np.asarray(score, dtype=np.float64)
    probability = np.asarray(probability, dtype=np.float64)
    outcome = np.asarray(outcome)
    out: dict[int, dict[str, float]] = {}
    for c, n in sorted((int(c), int(k)) for c, k in label_counts.items() if k > 0):
        rows = in_image_order(image_id, np.flatnonzero(category == c))
        out[c] = class_metrics(c, n, score[rows], probability[rows], outcome[rows], cut)
    return out


def in_image_order(image_id: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` (ascending positions) ordered by image id, ties by position: the order of a
    stable sort of all predictions by image, restricted to these rows."""
    return rows[np.argsort(np.asarray(image_id)[rows], kind="stable")]


def class_metrics(
    category: int,
    n_labels: int,
    score: np.ndarray,
    probability: np.ndarray,
    outcome: np.ndarray,
    cut: float = 0.5,
    order: np.ndarray | None = None,
) -> dict[str, float]:
    """:func:`class_report`'s entry of one class from its predictions in image order (ties by
    position): raw score, calibrated probability and match outcome each. ``order``: the
    non-ignored predictions' ``np.argsort(-score, kind="mergesort")``, if known."""
    if n_labels > 0:  # average_precision_per_category's one class, without its regrouping
        counted = np.asarray(outcome) != IGNORED
        q = _category_precision(
            np.asarray(score, dtype=np.float64)[counted],
            np.asarray(outcome)[counted] == TP,
            n_labels,
            order,
        )
    else:
        k = len(score)
        one = ImagePredictions(
            np.arange(k),
            np.full(k, category, np.int64),
            score,
            np.broadcast_to(np.zeros(4), (k, 4)),
        )
        matched = ImageMatches(outcome, np.full(k, -1), np.full(k, np.nan), np.zeros((k, 0)))
        q = average_precision_per_category([one], [matched], {category: n_labels})[category]
    above = probability >= cut
    tp = int(np.sum(above & (outcome == TP)))
    fp = int(np.sum(above & (outcome == FP)))
    return {
        "ap": float(np.mean(q)),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / n_labels,
        "labels": n_labels,
        "predictions": int(np.sum(outcome != IGNORED)),
        "tp_at_cut": tp,
        "fp_at_cut": fp,
    }
