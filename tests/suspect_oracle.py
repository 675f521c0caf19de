"""The per-image reference of the suspect rules: the oracle ``batch_suspects`` is compared
with, row for row and bit for bit (tests/test_errors_batch.py).

Each rule is written here the plain way, one image at a time with its IoU matrix; production
(``labelfix.core.errors.batch_suspects``) runs them on a chunk of images at once. Keep the two
in step: a rule changed in one place only fails those tests.
"""

from __future__ import annotations

import numpy as np

from labelfix.core.errors import (
    SUSPECT_COLUMNS,
    AnalysisParams,
    _best_per_label,
    _block,
    _box_iou,
)
from labelfix.core.matching import TP, ImageLabels, ImageMatches, ImagePredictions


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
    (IoU >= ``iou_threshold``, 0 if none; for a matched-but-loose inaccurate label at least its
    own prediction's) for wrong_class / inaccurate_label, the best same-class
    label overlap for missing labels, the label-label IoU for duplicates and the best overlap of
    any prediction for spurious labels. ``support`` holds, for wrong_class / inaccurate_label, the
    score of the best same-class prediction overlapping the label at all (IoU >= ``low_iou``).
    :func:`score_suspects` turns them into a score. Vectorised over the image's predictions.
    """
    blocks: list[np.ndarray] = []
    n, m = len(labels.ids), len(preds.ids)
    ious = matches.ious if m and n else np.zeros((m, n))
    crowd = labels.iscrowd.astype(bool) if n else np.zeros(0, dtype=bool)

    if m:
        confident = preds.scores >= params.min_score  # missing labels
        on_label = preds.scores >= params.min_score * params.on_label_score_ratio  # the rest
        unmatched = on_label & (matches.outcome != TP)
        same = preds.category_ids[:, None] == labels.category_ids[None, :]
        regular = np.where(crowd[None, :], -1.0, ious)  # crowd regions are no object's label
        if n:
            max_same = np.where(same, regular, 0.0).max(axis=1)
            max_other = np.where(~same, regular, 0.0).max(axis=1)
            # a crowd region explains its own class's predictions (any class's before v7)
            explains = crowd[None, :] & (same if params.score_version >= 7 else True)
            in_crowd = np.where(explains, ious, 0.0).max(axis=1)
            # best confidence of a same-class prediction matching each label (explains the
            # label), and of one overlapping it at all (supports the label's class)
            scores = preds.scores[:, None]
            explained = np.where(same & (ious >= params.iou_threshold), scores, 0.0).max(axis=0)
            support = np.where(same & (ious >= params.low_iou), scores, 0.0).max(axis=0)
        else:
            max_same = max_other = in_crowd = np.zeros(m)
            explained = support = np.zeros(0)
        taken = np.zeros(n, dtype=bool)  # labels with an (unmatched-overlap) inaccurate suspect

        # missing labels: confident predictions no label explains, NMS among themselves
        miss = np.flatnonzero(
            confident
            & (matches.outcome != TP)
            & (max_same < params.missing_same_iou)
            & (max_other < params.wrong_class_iou)
            & (in_crowd < params.low_iou)
        )
        if len(miss):
            order = miss[np.argsort(-preds.scores[miss], kind="stable")]
            keep = _nms_keep(preds.boxes, order, params.nms_iou)
            blocks.append(
                _block(
                    "missing_label", image_id, len(keep), prediction_id=preds.ids[keep],
                    predicted_category_id=preds.category_ids[keep],
                    iou=np.maximum(max_same[keep], max_other[keep]), confidence=preds.scores[keep],
                    evidence=max_same[keep], area=preds.boxes[keep, 2] * preds.boxes[keep, 3],
                )
            )  # fmt: skip

        # wrong class / inaccurate: confident unmatched predictions sitting on a non-crowd label
        cand = np.flatnonzero(unmatched & (np.maximum(max_same, max_other) >= params.low_iou))
        if len(cand) and n:
            other = np.where(same[cand], -1.0, regular[cand])
            mine = np.where(same[cand], regular[cand], -1.0)
            j = np.argmax(other, axis=1)
            k = np.argmax(mine, axis=1)
            rows = np.arange(len(cand))
            other_iou, mine_iou = other[rows, j], mine[rows, k]
            conf = preds.scores[cand]
            wrong = (other_iou >= params.wrong_class_iou) & (support[j] < conf)
            inacc = (
                ~wrong
                & (mine_iou >= params.low_iou)
                & (mine_iou < params.iou_threshold)
                & (explained[k] < conf)
            )
            for kind, sel, lab, iou in (
                ("wrong_class", wrong, j, other_iou),
                ("inaccurate_label", inacc, k, mine_iou),
            ):
                idx = np.flatnonzero(sel)
                if not len(idx):
                    continue
                idx = idx[_best_per_label(lab[idx], conf[idx])]
                p, lb = cand[idx], lab[idx]
                if kind == "inaccurate_label":
                    taken[lb] = True
                blocks.append(
                    _block(
                        kind, image_id, len(idx), annotation_id=labels.ids[lb], prediction_id=preds.ids[p],
                        category_id=labels.category_ids[lb], predicted_category_id=preds.category_ids[p],
                        iou=iou[idx], confidence=conf[idx], evidence=explained[lb], area=labels.areas[lb],
                        support=support[lb],
                    )
                )  # fmt: skip

        # inaccurate, matched but loose: a confident tp whose match IoU is below loose_iou
        if n and params.loose_iou > params.iou_threshold:
            tp = np.flatnonzero(on_label & (matches.outcome == TP))
            hit = labels.ids[None, :] == matches.annotation_id[tp, None]
            lb = np.argmax(hit, axis=1)  # the matched label (the first with its id)
            iou = ious[tp, lb]
            sel = np.flatnonzero(
                hit[np.arange(len(tp)), lb]
                & same[tp, lb]
                & ~crowd[lb]
                & ~taken[lb]
                & (iou >= params.iou_threshold)
                & (iou < params.loose_iou)
            )
            if len(sel):
                sel = sel[_best_per_label(lb[sel], preds.scores[tp[sel]])]
                p, lb, iou = tp[sel], lb[sel], iou[sel]
                blocks.append(
                    _block(
                        "inaccurate_label", image_id, len(sel), annotation_id=labels.ids[lb],
                        prediction_id=preds.ids[p], category_id=labels.category_ids[lb],
                        predicted_category_id=preds.category_ids[p], iou=iou, confidence=preds.scores[p],
                        evidence=explained[lb], area=labels.areas[lb], support=support[lb],
                    )
                )  # fmt: skip

    if n:
        # spurious labels: no prediction of any class overlaps them at any confidence
        best_pred = ious.max(axis=0) if m else np.zeros(n)
        spur = np.flatnonzero(~crowd & (best_pred < params.low_iou))
        if len(spur):
            blocks.append(
                _block(
                    "spurious_label", image_id, len(spur), annotation_id=labels.ids[spur],
                    category_id=labels.category_ids[spur], iou=best_pred[spur], evidence=best_pred[spur],
                    area=labels.areas[spur],
                )
            )  # fmt: skip
        # duplicates: same-class non-crowd label pairs that overlap almost completely
        if n > 1:
            lab = label_ious if label_ious is not None else _box_iou(labels.boxes, labels.boxes)
            same_class = labels.category_ids[:, None] == labels.category_ids[None, :]
            upper = np.triu(np.ones((n, n), dtype=bool), 1)
            regular_pair = ~crowd[:, None] & ~crowd[None, :]
            pairs = np.argwhere(same_class & upper & (lab >= params.duplicate_iou) & regular_pair)
            if len(pairs):
                a, b = pairs[:, 0], pairs[:, 1]
                blocks.append(
                    _block(
                        "duplicate_label", image_id, len(pairs), annotation_id=labels.ids[b],
                        other_annotation_id=labels.ids[a], category_id=labels.category_ids[b],
                        iou=lab[a, b], evidence=lab[a, b], area=labels.areas[b],
                    )
                )  # fmt: skip
    if not blocks:
        return np.zeros((0, len(SUSPECT_COLUMNS)))
    return np.concatenate(blocks)
