"""Foundation benchmark: parse+validate, import, reopen and export of a COCO-val-scale project,
beside pycocotools' ``COCO()`` + ``loadRes`` (and faster-coco-eval's) on the same files in the
same run. Every step runs in a fresh subprocess so its peak RSS is its own.

    python bench/bench_foundation.py [--images 5000] [--per-image 20 100]
                                     [--geometry boxes masks polygons] [--repeat 2]

``boxes`` reads a bbox results file, ``masks`` a segm results file (compressed RLE, the boxes
derived from the masks as ``loadRes`` does), ``polygons`` a segm results file of polygons (which
``loadRes`` cannot read: its rows read the RLE file of the same boxes); the labels are polygons
with 1% crowd RLE. The steps run interleaved ``--repeat`` times and the best time of each is
kept (a shared machine); the CPU seconds (user + system, the best of the runs too) are printed
beside the wall time: on a machine shared with other work they say what a step costs when the
wall time mostly says how long it waited for a core. The import reads a results file of RLE
masks in a forked child (core/import_parallel.py): CPU seconds count it too; the peak RSS is the
step's own process's, and beside it the peak of the summed PSS of the step's processes (a forked
child shares its parent's pages, which both RSS would count twice), sampled every 10 ms in one
more run of each step whose times are not used (reading a large process's PSS slows it).

Targets (issue 16): import (labels + predictions -> project) <= 0.6x pycocotools'
COCO()+loadRes at 100k and 500k predictions, boxes and masks; (issue "Foundation") reopen
<= 0.5 s, export <= 3 s, peak RSS below pycocotools'.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402


def _step(name: str, gt: str, pred: str, project: str) -> dict:
    """Run one measured step in this process; returns seconds and peak RSS (MB)."""
    import contextlib
    import io

    # libraries are imported before the clock starts: the steps time work, not interpreter start-up
    import faster_coco_eval  # noqa: F401
    import pycocotools.coco  # noqa: F401

    import labelfix.core.cli  # noqa: F401
    import labelfix.core.export  # noqa: F401

    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    if name == "pycocotools COCO()+loadRes":
        from pycocotools.coco import COCO

        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(gt)
            coco.loadRes(pred)
    elif name == "faster-coco-eval COCO()+loadRes":
        from faster_coco_eval import COCO as FCOCO

        with contextlib.redirect_stdout(io.StringIO()):
            coco = FCOCO(gt)
            coco.loadRes(pred)
    elif name == "labelfix parse+validate":
        from labelfix.core.coco import read_ground_truth, read_predictions

        g = read_ground_truth(gt)
        read_predictions(
            pred,
            {i["id"]: (i["height"], i["width"]) for i in g.images},
            {c["id"] for c in g.categories},
        )
    elif name == "labelfix import":
        from labelfix.core.project import import_project

        import_project(Path(project), Path(gt), None, Path(pred), "model")
    elif name == "labelfix reopen":
        from labelfix.core.store import Store

        with Store.open(project) as store:
            store.counts()
            store.images()
            store.categories()
    elif name == "labelfix export":
        from labelfix.core.export import export_coco
        from labelfix.core.store import Store

        with Store.open(project) as store:
            export_coco(store, Path(project).with_suffix(".export.json"))
    else:
        raise SystemExit(f"unknown step {name}")
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "cpu": _cpu_seconds() - cpu0,
        "rss_mb": _peak_mb(),
    }


def _cpu_seconds() -> float:
    """User + system CPU time of this process: what a step costs whatever else the machine
    runs (the wall time of a shared machine's step includes waiting for a core)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the import's forked reader
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def _peak_mb() -> float:
    """Peak RSS of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tree(pid: int) -> list[int]:
    """A process and its descendants (Linux /proc)."""
    found = [pid]
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found += _tree(int(child))
    return found


def _pss_kb(pid: int) -> int:
    """A process's proportional set size (its pages, shared ones split between their users)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


BASELINE = " (baseline)"


def measure(
    name: str,
    gt: Path,
    pred: Path,
    project: Path,
    baseline: str | None = None,
    sample: bool = False,
) -> dict:
    """Run a step in a subprocess and return its measurement (with ``sample``, also the peak
    of its processes' summed PSS, ``pss_mb``); a step named "... (baseline)" runs the same
    step with the ``baseline`` interpreter (another LabelFix checkout)."""
    python = sys.executable
    if name.endswith(BASELINE):
        name, python = name[: -len(BASELINE)], baseline or sys.executable
    proc = subprocess.Popen(
        [python, __file__, "--step", name, str(gt), str(pred), str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    while sample and proc.poll() is None:  # the step's processes' summed PSS, every 10 ms
        peak = max(peak, sum(_pss_kb(pid) for pid in _tree(proc.pid)))
        time.sleep(0.01)
    out, err = proc.communicate()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, out, err)
    return {**json.loads(out.strip().splitlines()[-1]), "pss_mb": peak / 1024}


STEPS = (
    "pycocotools COCO()+loadRes",
    "faster-coco-eval COCO()+loadRes",
    "labelfix parse+validate",
    "labelfix import",
    "labelfix reopen",
    "labelfix export",
)


def main() -> int:
    """Generate the data if needed, measure every step, print the table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--per-image", type=int, nargs="+", default=[20, 100])
    ap.add_argument(
        "--step", nargs=4, metavar=("NAME", "GT", "PRED", "PROJECT"), help=argparse.SUPPRESS
    )
    ap.add_argument(
        "--geometry", nargs="+", default=["boxes", "masks"], choices=("boxes", "masks", "polygons")
    )
    ap.add_argument("--repeat", type=int, default=2, help="interleaved runs; the best is kept")
    ap.add_argument(
        "--baseline",
        metavar="PYTHON",
        help="also run the LabelFix steps with this interpreter (a venv of another checkout)",
    )
    args = ap.parse_args()
    if args.step:
        print(json.dumps(_step(*args.step)))
        return 0
    print(f"load average before: {load_average()}", flush=True)
    lines = []
    for geometry in args.geometry:
        for per_image in args.per_image:
            table = measure_table(args.images, per_image, geometry, args.repeat, args.baseline)
            lines += table
            print("\n".join(table), flush=True)
    print(f"load average after: {load_average()}")
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "foundation.md").write_text(text + "\n")
    return 0


def load_average() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} CPUs"


def measure_table(
    n_images: int, per_image: int, geometry: str, repeat: int, baseline: str | None
) -> list[str]:
    """One table: every step on one pair of files, the best of ``repeat`` interleaved runs."""
    steps = list(STEPS)
    if baseline:
        # before this checkout's own import, whose project reopen and export then use
        steps[2:2] = [s + BASELINE for s in ("labelfix parse+validate", "labelfix import")]
    segm = geometry == "masks"
    gt, pred = generate.ensure(n_images, per_image, segm=segm, polygons=geometry == "polygons")
    # loadRes cannot read polygon results (its area() takes RLEs only): for polygons the
    # references load the RLE file of the same images, boxes and scores
    reference = generate.ensure(n_images, per_image, segm=True)[1] if not segm else pred
    if geometry == "boxes":
        reference = pred
    n_labels = len(json.loads(gt.read_text())["annotations"])
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bench.labelfix"
        for _ in range(repeat):
            for name in steps:
                given = reference if name.endswith("COCO()+loadRes") else pred
                r = measure(name, gt, given, project, baseline)
                if name not in results or r["seconds"] < results[name]["seconds"]:
                    results[name] = {
                        **r,
                        "rss_mb": max(r["rss_mb"], results.get(name, r)["rss_mb"]),
                        "cpu": min(r["cpu"], results.get(name, r)["cpu"]),
                    }
                else:
                    results[name]["rss_mb"] = max(r["rss_mb"], results[name]["rss_mb"])
                    results[name]["cpu"] = min(r["cpu"], results[name]["cpu"])
        for name in steps:  # memory alone: sampling it slows the step
            given = reference if name.endswith("COCO()+loadRes") else pred
            results[name]["pss_mb"] = measure(name, gt, given, project, baseline, True)["pss_mb"]
    base = results["pycocotools COCO()+loadRes"]
    lines = [
        f"\n{n_images} images, {n_labels} labels, {per_image} "
        f"{'bbox' if geometry == 'boxes' else geometry} predictions/image "
        f"({n_images * per_image} predictions)"
        + (f"; the loadRes rows read {reference.name}" if reference != pred else "")
        + "\n"
    ]
    lines.append(
        "| step | seconds | x pycocotools | CPU s | x pycocotools | peak RSS MB | x pycocotools "
        "| peak PSS MB, all processes | x pycocotools |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['seconds']:.2f} | {r['seconds'] / base['seconds']:.2f} | "
            f"{r['cpu']:.2f} | {r['cpu'] / base['cpu']:.2f} | "
            f"{r['rss_mb']:.0f} | {r['rss_mb'] / base['rss_mb']:.2f} | "
            f"{r['pss_mb']:.0f} | {r['pss_mb'] / max(base['pss_mb'], 1e-9):.2f} |"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
