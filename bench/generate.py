"""A deterministic generator of a COCO-val-scale dataset and predictions, for the benchmarks.

``python bench/generate.py --images 5000 --per-image 20 100 --segm`` writes, under
``bench/out/data/``: ``gt_5000.json`` (~36,800 polygon labels over COCO's 80 categories with
their real ids, ~1% crowd RLE), ``pred_5000_N.json`` (bbox results, N per image) and with
``--segm`` ``segm_5000_N.json`` (RLE results) and ``poly_5000_N.json`` (polygon results: an
ellipse of 8-30 vertices in each box). Predictions are jittered copies of most labels
(sometimes with another class) plus random boxes, with random scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

OUT = Path(__file__).resolve().parent / "out" / "data"
# COCO's 80 category ids (1..90 with gaps)
COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def _polygon(
    rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, n: int
) -> list[float]:
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(0.75, 1.0, n)
    xs = cx + rx * r * np.cos(t)
    ys = cy + ry * r * np.sin(t)
    return np.round(np.column_stack([xs, ys]).ravel(), 2).tolist()


def _uncompressed_rle(mask: np.ndarray) -> dict:
    flat = mask.flatten(order="F").astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [len(flat)]])
    runs = np.diff(bounds).tolist()
    if flat[0] == 1:
        runs = [0, *runs]
    return {"size": list(mask.shape), "counts": runs}


def make_ground_truth(n_images: int, seed: int = 0) -> dict:
    """COCO instances with ~7.36 labels per image (COCO val2017's mean)."""
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    ann_id = 1
    for image_id in range(1, n_images + 1):
        w = 640
        h = int(rng.choice([360, 427, 480, 512, 640]))
        images.append(
            {
                "id": image_id,
                "file_name": f"{image_id:012d}.jpg",
                "width": w,
                "height": h,
                "license": int(rng.integers(1, 9)),
                "date_captured": "2013-11-14 16:28:13",
            }
        )
        for _ in range(int(rng.poisson(7.36))):
            cat = int(rng.choice(COCO_IDS))
            if rng.random() < 0.01:
                mask = np.zeros((h, w), dtype=np.uint8)
                x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
                mask[y0 : y0 + int(rng.integers(20, 60)), x0 : x0 + int(rng.integers(20, 60))] = 1
                rle = _uncompressed_rle(mask)
                enc = mask_utils.frPyObjects(rle, h, w)
                bbox = mask_utils.toBbox(enc).tolist()
                annotations.append(
                    {
                        "id": ann_id,
                        "image_id": image_id,
                        "category_id": cat,
                        "iscrowd": 1,
                        "segmentation": rle,
                        "area": float(mask_utils.area(enc)),
                        "bbox": bbox,
                    }
                )
            else:
                rx, ry = rng.uniform(5, w / 4), rng.uniform(5, h / 4)
                cx, cy = rng.uniform(rx, w - rx), rng.uniform(ry, h - ry)
                poly = _polygon(rng, cx, cy, rx, ry, int(rng.integers(8, 30)))
                xs, ys = poly[0::2], poly[1::2]
                bbox = [min(xs), min(ys), round(max(xs) - min(xs), 2), round(max(ys) - min(ys), 2)]
                area = float(
                    mask_utils.area(mask_utils.merge(mask_utils.frPyObjects([poly], h, w)))
                )
                annotations.append(
                    {
                        "id": ann_id,
                        "image_id": image_id,
                        "category_id": cat,
                        "iscrowd": 0,
                        "segmentation": [poly],
                        "area": area,
                        "bbox": bbox,
                    }
                )
            ann_id += 1
    categories = [{"id": c, "name": f"class_{c}", "supercategory": "thing"} for c in COCO_IDS]
    info = {"description": "LabelFix synthetic benchmark", "version": "1.0", "year": 2026}
    return {
        "info": info,
        "licenses": [{"id": i, "name": f"license {i}"} for i in range(1, 9)],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def make_predictions(
    gt: dict, per_image: int, seed: int = 1, segm: bool = False, polygons: bool = False
) -> list[dict]:
    """``per_image`` predictions per image: jittered labels (10% another class) + random boxes
    (``segm``: as RLE masks; ``polygons``: as polygons, the same boxes and scores)."""
    rng = np.random.default_rng(seed)
    shapes = np.random.default_rng(seed + 1000)  # the other files' numbers stay as they were
    by_image: dict[int, list[dict]] = {}
    for a in gt["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    out: list[dict] = []
    for im in gt["images"]:
        w, h = im["width"], im["height"]
        boxes, cats = [], []
        for a in by_image.get(im["id"], []):
            if rng.random() < 0.9 and len(boxes) < per_image:
                x, y, bw, bh = a["bbox"]
                j = rng.normal(0, 0.08, 4)
                boxes.append([x + j[0] * bw, y + j[1] * bh, bw * (1 + j[2]), bh * (1 + j[3])])
                cats.append(a["category_id"] if rng.random() < 0.9 else int(rng.choice(COCO_IDS)))
        while len(boxes) < per_image:
            bw, bh = rng.uniform(8, w / 2), rng.uniform(8, h / 2)
            boxes.append([rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh])
            cats.append(int(rng.choice(COCO_IDS)))
        scores = rng.uniform(0.01, 1.0, len(boxes))
        arr = np.clip(np.asarray(boxes), 0, None)
        arr[:, 2] = np.minimum(arr[:, 2], w - arr[:, 0])
        arr[:, 3] = np.minimum(arr[:, 3], h - arr[:, 1])
        arr = np.round(arr, 2)
        rles = (
            mask_utils.frPyObjects(np.ascontiguousarray(arr, dtype=np.float64), h, w)
            if segm
            else None
        )
        for k in range(len(boxes)):
            rec = {
                "image_id": im["id"],
                "category_id": int(cats[k]),
                "score": round(float(scores[k]), 5),
            }
            if segm:
                rle = rles[k]
                rec["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
            elif polygons:
                x, y, bw, bh = arr[k].tolist()
                n = int(shapes.integers(8, 30))
                rec["segmentation"] = [_polygon(shapes, x + bw / 2, y + bh / 2, bw / 2, bh / 2, n)]
            else:
                rec["bbox"] = arr[k].tolist()
            out.append(rec)
    return out


def ensure(
    n_images: int, per_image: int, segm: bool = False, polygons: bool = False
) -> tuple[Path, Path]:
    """Paths of the generated labels and predictions files, generating them if missing."""
    OUT.mkdir(parents=True, exist_ok=True)
    gt_path = OUT / f"gt_{n_images}.json"
    kind = "segm" if segm else "poly" if polygons else "pred"
    pred_path = OUT / f"{kind}_{n_images}_{per_image}.json"
    if not gt_path.exists():
        gt_path.write_text(json.dumps(make_ground_truth(n_images)))
    if not pred_path.exists():
        gt = json.loads(gt_path.read_text())
        records = make_predictions(gt, per_image, segm=segm, polygons=polygons)
        pred_path.write_text(json.dumps(records))
    return gt_path, pred_path


def main() -> int:
    """Generate the benchmark files."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--per-image", type=int, nargs="+", default=[20, 100])
    ap.add_argument("--segm", action="store_true", help="also write RLE segmentation results")
    args = ap.parse_args()
    for n in args.per_image:
        for segm in (False, True) if args.segm else (False,):
            gt, pred = ensure(args.images, n, segm)
            print(gt, pred)
    return 0


if __name__ == "__main__":
    sys.exit(main())
