"""The datasets + prediction sets the quality benchmark runs on (``bench_quality.py``).

- ``centernet``: coco_real81 (81 real COCO images, 798 labels) + the real CenterNet predictions.
  The only detector the scoring may be tuned on (seeds 0-4).
- ``centernet-perturbed``: the same predictions with each class's scores passed through its
  own increasing function (``s -> a_c * s ** g_c``, a_c in [0.2, 1], g_c in [0.25, 4], seeded):
  a detector with another score scale. Scale-free scoring ranks exactly as on ``centernet``.
- ``centernet-blurred``: the same predictions with logit noise (sd 1, seeded) added to every
  score: a weaker detector whose scores still mean something (a second tuning setup; the
  scoring must not be tuned to CenterNet's unusually good scores on its own training images).
- ``nanodet``: coco_real81 + predictions of a second real detector (NanoDet, from
  ``bench/data/``; see its README). Never used for tuning.
- ``yolov8s``: coco_real81 + predictions of a third real detector (Ultralytics YOLOv8s run by
  ``labelfix predict``, from ``bench/data/``; see its README). Never used for tuning.
- ``ssdlite``: coco_real81 + predictions of a fourth real detector (SSDLite-MobileNetV2, the
  TF.js coco-ssd model, from ``bench/data/``; see its README). Never used for tuning.
- several prediction sets at once (:data:`MULTI_SETUPS`, any ``A+B[+...]`` of the real
  setups): the same labels analysed with each named set's predictions together, as
  ``labelfix analyze --predictions A,B`` does (one suspect per object, the sets that support
  it). ``centernet+nanodet`` includes the tuning detector; the others are held out.
- ``synthetic``: the 43 coco_real81 images of COCO val2014's first 100 + cocoapi's fake bbox
  results on them (jittered copies of the labels with random scores: a "detector" whose scores
  say nothing).

Variants (:func:`setup_named`, ``BASE-VARIANT``, e.g. ``nanodet-cut25``): the same predictions
in the shapes real exporters write them (:data:`VARIANTS`): scores cut at 0.25 (ultralytics
``predict``'s default), 0.05 or 0.5 (detectron2's demo), the top 20 / 50 per image (the sources have 100), scores rounded
to 2 decimals (ties), class-agnostic NMS at IoU 0.5 / 0.6 / 0.7 (one class per box), and only
the 20 PASCAL VOC classes predicted (a detector trained on a subset of the classes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
REAL81 = SHARED / "coco_real81"
GT_FILE = REAL81 / "annotations" / "instances_real81.json"
IMAGES = REAL81 / "images"
CENTERNET = REAL81 / "predictions" / "centernet_bbox_results.json"
NANODET = ROOT / "bench" / "data" / "nanodet_real81_bbox_results.json"
YOLOV8S = ROOT / "bench" / "data" / "yolov8s_real81_bbox_results.json"
SSDLITE = ROOT / "bench" / "data" / "ssdlite_real81_bbox_results.json"
SYNTHETIC = SHARED / "coco_val2014_100" / "SYNTHETIC_fakebbox_results_subset43_with_images.json"
PERTURB_SEED = 1234
BLUR_SEED = 99
BLUR_SD = 1.0


def labelled_store(data: dict, records: list[dict], workdir: Path, name: str) -> tuple[Store, Any]:
    """A new project ``workdir/name`` with ``data``'s labels imported, and ``records`` read as
    predictions against them (for the caller to add): what every offline bench analyses."""
    (workdir / "gt.json").write_text(json.dumps(data))
    (workdir / "p.json").write_text(json.dumps(records))
    gt = read_ground_truth(workdir / "gt.json", None)
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt.images}
    preds = read_predictions(workdir / "p.json", sizes, {c["id"] for c in gt.categories})
    store = Store.create(workdir / name, overwrite=True)
    try:
        store.import_ground_truth(gt, None)
    except BaseException:
        store.close()
        raise
    return store, preds


def perturb_scores(records: list[dict], seed: int = PERTURB_SEED) -> list[dict]:
    """Copies of COCO result records with ``score -> a_c * score ** g_c`` per class (increasing)."""
    rng = np.random.default_rng(seed)
    cats = sorted({r["category_id"] for r in records})
    a = dict(zip(cats, rng.uniform(0.2, 1.0, len(cats)).tolist(), strict=True))
    g = dict(
        zip(cats, np.exp(rng.uniform(np.log(0.25), np.log(4.0), len(cats))).tolist(), strict=True)
    )
    return [
        {**r, "score": a[r["category_id"]] * r["score"] ** g[r["category_id"]]} for r in records
    ]


def blur_scores(records: list[dict], sd: float = BLUR_SD, seed: int = BLUR_SEED) -> list[dict]:
    """Copies of COCO result records with N(0, sd) noise added to each score's log-odds."""
    rng = np.random.default_rng(seed)
    s = np.clip(np.asarray([r["score"] for r in records], dtype=np.float64), 1e-6, 1 - 1e-6)
    z = np.log(s / (1 - s)) + rng.normal(0.0, sd, len(s))
    return [{**r, "score": float(v)} for r, v in zip(records, 1 / (1 + np.exp(-z)), strict=True)]


def cut_scores(records: list[dict], low: float) -> list[dict]:
    """The records scored >= ``low`` (an exporter's confidence threshold)."""
    return [r for r in records if r["score"] >= low]


def top_per_image(records: list[dict], k: int) -> list[dict]:
    """The ``k`` highest-scored records of each image (an exporter's max detections), in order."""
    by_image: dict[int, list[int]] = {}
    for i, r in enumerate(records):
        by_image.setdefault(r["image_id"], []).append(i)
    keep = set()
    for idx in by_image.values():
        keep.update(sorted(idx, key=lambda i: -records[i]["score"])[:k])
    return [r for i, r in enumerate(records) if i in keep]


def round_scores(records: list[dict], decimals: int) -> list[dict]:
    """Copies with scores rounded (ties; a score rounding to 0 stays 0)."""
    return [{**r, "score": round(float(r["score"]), decimals)} for r in records]


def _xywh_iou_matrix(boxes: np.ndarray) -> np.ndarray:
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    iw = np.clip(np.minimum(x1[:, None], x1) - np.maximum(x0[:, None], x0), 0, None)
    ih = np.clip(np.minimum(y1[:, None], y1) - np.maximum(y0[:, None], y0), 0, None)
    inter = iw * ih
    area = boxes[:, 2] * boxes[:, 3]
    return inter / np.maximum(area[:, None] + area - inter, 1e-12)


def agnostic_nms(records: list[dict], iou: float) -> list[dict]:
    """Greedy NMS over all classes per image: a record goes when a higher-scored one of any
    class overlaps it at IoU > ``iou`` (one class per box, as some exporters do)."""
    by_image: dict[int, list[int]] = {}
    for i, r in enumerate(records):
        by_image.setdefault(r["image_id"], []).append(i)
    keep = set()
    for idx in by_image.values():
        idx = sorted(idx, key=lambda i: -records[i]["score"])
        m = _xywh_iou_matrix(np.asarray([records[i]["bbox"] for i in idx], dtype=np.float64))
        alive = np.ones(len(idx), bool)
        for a in range(len(idx)):
            if alive[a]:
                keep.add(idx[a])
                alive[a + 1 :] &= m[a, a + 1 :] <= iou
    return [r for i, r in enumerate(records) if i in keep]


# PASCAL VOC's 20 classes as COCO category ids (person, bicycle, car, motorcycle, airplane, bus,
# train, boat, bird, cat, dog, horse, sheep, cow, bottle, chair, couch, potted plant, dining
# table, tv)
VOC_CLASSES = frozenset((1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 18, 19, 20, 21, 44, 62, 63, 64, 67, 72))


def only_classes(records: list[dict], classes: frozenset[int] = VOC_CLASSES) -> list[dict]:
    """The records of ``classes`` only (a detector trained on a subset of the classes)."""
    return [r for r in records if r["category_id"] in classes]


# name -> (what it is, the records' transformation)
VARIANTS: dict[str, tuple[str, Callable[[list[dict]], list[dict]]]] = {
    "cut25": ("scores >= 0.25 only", lambda r: cut_scores(r, 0.25)),
    "cut05": ("scores >= 0.05 only", lambda r: cut_scores(r, 0.05)),
    "cut50": ("scores >= 0.5 only", lambda r: cut_scores(r, 0.5)),
    "top20": ("top 20 per image", lambda r: top_per_image(r, 20)),
    "top50": ("top 50 per image", lambda r: top_per_image(r, 50)),
    "round2": ("scores rounded to 2 decimals", lambda r: round_scores(r, 2)),
    "nms50": ("class-agnostic NMS at IoU 0.5", lambda r: agnostic_nms(r, 0.5)),
    "nms60": ("class-agnostic NMS at IoU 0.6", lambda r: agnostic_nms(r, 0.6)),
    "nms70": ("class-agnostic NMS at IoU 0.7", lambda r: agnostic_nms(r, 0.7)),
    "voc": ("the 20 PASCAL VOC classes' predictions only", only_classes),
}


def _gt() -> dict:
    return json.loads(GT_FILE.read_text())


def _only_images(data: dict, image_ids: set[int]) -> dict:
    return {
        **data,
        "images": [im for im in data["images"] if im["id"] in image_ids],
        "annotations": [a for a in data["annotations"] if a["image_id"] in image_ids],
    }


def _centernet() -> tuple[dict, list[dict]]:
    return _gt(), json.loads(CENTERNET.read_text())


def _perturbed() -> tuple[dict, list[dict]]:
    return _gt(), perturb_scores(json.loads(CENTERNET.read_text()))


def _blurred() -> tuple[dict, list[dict]]:
    return _gt(), blur_scores(json.loads(CENTERNET.read_text()))


def _nanodet() -> tuple[dict, list[dict]]:
    return _gt(), json.loads(NANODET.read_text())


def _yolov8s() -> tuple[dict, list[dict]]:
    return _gt(), json.loads(YOLOV8S.read_text())


def _ssdlite() -> tuple[dict, list[dict]]:
    return _gt(), json.loads(SSDLITE.read_text())


def _synthetic() -> tuple[dict, list[dict]]:
    preds = json.loads(SYNTHETIC.read_text())
    return _only_images(_gt(), {r["image_id"] for r in preds}), preds


@dataclass(frozen=True)
class Setup:
    """A named dataset + prediction set."""

    name: str
    title: str
    files: tuple[Path, ...]
    load: Callable[[], tuple[dict, list[dict]]]
    parts: tuple[Setup, ...] = ()  # several prediction sets: the setups analysed together

    def available(self) -> bool:
        """Whether its input files are present."""
        return all(f.exists() for f in self.files)

    @property
    def multi(self) -> bool:
        """True when several prediction sets are analysed together."""
        return len(self.parts) > 1

    def load_sets(self) -> tuple[dict, dict[str, list[dict]]]:
        """The dataset and its prediction sets by name (one for a single setup)."""
        if not self.parts:
            data, records = self.load()
            return data, {self.name: records}
        sets = {}
        for part in self.parts:
            data, sets[part.name] = part.load()
        return data, sets


def _several(name: str) -> Callable[[], tuple[dict, list[dict]]]:
    def load() -> tuple[dict, list[dict]]:
        raise TypeError(f"{name} has several prediction sets: use Setup.load_sets")

    return load


def multi_setup(parts: list[Setup]) -> Setup:
    """The setups' prediction sets analysed together on their (shared) labels."""
    name = "+".join(p.name for p in parts)
    files = tuple(dict.fromkeys(f for p in parts for f in p.files))
    title = "coco_real81 + " + " and ".join(p.name for p in parts) + " together"
    return Setup(name, title, files, _several(name), tuple(parts))


SETUPS = {
    s.name: s
    for s in (
        Setup(
            "centernet",
            "coco_real81 + CenterNet (tuning detector)",
            (GT_FILE, CENTERNET),
            _centernet,
        ),
        Setup(
            "centernet-perturbed",
            "coco_real81 + CenterNet, scores rescaled per class (increasing)",
            (GT_FILE, CENTERNET),
            _perturbed,
        ),
        Setup(
            "centernet-blurred",
            "coco_real81 + CenterNet, scores blurred by logit noise (sd 1; tuning setup)",
            (GT_FILE, CENTERNET),
            _blurred,
        ),
        Setup(
            "nanodet",
            "coco_real81 + NanoDet (not tuned on; its results seen since score version 4)",
            (GT_FILE, NANODET),
            _nanodet,
        ),
        Setup(
            "synthetic",
            "43 images + cocoapi fake bbox results (SYNTHETIC)",
            (GT_FILE, SYNTHETIC),
            _synthetic,
        ),
        Setup(
            "yolov8s",
            "coco_real81 + YOLOv8s run by labelfix predict (held out: never tuned on)",
            (GT_FILE, YOLOV8S),
            _yolov8s,
        ),
        Setup(
            "ssdlite",
            "coco_real81 + SSDLite-MobileNetV2 (TF.js coco-ssd; held out: never tuned on)",
            (GT_FILE, SSDLITE),
            _ssdlite,
        ),
    )
}


# several sets at once: the tuning pair (CenterNet is the tuning detector), two held-out pairs
# and all four real detectors
MULTI_SETUPS = (
    "centernet+nanodet",
    "yolov8s+ssdlite",
    "nanodet+ssdlite",
    "centernet+nanodet+yolov8s+ssdlite",
)


def setup_named(name: str) -> Setup:
    """A setup of :data:`SETUPS`, a variant of one named ``BASE-VARIANT`` (:data:`VARIANTS`),
    or several analysed together named ``A+B[+...]`` (each part may carry the variant:
    ``A+B-cut25`` is ``A-cut25+B-cut25``)."""
    if "+" in name:
        base, _, variant = name.rpartition("-")
        if variant not in VARIANTS or "+" not in base:
            base, variant = name, ""
        parts = [setup_named(f"{p}-{variant}" if variant else p) for p in base.split("+")]
        if len({p.name for p in parts}) != len(parts):
            raise KeyError(f"setup {name!r} names a set twice")
        return multi_setup(parts)
    if name in SETUPS:
        return SETUPS[name]
    base, _, variant = name.rpartition("-")
    if base not in SETUPS or variant not in VARIANTS:
        raise KeyError(f"unknown setup {name!r} (variants: {', '.join(VARIANTS)})")
    b = SETUPS[base]
    what, change = VARIANTS[variant]

    def load() -> tuple[dict, list[dict]]:
        data, records = b.load()
        return data, change(records)

    return Setup(name, f"{b.title}; {what}", b.files, load)
