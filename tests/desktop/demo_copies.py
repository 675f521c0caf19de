"""The demo project as the desktop tests use it: a private copy whose image paths stay valid,
and the demo with a second prediction set analysed with both sets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from labelfix.core import project
from labelfix.core.store import Store
from labelfix.desktop import jobs
from labelfix.desktop.demo import demo_source


def private_copy(built: Path, out: Path) -> Path:
    """Copy a built demo project to ``out``, its image folder stored absolute (so the copy's
    image paths stay valid wherever it lies)."""
    shutil.copy(built, out)
    with Store.open(out) as store, store.atomic():
        store.set_meta("images_root", str(demo_source() / "images"))
    return out


def with_shifted_set(built_demo: Path, folder: Path, name: str, *, square_scores: bool) -> Path:
    """The demo project in ``folder`` with a second prediction set ``name``: the demo detector's
    boxes shifted by 5% of their width (scores squared when asked: another detector's habits),
    analysed with both sets."""
    preds = json.loads((demo_source() / "predictions.json").read_text())
    for p in preds:
        x, y, w, h = p["bbox"]
        p["bbox"] = [x + 0.05 * w, y, w, h]
        if square_scores:
            p["score"] = p["score"] ** 2
    other = folder / "shifted.json"
    other.write_text(json.dumps(preds))
    out = folder / "built.labelfix"
    shutil.copy(built_demo, out)
    with project.open_project(out) as store:
        project.add_predictions(store, other, name, activate=False)
        set_ids = [s["id"] for s in store.prediction_sets()]
    jobs.analyze_project(out, None, set_ids)
    return out
