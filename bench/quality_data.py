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
- ``synthetic``: the 43 coco_real81 images of COCO val2014's first 100 + cocoapi's fake bbox
  results on them (jittered copies of the labels with random scores: a "detector" whose scores
  say nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
REAL81 = SHARED / "coco_real81"
GT_FILE = REAL81 / "annotations" / "instances_real81.json"
IMAGES = REAL81 / "images"
CENTERNET = REAL81 / "predictions" / "centernet_bbox_results.json"
NANODET = ROOT / "bench" / "data" / "nanodet_real81_bbox_results.json"
YOLOV8S = ROOT / "bench" / "data" / "yolov8s_real81_bbox_results.json"
SYNTHETIC = SHARED / "coco_val2014_100" / "SYNTHETIC_fakebbox_results_subset43_with_images.json"
PERTURB_SEED = 1234
BLUR_SEED = 99
BLUR_SD = 1.0


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

    def available(self) -> bool:
        """Whether its input files are present."""
        return all(f.exists() for f in self.files)


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
    )
}
