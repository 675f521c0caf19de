"""Same-class context of a missing_label's prediction and a wrong_class's label (score
version 6).

A prediction has *context* when its image has a regular (not crowd) label of the prediction's
class other than the one it matches: objects of a class come in groups (people, cars, sheep),
and an unlabelled object among labelled ones of its class is a likelier missing label than a
lone detection of a class nobody labelled on the image (more often a hallucination on texture).

How much the context says is fitted per analysis from the detector's own matches: among the
counted predictions (true and false positives) with and without context, the true positives
against the sum of their calibrated probabilities (observed over expected). The calibration is
fitted on all of them, so the two ratios lie either side of 1; a missing_label's score is
multiplied by its side's ratio over the ratio of all (core.scoring). Ratios of counts: they
mean the same on any detector and any score scale.

The same odds speak for a wrong_class suspect's *label*: a label with another label of its
class on the image (the annotator was labelling that class there) is right more often than a
lone one, by the odds the predictions show: its score is multiplied by the ratio without
context over the ratio with it (about 0.75 on CenterNet); a lone label keeps its score.

Measured with ``bench/bench_quality.py`` (seeds 0-4; see its docstring): AP missing_label
CenterNet 0.205 -> 0.214, NanoDet 0.125 -> 0.136, blurred scores 0.109 -> 0.106, synthetic
0.569 -> 0.571; wrong_class 0.653 -> 0.691 / 0.326 -> 0.393 / 0.578 -> 0.663 / 0.565 ->
0.755. The benchmark's injected class changes pick a random class, mostly one alone on its
image, so it rewards the wrong_class factor more than real errors will; on the clean labels
of the suspects it moves out of the first 20, one may be an error (bench docstring).

The totals are sums of whole units of core.habits.TOTAL_STEP (exact floats), so adding the
chunks' totals in any grouping (in memory, in passes, in two processes) gives the same numbers.
Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import KIND_CODE, ChunkFacts, kind_rows
from .habits import TOTAL_STEP
from .matching import FP, TP, ImageLabels, ImageMatches, ImagePredictions

# True positives' worth of the ratio of all that each side's ratio starts from (a side with few
# predictions keeps about the ratio of all: factor 1).
CONTEXT_PRIOR = 10.0
# The totals' layout: per side (0: no context, 1: context) counted predictions, true
# positives, sum of probabilities.
N_TOTALS = 6


def _totals(context: np.ndarray, outcome: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """:data:`N_TOTALS` totals of a chunk's predictions (see the module)."""
    out = np.zeros(N_TOTALS)
    counted = (outcome == TP) | (outcome == FP)
    units = np.rint(np.asarray(probability, dtype=np.float64) / TOTAL_STEP).astype(np.int64)
    for side in (0, 1):
        sel = counted & (context == side)
        out[3 * side] = float(np.count_nonzero(sel))
        out[3 * side + 1] = float(np.count_nonzero(sel & (outcome == TP)))
        out[3 * side + 2] = float(units[sel].sum()) * TOTAL_STEP
    return out


def facts_context(facts: ChunkFacts) -> np.ndarray:
    """Per prediction of a chunk (its facts' order): 1 if it has context, else 0."""
    f = facts
    m = len(f.p_id)
    if not len(f.pair_pred):
        return np.zeros(m, np.int64)
    sel = f.same & ~f.l_crowd[f.pair_label]
    n_same = np.bincount(f.pair_pred[sel], minlength=m) - (np.asarray(f.outcome) == TP)
    return (n_same > 0).astype(np.int64)


def facts_totals(facts: ChunkFacts, probability: np.ndarray) -> np.ndarray:
    """The totals of a chunk from its facts and its predictions' probabilities (facts' order)."""
    return _totals(facts_context(facts), np.asarray(facts.outcome), probability)


def items_totals(
    calibrated: Sequence[tuple[ImagePredictions, ImageLabels]], matched: Sequence[ImageMatches]
) -> np.ndarray:
    """:func:`facts_totals` of a chunk's calibrated images and their matches (the same
    predictions and numbers, without the facts)."""
    context, outcome, prob = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for (p, lab), m in zip(calibrated, matched, strict=True):
        if not len(p):
            continue
        regular = np.asarray(lab.category_ids)[~np.asarray(lab.iscrowd, bool)]
        cats = np.asarray(p.category_ids)
        same = (cats[:, None] == regular[None, :]).sum(axis=1) if len(regular) else 0 * cats
        out = np.asarray(m.outcome).astype(np.int64)
        context.append(((same - (out == TP)) > 0).astype(np.int64))
        outcome.append(out)
        prob.append(np.asarray(p.scores, dtype=np.float64))
    return _totals(np.concatenate(context), np.concatenate(outcome), np.concatenate(prob))


def label_context(facts: ChunkFacts) -> np.ndarray:
    """Per label of a chunk: 1 if it is regular and its image has another regular label of
    its class, else 0."""
    f = facts
    out = np.zeros(len(f.l_id), np.int64)
    regular = np.flatnonzero(~np.asarray(f.l_crowd, bool))
    if not len(regular):
        return out
    cats = np.asarray(f.l_cat, np.int64)
    lo = int(cats.min())
    key = np.asarray(f.l_img, np.int64)[regular] * (int(cats.max()) - lo + 1) + cats[regular] - lo
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    out[regular] = (counts[inverse.reshape(-1)] > 1).astype(np.int64)
    return out


def row_context(facts: ChunkFacts, raw: np.ndarray) -> np.ndarray:
    """Per suspect row of the chunk (errors.chunk_suspects): for missing_label rows their
    prediction's context, for wrong_class rows their label's (:func:`label_context`), 1 / 0;
    nan for the other rows."""
    out = np.full(len(raw), np.nan)
    if len(raw):
        sel, pred = kind_rows(facts, raw, "missing_label")
        if len(sel):
            out[sel] = facts_context(facts)[pred]
        sel, lab = kind_rows(facts, raw, "wrong_class")
        if len(sel):
            out[sel] = label_context(facts)[lab]
    return out


def factors(
    totals: Sequence[float], context: np.ndarray, kind: np.ndarray | None = None
) -> np.ndarray:
    """Per row, the factor its score is multiplied by; ``kind`` per row (the rows' kind codes;
    None: every row with a context is a missing_label). A missing_label: its side's
    observed-over-expected ratio over that of all counted predictions. A wrong_class whose
    label has context: the ratio without context over the ratio with it (at most 1), else 1.
    1 where the context is nan (other kinds) or the totals say nothing."""
    t = np.asarray(totals, dtype=np.float64)
    out = np.ones(len(context))
    tp, expected = t[1] + t[4], t[2] + t[5]
    if tp <= 0 or expected <= 0:
        return out
    ratio_all = tp / expected
    side = [
        (t[3 * s + 1] + CONTEXT_PRIOR * ratio_all) / (t[3 * s + 2] + CONTEXT_PRIOR) for s in (0, 1)
    ]
    ctx = np.asarray(context, dtype=np.float64)
    known = ~np.isnan(ctx)
    wrong = np.zeros(len(ctx), bool)
    if kind is not None:
        wrong = np.asarray(kind).astype(np.int64) == KIND_CODE["wrong_class"]
    miss = known & ~wrong
    out[miss] = np.where(ctx[miss] > 0, side[1], side[0]) / ratio_all
    out[known & wrong & (ctx > 0)] = min(1.0, side[0] / side[1])
    return out
