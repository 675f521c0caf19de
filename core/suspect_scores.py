"""A suspect's score in [0, 1] ("how likely is this a real label error") from its raw
evidence: :func:`score_suspects` and the constants of each score version.

The rules (core.errors) find the suspects and fill their evidence; core.scoring gives this
the analysis's fitted inputs (the detector's habits, core.label_fit's share) and applies the
later versions' discounts (core.containment). Pure numpy: no Qt, no store.
"""

from __future__ import annotations

import numpy as np

from .errors import KIND_CODE, SUSPECT_COL, AnalysisParams

# Side (px) from which an object counts fully in the missing / inaccurate scores (bench-tuned).
FULL_SIZE_SIDE = 32.0
# Matched-but-loose inaccurate labels: their score's weight (weaker evidence than an unmatched
# partial overlap) and the side (px; COCO's "large") from which their IoU is trusted fully.
LOOSE_WEIGHT = 0.75
LOOSE_FULL_SIDE = 96.0
# Score version 2 (see score_suspects). How much a wrong_class / inaccurate_label suspect's own
# prediction probability weighs beside the absence of competing evidence (the rest of the score
# does not depend on it): a confusion or an imprecise box is as confident as a label error.
OWN_WEIGHT_WRONG_CLASS = 0.3
OWN_WEIGHT_INACCURATE = 0.2
# The share of wrong_class / inaccurate_label suspects with no competing evidence at all that are
# real label errors (the rest: the detector's own confusions and imprecise boxes); puts these
# kinds on the scale of missing_label's probability in the one ranking over all kinds.
UNOPPOSED_PRECISION = 0.85
# Score version 3: inaccurate_label's own share (fewer of the unopposed ones are real errors:
# about half of those among the first 50 suspects on the tuning detector, against nearly all
# wrong_class ones).
UNOPPOSED_PRECISION_INACCURATE = 0.75
# Score version 3: the side (px; COCO's "large") from which a missing_label's prediction counts
# fully (calibrated probabilities do not know an object's size; small unlabelled detections
# are less often real objects, more so on weaker detectors).
MISSING_FULL_SIDE = 96.0

# Score version 4: the power of core.label_fit's share (the detector's true positives that fit
# their labels better than any prediction of the label's class fits this one) in an
# inaccurate_label score (bench, tuning seeds: 0.25 / 0.5 / 0.75 gave AP 0.364 / 0.364 / 0.358 on
# CenterNet, 0.326 / 0.326 / 0.324 on its blurred scores; 1 / 2: 0.350 / 0.335).
LABEL_FIT_POWER = 0.5


def _size_factor(area: np.ndarray, full_side: float) -> np.ndarray:
    """sqrt(min(1, side / full_side)) for a square of ``area``: small objects weigh less."""
    side = np.sqrt(np.maximum(area, 0.0))
    return np.sqrt(np.clip(side / full_side, 0.0, 1.0))


def score_suspects(
    raw: np.ndarray,
    params: AnalysisParams,
    habit: np.ndarray | None = None,
    fit_share: np.ndarray | None = None,
) -> np.ndarray:
    """Score in [0, 1] for each raw suspect row ("how likely is this a real label error").

    The prediction's probability ``p`` is the ``probability`` column (the calibrated
    probability that the prediction is right), or its ``confidence`` where that is nan (rows
    straight from the rules, given raw scores). ``evidence`` and ``support`` are on the same
    scale as ``p``. ``habit`` (optional, one value in [0, 1] per row, see
    core.habits.habit_rates) is how often the detector makes a wrong_class row's confusion on
    other labels of the class: the wrong_class score is multiplied by ``1 - habit``.
    ``fit_share`` (optional, per row, nan where it does not apply; core.label_fit) is, for an
    inaccurate_label row, the share of the detector's true positives that fit their labels
    better than any prediction of the label's class fits this label.
    ``params.score_version`` picks the formulas (below).

    Version 4 (the default) is version 3 with an inaccurate_label score multiplied by
    ``fit_share ** LABEL_FIT_POWER``: a label that some prediction of its class fits as well as
    the detector fits the labels it finds is probably fine, whatever that detector's precision
    (bench seeds 0-4, AP inaccurate 0.344 -> 0.364 CenterNet, 0.305 -> 0.326 blurred, 0.716 ->
    0.717 synthetic; all kinds 0.491 -> 0.498 / 0.432 -> 0.440 / 0.576; tried and left out:
    the share of *labels* fitted better (0.343 / 0.291 at power 0.5: most labels of a weak
    detector are fitted loosely), plain ``1 - IoU`` (0.307 / 0.234), and the share applied to
    partial overlaps alone (0.346 / 0.311) or matched-but-loose alone (0.362 / 0.318)).

    Measured with ``bench/bench_quality.py`` (injected errors in real COCO labels; AP on the
    tuning seeds 0-4, CenterNet / CenterNet with its scores blurred by logit noise (sd 1) / the
    synthetic set).

    Version 3 (the default) is version 2 with three changes, on the logistic class curves of
    core.calibration (AP missing / wrong class / inaccurate, and all kinds in one ranking;
    version 2 on the isotonic curves with the second fit it had: 0.197 / 0.559 / 0.305, all
    0.440 / 0.053 / 0.448 / 0.265, all 0.342 / 0.555 / 0.557 / 0.713, all 0.614; version 2 on
    the logistic curves: 0.196 / 0.558 / 0.332, all 0.432 / 0.065 / 0.427 / 0.275, all 0.346 /
    0.559 / 0.565 / 0.716, all 0.614):

    - the competing evidence counts by its square root: wrong_class ``(1 - sqrt(support))``,
      a partial-overlap inaccurate_label ``(1 - sqrt(explained))``: a weak prediction of the
      label's own class on it already says much against an error (wrong class 0.600 / 0.517 /
      0.565, inaccurate 0.336 / 0.288 / 0.716, all 0.447 / 0.371 / 0.614; powers 0.25 and 0.35
      gave the same within 0.01, 1.5 and 2 less);
    - inaccurate_label's share of real errors among the unopposed is
      :data:`UNOPPOSED_PRECISION_INACCURATE` (0.75, not 0.85): all kinds 0.476 / 0.395 / 0.582
      (P@50 0.768 -> 0.872 / 0.648 -> 0.748 / 0.624 -> 0.580; 0.7 gave 0.481 / 0.396 / 0.575);
    - missing_label's size factor reaches 1 at :data:`MISSING_FULL_SIDE` (96 px, not 32):
      missing 0.198 / 0.093 / 0.569 (from 0.196 / 0.065 / 0.559; 48 / 64 / 128 px: 0.073 /
      0.080 / 0.088 on the blurred set), all 0.474 / 0.409 / 0.576.

    Tried and left out (same measure, each lower on CenterNet): a missing_label score with a
    penalty for its overlap with labels or a power of ``p``; partial overlaps' size factor
    reaching 1 at 48-96 px; inaccurate_label weighted by its IoU, by the odds of ``p``, or with
    a larger own weight. A smaller wrong_class own weight ``w`` (0.1-0.2) ranks wrong_class
    higher but lists more low-confidence confusions first, as in version 2.

    Version 2 (analyses stored before version 3), v1 -> v2 with calibrated probabilities on
    the three setups:

    - missing_label: ``p`` x a size factor sqrt(min(1, side / 32 px)) (96 px since version 3):
      a small unlabelled detection is weaker evidence than a large one.
    - wrong_class: ``(1 - support) x (1 - habit) x (1 - w + w p)``, ``w`` =
      :data:`OWN_WEIGHT_WRONG_CLASS`, x :data:`UNOPPOSED_PRECISION`. ``support`` is the best
      probability of a prediction of the *label's* class anywhere on it: a label whose class
      the detector does not see at all is the main evidence; the other class's own probability
      says less (a confident confusion is as confident as a relabelling). AP 0.523 -> 0.559 /
      0.366 -> 0.448. ``w`` 0.05 gave 0.585 / 0.525, but filled the top 20 suspects of the clean
      labels with confusions at raw confidence 0.1-0.2 (looked at: not label errors); ``p -
      support`` (v1) and ``p x (1 - support)`` rank worse.
    - inaccurate_label: ``(1 - w + w p) x (1 - explained) x`` the label's size factor (32 px),
      ``w`` = :data:`OWN_WEIGHT_INACCURATE`, ``explained`` the best probability of a same-class
      prediction matching the label; matched but loose (IoU >= ``iou_threshold``): ``(1 - w + w
      p) x`` a size factor reaching 1 at 96 px (small objects' IoU is noisy); both x
      :data:`UNOPPOSED_PRECISION`. AP 0.279 -> 0.305 / 0.214 -> 0.265.
    - duplicate_label: the two labels' IoU.
    - spurious_label: at most 0.5 (a detector often misses small objects, so a label nobody
      predicted is weaker evidence than a confident prediction nobody labelled): 0.5 x (1 - best
      overlap / low_iou) x a size factor that reaches 1 for labels of 64 x 64 px and more.

    All kinds in one ranking, AP 0.395 -> 0.440 / 0.267 -> 0.342 / 0.579 -> 0.614; with
    :data:`UNOPPOSED_PRECISION` 1 the suspects without competing evidence bury missing_label's
    best (measured with ``w`` 0.05: 0.428 / 0.353 / 0.463 against 0.463 / 0.388 / 0.588).

    Version 1 (analyses stored before version 2; chosen on raw CenterNet confidences, AP
    missing / wrong class / inaccurate before -> after each step): wrong_class ``p - support``,
    the margin by which the detector prefers the other class (0.459 with p x (1 - explained) at
    IoU >= 0.5; 0.485 at ``wrong_class_iou`` 0.4; 0.557 with the margin); inaccurate_label ``p x
    (1 - explained) x`` size factor (0.283 -> 0.293), matched but loose 0.75 x ``p x`` size
    factor (96 px) (0.293 -> 0.349, recall 0.61 -> 0.74 with loose_iou 0.6). missing_label
    0.143 with the old "overlaps no label" rule, 0.215 with the crowd-aware candidate rule,
    0.246 with the size factor.
    """
    if len(raw) == 0:
        return np.zeros(0)
    kind = raw[:, 0].astype(np.int64)
    conf = raw[:, SUSPECT_COL["confidence"]]
    if raw.shape[1] > SUSPECT_COL["probability"]:
        prob = raw[:, SUSPECT_COL["probability"]]
        conf = np.where(np.isnan(prob), conf, prob)
    evidence = raw[:, SUSPECT_COL["evidence"]]
    area = raw[:, SUSPECT_COL["area"]]
    score = np.zeros(len(raw))
    k = KIND_CODE
    sel = kind == k["missing_label"]
    full_side = MISSING_FULL_SIDE if params.score_version >= 3 else FULL_SIZE_SIDE
    score[sel] = conf[sel] * _size_factor(area[sel], full_side)
    wrong = kind == k["wrong_class"]
    support = np.nan_to_num(
        raw[wrong, SUSPECT_COL["support"]] if raw.shape[1] > 11 else evidence[wrong]
    )
    inaccurate = kind == k["inaccurate_label"]
    loose = inaccurate & (raw[:, SUSPECT_COL["iou"]] >= params.iou_threshold)  # matched but loose
    partial = inaccurate & ~loose
    if params.score_version < 2:
        score[wrong] = conf[wrong] - support
        score[partial] = conf[partial] * (1.0 - evidence[partial])
        score[loose] = LOOSE_WEIGHT * conf[loose]
    else:
        p = np.clip(np.nan_to_num(conf), 0.0, 1.0)
        support = np.clip(support, 0.0, 1.0)
        explained = np.clip(evidence[partial], 0.0, 1.0)
        if params.score_version >= 3:  # the competing evidence by its square root
            support, explained = np.sqrt(support), np.sqrt(explained)
        own = 1.0 - OWN_WEIGHT_WRONG_CLASS + OWN_WEIGHT_WRONG_CLASS * p[wrong]
        score[wrong] = UNOPPOSED_PRECISION * (1.0 - support) * own
        unopposed = (
            UNOPPOSED_PRECISION_INACCURATE if params.score_version >= 3 else UNOPPOSED_PRECISION
        )
        own = unopposed * (1.0 - OWN_WEIGHT_INACCURATE + OWN_WEIGHT_INACCURATE * p)
        score[partial] = own[partial] * (1.0 - explained)
        score[loose] = own[loose]
    if habit is not None:
        score[wrong] *= 1.0 - np.clip(np.nan_to_num(np.asarray(habit)[wrong]), 0.0, 1.0)
    if fit_share is not None and params.score_version >= 4:
        share = np.asarray(fit_share, dtype=np.float64)[inaccurate]
        share = np.where(np.isnan(share), 1.0, np.clip(share, 0.0, 1.0))
        score[inaccurate] *= share**LABEL_FIT_POWER
    score[partial] *= _size_factor(area[partial], FULL_SIZE_SIDE)
    score[loose] *= _size_factor(area[loose], LOOSE_FULL_SIDE)
    sel = kind == k["duplicate_label"]
    score[sel] = evidence[sel]
    sel = kind == k["spurious_label"]
    overlap = np.clip(evidence[sel] / max(params.low_iou, 1e-9), 0, 1)
    size = np.clip(np.sqrt(np.maximum(area[sel], 0.0)) / 64.0, 0, 1)
    score[sel] = 0.5 * (1.0 - overlap) * size
    return np.clip(score, 0.0, 1.0)
