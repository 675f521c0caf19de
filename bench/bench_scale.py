"""Scale benchmark: a 100,000-image project (1,000,000 labels, 2,000,000 box predictions).

    python bench/bench_scale.py [--images 100000] [--labels 1000000] [--predictions 2000000]
                                [--out bench/out/scale] [--keep]

Generates the COCO files with a vectorised numpy generator (labels carry simple 4-8 point
polygons; predictions are boxes: a jittered copy of every label, sometimes with another class,
plus random boxes), then times each step in its own subprocess and reads its peak RSS:

- import: ``project.import_project`` (what `labelfix import` runs);
- reopen: ``Store.open`` + ``counts``;
- analyze: ``analyze.analyze`` on the active set (boxes);
- suspects: ``SuspectIndex.load``;
- sort/filter: ``SuspectIndex.query`` with a few filters and sorts (the table's operations);
- jump: the row at position 500,000 of the sorted order (``SuspectIndex.row``).

Targets (issue "Reliability and scale"): table sort/filter < 200 ms, open < 2 s, memory < 2 GB;
(issue 16) at 1M images, 10M labels, 20M predictions: import and analysis each < 3 GB peak
(``--images 1000000 --labels 10000000 --predictions 20000000``; the files are written a slice
of records at a time, the import reads them in chunks and the analysis runs in passes).
This is a benchmark, not a test; it takes several minutes. ``--profile STEP`` runs one step under
cProfile (on an existing project) and prints where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# COCO's 80 category ids (1..90 with gaps)
COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
SIZES = np.array([[640, 480], [480, 640], [640, 427], [500, 375], [1024, 768]])
TARGETS = {"sort/filter": "< 200 ms", "reopen": "< 2 s", "memory": "< 2 GB"}


# ----------------------------------------------------------------------------- data


def make_columns(n_images: int, n_labels: int, n_predictions: int, seed: int = 0) -> dict:
    """The dataset and predictions as numpy columns (polygons padded to 8 points)."""
    rng = np.random.default_rng(seed)
    size = SIZES[rng.integers(0, len(SIZES), n_images)]
    width, height = size[:, 0], size[:, 1]
    cats = np.asarray(COCO_IDS)

    image_index = np.sort(rng.integers(0, n_images, n_labels))
    iw, ih = width[image_index], height[image_index]
    bw = np.round(np.minimum(rng.gamma(2.0, 30.0, n_labels) + 4, iw - 1), 2)
    bh = np.round(np.minimum(rng.gamma(2.0, 30.0, n_labels) + 4, ih - 1), 2)
    bx = np.round(rng.uniform(0, 1, n_labels) * (iw - bw), 2)
    by = np.round(rng.uniform(0, 1, n_labels) * (ih - bh), 2)
    label_cat = cats[rng.integers(0, len(cats), n_labels)]
    points = rng.integers(4, 9, n_labels)
    polygons = np.zeros((n_labels, 16))
    areas = np.zeros(n_labels)
    for k in range(4, 9):  # one vectorised pass per vertex count
        rows = np.flatnonzero(points == k)
        angle = np.sort(rng.uniform(0, 2 * np.pi, (rows.size, k)), axis=1)
        cx, cy = bx[rows, None] + bw[rows, None] / 2, by[rows, None] + bh[rows, None] / 2
        xs = np.round(cx + bw[rows, None] / 2 * np.cos(angle), 2)
        ys = np.round(cy + bh[rows, None] / 2 * np.sin(angle), 2)
        areas[rows] = 0.5 * np.abs(
            (xs * np.roll(ys, -1, axis=1) - np.roll(xs, -1, axis=1) * ys).sum(axis=1)
        )
        flat = np.empty((rows.size, 2 * k))
        flat[:, 0::2], flat[:, 1::2] = xs, ys
        polygons[rows, : 2 * k] = flat

    # predictions: a jittered copy of most labels (10% with another class), then random boxes
    copies = min(n_labels, n_predictions * 9 // 20)
    src = rng.choice(n_labels, copies, replace=False)
    src.sort()
    jitter = rng.normal(0, 0.08, (copies, 4))
    px = bx[src] + jitter[:, 0] * bw[src]
    py = by[src] + jitter[:, 1] * bh[src]
    pw = bw[src] * np.exp(jitter[:, 2])
    ph = bh[src] * np.exp(jitter[:, 3])
    pcat = label_cat[src].copy()
    other = rng.random(copies) < 0.1
    pcat[other] = cats[rng.integers(0, len(cats), int(other.sum()))]
    pimg = image_index[src]
    extra = n_predictions - copies
    rimg = rng.integers(0, n_images, extra)
    rw = rng.uniform(8, 200, extra)
    rh = rng.uniform(8, 200, extra)
    rx = rng.uniform(0, 1, extra) * np.maximum(width[rimg] - rw, 1)
    ry = rng.uniform(0, 1, extra) * np.maximum(height[rimg] - rh, 1)
    all_img = np.concatenate([pimg, rimg]) + 1
    box = np.round(
        np.column_stack([np.concatenate(v) for v in ((px, rx), (py, ry), (pw, rw), (ph, rh))]), 2
    )
    box[:, 2:] = np.maximum(box[:, 2:], 1.0)
    all_cat = np.concatenate([pcat, cats[rng.integers(0, len(cats), extra)]])
    score = np.round(np.concatenate([rng.beta(5, 2, copies), rng.beta(1.2, 5, extra)]), 4).clip(
        0.001, 1
    )
    order = np.argsort(all_img, kind="stable")
    return {
        "width": width,
        "height": height,
        "label_image": image_index + 1,
        "label_box": np.column_stack([bx, by, bw, bh]),
        "label_cat": label_cat,
        "label_area": np.round(areas, 2),
        "label_points": points,
        "polygons": polygons,
        "pred_image": all_img[order],
        "pred_cat": all_cat[order],
        "pred_box": box[order],
        "pred_score": score[order],
    }


def _images(c: dict, lo: int, hi: int) -> list[dict]:
    return [
        {"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": w, "height": h}
        for i, w, h in zip(
            range(lo, hi), c["width"][lo:hi].tolist(), c["height"][lo:hi].tolist(), strict=True
        )
    ]


def _annotations(c: dict, lo: int, hi: int) -> list[dict]:
    polys = c["polygons"][lo:hi].tolist()
    return [
        {
            "id": i + 1,
            "image_id": img,
            "category_id": cat,
            "bbox": box,
            "area": area,
            "iscrowd": 0,
            "segmentation": [poly[: 2 * k]],
        }
        for i, img, cat, box, area, k, poly in zip(
            range(lo, hi),
            c["label_image"][lo:hi].tolist(),
            c["label_cat"][lo:hi].tolist(),
            c["label_box"][lo:hi].tolist(),
            c["label_area"][lo:hi].tolist(),
            c["label_points"][lo:hi].tolist(),
            polys,
            strict=True,
        )
    ]


def _predictions(c: dict, lo: int, hi: int) -> list[dict]:
    return [
        {"image_id": i, "category_id": cat, "bbox": b, "score": s}
        for i, cat, b, s in zip(
            c["pred_image"][lo:hi].tolist(),
            c["pred_cat"][lo:hi].tolist(),
            c["pred_box"][lo:hi].tolist(),
            c["pred_score"][lo:hi].tolist(),
            strict=True,
        )
    ]


def make_dataset(
    n_images: int, n_labels: int, n_predictions: int, seed: int = 0
) -> tuple[dict, list[dict]]:
    """A COCO dataset and box predictions, generated column-wise with numpy."""
    c = make_columns(n_images, n_labels, n_predictions, seed)
    categories = [{"id": k, "name": f"class{k}", "supercategory": "thing"} for k in COCO_IDS]
    gt = {
        "info": {"description": "bench_scale"},
        "images": _images(c, 0, n_images),
        "categories": categories,
        "annotations": _annotations(c, 0, n_labels),
    }
    return gt, _predictions(c, 0, len(c["pred_image"]))


def _write_array(fh, make, n: int, step: int = 200_000) -> None:
    """A JSON array written a slice of records at a time."""
    fh.write("[")
    for lo in range(0, n, step):
        text = json.dumps(make(lo, min(lo + step, n)), separators=(",", ":"))
        fh.write(("," if lo else "") + text[1:-1])
    fh.write("]")


def write_dataset(out: Path, n_images: int, n_labels: int, n_predictions: int) -> dict:
    """Generate and write gt.json and pred.json under out, a slice at a time; returns timings."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    c = make_columns(n_images, n_labels, n_predictions)
    t1 = time.perf_counter()
    categories = [{"id": k, "name": f"class{k}", "supercategory": "thing"} for k in COCO_IDS]
    with open(out / "gt.json", "w") as fh:
        fh.write('{"info":{"description":"bench_scale"},"images":')
        _write_array(fh, lambda lo, hi: _images(c, lo, hi), n_images)
        fh.write(',"categories":' + json.dumps(categories, separators=(",", ":")))
        fh.write(',"annotations":')
        _write_array(fh, lambda lo, hi: _annotations(c, lo, hi), n_labels)
        fh.write("}")
    with open(out / "pred.json", "w") as fh:
        _write_array(fh, lambda lo, hi: _predictions(c, lo, hi), len(c["pred_image"]))
    t2 = time.perf_counter()
    return {"generate_s": t1 - t0, "write_s": t2 - t1}


# ----------------------------------------------------------------------------- steps (each in a child)


def _peak_mb() -> float:
    """This process's peak RSS in MiB (VmHWM: unlike ru_maxrss, not inherited across fork+exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def step_import(out: Path) -> dict:
    """`labelfix import`'s path: labels validated and stored, freed, then the predictions."""
    from labelfix.core.project import import_project

    project = out / "scale.labelfix"
    if project.exists():
        project.unlink()
    t0 = time.perf_counter()
    import_project(project, out / "gt.json", None, out / "pred.json", "model")
    return {"seconds": time.perf_counter() - t0, "project MB": project.stat().st_size / 2**20}


def step_reopen(out: Path) -> dict:
    """Open the project and count what is in it."""
    from labelfix.core.store import Store

    t0 = time.perf_counter()
    store = Store.open(out / "scale.labelfix")
    counts = store.counts()
    seconds = time.perf_counter() - t0
    store.close()
    return {"seconds": seconds, **counts}


def step_analyze(out: Path) -> dict:
    """Run the full analysis of the active prediction set."""
    from labelfix.core.analyze import analyze
    from labelfix.core.errors import AnalysisParams
    from labelfix.core.store import Store

    with Store.open(out / "scale.labelfix") as store:
        t0 = time.perf_counter()
        summary = analyze(store, store.active_set_id(), AnalysisParams())
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "suspects": sum(summary.suspects.values()), **summary.suspects}


def _load_index(out: Path) -> tuple[object, object, float]:
    from labelfix.core.store import Store
    from labelfix.core.suspects import SuspectIndex

    store = Store.open(out / "scale.labelfix", readonly=True)
    t0 = time.perf_counter()
    index = SuspectIndex.load(store)
    return store, index, time.perf_counter() - t0


def step_suspects(out: Path) -> dict:
    """Load the suspects index (what the table opens with)."""
    store, index, seconds = _load_index(out)
    store.close()
    return {"seconds": seconds, "rows": len(index)}


def _queries(index: object) -> list[tuple[str, object, str, bool]]:
    from labelfix.core.suspects import DEFAULT_REVIEW_FILTER, SEED_REVIEW_FILTER, SuspectFilter

    some = frozenset(list(index.category_names)[:3])
    return [
        ("all by score", SuspectFilter(), "score", True),
        ("review filter by score", DEFAULT_REVIEW_FILTER, "score", True),
        ("conf >= 0.75 (earlier default) by score", SEED_REVIEW_FILTER, "score", True),
        ("all, one per object, by score", SuspectFilter(per_object=True), "score", True),
        ("all by probability", SuspectFilter(), "probability", True),
        (
            "kind=wrong_class by confidence",
            SuspectFilter(kinds=frozenset({"wrong_class"})),
            "confidence",
            True,
        ),
        ("3 classes by iou", SuspectFilter(category_ids=some), "iou", False),
        ("all by file name", SuspectFilter(), "file_name", False),
        ("all by label class", SuspectFilter(), "label_class", False),
        ("file name contains '0001'", SuspectFilter(file_name="0001"), "score", True),
    ]


def step_sort_filter(out: Path) -> dict:
    """The table's sorts and filters on the loaded index (each timed; twice, the best kept)."""
    store, index, load_s = _load_index(out)
    times = {}
    for name, flt, key, descending in _queries(index):
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            rows = index.query(flt, key, descending)
            best = min(best, time.perf_counter() - t0)
        times[name] = (best, len(rows))
    store.close()
    worst = max(t for t, _ in times.values())
    return {"seconds": worst, "load_s": load_s, "queries": times}


def step_jump(out: Path) -> dict:
    """Sort by score, then read the row at position 500,000 (or the last)."""
    from labelfix.core.suspects import SuspectFilter

    store, index, _ = _load_index(out)
    rows = index.query(SuspectFilter(), "score", True)
    target = min(500_000, len(rows) - 1)
    t0 = time.perf_counter()
    row = index.row(int(rows[target]))
    seconds = time.perf_counter() - t0
    store.close()
    return {"seconds": seconds, "position": target, "kind": row["kind"]}


def step_generate(out: Path, n_images: int, n_labels: int, n_predictions: int) -> dict:
    """Generate and write the COCO files (in a child, so the parent stays small)."""
    made = write_dataset(out, n_images, n_labels, n_predictions)
    made["seconds"] = made["generate_s"] + made["write_s"]
    return made


STEPS = {
    "import": step_import,
    "reopen": step_reopen,
    "analyze": step_analyze,
    "suspects": step_suspects,
    "sort/filter": step_sort_filter,
    "jump": step_jump,
}


def child(step: str, out: Path, sizes: tuple[int, int, int]) -> None:
    """Run one step in this process and print its result with the peak RSS as JSON."""
    result = step_generate(out, *sizes) if step == "generate" else STEPS[step](out)
    result["peak_mb"] = _peak_mb()
    print("RESULT " + json.dumps(result))


def run_step(step: str, out: Path, sizes: tuple[int, int, int] = (0, 0, 0)) -> dict:
    """Run one step in a fresh subprocess; its wall time and peak RSS are its own."""
    t0 = time.perf_counter()
    counts = ["--images", str(sizes[0]), "--labels", str(sizes[1]), "--predictions", str(sizes[2])]
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, "--out", str(out), *counts],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"step {step} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(line[len("RESULT ") :])
    result["wall_s"] = wall
    return result


def profile(step: str, out: Path) -> None:
    """Run one step under cProfile and print the top of the cumulative profile."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    result = STEPS[step](out)
    prof.disable()
    print(json.dumps(result, default=str))
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def write_jpegs(store: object, folder: Path, image_ids: list[int]) -> None:
    """Small real JPEGs (a ramp with noise, at each image's size) for these images, named as
    in the dataset; the project's image folder pointed there and its review state reset, so
    every window run starts from the default review list."""
    import cv2

    rng = np.random.default_rng(0)
    for image_id in image_ids:
        image = store.image(image_id)
        path = folder / image["file_name"]
        if path.exists():
            continue
        h, w = int(image["height"]), int(image["width"])
        ramp = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
        noise = rng.normal(0, 25, (h, w, 3)).astype(np.float32)
        pixels = np.clip(ramp * rng.uniform(0.3, 1, 3) + noise + 40, 0, 255).astype(np.uint8)
        cv2.imwrite(str(path), pixels, [cv2.IMWRITE_JPEG_QUALITY, 85])
    with store.atomic():
        store.set_images_root(folder)
        store.set_meta("ui_state", {})


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    """Generate, run every step, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--predictions", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "scale")
    parser.add_argument("--keep", action="store_true", help="reuse existing gt.json/pred.json")
    parser.add_argument("--child", choices=[*STEPS, "generate"], help=argparse.SUPPRESS)
    parser.add_argument("--profile", choices=list(STEPS), help="cProfile one step")
    parser.add_argument("--steps", nargs="*", choices=list(STEPS), default=list(STEPS))
    args = parser.parse_args()
    sizes = (args.images, args.labels, args.predictions)
    if args.child:
        child(args.child, args.out, sizes)
        return
    if args.profile:
        profile(args.profile, args.out)
        return
    print(f"load average before: {load_average()}")
    if not (args.keep and (args.out / "gt.json").exists()):
        made = run_step("generate", args.out, sizes)
        mb = {p: (args.out / p).stat().st_size / 2**20 for p in ("gt.json", "pred.json")}
        print(
            f"generated {args.images:,} images, {args.labels:,} labels, "
            f"{args.predictions:,} predictions in {made['generate_s']:.1f} s, written in "
            f"{made['write_s']:.1f} s (gt.json {mb['gt.json']:.0f} MB, "
            f"pred.json {mb['pred.json']:.0f} MB; peak {made['peak_mb']:.0f} MB)",
            flush=True,
        )
    results = {}
    for step in args.steps:
        results[step] = run_step(step, args.out)
        r = results[step]
        print(f"  {step}: {r['seconds']:.3f} s, peak {r['peak_mb']:.0f} MB  {r}", flush=True)
    print(f"load average after: {load_average()}\n")
    memory = "< 2 GB" if args.labels <= 1_000_000 else "< 3 GB, issue 16"
    print(f"| step | time | target | peak RSS (target {memory}) |")
    print("|---|---:|---|---:|")
    for step, r in results.items():
        target = TARGETS.get(step, "")
        if step == "jump":
            shown = f"{r['seconds'] * 1000:.2f} ms"
        elif step == "sort/filter":
            shown = f"{r['seconds'] * 1000:.0f} ms (worst query)"
        else:
            shown = f"{r['seconds']:.2f} s"
        print(f"| {step} | {shown} | {target} | {r['peak_mb']:,.0f} MB |")
    if "sort/filter" in results:
        print("\nsort/filter queries (best of 2):")
        for name, (seconds, n) in results["sort/filter"]["queries"].items():
            print(f"  {name:<34} {seconds * 1000:8.1f} ms  {n:>9,} rows")


if __name__ == "__main__":
    main()
