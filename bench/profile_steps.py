"""Where the time of an import and of an analysis goes: a table of phases (core/timing.py).

    python bench/profile_steps.py [--images 5000] [--per-image 100] [--geometry boxes]
                                  [--images-dir DIR] [--repeat 1]

Imports the generated files (``bench/generate.py``) into a project and analyses it, in this
process, with the phases recorded: for the import JSON parsing, validation, image checks (with
``--images-dir``), building rows / columns and SQLite writes; for the analysis the read step,
preparing chunks, matching, the calibration fit, the suspect rules and the write step. The rest
of each step's wall time is "other".
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labelfix.core import timing  # noqa: E402
from labelfix.core.errors import AnalysisParams  # noqa: E402
from labelfix.core.project import analyze_project, import_project  # noqa: E402

import generate  # noqa: E402


def profile_once(gt: Path, pred: Path, images_dir: Path | None, geometry: str) -> dict:
    """One import and one analysis; phase -> seconds for each, with the wall time."""
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "p.labelfix"
        with timing.recording() as phases:
            t0 = time.perf_counter()
            import_project(project, gt, images_dir, pred, "model")
            wall = time.perf_counter() - t0
        out["import"] = {**phases, "wall": wall}
        gc.collect()
        with timing.recording() as phases:
            t0 = time.perf_counter()
            analyze_project(project, AnalysisParams(geometry=geometry))
            wall = time.perf_counter() - t0
        out["analyze"] = {**phases, "wall": wall}
    return out


def table(step: str, runs: list[dict[str, float]]) -> str:
    """A markdown table of one step's phases (the best of the runs for each)."""
    names = [n for n in runs[0] if n != "wall"]
    for r in runs[1:]:
        names += [n for n in r if n != "wall" and n not in names]
    best = {n: min(r.get(n, 0.0) for r in runs) for n in [*names, "wall"]}
    wall = min(r["wall"] for r in runs)
    other = max(0.0, wall - sum(best[n] for n in names))
    lines = [f"| {step} phase | seconds | share |", "|---|---:|---:|"]
    for n in sorted(names, key=lambda n: -best[n]):
        lines.append(f"| {n} | {best[n]:.3f} | {best[n] / wall:.0%} |")
    lines.append(f"| other | {other:.3f} | {other / wall:.0%} |")
    lines.append(f"| **wall** | **{wall:.3f}** | |")
    return "\n".join(lines)


def main() -> int:
    """Profile and print the two tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--per-image", type=int, default=100)
    ap.add_argument("--geometry", default="boxes", choices=("boxes", "masks"))
    ap.add_argument("--images-dir", type=Path)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    gt, pred = generate.ensure(args.images, args.per_image, segm=args.geometry == "masks")
    runs = [profile_once(gt, pred, args.images_dir, args.geometry) for _ in range(args.repeat)]
    one, five, _ = os.getloadavg()
    print(
        f"{args.images} images, {args.per_image} {args.geometry} predictions/image "
        f"(load {one:.1f} {five:.1f} on {os.cpu_count()} CPUs)\n"
    )
    for step in ("import", "analyze"):
        print(table(step, [r[step] for r in runs]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
