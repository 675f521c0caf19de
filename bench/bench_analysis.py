"""From files to suspects, and the analysis alone, beside pycocotools and faster-coco-eval.

    python bench/bench_analysis.py [--images 5000] [--per-image 20 100] [--geometry boxes masks]
                                   [--repeat 2] [--tools pycocotools faster-coco-eval labelfix]

The same work for every tool: one IoU threshold (0.5), one area range (``areaRng=[[0, 1e10]]``,
``areaRngLbl=['all']``) and ``maxDets=[100]`` for COCOeval, which is what LabelFix matches
(COCOeval's four default area ranges would make it match small/medium/large again). On the
same generated COCO-val-scale files (``bench/generate.py``), each tool in its own subprocess
(its peak RSS is its own), the tools interleaved ``--repeat`` times and the best time of each
part kept (the machine is shared):

- the references: ``COCO(gt)``, ``loadRes(results)``, ``COCOeval(...).evaluate()``;
- LabelFix: ``import_project`` (labels + predictions -> project) and ``analyze`` (matching,
  calibration, suspect rules, everything written to the project); for masks ``again`` is a
  second analysis, reusing the masks the first cached.

Two tables, ratios against faster-coco-eval from the same run:

1. from files to suspects: COCO()+loadRes+evaluate against import+analyze;
2. the analysis alone: evaluate() against analyze.

Targets (issue 16): both at most 0.5x faster-coco-eval, boxes and masks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402

TOOLS = ("pycocotools", "faster-coco-eval", "labelfix")
BASELINE = "labelfix (baseline)"


def peak_mb() -> float:
    """This process's peak RSS in MiB (VmHWM: not inherited across fork+exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one_area_range(params: object) -> None:
    """COCOeval parameters for the work LabelFix does: IoU 0.5, one area range, 100 per image."""
    import numpy as np

    params.iouThrs = np.array([0.5])
    params.areaRng = [[0, 1e10]]
    params.areaRngLbl = ["all"]
    params.maxDets = [100]


def _cocoeval(module: str, gt: str, pred: str, iou_type: str) -> dict:
    import contextlib
    import io

    if module == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    else:
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        coco = COCO(gt)
        t1 = time.perf_counter()
        dt = coco.loadRes(pred)
        t2 = time.perf_counter()
        ev = COCOeval(coco, dt, iou_type)
        one_area_range(ev.params)
        ev.evaluate()
        t3 = time.perf_counter()
    return {"coco": t1 - t0, "loadres": t2 - t1, "evaluate": t3 - t2}


def _labelfix(gt: str, pred: str, geometry: str, project: str) -> dict:
    import gc

    from labelfix.core.errors import AnalysisParams
    from labelfix.core.project import analyze_project, import_project, open_project

    path = Path(project)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    params = AnalysisParams(geometry=geometry)
    t0 = time.perf_counter()
    import_project(path, Path(gt), None, Path(pred), "model")
    t1 = time.perf_counter()
    gc.collect()
    t2 = time.perf_counter()
    summary = analyze_project(path, params)
    t3 = time.perf_counter()
    out = {"import": t1 - t0, "analyze": t3 - t2, "suspects": sum(summary.suspects.values())}
    if geometry == "masks":
        with open_project(path) as store:
            t0 = time.perf_counter()
            analyze_project(store, params)
            out["again"] = time.perf_counter() - t0
    return out


def _step(name: str, gt: str, pred: str, geometry: str, project: str) -> dict:
    # libraries are imported before the clocks start: the steps time work, not start-up
    import faster_coco_eval  # noqa: F401
    import pycocotools.cocoeval  # noqa: F401

    import labelfix.core.project  # noqa: F401

    if name == "labelfix":
        out = _labelfix(gt, pred, geometry, project)
    else:
        out = _cocoeval(name, gt, pred, "segm" if geometry == "masks" else "bbox")
    out["rss_mb"] = peak_mb()
    return out


def measure(
    name: str, gt: Path, pred: Path, geometry: str, project: Path, baseline: str | None = None
) -> dict:
    """Run one tool in a subprocess; its parts' times and peak RSS. "labelfix (baseline)" is
    LabelFix run by the ``baseline`` interpreter (a venv of another checkout)."""
    python = sys.executable
    if name == BASELINE:
        name, python = "labelfix", baseline or sys.executable
    proc = subprocess.run(
        [python, __file__, "--step", name, str(gt), str(pred), geometry, str(project)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best(runs: list[dict]) -> dict:
    """The best time of each part over the runs (peak RSS: the largest)."""
    out = dict(runs[0])
    for r in runs[1:]:
        for k, v in r.items():
            if k == "rss_mb":
                out[k] = max(out[k], v)
            elif isinstance(v, float):
                out[k] = min(out[k], v)
    return out


def load_average() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} CPUs"


def tables(results: dict[tuple[str, int], dict[str, dict]]) -> str:
    """The two markdown tables of the module docstring."""
    files = [
        "| geometry | preds/image | tool | parts s | files -> suspects s | x faster-coco-eval | peak RSS MB |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    alone = [
        "| geometry | preds/image | tool | evaluate / analyze s | x faster-coco-eval | peak RSS MB |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for (geometry, per_image), res in results.items():
        fce = res.get("faster-coco-eval")
        for name, r in res.items():
            if name.startswith("labelfix"):
                total, work = r["import"] + r["analyze"], r["analyze"]
                parts = f"import {r['import']:.2f} + analyze {r['analyze']:.2f}"
                shown = f"{work:.2f}" + (f" (again {r['again']:.2f})" if "again" in r else "")
            else:
                total, work = r["coco"] + r["loadres"] + r["evaluate"], r["evaluate"]
                parts = f"COCO {r['coco']:.2f} + loadRes {r['loadres']:.2f} + evaluate {work:.2f}"
                shown = f"{work:.2f}"
            if fce is not None:
                fce_total = fce["coco"] + fce["loadres"] + fce["evaluate"]
                x_total, x_work = f"{total / fce_total:.2f}", f"{work / fce['evaluate']:.2f}"
            else:
                x_total = x_work = "-"
            files.append(
                f"| {geometry} | {per_image} | {name} | {parts} | {total:.2f} | {x_total} | "
                f"{r['rss_mb']:.0f} |"
            )
            alone.append(
                f"| {geometry} | {per_image} | {name} | {shown} | {x_work} | {r['rss_mb']:.0f} |"
            )
    return (
        "From files to suspects (COCO()+loadRes+evaluate; LabelFix: import + analyze)\n\n"
        + "\n".join(files)
        + "\n\nThe analysis alone (evaluate(); LabelFix: analyze, written to the project)\n\n"
        + "\n".join(alone)
    )


def main() -> int:
    """Measure and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--per-image", type=int, nargs="+", default=[20, 100])
    ap.add_argument("--geometry", nargs="+", default=["boxes", "masks"], choices=("boxes", "masks"))
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--repeat", type=int, default=2, help="interleaved runs; the best is kept")
    ap.add_argument(
        "--baseline",
        metavar="PYTHON",
        help="also run LabelFix with this interpreter (a venv of another checkout)",
    )
    ap.add_argument("--step", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(_step(*args.step)))
        return 0
    print(f"load average before: {load_average()}", flush=True)
    results: dict[tuple[str, int], dict[str, dict]] = {}
    for geometry in args.geometry:
        for per_image in args.per_image:
            gt, pred = generate.ensure(args.images, per_image, segm=geometry == "masks")
            tools = [*args.tools, *([BASELINE] if args.baseline else [])]
            runs: dict[str, list[dict]] = {n: [] for n in tools}
            with tempfile.TemporaryDirectory() as tmp:
                for _ in range(args.repeat):
                    for name in tools:
                        r = measure(
                            name, gt, pred, geometry, Path(tmp) / "b.labelfix", args.baseline
                        )
                        runs[name].append(r)
                        print(f"  {geometry} {per_image} {name}: {r}", flush=True)
            results[(geometry, per_image)] = {n: best(rs) for n, rs in runs.items()}
    print(f"load average after: {load_average()}\n")
    text = tables(results)
    print(text)
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "analysis.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
