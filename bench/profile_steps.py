"""Where the time of an import and of an analysis goes: a table of phases (core/timing.py).

    python bench/profile_steps.py [--images 5000] [--per-image 100] [--geometry boxes]
                                  [--images-dir DIR] [--repeat 1]

Imports the generated files (``bench/generate.py``) into a project and analyses it, in this
process, with the phases recorded: for the import JSON parsing, validation, image checks (with
``--images-dir``), building rows / columns and SQLite writes; for the analysis the read step,
preparing chunks, matching, the calibration fit, the suspect rules and the write step. The rest
of each step's wall time is "other".

``--baseline PYTHON`` profiles another checkout (its venv's interpreter) in the same run: a
checkout without ``core/timing.py`` gets the same phases by wrapping the functions that do
each step's work (JSON parsing, the readers, the store's writes; reading, matching, fitting,
the rules, the writer), and the two tables are printed side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labelfix.core.errors import AnalysisParams  # noqa: E402
from labelfix.core.project import analyze_project, import_project  # noqa: E402

try:
    from labelfix.core import timing
except ImportError:  # an older checkout: the phases come from wrapped functions
    timing = None

_totals: dict[str, float] | None = None
_stack: list[list] = []


@contextlib.contextmanager
def _phase(name: str):
    """core/timing.py's phase, for a checkout without it."""
    if _totals is None:
        yield
        return
    entry = [name, time.perf_counter(), 0.0]
    _stack.append(entry)
    try:
        yield
    finally:
        _stack.pop()
        spent = time.perf_counter() - entry[1]
        _totals[name] = _totals.get(name, 0.0) + spent - entry[2]
        if _stack:
            _stack[-1][2] += spent


@contextlib.contextmanager
def _recording():
    global _totals
    _totals = {}
    try:
        yield _totals
    finally:
        _totals = None


def _wrap(owner: object, name: str, phase: str) -> None:
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with _phase(phase):
            return fn(*args, **kwargs)

    setattr(owner, name, wrapped)


def _wrap_old_checkout() -> None:
    """The phases of core/timing.py, by function, in a checkout that has no phases."""
    from labelfix.core import analyze, coco, project, scoring
    from labelfix.core.store import analyses, dataset, predictions

    _wrap(coco, "_load_json", "parse JSON")
    _wrap(project, "read_ground_truth", "validate")
    _wrap(project, "read_predictions", "validate")
    _wrap(coco, "check_images", "image checks")
    _wrap(dataset.DatasetRepository, "import_ground_truth", "write SQLite (rows built inside)")
    _wrap(predictions.PredictionRepository, "add_predictions", "write SQLite (rows built inside)")
    _wrap(analyze, "read_inputs", "read")
    _wrap(analyze, "match_many", "matching")
    _wrap(scoring, "fit_detector", "calibration fit")
    if hasattr(scoring, "error_credit"):  # checkouts from before the single fit
        _wrap(scoring, "error_credit", "calibration fit")
    for name in ("calibrated_items", "chunk_habits", "restore_confidence", "score"):
        _wrap(scoring, name, "suspect rules")
    _wrap(analyze, "batch_suspects", "suspect rules")
    _wrap(analyses.AnalysisWriter, "add", "write")
    _wrap(analyses.AnalysisWriter, "finish", "write")


def _recorder():
    return timing.recording() if timing is not None else _recording()


import generate  # noqa: E402


def profile_once(gt: Path, pred: Path, images_dir: Path | None, geometry: str) -> dict:
    """One import and one analysis; phase -> seconds for each, with the wall time."""
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "p.labelfix"
        with _recorder() as phases:
            t0 = time.perf_counter()
            import_project(project, gt, images_dir, pred, "model")
            wall = time.perf_counter() - t0
        out["import"] = {**phases, "wall": wall}
        gc.collect()
        with _recorder() as phases:
            t0 = time.perf_counter()
            analyze_project(project, AnalysisParams(geometry=geometry))
            wall = time.perf_counter() - t0
        out["analyze"] = {**phases, "wall": wall}
    return out


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    names = [n for r in runs for n in r if n != "wall"]
    best = {n: min(r.get(n, 0.0) for r in runs) for n in dict.fromkeys(names)}
    wall = min(r["wall"] for r in runs)
    best["other"] = max(0.0, wall - sum(best.values()))
    best["wall"] = wall
    return best


def table(step: str, columns: dict[str, list[dict[str, float]]]) -> str:
    """A markdown table of one step's phases, a seconds and a share column per checkout (the
    best of its runs for each phase)."""
    best = {name: _best(runs) for name, runs in columns.items()}
    names: list[str] = []
    for b in best.values():
        names += [n for n in sorted(b, key=lambda n: -b[n]) if n not in names]
    names = [n for n in names if n not in ("other", "wall")] + ["other", "wall"]
    head = " | ".join(f"{c} s | {c} share" for c in columns)
    lines = [f"| {step} phase | {head} |", "|---" + "|---:|---:" * len(columns) + "|"]
    for n in names:
        cells = []
        for b in best.values():
            v = b.get(n)
            share = "" if v is None or n == "wall" else f"{v / b['wall']:.0%}"
            cells.append("-" if v is None else f"{v:.3f}")
            cells.append(share)
        label = f"**{n}**" if n == "wall" else n
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    """Profile and print the two tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--per-image", type=int, default=100)
    ap.add_argument("--geometry", default="boxes", choices=("boxes", "masks", "polygons"))
    ap.add_argument("--images-dir", type=Path)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--baseline", metavar="PYTHON", help="also profile this checkout's LabelFix")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    geometry = args.geometry
    gt, pred = generate.ensure(
        args.images, args.per_image, segm=geometry == "masks", polygons=geometry == "polygons"
    )
    if args.child:  # one run in this interpreter, as JSON
        if timing is None:
            _wrap_old_checkout()
        analysed = "masks" if geometry == "polygons" else geometry  # polygons are masks
        print(json.dumps(profile_once(gt, pred, args.images_dir, analysed)))
        return 0
    one, five, _ = os.getloadavg()
    columns: dict[str, list[dict]] = {"baseline": [], "this checkout": []}
    pythons = {"baseline": args.baseline, "this checkout": sys.executable}
    if not args.baseline:
        del columns["baseline"]
    for _ in range(args.repeat):  # interleaved: the machine is shared
        for name in columns:
            cmd = [pythons[name], __file__, "--child", "--images", str(args.images)]
            cmd += ["--per-image", str(args.per_image), "--geometry", args.geometry]
            if args.images_dir:
                cmd += ["--images-dir", str(args.images_dir)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            columns[name].append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"{args.images} images, {args.per_image} {args.geometry} predictions/image "
        f"(load {one:.1f} {five:.1f} on {os.cpu_count()} CPUs; best of {args.repeat})\n"
    )
    for step in ("import", "analyze"):
        print(table(step, {n: [r[step] for r in runs] for n, runs in columns.items()}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
