"""The quality benchmark's ranked items (:class:`Candidate`) and the plain baselines it ranks
LabelFix against: the seed recipe for missing labels (unmatched predictions by confidence),
same-class label pairs by box IoU for duplicates, and cleanlab's object-detection subtype
scores (``bench_quality.py`` runs them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelfix.core.errors import AnalysisParams, _box_iou


@dataclass
class Candidate:
    """One ranked item of a method: higher score first; what it points at."""

    score: float
    image_id: int
    annotation_ids: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None  # a prediction box (missing labels)


def _image_arrays(data: dict, pred_records: list[dict]) -> tuple[list[int], dict, dict]:
    """Image ids in order, and per image the labels and predictions as arrays."""
    image_ids = [im["id"] for im in data["images"]]
    labels: dict[int, list[dict]] = {i: [] for i in image_ids}
    for a in data["annotations"]:
        labels[a["image_id"]].append(a)
    preds: dict[int, list[tuple[int, dict]]] = {i: [] for i in image_ids}
    for pid, p in enumerate(pred_records, start=1):
        preds[p["image_id"]].append((pid, p))
    return image_ids, labels, preds


def fp_baseline(data: dict, pred_records: list[dict], params: AnalysisParams) -> list[Candidate]:
    """The seed recipe for missing labels: unmatched (FP) predictions ranked by confidence."""
    from labelfix.core.matching import FP, ImageLabels, ImagePredictions, match_many

    image_ids, labels, preds = _image_arrays(data, pred_records)
    items = []
    for i in image_ids:
        lab, pr = labels[i], [p for _, p in preds[i]]
        items.append(
            (
                ImagePredictions(
                    np.arange(len(pr)),
                    np.asarray([p["category_id"] for p in pr], np.int64),
                    np.asarray([p["score"] for p in pr], float),
                    np.asarray([p["bbox"] for p in pr], float).reshape(-1, 4),
                ),
                ImageLabels(
                    np.asarray([a["id"] for a in lab], np.int64),
                    np.asarray([a["category_id"] for a in lab], np.int64),
                    np.asarray([a["bbox"] for a in lab], float).reshape(-1, 4),
                    np.asarray([a.get("iscrowd", 0) for a in lab], bool),
                    np.asarray([a.get("area", a["bbox"][2] * a["bbox"][3]) for a in lab], float),
                ),
            )
        )
    out = []
    for i, (p, _), m in zip(
        image_ids, items, match_many(items, params.iou_threshold, params.max_dets), strict=True
    ):
        for j in np.flatnonzero(m.outcome == FP):
            out.append(Candidate(float(p.scores[j]), i, (), tuple(p.boxes[j])))
    return out


def iou_duplicate_baseline(data: dict) -> list[Candidate]:
    """Every overlapping same-class non-crowd label pair, ranked by box IoU."""
    image_ids, labels, _ = _image_arrays(data, [])
    out = []
    for i in image_ids:
        lab = [a for a in labels[i] if not a.get("iscrowd", 0)]
        if len(lab) < 2:
            continue
        boxes = np.asarray([a["bbox"] for a in lab], float)
        ious = _box_iou(boxes, boxes)
        for a in range(len(lab)):
            for b in range(a + 1, len(lab)):
                if lab[a]["category_id"] == lab[b]["category_id"] and ious[a, b] > 0:
                    out.append(Candidate(float(ious[a, b]), i, (lab[a]["id"], lab[b]["id"])))
    return out


class CleanlabScores:
    """cleanlab's per-box object-detection subtype scores on one dataset (inputs built once)."""

    def __init__(self, data: dict, pred_records: list[dict]) -> None:
        from cleanlab.object_detection import rank

        self.rank = rank
        cat_index = {c["id"]: k for k, c in enumerate(data["categories"])}
        n_classes = len(cat_index)
        self.image_ids, labels, preds = _image_arrays(data, pred_records)
        self.label_ids: list[list[int]] = []
        self.pred_boxes: list[np.ndarray] = []
        self.labels, self.predictions = [], []
        for i in self.image_ids:
            lab = labels[i]
            boxes = np.asarray([a["bbox"] for a in lab], float).reshape(-1, 4).copy()
            boxes[:, 2:] += boxes[:, :2]
            self.labels.append(
                {
                    "bboxes": boxes,
                    "labels": np.asarray([cat_index[a["category_id"]] for a in lab], int),
                }
            )
            self.label_ids.append([a["id"] for a in lab])
            per_class = [np.zeros((0, 5)) for _ in range(n_classes)]
            rows: dict[int, list] = {}
            for _, p in preds[i]:
                x, y, w, h = p["bbox"]
                rows.setdefault(cat_index[p["category_id"]], []).append(
                    [x, y, x + w, y + h, p["score"]]
                )
            for k, r in rows.items():
                per_class[k] = np.asarray(r, float)
            self.predictions.append(per_class)
            # the order cleanlab flattens predictions in: by class, then as given
            flat = [r for k in range(n_classes) for r in rows.get(k, [])]
            xyxy = np.asarray(flat, float).reshape(-1, 5)[:, :4].copy()
            xyxy[:, 2:] -= xyxy[:, :2]
            self.pred_boxes.append(xyxy)
        self.aux = rank._get_valid_inputs_for_compute_scores(
            rank.ALPHA, self.labels, self.predictions
        )

    def missing(self, high: float | None = None) -> list[Candidate]:
        """Overlooked scores per predicted box (lower = more likely overlooked), as candidates."""
        scores = self.rank.compute_overlooked_box_scores(
            high_probability_threshold=high, auxiliary_inputs=self.aux
        )
        return [
            Candidate(-float(s), i, (), tuple(box))
            for i, per_box, boxes in zip(self.image_ids, scores, self.pred_boxes, strict=True)
            for s, box in zip(per_box, boxes, strict=True)
            if not np.isnan(s)
        ]

    def _per_label(self, scores: list[np.ndarray]) -> list[Candidate]:
        return [
            Candidate(-float(s), i, (a,))
            for i, per_box, ids in zip(self.image_ids, scores, self.label_ids, strict=True)
            for s, a in zip(per_box, ids, strict=True)
            if s < 1.0
        ]

    def wrong_class(self, high: float | None = None) -> list[Candidate]:
        """Swap scores per label (lower = more likely swapped); labels without evidence (1.0) left out."""
        return self._per_label(
            self.rank.compute_swap_box_scores(
                high_probability_threshold=high, auxiliary_inputs=self.aux
            )
        )

    def inaccurate(self, low: float | None = None) -> list[Candidate]:
        """Badloc scores per label (lower = more likely badly located); 1.0 (no evidence) left out."""
        return self._per_label(
            self.rank.compute_badloc_box_scores(
                low_probability_threshold=low, auxiliary_inputs=self.aux
            )
        )

    def by_kind(self, kind: str, threshold: float | None) -> list[Candidate]:
        """The candidates cleanlab gives for one of our kinds."""
        return {
            "missing_label": self.missing,
            "wrong_class": self.wrong_class,
            "inaccurate_label": self.inaccurate,
        }[kind](threshold)
