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
    parts = [np.zeros(0, np.int64)]
    for (p, lab), m in zip(items, matched, strict=True):
        out = np.zeros(len(p), np.int64)
        if len(p) and len(lab):
            same = np.asarray(p.category_ids)[:, None] == np.asarray(lab.category_ids)[None, :]
            regular = ~np.asarray(lab.iscrowd, bool)[None, :]
            i, j = np.nonzero(same & regular & _partly(np.asarray(m.ious), params))
            if len(i):
                out[i[_inside(np.asarray(p.boxes)[i], np.asarray(lab.boxes)[j])]] = 1
        parts.append(out)
    return np.concatenate(parts)
