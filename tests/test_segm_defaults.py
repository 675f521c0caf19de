"""A segmentation project compares masks by default: labels with polygons and a results file
with masks, imported and analysed in one step (the app's *New project*), are matched by mask
IoU as ``predict --analyze`` matches them, not by their boxes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from predict_project_data import write_dataset
from pycocotools import mask as mask_utils

from labelfix.core import cli, project
from labelfix.core.store import Store


def _results(labels: Path, out: Path, *, masks: bool) -> Path:
    """One confident prediction per label: its mask (RLE) or only its box."""
    data = json.loads(labels.read_text())
    sizes = {im["id"]: (im["height"], im["width"]) for im in data["images"]}
    records = []
    for ann in data["annotations"]:
        rec = {"image_id": ann["image_id"], "category_id": ann["category_id"], "score": 0.9}
        if masks:
            h, w = sizes[ann["image_id"]]
            rle = mask_utils.merge(mask_utils.frPyObjects(ann["segmentation"], h, w))
            rec["segmentation"] = {"size": [h, w], "counts": rle["counts"].decode()}
        else:
            rec["bbox"] = ann["bbox"]
        records.append(rec)
    out.write_text(json.dumps(records))
    return out


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize(("masks", "geometry"), [(True, "masks"), (False, "boxes")])
def test_new_project_compares_masks_when_both_sides_have_shapes(
    tmp_path: Path, masks: bool, geometry: str
) -> None:
    labels, images = write_dataset(tmp_path, count=4)
    results = _results(labels, tmp_path / "results.json", masks=masks)
    out = project.import_and_analyze(labels, images, results, tmp_path / "x.labelfix")
    with Store.open(out) as store:
        assert store.current_analysis()["params"].geometry == geometry
        # and an analysis asked for without thresholds (the app's *Analyse* on a project
        # never analysed) chooses the same
        project.analyze_project(store)
        assert store.current_analysis()["params"].geometry == geometry


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize(("masks", "geometry"), [(True, "masks"), (False, "boxes")])
def test_labelfix_analyze_compares_masks_by_default_when_both_sides_have_shapes(
    tmp_path: Path, masks: bool, geometry: str
) -> None:
    """``labelfix analyze X`` without ``--geometry`` chooses as the app does; a plain analyze
    after ``predict --analyze`` no longer falls back to boxes."""
    labels, images = write_dataset(tmp_path, count=4)
    results = _results(labels, tmp_path / "results.json", masks=masks)
    out = tmp_path / "x.labelfix"
    project.import_project(out, labels, images, results, "model")
    assert cli.run(["analyze", str(out), "-q"]) == 0
    with Store.open(out) as store:
        assert store.current_analysis()["params"].geometry == geometry
    assert cli.run(["analyze", str(out), "-q", "--geometry", "boxes"]) == 0
    with Store.open(out) as store:
        assert store.current_analysis()["params"].geometry == "boxes"
