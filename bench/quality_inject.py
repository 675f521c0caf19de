"""Known errors injected into a COCO dataset for the quality benchmark (``bench_quality.py``):
dropped labels, class changes, boxes/polygons distorted to IoU 0.3-0.6 with the original, and
duplicates, at fixed rates per seed."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from labelfix.core.errors import _box_iou

KIND_ORDER = ("missing_label", "wrong_class", "inaccurate_label", "duplicate_label")
RATES = {
    "missing_label": 0.05,
    "wrong_class": 0.05,
    "inaccurate_label": 0.05,
    "duplicate_label": 0.02,
}


@dataclass
class Injected:
    """A dataset with injected errors and the truth about them."""

    data: dict
    missing: list[dict] = field(default_factory=list)  # the dropped labels
    wrong_class: set[int] = field(default_factory=set)  # label ids
    inaccurate: set[int] = field(default_factory=set)
    duplicate: set[int] = field(default_factory=set)  # ids of the added copies

    def count(self, kind: str) -> int:
        """Number of injected errors of a kind."""
        return {
            "missing_label": len(self.missing),
            "wrong_class": len(self.wrong_class),
            "inaccurate_label": len(self.inaccurate),
            "duplicate_label": len(self.duplicate),
        }[kind]


def _xywh_iou(a: Sequence[float], b: Sequence[float]) -> float:
    return float(_box_iou(np.asarray([a], float), np.asarray([b], float))[0, 0])


def _transform(
    ann: dict, sx: float, sy: float, dx: float, dy: float, size: tuple[int, int]
) -> dict:
    """A copy of a label scaled about its box centre and shifted (polygon and box), clamped."""
    height, width = size
    x, y, w, h = ann["bbox"]
    cx, cy = x + w / 2, y + h / 2
    out = copy.deepcopy(ann)

    def fx(v: float) -> float:
        return float(np.clip(cx + (v - cx) * sx + dx, 0, width))

    def fy(v: float) -> float:
        return float(np.clip(cy + (v - cy) * sy + dy, 0, height))

    seg = ann.get("segmentation")
    if isinstance(seg, list) and seg:
        polys = [[fx(v) if i % 2 == 0 else fy(v) for i, v in enumerate(p)] for p in seg]
        xs = [v for p in polys for v in p[0::2]]
        ys = [v for p in polys for v in p[1::2]]
        out["segmentation"] = polys
        out["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    else:
        x0, y0, x1, y1 = fx(x), fy(y), fx(x + w), fy(y + h)
        out["bbox"] = [x0, y0, x1 - x0, y1 - y0]
    out["area"] = float(ann.get("area", w * h)) * sx * sy
    return out


def _distort(ann: dict, rng: np.random.Generator, size: tuple[int, int]) -> dict | None:
    """Scale/shift until the box IoU with the original is in [0.3, 0.6]; None if it never is."""
    for _ in range(200):
        s = rng.uniform(0.45, 1.7, 2)
        d = rng.uniform(-0.35, 0.35, 2) * np.asarray(ann["bbox"][2:])
        new = _transform(ann, s[0], s[1], d[0], d[1], size)
        if (
            new["bbox"][2] > 1
            and new["bbox"][3] > 1
            and 0.3 <= _xywh_iou(ann["bbox"], new["bbox"]) <= 0.6
        ):
            return new
    return None


def _jitter_copy(ann: dict, rng: np.random.Generator, size: tuple[int, int]) -> dict:
    """A slightly jittered copy of a label (box IoU with the original >= 0.9)."""
    for _ in range(200):
        s = rng.uniform(0.95, 1.05, 2)
        d = rng.uniform(-0.03, 0.03, 2) * np.asarray(ann["bbox"][2:])
        new = _transform(ann, s[0], s[1], d[0], d[1], size)
        if _xywh_iou(ann["bbox"], new["bbox"]) >= 0.9:
            return new
    return copy.deepcopy(ann)


def inject(data: dict, seed: int) -> Injected:
    """Inject the four kinds of errors into a copy of a COCO dataset (disjoint label sets)."""
    rng = np.random.default_rng(seed)
    data = copy.deepcopy(data)
    anns = data["annotations"]
    sizes = {im["id"]: (im["height"], im["width"]) for im in data["images"]}
    cats = data["categories"]
    by_super: dict[str, list[int]] = {}
    for c in cats:
        by_super.setdefault(c.get("supercategory", ""), []).append(c["id"])
    supercat = {c["id"]: c.get("supercategory", "") for c in cats}
    regular = [i for i, a in enumerate(anns) if not a.get("iscrowd", 0)]
    order = rng.permutation(regular).tolist()
    counts = {k: int(round(RATES[k] * len(regular))) for k in KIND_ORDER}
    picks: dict[str, list[int]] = {}
    start = 0
    for k in KIND_ORDER:
        picks[k] = order[start : start + counts[k]]
        start += counts[k]
    out = Injected(data)
    for i in picks["wrong_class"]:
        a = anns[i]
        same = [c for c in by_super[supercat[a["category_id"]]] if c != a["category_id"]]
        pool = (
            same
            if same and rng.random() < 0.5
            else [c["id"] for c in cats if c["id"] != a["category_id"]]
        )
        a["category_id"] = int(rng.choice(pool))
        out.wrong_class.add(a["id"])
    for i in picks["inaccurate_label"]:
        new = _distort(anns[i], rng, sizes[anns[i]["image_id"]])
        if new is not None:
            anns[i] = new
            out.inaccurate.add(new["id"])
    next_id = max(a["id"] for a in anns) + 1
    copies = []
    for i in picks["duplicate_label"]:
        dup = _jitter_copy(anns[i], rng, sizes[anns[i]["image_id"]])
        dup["id"] = next_id
        next_id += 1
        copies.append(dup)
        out.duplicate.add(dup["id"])
    dropped = set(picks["missing_label"])
    out.missing = [copy.deepcopy(anns[i]) for i in sorted(dropped)]
    data["annotations"] = [a for i, a in enumerate(anns) if i not in dropped] + copies
    return out
