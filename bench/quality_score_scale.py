"""What core.score_scale's diagnostic says on each quality-benchmark setup: are the prediction
set's raw scores comparable across classes (one pooled calibration curve predicts held-out
matches at least as well as the per-class curves)?

Per setup (``bench/quality_data.py``, variants as ``BASE-VARIANT``): the held-out log losses
(pooled / per class, nats per prediction) and the verdict on the clean labels, and the verdict
on each injected seed. Run: ``python bench/quality_score_scale.py [--setups a,b] [--seeds 5-9]``
(about 5 s per analysis).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality_data import SETUPS, labelled_store, setup_named  # noqa: E402
from quality_inject import inject  # noqa: E402

from labelfix.core.analyze import analyze  # noqa: E402
from labelfix.core.errors import AnalysisParams  # noqa: E402


def diagnose(data: dict, pred_records: list[dict]) -> dict | None:
    """The stored score-scale diagnostic of one analysis of these labels and predictions."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store, preds = labelled_store(data, pred_records, work, "x.labelfix")
        try:
            set_id = store.add_predictions(preds, "detector")
            analyze(store, set_id, AnalysisParams())
            fit = store.detector_fit(store.current_analysis([set_id])["id"], set_id)
        finally:
            store.close()
    return (fit or {}).get("score_scale")


def _cell(scale: dict | None) -> str:
    if scale is None:
        return "-"
    ratio = scale["pooled_loss"] / scale["class_loss"]
    return f"{ratio:.3f} {'yes' if scale['comparable'] else 'no'}"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (markdown)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--setups", default=",".join(SETUPS), help="comma-separated setups")
    ap.add_argument("--seeds", default="5-9", help="injected seeds, e.g. 5-9 ('' for none)")
    args = ap.parse_args(argv)
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1)) if lo else []
    columns = ["setup", "pooled log loss", "per class", "comparable (clean)"]
    print("| " + " | ".join(columns + [f"seed {s}" for s in seeds]) + " |")
    print("|---" * (4 + len(seeds)) + "|")
    for name in [n for n in args.setups.split(",") if n]:
        setup = setup_named(name)
        if not setup.available():
            print(f"| {name} | (input data not present) |")
            continue
        data, preds = setup.load()
        clean = diagnose(data, preds)
        cells = [_cell(diagnose(inject(data, s).data, preds)) for s in seeds]
        head = (
            ["-", "-", "-"]
            if clean is None
            else [
                f"{clean['pooled_loss']:.4f}",
                f"{clean['class_loss']:.4f}",
                _cell(clean),
            ]
        )
        print(f"| {name} | " + " | ".join(head + cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
