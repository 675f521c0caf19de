"""Suspected label errors ("suspects"): the cross-class pass that runs after matching.

The kinds, in the words used everywhere in LabelFix:

- ``missing_label``: a confident prediction that no label of any class overlaps
  (IoU < ``low_iou``): an object nobody labelled.
- ``wrong_class``: a confident prediction of class B on a label of class A (IoU >= ``iou_threshold``)
  where no class-A prediction at least as confident explains the label.
- ``inaccurate_label``: a confident same-class prediction that overlaps a label only partly
  (``low_iou`` <= IoU < ``iou_threshold``) and no same-class prediction at least as confident
  matches it: the box or polygon is too tight, too loose or shifted.
- ``duplicate_label``: two labels of the same class on one object (IoU >= ``duplicate_iou``).
- ``spurious_label``: a label that no prediction of any class overlaps (IoU < ``low_iou``) at any
  confidence: a label on nothing.

Each suspect's ``score`` in [0, 1] reads as "how likely is this a real label error"; see
:func:`score_suspects` for how it is computed from the raw evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .matching import TP, ImageLabels, ImageMatches, ImagePredictions

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
    """

    iou_threshold: float = 0.5
    low_iou: float = 0.1
    duplicate_iou: float = 0.85
    min_score: float = 0.05
    max_dets: int = 100
    geometry: str = "boxes"
    nms_iou: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of the parameters."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalysisParams:
        """Parameters from their JSON dict (unknown keys ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# Columns of a suspects array (one row per suspect); floats with nan/-1 for "does not apply".
SUSPECT_COLUMNS = (
    "kind", "image_id", "annotation_id", "other_annotation_id", "prediction_id",
    "category_id", "predicted_category_id", "iou", "confidence", "evidence", "area",
)


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plain xywh box IoU matrix (no crowd rule)."""
    ax1, ay1 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx1, by1 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1[:, None], bx1[None]) - np.maximum(a[:, 0][:, None], b[:, 0][None]), 0, None)
    ih = np.clip(np.minimum(ay1[:, None], by1[None]) - np.maximum(a[:, 1][:, None], b[:, 1][None]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def _nms_keep(boxes: np.ndarray, order: np.ndarray, iou: float) -> np.ndarray:
    """Indices (into ``order``'s items) kept by greedy NMS in ``order``."""
    if len(order) <= 1:
        return order
    ious = _box_iou(boxes[order], boxes[order])
    keep: list[int] = []
    suppressed = np.zeros(len(order), dtype=bool)
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= ious[i] >= iou
    return order[np.asarray(keep, dtype=np.int64)]


def image_suspects(
    labels: ImageLabels,
    preds: ImagePredictions,
    matches: ImageMatches,
    image_id: int,
    params: AnalysisParams,
    label_ious: np.ndarray | None = None,
) -> np.ndarray:
    """The raw suspects of one image as a float64 array with :data:`SUSPECT_COLUMNS` columns.

    ``evidence`` holds the score of the best same-class prediction that explains the label
    (0 if none) for wrong_class / inaccurate_label, the label-label IoU for duplicates and the
    best overlap of any prediction for spurious labels; :func:`score_suspects` turns it into a score.
    """
    rows: list[tuple] = []
    n, m = len(labels.ids), len(preds.ids)
    ious = matches.ious if m and n else np.zeros((m, n))
    crowd = labels.iscrowd.astype(bool) if n else np.zeros(0, dtype=bool)
    nan = np.nan

    if m:
        max_any = ious.max(axis=1) if n else np.zeros(m)
        confident = preds.scores >= params.min_score
        # best confidence of a same-class prediction matching each label (explains the label)
        explained = np.zeros(n)
        if n:
            same = preds.category_ids[:, None] == labels.category_ids[None, :]
            good = same & (ious >= params.iou_threshold)
            explained = np.where(good, preds.scores[:, None], 0.0).max(axis=0)

        # missing labels: confident predictions over nothing, NMS among themselves
        miss = np.flatnonzero(confident & (max_any < params.low_iou))
        if len(miss):
            order = miss[np.argsort(-preds.scores[miss], kind="stable")]
            for i in _nms_keep(preds.boxes, order, params.nms_iou):
                rows.append(
                    (KIND_CODE["missing_label"], image_id, -1, -1, preds.ids[i], -1,
                     preds.category_ids[i], max_any[i], preds.scores[i], 0.0,
                     preds.boxes[i, 2] * preds.boxes[i, 3])
                )

        # wrong class / inaccurate: confident unmatched predictions sitting on a non-crowd label
        cand = np.flatnonzero(confident & (matches.outcome != TP) & (max_any >= params.low_iou))
        best_wrong: dict[int, tuple] = {}
        best_inacc: dict[int, tuple] = {}
        for i in cand:
            row = np.where(crowd, -1.0, ious[i])
            same_cls = labels.category_ids == preds.category_ids[i]
            other = np.where(same_cls, -1.0, row)
            mine = np.where(same_cls, row, -1.0)
            j = int(np.argmax(other)) if n else -1
            k = int(np.argmax(mine)) if n else -1
            conf = preds.scores[i]
            if j >= 0 and other[j] >= params.iou_threshold and explained[j] < conf:
                rec = (KIND_CODE["wrong_class"], image_id, labels.ids[j], -1, preds.ids[i],
                       labels.category_ids[j], preds.category_ids[i], other[j], conf, explained[j],
                       labels.areas[j])
                if j not in best_wrong or best_wrong[j][8] < conf:
                    best_wrong[j] = rec
            elif k >= 0 and params.low_iou <= mine[k] < params.iou_threshold and explained[k] < conf:
                rec = (KIND_CODE["inaccurate_label"], image_id, labels.ids[k], -1, preds.ids[i],
                       labels.category_ids[k], preds.category_ids[i], mine[k], conf, explained[k],
                       labels.areas[k])
                if k not in best_inacc or best_inacc[k][8] < conf:
                    best_inacc[k] = rec
        rows.extend(best_wrong.values())
        rows.extend(best_inacc.values())

    if n:
        # spurious labels: no prediction of any class overlaps them at any confidence
        best_pred = ious.max(axis=0) if m else np.zeros(n)
        for j in np.flatnonzero(~crowd & (best_pred < params.low_iou)):
            rows.append(
                (KIND_CODE["spurious_label"], image_id, labels.ids[j], -1, -1,
                 labels.category_ids[j], -1, best_pred[j], nan, best_pred[j], labels.areas[j])
            )
        # duplicates: same-class non-crowd label pairs that overlap almost completely
        if n > 1:
            lab = label_ious if label_ious is not None else _box_iou(labels.boxes, labels.boxes)
            same = labels.category_ids[:, None] == labels.category_ids[None, :]
            upper = np.triu(np.ones((n, n), dtype=bool), 1)
            pairs = np.argwhere(same & upper & (lab >= params.duplicate_iou) & ~crowd[:, None] & ~crowd[None, :])
            for a, b in pairs:
                rows.append(
                    (KIND_CODE["duplicate_label"], image_id, labels.ids[b], labels.ids[a], -1,
                     labels.category_ids[b], -1, lab[a, b], nan, lab[a, b], labels.areas[b])
                )
    if not rows:
        return np.zeros((0, len(SUSPECT_COLUMNS)))
    return np.asarray(rows, dtype=np.float64)


def score_suspects(raw: np.ndarray, params: AnalysisParams) -> np.ndarray:
    """Score in [0, 1] for each raw suspect row ("how likely is this a real label error").

    - missing_label: the prediction's confidence (the seed recipe: confident false positives first);
    - wrong_class / inaccurate_label: confidence x (1 - the best confidence of a same-class
      prediction that explains the label), so a label the model also sees as labelled ranks low;
    - duplicate_label: the two labels' IoU;
    - spurious_label: at most 0.5 (a detector often misses small objects, so a label nobody
      predicted is weaker evidence than a confident prediction nobody labelled): 0.5 x (1 - best
      overlap / low_iou) x a size factor that reaches 1 for labels of 64 x 64 px and more.
    """
    if len(raw) == 0:
        return np.zeros(0)
    kind = raw[:, 0].astype(np.int64)
    conf = raw[:, 8]
    evidence = raw[:, 9]
    score = np.zeros(len(raw))
    k = KIND_CODE
    sel = kind == k["missing_label"]
    score[sel] = conf[sel]
    sel = (kind == k["wrong_class"]) | (kind == k["inaccurate_label"])
    score[sel] = conf[sel] * (1.0 - evidence[sel])
    sel = kind == k["duplicate_label"]
    score[sel] = evidence[sel]
    sel = kind == k["spurious_label"]
    overlap = np.clip(evidence[sel] / max(params.low_iou, 1e-9), 0, 1)
    size = np.clip(np.sqrt(np.maximum(raw[sel, 10], 0.0)) / 64.0, 0, 1)
    score[sel] = 0.5 * (1.0 - overlap) * size
    return np.clip(score, 0.0, 1.0)


def suspect_key(kind: str, annotation_id: int | None, prediction_id: int | None, other_annotation_id: int | None = None) -> str:
    """The stable identity of a suspect, under which its review decision is kept.

    ``kind:annotation:prediction``, with the second label in the prediction slot for duplicates.
    """
    second = other_annotation_id if kind == "duplicate_label" else prediction_id
    return f"{kind}:{'' if annotation_id is None else annotation_id}:{'' if second is None else second}"
