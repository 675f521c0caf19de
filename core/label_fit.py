"""How well the detector's boxes fit a label, against how well they fit the labels it matched.

An inaccurate_label suspect says a label's box or polygon is off. The detector's own boxes tell
how off: if some prediction of the label's class (at any confidence) fits the label as well as
the detector's true positives usually fit theirs, the label is probably fine and the suspect's
prediction is the detector's imprecision; if none fits it that well, the label is more likely
wrong. "Usually" is the detector's own: the IoU of each true positive with its matched label,
counted over the whole analysis in :data:`BINS` bins (integer counts: the same however the
analysis is chunked, stored with the fit so a re-analysis of some images uses the full
analysis's counts). A weak detector whose true positives fit at IoU 0.6 is held to that, a
precise one to its 0.85: the measure is an IoU and a share of predictions, the same on any
detector and score scale.

Score version 4 multiplies an inaccurate_label suspect's score by ``share ** LABEL_FIT_POWER``
(core.errors),
``share`` being the share of the true positives that fit their labels better than the best
same-class prediction fits this label (:func:`better_share`; 1 when nothing fits it at IoU 0.5).
Score version 7 also takes predictions of other classes, but for those matched to a label of
their own class (a person box matched to its person says nothing of the couch label drawn
around that person): a box that another class's unmatched prediction (the detector's
confusion) fits as well is drawn on an object's extent all the same (bench seeds 0-9, paired
inaccurate_label AP: CenterNet +0.005 (9 of 10 seeds up), NanoDet +0.006 (6), blurred +0.000
(6), synthetic +0.021 (5 up, none down); all kinds +0.004 / +0.003 / +0.003 / +0.003).

Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import AnalysisParams, ChunkFacts, kind_rows
from .matching import TP

BINS = 1000  # IoU bins of the true positives' counts (0.001 wide)


def _bin(iou: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(np.asarray(iou, np.float64) * BINS), 0, BINS - 1).astype(np.int64)


def tp_iou_counts(outcome: np.ndarray, iou: np.ndarray) -> np.ndarray:
    """Per IoU bin, how many true positives fit their matched label at that IoU (the matches'
    ``outcome`` and ``iou`` columns); add the counts of several chunks."""
    tp = np.asarray(outcome) == TP
    return np.bincount(_bin(np.asarray(iou)[tp]), minlength=BINS).astype(np.int64)


def better_share(counts: Sequence[int] | np.ndarray, best_iou: np.ndarray) -> np.ndarray:
    """The share of the true positives (``counts`` by bin) fitting their label better than
    ``best_iou`` (those in a higher bin); 1 where there are none counted."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    x = np.asarray(best_iou, dtype=np.float64)
    if total == 0 or not len(x):
        return np.ones(len(x))
    at_or_below = np.cumsum(counts)[_bin(np.nan_to_num(x))]
    return (total - at_or_below) / total


def best_same_iou(facts: ChunkFacts, labels: np.ndarray, any_class: bool = False) -> np.ndarray:
    """For labels of a chunk (indices into its labels), the best IoU of any prediction of the
    label's class on its image, at any confidence (0 if none); ``any_class``: also of the
    predictions of other classes that are not true positives."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.zeros(len(labels))
    if not len(labels) or not len(facts.p_id):
        return out
    f = facts
    n_preds = np.bincount(f.p_img, minlength=len(f.image_id))
    first_pred = np.r_[0, np.cumsum(n_preds)[:-1]]
    first_pair = np.r_[0, np.cumsum(f.per_pred)[:-1]]  # each prediction's first pair
    img = f.l_img[labels]
    k = n_preds[img]  # the predictions of each label's image
    row = np.repeat(np.arange(len(labels)), k)
    pred = np.repeat(first_pred[img], k) + (
        np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
    )
    lab = labels[row]
    pair = first_pair[pred] + (lab - f.l_start[f.l_img[lab]])
    counts = f.p_cat[pred] == f.l_cat[lab]
    if any_class:
        counts |= f.outcome[pred] != TP
    iou = np.where(counts, f.ious[pair], 0.0)
    np.maximum.at(out, row, iou)
    return out


def row_best_iou(facts: ChunkFacts, raw: np.ndarray, params: AnalysisParams) -> np.ndarray:
    """Per suspect row of the chunk (errors.chunk_suspects), for inaccurate_label rows the best
    IoU of their label with a prediction of its class (score version 7: or an unmatched one of
    another class; :func:`best_same_iou`); nan for the other rows."""
    out = np.full(len(raw), np.nan)
    if len(raw):
        sel, lab = kind_rows(facts, raw, "inaccurate_label")
        if len(sel):
            out[sel] = best_same_iou(facts, lab, any_class=params.score_version >= 7)
    return out
