"""missing_label suspects on the CLEAN coco_real81 labels, ranked two ways, as crops to judge.

The two rankings of bench_quality.py's missing_label column: LabelFix's default (calibrated
probabilities, the current score version) and its RAW method (raw confidences, version 1
scores: ``bench_quality.RAW_NAME``'s params). Per setup, the first ``--top`` missing_label
suspects of each (bench_quality's order: score, ties in suspect-id order) are written once per
prediction as ``OUT/SETUP/pPREDID.png``: the prediction's box (red), every label in view
(green, its class; crowd regions orange), with context. ``OUT/SETUP/index.md`` lists them with
both ranks. With ``--verdicts CSV`` (setup,prediction_id,verdict,what; verdict ``missing``,
``unclear``, ``detector`` or ``repeat``: the object of an earlier suspect of the list) it
prints each ranking's real missing labels in its first 10 / 20 / 30 (bench/quality_log.md,
session of 2026-11-30 19:10, has the rule and the results; the verdicts are
bench/quality_missing_pixels.csv).

Run: ``python bench/quality_missing_pixels.py [--setups centernet,yolov8s] [--top 30]
[--out bench/out/missing_pixels] [--verdicts bench/quality_missing_pixels.csv]``
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from PIL import Image, ImageDraw

from labelfix.core.errors import AnalysisParams

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import EARLIER, RAW_NAME, run_labelfix  # noqa: E402
from quality_data import IMAGES, setup_named  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "missing_pixels"
CONTEXT = 1.0  # the crop extends this many box sizes on each side (at least MIN_CONTEXT px)
MIN_CONTEXT = 60
MIN_SIDE = 320  # px: small crops are scaled up to this


def rankings(setup: str, top: int) -> tuple[dict, list[dict], dict[str, list[dict]]]:
    """The setup's clean data, its predictions and the first ``top`` missing_label suspects of
    the calibrated (default) and raw rankings."""
    data, preds = setup_named(setup).load()
    raw_change = next(change for name, _, change in EARLIER if name == RAW_NAME)
    out = {}
    for name, params in (
        ("calibrated", AnalysisParams()),
        ("raw", replace(AnalysisParams(), **raw_change)),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            suspects = run_labelfix(data, preds, params, Path(tmp))
        missing = [s for s in suspects if s["kind"] == "missing_label"]
        out[name] = sorted(missing, key=lambda s: -s["score"])[:top]
    return data, preds, out


def write_crop(data: dict, pred: dict, path: Path) -> None:
    """The prediction's box in red over its image with every label in view, cropped."""
    image = next(im for im in data["images"] if im["id"] == pred["image_id"])
    names = {c["id"]: c["name"] for c in data["categories"]}
    img = Image.open(IMAGES / image["file_name"]).convert("RGB")
    x, y, w, h = pred["bbox"]
    mx, my = max(MIN_CONTEXT, CONTEXT * w), max(MIN_CONTEXT, CONTEXT * h)
    box = (max(0, int(x - mx)), max(0, int(y - my)))
    box += (min(img.width, int(x + w + mx)), min(img.height, int(y + h + my)))
    draw = ImageDraw.Draw(img)
    for a in data["annotations"]:
        if a["image_id"] != image["id"]:
            continue
        ax, ay, aw, ah = a["bbox"]
        color = "orange" if a.get("iscrowd") else "lime"
        draw.rectangle([ax, ay, ax + aw, ay + ah], outline=color, width=1)
        crowd = " crowd" if a.get("iscrowd") else ""
        draw.text((ax + 2, ay + 2), f"{names.get(a['category_id'], '?')}{crowd}", fill=color)
    draw.rectangle([x, y, x + w, y + h], outline="red", width=2)
    draw.text((x + 2, y + h - 12), f"{names[pred['category_id']]} {pred['score']:.2f}", fill="red")
    crop = img.crop(box)
    scale = max(1.0, MIN_SIDE / max(1, min(crop.width, crop.height)))
    if scale > 1:
        crop = crop.resize((int(crop.width * scale), int(crop.height * scale)))
    crop.save(path)


def write_setup(setup: str, top: int, out: Path) -> dict[str, list[int]]:
    """Crops and index.md of one setup; returns each ranking's prediction ids in order."""
    data, preds, ranked = rankings(setup, top)
    folder = out / setup
    folder.mkdir(parents=True, exist_ok=True)
    files = {im["id"]: im["file_name"] for im in data["images"]}
    names = {c["id"]: c["name"] for c in data["categories"]}
    order = {k: [s["prediction_id"] for s in v] for k, v in ranked.items()}
    scores = {(k, s["prediction_id"]): s["score"] for k, v in ranked.items() for s in v}
    lines = [
        f"# {setup}: first {top} missing_label suspects on the clean labels\n",
        "| prediction | file | class | conf | calibrated rank (score) | raw rank (score) |",
        "|---|---|---|---|---|---|",
    ]
    for pid in dict.fromkeys(order["calibrated"] + order["raw"]):
        p = preds[pid - 1]
        cells = [
            "" if pid not in order[k] else f"{order[k].index(pid) + 1} ({scores[k, pid]:.3f})"
            for k in ("calibrated", "raw")
        ]
        lines.append(
            f"| p{pid} | {files[p['image_id']]} | {names[p['category_id']]} | "
            f"{p['score']:.2f} | {cells[0]} | {cells[1]} |"
        )
        write_crop(data, p, folder / f"p{pid}.png")
    (folder / "index.md").write_text("\n".join(lines) + "\n")
    shared = len(set(order["calibrated"]) & set(order["raw"]))
    print(f"{setup}: {shared} of the first {top} shared; crops in {folder}", file=sys.stderr)
    return order


def count_table(orders: dict[str, dict[str, list[int]]], verdicts: Path) -> str:
    """Real missing labels (and unclear ones) in each ranking's first 10 / 20 / 30."""
    judged: dict[tuple[str, int], str] = {}
    with verdicts.open() as f:
        for row in csv.DictReader(f):
            judged[row["setup"], int(row["prediction_id"])] = row["verdict"]
    lines = [
        "| setup | ranking | missing @10 / @20 / @30 | unclear @10 / @20 / @30 | "
        "detector errors @30 | shared @30 (missing among them) |",
        "|---|---|---|---|---|---|",
    ]
    for setup, order in orders.items():
        shared = set(order["calibrated"][:30]) & set(order["raw"][:30])
        both = sum(judged[setup, pid] == "missing" for pid in shared)
        for name, pids in order.items():
            v = [judged[setup, pid] for pid in pids]
            miss = " / ".join(str(v[:k].count("missing")) for k in (10, 20, 30))
            unclear = " / ".join(str(v[:k].count("unclear")) for k in (10, 20, 30))
            lines.append(
                f"| {setup} | {name} | {miss} | {unclear} | {v[:30].count('detector')} | "
                f"{len(shared)} ({both}) |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the crops; with --verdicts print the counts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--setups", default="centernet,yolov8s")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--verdicts", type=Path, help="CSV setup,prediction_id,verdict")
    args = ap.parse_args(argv)
    orders = {s: write_setup(s, args.top, args.out) for s in args.setups.split(",") if s}
    if args.verdicts is not None:
        print(count_table(orders, args.verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
