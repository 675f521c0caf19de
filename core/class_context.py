"""Same-class context of a missing_label's prediction (score version 6).

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

Measured with ``bench/bench_quality.py`` (seeds 0-4, AP missing_label; see its docstring): the
fitted ratios are about 0.78 (no context) and 1.05 (context) on CenterNet.

The totals are sums of whole units of core.habits.TOTAL_STEP (exact floats), so adding the
chunks' totals in any grouping (in memory, in passes, in two processes) gives the same numbers.
Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import ChunkFacts, kind_rows
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


def row_context(facts: ChunkFacts, raw: np.ndarray) -> np.ndarray:
    """Per suspect row of the chunk (errors.chunk_suspects): for missing_label rows their
    prediction's context (1 / 0); nan for the other rows."""
    out = np.full(len(raw), np.nan)
    if len(raw):
        sel, pred = kind_rows(facts, raw, "missing_label")
        if len(sel):
            out[sel] = facts_context(facts)[pred]
    return out


def factors(totals: Sequence[float], context: np.ndarray) -> np.ndarray:
    """Per row, the factor its score is multiplied by: its side's observed-over-expected ratio
    over that of all counted predictions; 1 where the context is nan (other kinds) or the
    totals say nothing."""
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
    out[known] = np.where(ctx[known] > 0, side[1], side[0]) / ratio_all
    return out
