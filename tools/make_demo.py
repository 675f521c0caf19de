"""Rebuild resources/demo/ from ../shared/data/coco_real81: 20 images (<= 3 MB), their labels
and the real CenterNet predictions on them. Deterministic; rerun after changing the rules."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "data" / "coco_real81"
DST = ROOT / "resources" / "demo"
N_IMAGES, MAX_BYTES = 20, 3_000_000


def main() -> int:
    """Select the images and write the demo files."""
    if not SRC.is_dir():
        print(f"{SRC} not found", file=sys.stderr)
        return 2
    gt = json.loads((SRC / "annotations" / "instances_real81.json").read_text())
    preds = json.loads((SRC / "predictions" / "centernet_bbox_results.json").read_text())
    per_image = Counter(a["image_id"] for a in gt["annotations"])
    crowd = {a["image_id"] for a in gt["annotations"] if a.get("iscrowd")}
    sizes = {im["id"]: (SRC / "images" / im["file_name"]).stat().st_size for im in gt["images"]}
    # busy images first (more to review), crowd images always in, within the size budget
    order = sorted(
        gt["images"], key=lambda im: (im["id"] not in crowd, -per_image[im["id"]], im["id"])
    )
    chosen, total = [], 0
    for im in order:
        if len(chosen) == N_IMAGES:
            break
        if sizes[im["id"]] > 250_000 or total + sizes[im["id"]] > MAX_BYTES:
            continue
        chosen.append(im)
        total += sizes[im["id"]]
    ids = {im["id"] for im in chosen}
    chosen.sort(key=lambda im: im["id"])
    out_gt = {
        **{k: v for k, v in gt.items() if k not in ("images", "annotations")},
        "images": chosen,
        "annotations": [a for a in gt["annotations"] if a["image_id"] in ids],
    }
    out_gt["info"] = dict(
        gt.get("info", {}), description="LabelFix demo: 20 real COCO images from coco_real81"
    )
    (DST / "images").mkdir(parents=True, exist_ok=True)
    for old in (DST / "images").glob("*.jpg"):
        old.unlink()
    for im in chosen:
        shutil.copy2(SRC / "images" / im["file_name"], DST / "images" / im["file_name"])
    (DST / "labels.json").write_text(json.dumps(out_gt))
    (DST / "predictions.json").write_text(json.dumps([p for p in preds if p["image_id"] in ids]))
    for lic in SRC.glob("LICENSE*"):
        shutil.copy2(lic, DST / lic.name)
    print(f"{len(chosen)} images, {total / 1e6:.2f} MB, {len(out_gt['annotations'])} labels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
