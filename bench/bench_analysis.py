"""Analysis speed: LabelFix's whole analysis (matching, cross-class pass, suspects, persisted)
beside pycocotools' and faster-coco-eval's ``COCOeval.evaluate()`` at one IoU threshold (0.5), on
the same generated COCO-val-scale files, in the same run. Every step runs in its own subprocess
so its peak RSS is its own.

    python bench/bench_analysis.py [--images 5000] [--per-image 20 100] [--geometry boxes masks]

Targets (issue "Engine"): boxes - the whole analysis faster than faster-coco-eval's evaluate;
masks - no slower than faster-coco-eval's loadRes + evaluate; peak RSS below both.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402


def _cocoeval(module: str, gt: str, pred: str, iou_type: str) -> dict:
    import contextlib
    import io

    import numpy as np

    if module == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    else:
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(gt)
        t0 = time.perf_counter()
        dt = coco.loadRes(pred)
        t1 = time.perf_counter()
        ev = COCOeval(coco, dt, iou_type)
        ev.params.iouThrs = np.array([0.5])
        ev.evaluate()
        t2 = time.perf_counter()
    return {"loadres": t1 - t0, "seconds": t2 - t1}


def _labelfix(gt: str, pred: str, geometry: str, project: str) -> dict:
    from labelfix.core.analyze import analyze
    from labelfix.core.errors import AnalysisParams
    from labelfix.core.project import import_project
    from labelfix.core.store import Store

    import_project(Path(project), Path(gt), None, Path(pred), "model")
    import gc

    gc.collect()
    with Store.open(project) as store:
        t0 = time.perf_counter()
        summary = analyze(store, params=AnalysisParams(geometry=geometry))
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        analyze(store, params=AnalysisParams(geometry=geometry))
        again = time.perf_counter() - t0
    return {"seconds": first, "again": again, "suspects": sum(summary.suspects.values())}


def _step(name: str, gt: str, pred: str, geometry: str, project: str) -> dict:
    iou_type = "segm" if geometry == "masks" else "bbox"
    if name == "labelfix":
        out = _labelfix(gt, pred, geometry, project)
    else:
        out = _cocoeval(name, gt, pred, iou_type)
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measure(name: str, gt: Path, pred: Path, geometry: str, project: Path) -> dict:
    """Run one measured step in a subprocess."""
    out = subprocess.run(
        [sys.executable, __file__, "--step", name, str(gt), str(pred), geometry, str(project)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    """Measure and print the table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--per-image", type=int, nargs="+", default=[20, 100])
    ap.add_argument("--geometry", nargs="+", default=["boxes", "masks"], choices=("boxes", "masks"))
    ap.add_argument("--step", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(_step(*args.step)))
        return 0
    lines = [
        "| geometry | preds/image | tool | loadRes s | evaluate / analyze s | x faster-coco-eval | peak RSS MB |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for geometry in args.geometry:
        for per_image in args.per_image:
            gt, pred = generate.ensure(args.images, per_image, segm=geometry == "masks")
            with tempfile.TemporaryDirectory() as tmp:
                res = {
                    n: measure(n, gt, pred, geometry, Path(tmp) / "b.labelfix")
                    for n in ("pycocotools", "faster-coco-eval", "labelfix")
                }
            fce = res["faster-coco-eval"]
            ref = fce["seconds"] + (fce["loadres"] if geometry == "masks" else 0.0)
            for name, r in res.items():
                load = f"{r['loadres']:.2f}" if "loadres" in r else "-"
                sec = f"{r['seconds']:.2f}" + (f" (again {r['again']:.2f})" if "again" in r else "")
                lines.append(
                    f"| {geometry} | {per_image} | {name} | {load} | {sec} | "
                    f"{r['seconds'] / ref:.2f} | {r['rss_mb']:.0f} |"
                )
            print("\n".join(lines[-3:]), flush=True)
    text = "\n".join(lines)
    print("\n" + text)
    print(
        "\nx faster-coco-eval: boxes against its evaluate(); masks against its loadRes + evaluate()."
    )
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "analysis.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
