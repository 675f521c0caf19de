"""Same-class context of a missing_label's prediction and a wrong_class's label (score
version 6), of a wrong_class's prediction and the part odds of an inaccurate_label's (7).

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

Score version 7 reads the same odds for a wrong_class suspect's *prediction*: its probability
(that the other class is right) counts in the score's own term (core.suspect_scores,
OWN_WEIGHT_WRONG_CLASS) multiplied by its side's ratio over the ratio of all, as a missing_label's
is: a prediction of a class labelled elsewhere on the image is right more often than its
calibrated probability says, a lone one less (bench seeds 0-9, paired wrong_class AP: CenterNet
+0.001 (8 of 10 seeds up), NanoDet +0.008 (7), blurred +0.001 (7), synthetic +0.036 (10); seeds
5-9 CenterNet 0.702 -> 0.703, NanoDet 0.419 -> 0.432, blurred 0.665 -> 0.665, synthetic 0.678 ->
0.719). A wrong_class row's context holds both: its label's (1) plus twice its prediction's (2).

Score version 7 also counts the same totals for core.part_context's feature (a box on a part of
a labelled object of its class): an inaccurate_label's own term takes its prediction's
probability times that side's ratio over the ratio of all (boxes on parts are right 0.53-0.60
times as often as calibrated on CenterNet, its blurred scores and NanoDet, 0.93-0.95 times on
the synthetic set). Seeds 5-9,
inaccurate_label AP CenterNet 0.327 -> 0.342, blurred 0.284 -> 0.306, NanoDet 0.204 -> 0.207,
synthetic 0.679 unchanged; its row's context is 1 on a part, else 0.

The totals are sums of whole units of core.habits.TOTAL_STEP (exact floats), so adding the
chunks' totals in any grouping (in memory, in passes, in two processes) gives the same numbers.
Pure functions over numpy arrays: no Qt, no store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import part_context
from .errors import KIND_CODE, SUSPECT_COLUMNS, AnalysisParams, ChunkFacts, kind_rows
from .habits import TOTAL_STEP
from .matching import FP, TP, ImageLabels, ImageMatches, ImagePredictions
from .suspect_scores import OWN_WEIGHT_INACCURATE, OWN_WEIGHT_WRONG_CLASS

# True positives' worth of the ratio of all that each side's ratio starts from (a side with few
# predictions keeps about the ratio of all: factor 1).
CONTEXT_PRIOR = 10.0
# The totals' layout: per side (0: no context, 1: context) counted predictions, true
# positives, sum of probabilities; then the same for core.part_context's sides (0: not on a
# part, 1: on a part; score version 7: fits stored before it have the first six only).
N_TOTALS = 12


def _totals(
    context: np.ndarray, outcome: np.ndarray, probability: np.ndarray, on_part: np.ndarray
) -> np.ndarray:
    """:data:`N_TOTALS` totals of a chunk's predictions (see the module)."""
    out = np.zeros(N_TOTALS)
    counted = (outcome == TP) | (outcome == FP)
    units = np.rint(np.asarray(probability, dtype=np.float64) / TOTAL_STEP).astype(np.int64)
    for at, feature in ((0, context), (6, on_part)):
        for side in (0, 1):
            sel = counted & (feature == side)
            out[at + 3 * side] = float(np.count_nonzero(sel))
            out[at + 3 * side + 1] = float(np.count_nonzero(sel & (outcome == TP)))
            out[at + 3 * side + 2] = float(units[sel].sum()) * TOTAL_STEP
    return out


def _prediction_context(
    l_img: np.ndarray,
    l_cat: np.ndarray,
    l_crowd: np.ndarray,
    p_img: np.ndarray,
    p_cat: np.ndarray,
    outcome: np.ndarray,
) -> np.ndarray:
    """Per prediction (image index, class, outcome): 1 if it has context, else 0, given the
    labels' image indices, classes and crowd flags."""
    regular = ~np.asarray(l_crowd, bool)
    keys, counts, span, lo = _image_class_counts(l_img[regular], l_cat[regular], p_cat)
    query = np.asarray(p_img, np.int64) * span + np.asarray(p_cat, np.int64) - lo
    n_same = _count_of(keys, counts, query) - (np.asarray(outcome) == TP)
    return (n_same > 0).astype(np.int64)


def _image_class_counts(
    l_img: np.ndarray, l_cat: np.ndarray, p_cat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Labels counted per (image, class): sorted keys ``image x span + class - lo``, their
    counts, and ``span`` and ``lo`` to make keys with (classes of the labels and ``p_cat``)."""
    cats = np.concatenate([np.asarray(l_cat, np.int64), np.asarray(p_cat, np.int64)])
    if not len(cats):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 1, 0
    lo = int(cats.min())
    span = int(cats.max()) - lo + 1
    key = np.asarray(l_img, np.int64) * span + np.asarray(l_cat, np.int64) - lo
    keys, counts = np.unique(key, return_counts=True)
    return keys, counts, span, lo


def _count_of(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The count of each query key (0 where absent)."""
    if not len(keys):
        return np.zeros(len(query), np.int64)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[pos] == query, counts[pos], 0)


def facts_context(facts: ChunkFacts) -> np.ndarray:
    """Per prediction of a chunk (its facts' order): 1 if it has context, else 0."""
    f = facts
    return _prediction_context(f.l_img, f.l_cat, f.l_crowd, f.p_img, f.p_cat, f.outcome)


def facts_totals(facts: ChunkFacts, probability: np.ndarray, params: AnalysisParams) -> np.ndarray:
    """The totals of a chunk from its facts and its predictions' probabilities (facts' order)."""
    on_part = part_context.facts_on_part(facts, params)
    return _totals(facts_context(facts), np.asarray(facts.outcome), probability, on_part)


def items_totals(
    calibrated: Sequence[tuple[ImagePredictions, ImageLabels]],
    matched: Sequence[ImageMatches],
    params: AnalysisParams,
) -> np.ndarray:
    """:func:`facts_totals` of a chunk's calibrated images and their matches (the same
    predictions and numbers, without the facts)."""

    def flat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate([np.zeros(0, dtype), *(np.asarray(v, dtype) for v in parts)])

    n_lab = [len(lab) for _, lab in calibrated]
    n_pred = [len(p) for p, _ in calibrated]
    outcome = flat([m.outcome for m in matched], np.int64)
    context = _prediction_context(
        np.repeat(np.arange(len(n_lab)), n_lab),
        flat([lab.category_ids for _, lab in calibrated], np.int64),
        flat([lab.iscrowd for _, lab in calibrated], bool),
        np.repeat(np.arange(len(n_pred)), n_pred),
        flat([p.category_ids for p, _ in calibrated], np.int64),
        outcome,
    )
    on_part = part_context.items_on_part(calibrated, matched, params)
    probability = flat([p.scores for p, _ in calibrated], np.float64)
    return _totals(context, outcome, probability, on_part)


def label_context(facts: ChunkFacts) -> np.ndarray:
    """Per label of a chunk: 1 if it is regular and its image has another regular label of
    its class, else 0."""
    f = facts
    regular = ~np.asarray(f.l_crowd, bool)
    keys, counts, span, lo = _image_class_counts(f.l_img[regular], f.l_cat[regular], f.l_cat)
    query = np.asarray(f.l_img, np.int64) * span + np.asarray(f.l_cat, np.int64) - lo
    return ((_count_of(keys, counts, query) > 1) & regular).astype(np.int64)


def row_context(facts: ChunkFacts, raw: np.ndarray, params: AnalysisParams) -> np.ndarray:
    """Per suspect row of the chunk (errors.chunk_suspects): for missing_label rows their
    prediction's context (1 / 0), for wrong_class rows their label's (:func:`label_context`)
    plus twice their prediction's (0-3), for inaccurate_label rows whether their prediction
    is on a part (core.part_context, 1 / 0); nan for the other rows."""
    out = np.full(len(raw), np.nan)
    if len(raw):
        context = facts_context(facts)
        sel, pred = kind_rows(facts, raw, "missing_label")
        if len(sel):
            out[sel] = context[pred]
        sel, lab = kind_rows(facts, raw, "wrong_class")
        if len(sel):
            out[sel] = label_context(facts)[lab] + 2 * context[_predictions(facts, raw, sel)]
        sel, _ = kind_rows(facts, raw, "inaccurate_label")
        if len(sel):
            out[sel] = part_context.facts_on_part(facts, params)[_predictions(facts, raw, sel)]
    return out


def _predictions(facts: ChunkFacts, raw: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """The facts' indices of the predictions of rows ``sel``."""
    ids = raw[sel, _PREDICTION_ID].astype(np.int64)
    order = np.argsort(facts.p_id, kind="stable")
    return order[np.searchsorted(facts.p_id[order], ids)]


_PREDICTION_ID = SUSPECT_COLUMNS.index("prediction_id")


def _sides(t: np.ndarray, at: int) -> tuple[float, float, float] | None:
    """The two sides' observed-over-expected ratios of the totals block at ``at`` and the
    ratio of all (None when the block is absent or says nothing)."""
    if len(t) < at + 6:
        return None
    tp, expected = t[at + 1] + t[at + 4], t[at + 2] + t[at + 5]
    if tp <= 0 or expected <= 0:
        return None
    ratio_all = tp / expected
    s0, s1 = (
        (t[at + 3 * s + 1] + CONTEXT_PRIOR * ratio_all) / (t[at + 3 * s + 2] + CONTEXT_PRIOR)
        for s in (0, 1)
    )
    return s0, s1, ratio_all


def _own_term(p: np.ndarray, ratio: np.ndarray, w: float) -> np.ndarray:
    """An own probability term ``1 - w + w p`` with ``p`` times ``ratio`` (at most 1), over
    the term with ``p`` as it is."""
    p = np.clip(np.nan_to_num(p), 0.0, 1.0)
    return (1.0 - w + w * np.minimum(1.0, p * ratio)) / (1.0 - w + w * p)


def factors(
    totals: Sequence[float],
    context: np.ndarray,
    kind: np.ndarray | None = None,
    probability: np.ndarray | None = None,
) -> np.ndarray:
    """Per row, the factor its score is multiplied by; ``kind`` per row (the rows' kind codes;
    None: every row with a context is a missing_label). A missing_label: its side's
    observed-over-expected ratio over that of all counted predictions. A wrong_class whose
    label has context: the ratio without context over the ratio with it (at most 1), else 1.
    With ``probability`` (per row, its prediction's; score version 7) a wrong_class also by
    its own term (core.suspect_scores) with that probability multiplied by its prediction's
    context side's ratio, over its own term as it is, and an inaccurate_label by the same with
    its prediction's part side (core.part_context; 1 with totals stored before version 7).
    1 where the context is nan (other kinds) or the totals say nothing."""
    t = np.asarray(totals, dtype=np.float64)
    out = np.ones(len(context))
    sides = _sides(t, 0)
    if sides is None:
        return out
    ctx = np.asarray(context, dtype=np.float64)
    known = ~np.isnan(ctx)
    codes = np.full(len(ctx), KIND_CODE["missing_label"])
    if kind is not None:
        codes = np.asarray(kind).astype(np.int64)
    miss = known & (codes == KIND_CODE["missing_label"])
    out[miss] = np.where(ctx[miss] > 0, sides[1], sides[0]) / sides[2]
    wrong = known & (codes == KIND_CODE["wrong_class"])
    label_ctx = np.where(wrong, np.mod(np.nan_to_num(ctx), 2), 0)
    out[wrong & (label_ctx > 0)] = min(1.0, sides[0] / sides[1])
    if probability is None:
        return out
    probability = np.asarray(probability, dtype=np.float64)
    ratio = np.where(ctx[wrong] >= 2, sides[1], sides[0]) / sides[2]
    out[wrong] *= _own_term(probability[wrong], ratio, OWN_WEIGHT_WRONG_CLASS)
    part_sides = _sides(t, 6)
    inaccurate = known & (codes == KIND_CODE["inaccurate_label"])
    if part_sides is not None and inaccurate.any():
        ratio = np.where(ctx[inaccurate] > 0, part_sides[1], part_sides[0]) / part_sides[2]
        out[inaccurate] *= _own_term(probability[inaccurate], ratio, OWN_WEIGHT_INACCURATE)
    return out
