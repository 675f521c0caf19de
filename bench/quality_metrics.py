"""The quality benchmark's ranking metrics: which of a method's ranked candidates find an
injected error, and P@k / P@50 / P@100 / recall / AP of the ranking (per kind, or every kind in
one ranking). Used by ``bench_quality.py`` and the offline benches."""

from __future__ import annotations

import numpy as np
from quality_baselines import Candidate
from quality_inject import KIND_ORDER, Injected, _xywh_iou

ALL_KINDS = "all kinds"


def _hits(kind: str, ranked: list[Candidate], truth: Injected) -> np.ndarray:
    """1 where a ranked candidate finds a not yet found injected error of ``kind``."""
    found: set = set()
    hits = np.zeros(len(ranked), dtype=bool)
    if kind == "missing_label":
        by_image: dict[int, list[tuple[int, list[float]]]] = {}
        for a in truth.missing:
            by_image.setdefault(a["image_id"], []).append((a["id"], a["bbox"]))
        for r, c in enumerate(ranked):
            best, best_iou = None, 0.5
            for ann_id, box in by_image.get(c.image_id, []):
                if ann_id in found or c.box is None:
                    continue
                iou = _xywh_iou(c.box, box)
                if iou >= best_iou:
                    best, best_iou = ann_id, iou
            if best is not None:
                found.add(best)
                hits[r] = True
        return hits
    target = {
        "wrong_class": truth.wrong_class,
        "inaccurate_label": truth.inaccurate,
        "duplicate_label": truth.duplicate,
    }[kind]
    for r, c in enumerate(ranked):
        hit = next((a for a in c.annotation_ids if a in target and a not in found), None)
        if hit is not None:
            found.add(hit)
            hits[r] = True
    return hits


METRICS = ("P@k", "P@50", "P@100", "recall", "AP")


def _metrics(hits: np.ndarray, n: int) -> tuple[float, ...]:
    """(P@k, P@50, P@100, recall, AP) of a ranking's hits; k = n = number of errors to find.

    P@50 / P@100 divide by 50 / 100 (a shorter list counts its missing tail as misses).
    """
    if n == 0:
        return (float("nan"),) * len(METRICS)
    cum = np.cumsum(hits)

    def found(k: int) -> float:
        return float(cum[min(k, len(hits)) - 1]) if len(hits) else 0.0

    precision = cum / np.arange(1, len(hits) + 1)
    recall = found(len(hits)) / n
    ap = float(np.sum(precision[hits]) / n)
    return found(n) / n, found(50) / 50, found(100) / 100, recall, ap


def evaluate(kind: str, candidates: list[Candidate], truth: Injected) -> tuple[float, ...]:
    """:data:`METRICS` of a method's candidates for one kind."""
    ranked = sorted(candidates, key=lambda c: -c.score)  # stable: ties keep the method's order
    return _metrics(_hits(kind, ranked, truth), truth.count(kind))


def evaluate_all(by_kind: dict[str, list[Candidate]], truth: Injected) -> tuple[float, ...]:
    """:data:`METRICS` of one ranking of the candidates of every kind (any other kind, e.g.
    spurious_label, only costs reviews); k = all injected errors."""
    return _metrics(_all_hits(by_kind, truth), sum(truth.count(k) for k in KIND_ORDER))


def _all_hits(by_kind: dict[str, list[Candidate]], truth: Injected) -> np.ndarray:
    """The hits of one ranking of the candidates of every kind (by score)."""
    ranked = sorted(
        ((c, kind) for kind, cands in by_kind.items() for c in cands), key=lambda ck: -ck[0].score
    )
    hits = np.zeros(len(ranked), dtype=bool)
    for kind in KIND_ORDER:
        pos = [i for i, (_, k) in enumerate(ranked) if k == kind]
        hits[pos] = _hits(kind, [ranked[i][0] for i in pos], truth)
    return hits
