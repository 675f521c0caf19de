"""The analysis in passes (projects too large for memory) finds exactly what the one-step
analysis finds: the same suspects with the same scores, the same matches and the same fit, with
the prediction set whole or stored in parts, boxes or masks, calibrated or not."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from labelfix.core import analyze as analyze_module
from labelfix.core import analyze_passes, calibration, coco_stream
from labelfix.core.analyze import analyze
from labelfix.core.errors import AnalysisParams
from labelfix.core.project import import_project
from labelfix.core.store import Store, prediction_parts

from helpers import ROOT, real81_project, sql, write_json


def _result(store: Store, analysis_id: int) -> tuple:
    rows = sql(
        store,
        "SELECT key, kind, score, image_id, annotation_id, other_annotation_id, prediction_id, "
        "category_id, predicted_category_id, iou, confidence FROM suspects "
        "WHERE analysis_id = ? ORDER BY id",
        [analysis_id],
    ).fetchall()
    matches = store.match_arrays(analysis_id)
    grouped = sql(
        store,
        "SELECT key, probability, group_id, group_rank FROM suspects WHERE analysis_id = ? "
        "ORDER BY id",
        [analysis_id],
    ).fetchall()
    # the groups as a partition of the keys (their numbers differ: the whole analysis numbers
    # them by score, the passes chunk by chunk), with each row's rank and probability
    members: dict[int, list[str]] = {}
    for key, _p, group, _r in grouped:
        members.setdefault(group, []).append(key)
    partition = sorted(tuple(m) for m in members.values())
    ranked = [(key, p, rank) for key, p, _g, rank in grouped]
    return (
        rows,
        {k: v.tobytes() for k, v in matches.items()},
        store.detector_fit(analysis_id),
        (partition, ranked),
        store.analysis_report(analysis_id),
    )


def _both(project: Path, params: AnalysisParams, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(project) as store:
        if analyze_passes.in_passes(store, store.active_set_id()):
            monkeypatch.setattr(analyze_passes, "in_passes", lambda *a: False)
        one = analyze(store, params=params)
        whole = _result(store, one.analysis_id)
        monkeypatch.setattr(analyze_passes, "in_passes", lambda *a: True)
        two = analyze(store, params=params)
        passes = _result(store, two.analysis_id)
    assert (one.images, one.predictions, one.suspects) == (
        two.images,
        two.predictions,
        two.suspects,
    )
    assert len(whole[0]) > 50
    assert passes[0] == whole[0]
    assert passes[1] == whole[1]
    assert passes[2] == whole[2]
    assert passes[3] == whole[3]  # groups, ranks, probabilities
    assert passes[4] == whole[4]  # the report: metrics, confusions, reliability, review cut
    assert len(whole[3][0]) < len(whole[0])  # some objects have several suspects


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch):
    """Chunks of 5 images, groups of 10, parts of a multiple of 5 images and ~40 predictions,
    the calibration fit's sums over slices of 128 predictions."""
    monkeypatch.setattr(calibration, "FIT_SLICE", 128)
    monkeypatch.setattr(analyze_module.chunks, "__defaults__", (5,))
    monkeypatch.setattr(analyze_passes, "GROUP_IMAGES", 10)
    monkeypatch.setattr(prediction_parts, "PART_IMAGES", 5)
    monkeypatch.setattr(prediction_parts, "PART_PREDICTIONS", 400)


@pytest.mark.parametrize("calibrate", [True, False])
def test_real_data_in_passes(tmp_path: Path, monkeypatch, small_steps, calibrate: bool) -> None:
    monkeypatch.setattr(coco_stream, "STREAM_BYTES", 0)  # predictions stored in parts
    project = real81_project(tmp_path / "p.labelfix")
    with Store.open(project) as store:
        assert len(store.prediction_parts(store.active_set_id())) > 1
    _both(project, AnalysisParams(calibrate=calibrate), monkeypatch)


def test_whole_set_in_passes(tmp_path: Path, monkeypatch) -> None:
    project = real81_project(tmp_path / "p.labelfix")
    _both(project, AnalysisParams(), monkeypatch)


def _generate():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_masks_in_passes(tmp_path: Path, monkeypatch, small_steps) -> None:
    generate = _generate()
    gt = generate.make_ground_truth(40, seed=3)
    preds = generate.make_predictions(gt, 12, seed=4, segm=True)
    monkeypatch.setattr(coco_stream, "STREAM_BYTES", 0)
    project = tmp_path / "m.labelfix"
    import_project(
        project, write_json(tmp_path / "gt.json", gt), None, write_json(tmp_path / "p.json", preds)
    )
    _both(project, AnalysisParams(geometry="masks"), monkeypatch)


def test_groups_follow_the_parts_and_the_chunks(tmp_path: Path, monkeypatch, small_steps) -> None:
    data = json.loads((ROOT / "tests" / "data" / "bad" / "good_gt.json").read_text())
    project = tmp_path / "g.labelfix"
    import_project(project, write_json(tmp_path / "gt.json", data), None)
    with Store.open(project) as store:
        ids = np.asarray(store.image_ids())
        groups = analyze_passes._groups(store, 1) if store.prediction_sets() else None
    assert groups is None or all(len(g[2]) % 5 == 0 or g is groups[-1] for g in groups)
    assert len(ids) >= 1
