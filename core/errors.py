"""Suspected label errors ("suspects"): the cross-class pass that runs after matching.

The kinds, in the words used everywhere in LabelFix:

- ``missing_label``: a confident prediction that no label explains: it overlaps no same-class
  label much (IoU < ``missing_same_iou``), no other-class label enough to be on it
  (IoU < ``wrong_class_iou``) and no crowd region of its class (< ``low_iou``; of any class
  before score version 7): an object nobody labelled. In a crowd, an unlabelled person next to
  labelled ones overlaps them partly; those count too.
- ``wrong_class``: a prediction of class B on a label of class A
  (IoU >= ``wrong_class_iou``) where no class-A prediction at least as confident overlaps the label.
- ``inaccurate_label``: the box or polygon is too tight, too loose or shifted. Either a confident
  same-class prediction overlaps the label only partly (``low_iou`` <= IoU < ``iou_threshold``)
  and no same-class prediction at least as confident matches it; or, weaker evidence, a confident
  prediction matches the label (tp) but loosely (``iou_threshold`` <= IoU < ``loose_iou``:
  "matched but loose"). At most one per label; the partial overlap wins. (A prediction with a
  small same-class overlap can raise both this and a missing_label: either the label is off or
  the prediction is another, unlabelled object; the reviewer tells which.)
- ``duplicate_label``: two labels of the same class on one object (IoU >= ``duplicate_iou``).
- ``spurious_label``: a label that no prediction of any class overlaps (IoU < ``low_iou``) at any
  confidence: a label on nothing.

Each suspect's ``score`` in [0, 1] reads as "how likely is this a real label error"; see
core.suspect_scores for how it is computed from the raw evidence.

"Confident" means a score of at least ``min_score`` for a missing label, and of at least
``min_score x on_label_score_ratio`` for the kinds on a label (wrong_class, inaccurate_label:
their main evidence is the label's own class finding no support). It and every comparison of
confidences above use the scores the rules are given. An
analysis gives them calibrated probabilities (how likely a prediction of this class at this
rank is right, fitted on the analysis's own matches: core.calibration, core.scoring), so the
same thresholds mean the same on any detector; ``AnalysisParams.calibrate=False`` gives them the
raw confidences.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import key_sort
from .matching import (
    TP,
    Batch,
    BatchMatches,
    ImageLabels,
    ImageMatches,
    ImagePredictions,
    batch_of,
)
from .segments import (
    flat,
    nms_keep,
    nms_pairs,
    pair_box_iou,
    segment_argmax,
    segment_max,
    starts,
    upper_pairs,
)

KINDS = ("missing_label", "wrong_class", "inaccurate_label", "duplicate_label", "spurious_label")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class AnalysisParams:
    """Every threshold of an analysis; stored with it. Defaults in parentheses.

    iou_threshold (0.5): COCO match threshold; also the overlap that puts a prediction "on" a label.
    low_iou (0.1): below this a prediction and a label do not overlap (missing / spurious).
    duplicate_iou (0.85): two same-class labels overlapping this much are one object labelled twice.
    min_score (0.05): predictions below this confidence raise no suspects (they still match).
    max_dets (100): COCO's per-image-and-category detection limit.
    geometry ("boxes"): IoU on "boxes" or on "masks" (polygons / RLE).
    nms_iou (0.5): missing-label candidates overlapping a more confident one this much are dropped.
    wrong_class_iou (0.4): an other-class prediction overlapping a label this much is "on" it
        (wrong_class evidence; and such a prediction is not a missing label).
    missing_same_iou (0.3): a prediction overlapping same-class labels less than this is not
        explained by them (missing-label candidate).
    loose_iou (0.6): a label matched (tp) by a confident prediction with IoU below this is an
        inaccurate-label suspect ("matched but loose"); <= iou_threshold turns that rule off.
        Analyses stored before it existed read back with the rule off.
    on_label_score_ratio (0.1): wrong_class and inaccurate_label take predictions down to
        ``min_score`` x this: their evidence is mostly that nothing of the label's own class at
        least as probable sits on the label, which a weak prediction of another class (or a
        loose one of its own) shows as well as a strong one (their score still weighs the
        prediction's probability). missing_label keeps ``min_score``: its only evidence is
        the prediction. Analyses stored before it existed read back with 1 (one cut).
    calibrate (True): the rules compare calibrated probabilities fitted on this analysis's
        matches (core.calibration; min_score then cuts on probability) and wrong_class is
        discounted by the detector's habits; False: raw confidences, no habits (as before).
        Analyses stored before it existed read back with False.
    score_version (14): which formulas core.suspect_scores.score_suspects turns the evidence
        into a score with (see there); from 7 a crowd region stops only its own class's
        missing labels; from 8 an inaccurate_label's score weighs whether its label's outline
        sits on the image's edges (core.edge_fit); from 9 a polygon label no true positive
        matches can be an inaccurate_label suspect from its image alone (core.outline_search); from
        10 a label of a class its prediction set never predicts is no spurious_label (score 0)
        and a spurious_label weighs by the share of labels the detector matched (core.scoring);
        from 11 by the share of the other labels of its image the detector matched
        (core.image_recall); from 12 several sets' suspects on a label keep their best set's
        score and a set whose true positives explain a suspect's object disagrees with it
        (core.consensus); from 13 each set's suspect scores
        are weighed by the set's recall over the best set's before they are combined
        (core.consensus.set_weights; one set: nothing changes); from 14 several sets'
        missing_label noisy-or counts them as the independent sets they are, measured by
        how often their candidates coincide (core.consensus.dependence; one set: nothing
        changes).
        Analyses stored before it existed read back with 1, so
        re-analysing some images of an old analysis scores them as the rest of it was scored.
    scores ("per-class"): "comparable" (opt-in) scores a missing_label by one curve pooled over
        all classes' raw scores instead of its class's own (for detectors whose scores mean
        the same on every class; core.score_scale). Older analyses read back "per-class".
    """

    iou_threshold: float = 0.5
    low_iou: float = 0.1
    duplicate_iou: float = 0.85
    min_score: float = 0.05
    max_dets: int = 100
    geometry: str = "boxes"
    nms_iou: float = 0.5
    wrong_class_iou: float = 0.4
    missing_same_iou: float = 0.3
    loose_iou: float = 0.6
    on_label_score_ratio: float = 0.1
    calibrate: bool = True
    score_version: int = 14
    scores: str = "per-class"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of the parameters."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalysisParams:
        """Parameters from their JSON dict (unknown keys ignored).

        Without ``loose_iou`` (stored before the matched-but-loose rule) that rule stays off, and
        without ``on_label_score_ratio`` every rule keeps the one ``min_score`` cut, without
        ``calibrate`` the raw confidences stay in use and without ``score_version`` the
        first scoring formulas, so re-analysing some images of an old analysis finds and scores
        what the rest of it found.
        """
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "loose_iou" not in known:
            known["loose_iou"] = known.get("iou_threshold", cls.iou_threshold)
        known.setdefault("on_label_score_ratio", 1.0)
        known.setdefault("calibrate", False)
        known.setdefault("score_version", 1)
        return cls(**known)


# Columns of a suspects array (one row per suspect); floats with nan/-1 for "does not apply".
# The rules fill ``confidence``, ``evidence`` and ``support`` from the scores they are given: in
# an analysis, calibrated probabilities (core.calibration). The analysis then moves the
# suspect's own probability to ``probability`` and puts the raw confidence back in
# ``confidence`` (core.scoring.restore_confidence); ``probability`` stays nan from the rules.
SUSPECT_COLUMNS: tuple[str, ...] = (
    "kind",
    "image_id",
    "annotation_id",
    "other_annotation_id",
    "prediction_id",
    "category_id",
    "predicted_category_id",
    "iou",
    "confidence",
    "evidence",
    "area",
    "support",
    "probability",
)
SUSPECT_COL: dict[str, int] = {name: i for i, name in enumerate(SUSPECT_COLUMNS)}
"""A column's index in a suspects array (:data:`SUSPECT_COLUMNS`)."""


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plain xywh box IoU matrix (no crowd rule)."""
    ax1, ay1 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx1, by1 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(
        np.minimum(ax1[:, None], bx1[None]) - np.maximum(a[:, 0][:, None], b[:, 0][None]), 0, None
    )
    ih = np.clip(
        np.minimum(ay1[:, None], by1[None]) - np.maximum(a[:, 1][:, None], b[:, 1][None]), 0, None
    )
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def _block(kind: str, image_id: int | np.ndarray, k: int, **cols: np.ndarray | float) -> np.ndarray:
    """``k`` raw suspect rows of one kind, columns given as arrays (or scalars) by name (in
    column-major order, as :func:`chunk_suspects` hands them on)."""
    out = np.full((k, len(SUSPECT_COLUMNS)), np.nan, order="F")
    out[:, 0] = KIND_CODE[kind]
    out[:, 1] = image_id
    for name in (
        "annotation_id",
        "other_annotation_id",
        "prediction_id",
        "category_id",
        "predicted_category_id",
    ):
        out[:, SUSPECT_COL[name]] = -1
    for name, value in cols.items():
        out[:, SUSPECT_COL[name]] = value
    return out


def _best_per_label(labels_of: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """Indices of the most confident candidate per label (ties: the earliest candidate),
    ordered by where each label first appears among the candidates."""
    order = key_sort.lexsort((-conf, labels_of))  # label, confidence desc, index
    first = np.r_[True, labels_of[order][1:] != labels_of[order][:-1]]
    best = order[first]  # one per label, in label order
    _, first_seen = np.unique(labels_of, return_index=True)  # the same label order
    return best[np.argsort(first_seen, kind="stable")]


# ---------------------------------------------------------------------------------------------
# The same suspects for a chunk of images at once. Predictions, labels and (prediction, label)
# pairs of all images are concatenated; per-prediction and per-label reductions become segmented
# reductions over the flat pair arrays. Every value is computed with the same floating-point
# operations as in the per-image reference (tests/suspect_oracle.py), so the result is identical,
# not merely close.


@dataclass
class ChunkFacts:
    """What the rules read of a chunk of images that does not depend on the predictions'
    scores: its predictions, labels and (prediction, label) pairs flattened over its images,
    with the per-prediction and per-label overlaps. An analysis makes them once per chunk
    (:func:`chunk_facts`) and finds the suspects with each pass's scores (:func:`chunk_suspects`).
    """

    image_id: np.ndarray  # float (B,) the images' ids
    n_labels: np.ndarray  # (B,)
    p_img: np.ndarray  # (M,) image index of each prediction
    p_id: np.ndarray
    p_cat: np.ndarray
    p_score: np.ndarray  # the scores the items came with
    p_box: np.ndarray  # (M, 4)
    outcome: np.ndarray
    p_match: np.ndarray  # matched label id, -1 if none
    l_img: np.ndarray  # (N,) image index of each label
    l_id: np.ndarray
    l_cat: np.ndarray
    l_box: np.ndarray  # (N, 4)
    l_crowd: np.ndarray
    l_area: np.ndarray
    l_start: np.ndarray  # (B,) first label of each image
    ious: np.ndarray  # (P,) IoU of each pair, row-major per image as the matches' matrices
    pair_pred: np.ndarray  # (P,) the pair's prediction
    pair_label: np.ndarray  # (P,) the pair's label
    per_pred: np.ndarray  # (M,) pairs of each prediction (its image's labels)
    per_label: np.ndarray  # (N,) pairs of each label
    same: np.ndarray  # (P,) same class
    max_same: np.ndarray  # (M,) best same-class non-crowd overlap
    max_other: np.ndarray  # (M,) best other-class non-crowd overlap
    in_crowd: np.ndarray  # (M,) best crowd overlap
    best_overlap: np.ndarray  # (N,) best overlap of any prediction with each label
    # the pairs label-major (a label's column, for per-label maxima): their prediction, and
    # whether it is same-class with IoU >= iou_threshold (explains) / >= low_iou (supports)
    label_pred: np.ndarray
    label_explains: np.ndarray
    label_supports: np.ndarray
    loose_pair: np.ndarray  # each tp's first pair with its matched label (ascending)
    miss_geo: np.ndarray  # missing-label candidates but for their confidence (ascending)


def kind_rows(facts: ChunkFacts, raw: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows of one kind among a chunk's raw suspect rows (:func:`chunk_suspects`), and
    for each its prediction's index in the facts (missing_label) or its label's (the kinds
    on a label)."""
    sel = np.flatnonzero(raw[:, SUSPECT_COL["kind"]].astype(np.int64) == KIND_CODE[kind])
    on_prediction = kind == "missing_label"
    ids = raw[sel, SUSPECT_COL["prediction_id" if on_prediction else "annotation_id"]].astype(
        np.int64
    )
    known = facts.p_id if on_prediction else facts.l_id
    order = np.argsort(known, kind="stable")
    return sel, order[np.searchsorted(known[order], ids)]


@dataclass
class _Chunk(ChunkFacts):
    """The facts with the scores of one pass and what the rules derive from them."""

    confident: np.ndarray = None  # (M,) score >= min_score (missing labels)
    on_label: np.ndarray = None  # (M,) score >= min_score x on_label_score_ratio
    unmatched: np.ndarray = None  # (M,) on_label and not a tp
    explained: np.ndarray = None  # (N,) best score of a same-class prediction matching the label
    support: np.ndarray = None  # (N,) best score of a same-class prediction overlapping it at all


def chunk_facts(
    items: list[tuple[ImagePredictions, ImageLabels]],
    matches: list[ImageMatches],
    image_ids: list[int],
    params: AnalysisParams,
) -> ChunkFacts:
    """The score-independent facts of a chunk of images (``items`` and ``matches`` as for
    :func:`batch_suspects`); ``p_score`` holds the items' own scores."""
    if len(matches) != len(items):
        raise ValueError("items, matches and image_ids must have one entry per image")
    batch = batch_of(items)
    matched = BatchMatches(
        flat([mt.outcome for mt in matches], np.int8),
        flat([mt.annotation_id for mt in matches], np.int64),
        flat([mt.iou for mt in matches], np.float64),
        flat(
            [
                mt.ious
                for mt, m, n in zip(matches, batch.n_preds, batch.n_labels, strict=True)
                if m and n
            ],
            np.float64,
        ),
    )
    return batch_facts(batch, matched, image_ids, params)


def _matched_pairs(
    outcome: np.ndarray,
    p_match: np.ndarray,
    l_id: np.ndarray,
    per_pred: np.ndarray,
    pair_label: np.ndarray,
) -> np.ndarray:
    """The pairs (ascending) of each tp prediction with its matched label:
    ``np.flatnonzero((outcome[pair_pred] == TP) & (l_id[pair_label] == p_match[pair_pred]))``
    over the tp predictions' pairs only (a prediction's pairs are consecutive)."""
    tp = np.flatnonzero(outcome == TP)
    sizes = per_pred[tp]
    first = (np.cumsum(per_pred) - per_pred)[tp]
    pairs = np.arange(int(sizes.sum())) + np.repeat(first - (np.cumsum(sizes) - sizes), sizes)
    return pairs[l_id[pair_label[pairs]] == np.repeat(p_match[tp], sizes)]


def batch_facts(
    batch: Batch, matched: BatchMatches, image_ids: list[int], params: AnalysisParams
) -> ChunkFacts:
    """:func:`chunk_facts` of a chunk's :class:`~.matching.Batch` and its matches (the same
    facts, without per-image items)."""
    n_preds, n_labels = batch.n_preds, batch.n_labels
    B, M, N = len(n_preds), len(batch.pred_id), len(batch.label_id)  # noqa: N806
    image_id = np.asarray(image_ids, dtype=np.float64).reshape(-1)
    if len(image_id) != B:
        raise ValueError("items, matches and image_ids must have one entry per image")

    p_img = batch.pred_image
    outcome = matched.outcome.astype(np.int64)
    l_img = np.repeat(np.arange(B), n_labels)
    l_cat = batch.label_category
    l_crowd = batch.label_crowd
    l_id = batch.label_id
    l_start = starts(n_labels)
    p_cat = batch.pred_category
    p_match = matched.annotation_id

    ious = matched.ious
    per_pred = n_labels[p_img]
    pair_pred = np.repeat(np.arange(M), per_pred)
    pair_label = np.arange(len(pair_pred)) + np.repeat(l_start[p_img] - starts(per_pred), per_pred)
    if len(ious) != len(pair_pred):
        raise ValueError("each matches[k].ious must be the (m, n) IoU matrix of image k")
    per_label = n_preds[l_img]
    col_label = np.repeat(np.arange(N), per_label)
    row = np.arange(len(col_label)) - np.repeat(starts(per_label), per_label)
    col_img = l_img[col_label]
    by_label = (
        starts(n_preds * n_labels)[col_img] + row * n_labels[col_img] + col_label - l_start[col_img]
    )

    same = p_cat[pair_pred] == l_cat[pair_label]
    crowd = l_crowd[pair_label]
    regular = np.where(crowd, -1.0, ious)
    # each tp's first pair with the label it matched (the matched-but-loose rule's candidates)
    hp = _matched_pairs(outcome, p_match, l_id, per_pred, pair_label)
    loose_pair = hp[np.r_[True, pair_pred[hp][1:] != pair_pred[hp][:-1]]] if len(hp) else hp
    max_same = segment_max(np.where(same, regular, 0.0), per_pred)
    max_other = segment_max(np.where(~same, regular, 0.0), per_pred)
    # a crowd region explains the predictions of its own class (COCO ignores a prediction in it
    # only when evaluating that class); before score version 7 it explained any class's
    explains = crowd & same if params.score_version >= 7 else crowd
    in_crowd = segment_max(np.where(explains, ious, 0.0), per_pred)
    miss_geo = np.flatnonzero(
        (outcome != TP)
        & (max_same < params.missing_same_iou)
        & (max_other < params.wrong_class_iou)
        & (in_crowd < params.low_iou)
    )
    return ChunkFacts(
        image_id=image_id,
        n_labels=n_labels,
        p_img=p_img,
        p_id=batch.pred_id,
        p_cat=p_cat,
        p_score=batch.pred_score,
        p_box=batch.pred_box,
        outcome=outcome,
        p_match=p_match,
        l_img=l_img,
        l_id=l_id,
        l_cat=l_cat,
        l_box=batch.label_box,
        l_crowd=l_crowd,
        l_area=batch.label_area,
        l_start=l_start,
        ious=ious,
        pair_pred=pair_pred,
        pair_label=pair_label,
        per_pred=per_pred,
        per_label=per_label,
        same=same,
        max_same=max_same,
        max_other=max_other,
        in_crowd=in_crowd,
        best_overlap=segment_max(ious[by_label], per_label),
        label_pred=pair_pred[by_label],
        label_explains=(same & (ious >= params.iou_threshold))[by_label],
        label_supports=(same & (ious >= params.low_iou))[by_label],
        loose_pair=loose_pair,
        miss_geo=miss_geo,
    )


def _scored(facts: ChunkFacts, scores: np.ndarray | None, params: AnalysisParams) -> _Chunk:
    """The facts with these scores of their predictions (None: the items' own)."""
    p_score = facts.p_score if scores is None else np.asarray(scores, dtype=np.float64)
    if len(p_score) != len(facts.p_id):
        raise ValueError("one score per prediction of the chunk")
    confident = p_score >= params.min_score
    on_label = p_score >= params.min_score * params.on_label_score_ratio
    score = p_score[facts.label_pred]
    fields = {f: getattr(facts, f) for f in ChunkFacts.__dataclass_fields__}
    fields["p_score"] = p_score
    return _Chunk(
        **fields,
        confident=confident,
        on_label=on_label,
        unmatched=on_label & (facts.outcome != TP),
        explained=segment_max(np.where(facts.label_explains, score, 0.0), facts.per_label),
        support=segment_max(np.where(facts.label_supports, score, 0.0), facts.per_label),
    )


_Rows = tuple[np.ndarray, np.ndarray]  # suspect rows of one kind, and each row's image index


def _missing_labels(c: _Chunk, params: AnalysisParams) -> list[_Rows]:
    """Confident predictions no label explains, greedy NMS among each image's candidates."""
    miss = c.miss_geo[c.confident[c.miss_geo]]  # unmatched, no label explains it
    if not len(miss):
        return []
    miss = miss[key_sort.lexsort((-c.p_score[miss], c.p_img[miss]))]  # per image, by score
    sizes = np.bincount(c.p_img[miss], minlength=len(c.image_id))
    keep = miss[nms_keep(len(miss), *nms_pairs(c.p_box[miss], sizes, params.nms_iou))]
    rows = _block(
        "missing_label", c.image_id[c.p_img[keep]], len(keep), prediction_id=c.p_id[keep],
        predicted_category_id=c.p_cat[keep], iou=np.maximum(c.max_same[keep], c.max_other[keep]),
        confidence=c.p_score[keep], evidence=c.max_same[keep],
        area=c.p_box[keep, 2] * c.p_box[keep, 3],
    )  # fmt: skip
    return [(rows, c.p_img[keep])]


@dataclass
class _OnLabel:
    """Confident unmatched predictions on a non-crowd label: each one's best other-class label
    ``j`` and same-class label ``k``, with those overlaps."""

    cand: np.ndarray
    j: np.ndarray
    k: np.ndarray
    other_iou: np.ndarray
    mine_iou: np.ndarray
    conf: np.ndarray


def _on_label(c: _Chunk, params: AnalysisParams) -> _OnLabel | None:
    cand = np.flatnonzero(
        c.unmatched & (np.maximum(c.max_same, c.max_other) >= params.low_iou) & (c.per_pred > 0)
    )
    if not len(cand):
        return None
    is_cand = np.zeros(len(c.p_id), dtype=bool)
    is_cand[cand] = True
    sub = np.flatnonzero(is_cand[c.pair_pred])  # the candidates' rows of pairs
    sizes = c.per_pred[cand]
    seg = np.repeat(np.arange(len(cand)), sizes)
    sub_same = c.same[sub]
    sub_regular = np.where(c.l_crowd[c.pair_label[sub]], -1.0, c.ious[sub])  # crowd: -1
    other = np.where(sub_same, -1.0, sub_regular)
    mine = np.where(sub_same, sub_regular, -1.0)
    other_iou = segment_max(other, sizes)
    mine_iou = segment_max(mine, sizes)
    j = c.pair_label[sub[segment_argmax(other, seg, other_iou)]]
    k = c.pair_label[sub[segment_argmax(mine, seg, mine_iou)]]
    return _OnLabel(cand, j, k, other_iou, mine_iou, c.p_score[cand])


def _wrong_class_mask(c: _Chunk, on: _OnLabel, params: AnalysisParams) -> np.ndarray:
    """Candidates on an other-class label that no as confident label-class prediction supports."""
    return (on.other_iou >= params.wrong_class_iou) & (c.support[on.j] < on.conf)


def _on_label_rows(
    kind: str, c: _Chunk, on: _OnLabel, sel: np.ndarray, lab: np.ndarray, iou: np.ndarray
) -> tuple[list[_Rows], np.ndarray]:
    """The selected candidates' suspects, the most confident one per label; and their labels."""
    idx = np.flatnonzero(sel)
    if not len(idx):
        return [], idx
    # batch label indices are unique across images, and first appearance keeps the images in
    # order: _best_per_label works on the whole chunk at once
    idx = idx[_best_per_label(lab[idx], on.conf[idx])]
    p, lb = on.cand[idx], lab[idx]
    rows = _block(
        kind, c.image_id[c.p_img[p]], len(idx), annotation_id=c.l_id[lb], prediction_id=c.p_id[p],
        category_id=c.l_cat[lb], predicted_category_id=c.p_cat[p], iou=iou[idx],
        confidence=on.conf[idx], evidence=c.explained[lb], area=c.l_area[lb], support=c.support[lb],
    )  # fmt: skip
    return [(rows, c.p_img[p])], lb


def _wrong_class(c: _Chunk, on: _OnLabel | None, params: AnalysisParams) -> list[_Rows]:
    """A confident prediction of another class on a label, unsupported by the label's class."""
    if on is None:
        return []
    return _on_label_rows(
        "wrong_class", c, on, _wrong_class_mask(c, on, params), on.j, on.other_iou
    )[0]


def _inaccurate_partial(
    c: _Chunk, on: _OnLabel | None, params: AnalysisParams
) -> tuple[list[_Rows], np.ndarray]:
    """A confident same-class prediction overlapping a label only partly, with nothing as
    confident matching it (not a wrong class); returns the rows and their labels."""
    if on is None:
        return [], np.zeros(0, np.int64)
    sel = (
        ~_wrong_class_mask(c, on, params)
        & (on.mine_iou >= params.low_iou)
        & (on.mine_iou < params.iou_threshold)
        & (c.explained[on.k] < on.conf)
    )
    return _on_label_rows("inaccurate_label", c, on, sel, on.k, on.mine_iou)


def _inaccurate_loose(c: _Chunk, params: AnalysisParams, taken: np.ndarray) -> list[_Rows]:
    """A confident tp matching its label loosely (iou_threshold <= IoU < loose_iou), for labels
    without a partial-overlap suspect (``taken``): each tp's first pair with its matched label."""
    if params.loose_iou <= params.iou_threshold:
        return []
    first = c.loose_pair[c.on_label[c.pair_pred[c.loose_pair]]]
    tp, lb, iou = c.pair_pred[first], c.pair_label[first], c.ious[first]
    sel = np.flatnonzero(
        c.same[first]
        & ~c.l_crowd[lb]
        & ~taken[lb]
        & (iou >= params.iou_threshold)
        & (iou < params.loose_iou)
    )
    if not len(sel):
        return []
    sel = sel[_best_per_label(lb[sel], c.p_score[tp[sel]])]
    p, lb, iou = tp[sel], lb[sel], iou[sel]
    rows = _block(
        "inaccurate_label", c.image_id[c.p_img[p]], len(sel), annotation_id=c.l_id[lb],
        prediction_id=c.p_id[p], category_id=c.l_cat[lb], predicted_category_id=c.p_cat[p],
        iou=iou, confidence=c.p_score[p], evidence=c.explained[lb], area=c.l_area[lb],
        support=c.support[lb],
    )  # fmt: skip
    return [(rows, c.p_img[p])]


def _spurious_labels(c: _Chunk, params: AnalysisParams) -> list[_Rows]:
    """Non-crowd labels that no prediction of any class overlaps (IoU < low_iou)."""
    best_pred = c.best_overlap
    spur = np.flatnonzero(~c.l_crowd & (best_pred < params.low_iou))
    if not len(spur):
        return []
    rows = _block(
        "spurious_label", c.image_id[c.l_img[spur]], len(spur), annotation_id=c.l_id[spur],
        category_id=c.l_cat[spur], iou=best_pred[spur], evidence=best_pred[spur],
        area=c.l_area[spur],
    )  # fmt: skip
    return [(rows, c.l_img[spur])]


def _duplicate_labels(
    c: _Chunk, params: AnalysisParams, label_ious: list[np.ndarray | None] | None
) -> list[_Rows]:
    """Same-class non-crowd label pairs (a < b) of one image overlapping almost fully (IoU of
    their boxes, or of their masks where ``label_ious`` gives an image's matrix)."""
    a, b = upper_pairs(c.n_labels)
    same_pair = (c.l_cat[a] == c.l_cat[b]) & ~c.l_crowd[a] & ~c.l_crowd[b]
    a, b = a[same_pair], b[same_pair]
    if not len(a):
        return []
    lab_iou = pair_box_iou(c.l_box[a], c.l_box[b])
    if label_ious is not None:
        given = [g is not None and n > 1 for g, n in zip(label_ious, c.n_labels, strict=True)]
        if any(given):
            sizes = np.where(given, c.n_labels * c.n_labels, 0)
            given_ious = flat(
                [g for g, ok in zip(label_ious, given, strict=True) if ok], np.float64
            )
            img = c.l_img[a]
            use = np.asarray(given)[img]
            n = c.n_labels[img]
            pos = starts(sizes)[img] + (a - c.l_start[img]) * n + (b - c.l_start[img])
            lab_iou[use] = given_ious[pos[use]]
    dup = lab_iou >= params.duplicate_iou
    a, b, lab_iou = a[dup], b[dup], lab_iou[dup]
    if not len(a):
        return []
    rows = _block(
        "duplicate_label", c.image_id[c.l_img[b]], len(a), annotation_id=c.l_id[b],
        other_annotation_id=c.l_id[a], category_id=c.l_cat[b], iou=lab_iou,
        evidence=lab_iou, area=c.l_area[b],
    )  # fmt: skip
    return [(rows, c.l_img[b])]


def batch_suspects(
    items: list[tuple[ImagePredictions, ImageLabels]],
    matches: list[ImageMatches],
    image_ids: list[int],
    params: AnalysisParams,
    label_ious: list[np.ndarray | None] | None = None,
) -> np.ndarray:
    """The raw suspects of many images as a float64 array with :data:`SUSPECT_COLUMNS` columns.

    ``items`` are (predictions, labels) per image as for ``match_many``, ``matches`` its result,
    ``label_ious`` the optional per-image label-label IoU matrices (masks). Rows are grouped by
    image in the given order; within an image: missing, wrong class, inaccurate (partial, then
    loose), spurious, duplicate. ``evidence`` holds the score of the best same-class prediction
    that explains the label (IoU >= ``iou_threshold``, 0 if none) for wrong_class /
    inaccurate_label, the best same-class label overlap for missing labels, the label-label IoU
    for duplicates and the best overlap of any prediction for spurious labels; ``support``, for
    wrong_class / inaccurate_label, the score of the best same-class prediction overlapping the
    label at all (IoU >= ``low_iou``). core.suspect_scores turns them into a score.
    ``tests/suspect_oracle.py`` states every rule per image; this equals it bit for bit.
    """
    return chunk_suspects(chunk_facts(items, matches, image_ids, params), None, params, label_ious)


def chunk_suspects(
    facts: ChunkFacts,
    scores: np.ndarray | None,
    params: AnalysisParams,
    label_ious: list[np.ndarray | None] | None = None,
) -> np.ndarray:
    """:func:`batch_suspects` of a chunk's facts with these scores of its predictions (in the
    facts' order; None: the items' own scores): the same rows, bit for bit."""
    c = _scored(facts, scores, params)
    on = _on_label(c, params)
    partial, taken_labels = _inaccurate_partial(c, on, params)
    taken = np.zeros(len(c.l_id), dtype=bool)  # labels with a partial-overlap suspect
    taken[taken_labels] = True
    blocks = [
        *_missing_labels(c, params),
        *_wrong_class(c, on, params),
        *partial,
        *_inaccurate_loose(c, params, taken),
        *_spurious_labels(c, params),
        *_duplicate_labels(c, params, label_ious),
    ]
    if not blocks:
        return np.zeros((0, len(SUSPECT_COLUMNS)))
    rows = np.concatenate([r for r, _ in blocks])  # column-major, as the blocks
    order = np.argsort(np.concatenate([i for _, i in blocks]), kind="stable")
    # in column-major order (each column contiguous): the analysis reads the rows a column at
    # a time (scores, groups, the writer's columns), ~8x faster than from row-major rows of
    # 20 columns, and copies them into its result a column at a time
    out = np.empty(rows.shape, order="F")
    for k in range(rows.shape[1]):
        out[:, k] = rows[:, k][order]
    return out


def suspect_key(
    kind: str,
    annotation_id: int | None,
    prediction_id: int | None,
    other_annotation_id: int | None = None,
) -> str:
    """The stable identity of a suspect, under which its review decision is kept.

    ``kind:annotation:prediction``, with the second label in the prediction slot for duplicates.
    """
    second = other_annotation_id if kind == "duplicate_label" else prediction_id
    return f"{kind}:{'' if annotation_id is None else annotation_id}:{'' if second is None else second}"
