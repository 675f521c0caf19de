"""Containment of a missing_label's prediction in a same-class label (score version 5).

A missing_label's prediction overlaps every label of its class little (IoU below
``missing_same_iou``), but its box may still enclose a labelled object of its class whole, or
lie inside one: the detector saw the labelled object at another extent (a person box around a
labelled person and their snowboard, a box on a labelled object's part), not an object nobody
labelled. The measure is the intersection over the smaller box (1: one box inside the other),
a ratio that means the same on any detector and any image size.

Measured with ``bench/bench_quality.py`` on the dropped labels' predictions against the other
missing_label suspects (seeds 0-4, CenterNet): 2 of 82 found dropped labels had a same-class
label at containment >= 0.9, against 295 of 2,674 other missing_label suspects (mostly the
looser or tighter twin of a labelled object). core.scoring halves such a suspect's score.

Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

import numpy as np

from .errors import ChunkFacts, kind_rows

# Containment from which a missing_label's prediction counts as a labelled object's twin, and
# the factor its score is multiplied by then (score version 5; bench seeds 0-4, AP missing
# CenterNet 0.198 -> 0.205, blurred 0.093 -> 0.109, NanoDet 0.120 -> 0.125, synthetic 0.569
# unchanged; 0.8 / 0.95 and factors 0 / 0.3 gave the same or less).
CONTAINED = 0.9
CONTAINED_WEIGHT = 0.5


def same_class_containment(facts: ChunkFacts, preds: np.ndarray) -> np.ndarray:
    """For predictions of a chunk (indices into its predictions), the largest intersection
    over the smaller box with a regular (not crowd) label of the prediction's class on its
    image (boxes; 0 if none or a box is empty)."""
    preds = np.asarray(preds, dtype=np.int64)
    out = np.zeros(len(preds))
    if not len(preds) or not len(facts.pair_pred):
        return out
    f = facts
    first_pair = np.r_[0, np.cumsum(f.per_pred)[:-1]]  # each prediction's first pair
    k = f.per_pred[preds]  # its pairs: one per label of its image
    row = np.repeat(np.arange(len(preds)), k)
    pair = np.repeat(first_pair[preds], k) + (
        np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
    )
    if not len(pair):
        return out
    pred, lab = preds[row], f.pair_label[pair]
    keep = (f.p_cat[pred] == f.l_cat[lab]) & ~f.l_crowd[lab]
    row, pred, lab = row[keep], pred[keep], lab[keep]
    a, b = f.p_box[pred], f.l_box[lab]
    w = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    h = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(w, 0.0, None) * np.clip(h, 0.0, None)
    smaller = np.minimum(a[:, 2] * a[:, 3], b[:, 2] * b[:, 3])
    ratio = np.where(smaller > 0, inter / np.where(smaller > 0, smaller, 1.0), 0.0)
    np.maximum.at(out, row, np.minimum(ratio, 1.0))
    return out


def discount(scores: np.ndarray, contained: np.ndarray) -> np.ndarray:
    """The scores with each row whose containment (:func:`row_containment`, nan where it
    does not apply) is at least :data:`CONTAINED` multiplied by :data:`CONTAINED_WEIGHT`."""
    hit = np.nan_to_num(np.asarray(contained, dtype=np.float64), nan=0.0) >= CONTAINED
    return np.where(hit, scores * CONTAINED_WEIGHT, scores)


def row_containment(facts: ChunkFacts, raw: np.ndarray) -> np.ndarray:
    """Per suspect row of the chunk (errors.chunk_suspects), for missing_label rows their
    prediction's :func:`same_class_containment`; nan for the other rows."""
    out = np.full(len(raw), np.nan)
    if len(raw):
        sel, pred = kind_rows(facts, raw, "missing_label")
        if len(sel):
            out[sel] = same_class_containment(facts, pred)
    return out
