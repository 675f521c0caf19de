"""Whether a prediction lies on a part of a labelled object of its class (score version 7).

A prediction is *on a part* when its box lies inside a regular (not crowd) label of its class
(at least :data:`core.containment.CONTAINED` of its area) that it overlaps only partly (IoU
from ``low_iou`` up to ``iou_threshold``, on the analysis's geometry): a toilet seat in a
labelled toilet, a torso in a labelled person. Detectors box parts of objects they also box
whole; an inaccurate_label suspect resting on such a box says less than one on a box the
size of an object. How much less is the detector's own: core.class_context counts, like its
same-class context, the true positives on parts against the sum of their calibrated
probabilities (observed over expected), and an inaccurate_label's own probability term takes
its prediction's probability times its side's ratio over that of all.

Both functions give the same values for the same predictions (one from a chunk's facts, one
from its items and matches). Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .containment import CONTAINED
from .errors import AnalysisParams, ChunkFacts
from .matching import ImageLabels, ImageMatches, ImagePredictions


def _inside(p_box: np.ndarray, l_box: np.ndarray) -> np.ndarray:
    """Per (prediction box, label box) row pair: the prediction box's area inside the label
    box is at least CONTAINED of it (False for an empty prediction box)."""
    a, b = np.asarray(p_box, np.float64), np.asarray(l_box, np.float64)
    w = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    h = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(w, 0.0, None) * np.clip(h, 0.0, None)
    area = a[:, 2] * a[:, 3]
    return (area > 0) & (inter >= CONTAINED * area)


def _partly(iou: np.ndarray, params: AnalysisParams) -> np.ndarray:
    return (iou >= params.low_iou) & (iou < params.iou_threshold)


def facts_on_part(facts: ChunkFacts, params: AnalysisParams) -> np.ndarray:
    """Per prediction of a chunk (its facts' order): 1 if it is on a part, else 0."""
    f = facts
    out = np.zeros(len(f.p_id), np.int64)
    pair = np.flatnonzero(f.same & ~f.l_crowd[f.pair_label] & _partly(f.ious, params))
    if len(pair):
        pred, lab = f.pair_pred[pair], f.pair_label[pair]
        out[pred[_inside(f.p_box[pred], f.l_box[lab])]] = 1
    return out


def items_on_part(
    items: Sequence[tuple[ImagePredictions, ImageLabels]],
    matched: Sequence[ImageMatches],
    params: AnalysisParams,
) -> np.ndarray:
    """:func:`facts_on_part` of a chunk's images and their matches, in the items' order."""
    n_pred = np.array([len(p) for p, _ in items], np.int64)
    n_lab = np.array([len(lab) for _, lab in items], np.int64)
    out = np.zeros(int(n_pred.sum()), np.int64)
    if not len(out) or not n_lab.sum():
        return out

    def flat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate([np.zeros(0, dtype), *(np.asarray(v, dtype) for v in parts)])

    ious = flat([np.asarray(m.ious).ravel() for m in matched], np.float64)
    sizes = n_pred * n_lab
    img = np.repeat(np.arange(len(items)), sizes)
    k = np.arange(len(ious)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    pred = np.repeat(np.cumsum(n_pred) - n_pred, sizes) + k // np.maximum(n_lab[img], 1)
    lab = np.repeat(np.cumsum(n_lab) - n_lab, sizes) + k % np.maximum(n_lab[img], 1)
    p_cat = flat([p.category_ids for p, _ in items], np.int64)
    l_cat = flat([lab.category_ids for _, lab in items], np.int64)
    crowd = flat([lab.iscrowd for _, lab in items], bool)
    keep = np.flatnonzero((p_cat[pred] == l_cat[lab]) & ~crowd[lab] & _partly(ious, params))
    if len(keep):
        pred, lab = pred[keep], lab[keep]
        p_box = np.concatenate([np.asarray(p.boxes, np.float64).reshape(-1, 4) for p, _ in items])
        l_box = np.concatenate([np.asarray(b.boxes, np.float64).reshape(-1, 4) for _, b in items])
        out[pred[_inside(p_box[pred], l_box[lab])]] = 1
    return out
