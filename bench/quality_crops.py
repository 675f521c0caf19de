"""Crops of suspects for looking at them: the image around the suspect's label (green, its
class) and prediction (red, its class), with some context, as PNGs (bench_quality --crops)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw
from quality_data import IMAGES

CONTEXT = 0.6  # the crop extends this fraction of the boxes' size on each side
MIN_SIDE = 160  # px: crops are at least this big (scaled up for small objects)


def _union(boxes: list[list[float]]) -> tuple[float, float, float, float]:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1, y1


def write_crops(suspects: list[dict], data: dict, folder: Path) -> list[Path]:
    """One PNG per suspect (in the given order, named NN_kind.png; its prediction the record
    under ``prediction``, of its best set with several); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    images = {im["id"]: im for im in data["images"]}
    anns = {a["id"]: a for a in data["annotations"]}
    names = {c["id"]: c["name"] for c in data["categories"]}
    out = []
    for rank, s in enumerate(suspects, start=1):
        im = images[s["image_id"]]
        img = Image.open(IMAGES / im["file_name"]).convert("RGB")
        shapes: list[tuple[list[float], str, str]] = []
        for key in ("annotation_id", "other_annotation_id"):
            if s.get(key) is not None and s[key] in anns:
                a = anns[s[key]]
                shapes.append((a["bbox"], "lime", f"label {names.get(a['category_id'], '?')}"))
        p = s.get("prediction")
        if p is not None:
            shapes.append(
                (p["bbox"], "red", f"pred {names.get(p['category_id'], '?')} {p['score']:.2f}")
            )
        if not shapes:
            continue
        x0, y0, x1, y1 = _union([b for b, _, _ in shapes])
        w, h = x1 - x0, y1 - y0
        box = (
            max(0, int(x0 - CONTEXT * w - 10)),
            max(0, int(y0 - CONTEXT * h - 10)),
            min(img.width, int(x1 + CONTEXT * w + 10)),
            min(img.height, int(y1 + CONTEXT * h + 10)),
        )
        draw = ImageDraw.Draw(img)
        for (bx, by, bw, bh), color, text in shapes:
            draw.rectangle([bx, by, bx + bw, by + bh], outline=color, width=2)
            draw.text((bx + 3, by + 3), text, fill=color)
        crop = img.crop(box)
        scale = max(1.0, MIN_SIDE / max(1, min(crop.width, crop.height)))
        if scale > 1:
            crop = crop.resize((int(crop.width * scale), int(crop.height * scale)))
        path = folder / f"{rank:02d}_{s['kind']}.png"
        crop.save(path)
        out.append(path)
    return out
