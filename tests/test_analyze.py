"""Whole-project analysis: atomic replacement, cancel, incremental re-analysis, decisions kept
(on a project file and on a team project)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from labelfix.core import analyze as az
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.errors import AnalysisParams
from labelfix.core.review import decide
from labelfix.core.store import Store
from labelfix.core.suspects import DEFAULT_REVIEW_FILTER, SuspectFilter, SuspectIndex

from backends import drop, location, where
from helpers import sql, tiny_dataset, tiny_predictions, write_json


@pytest.fixture
def store(tmp_path: Path, backend: str) -> Store:
    gt = read_ground_truth(write_json(tmp_path / "gt.json", tiny_dataset()))
    at = location(backend, tmp_path)
    s = Store.create(at)
    s.import_ground_truth(gt, None)
    pf = read_predictions(
        write_json(tmp_path / "pr.json", tiny_predictions()),
        s.image_sizes(),
        set(s.category_names()),
    )
    s.add_predictions(pf, "model")
    yield s
    s.close()
    drop(at)


def _kinds(store: Store) -> dict[str, dict]:
    idx = SuspectIndex.load(store)
    return {idx.row(int(r))["key"]: idx.row(int(r)) for r in idx.query(SuspectFilter())}


def test_analysis_finds_the_tiny_errors(store: Store) -> None:
    summary = az.analyze(store)
    assert summary.suspects["missing_label"] == 1 and summary.suspects["wrong_class"] == 1
    found = _kinds(store)
    assert "missing_label::2" in found and "wrong_class:11:3" in found
    m = az.matches(store)
    assert m["outcome"].tolist() == [1, 0, 0, 2]


def test_cancel_leaves_previous_analysis(store: Store) -> None:
    first = az.analyze(store)
    with pytest.raises(az.Cancelled):
        az.analyze(store, params=AnalysisParams(iou_threshold=0.9), should_stop=lambda: True)
    assert store.current_analysis()["id"] == first.analysis_id
    assert store.current_analysis()["params"].iou_threshold == 0.5


def test_new_analysis_replaces_old_atomically(store: Store) -> None:
    first = az.analyze(store)
    second = az.analyze(store, params=AnalysisParams(iou_threshold=0.7))
    assert second.analysis_id != first.analysis_id
    rows = sql(store, "SELECT DISTINCT analysis_id FROM suspects").fetchall()
    assert rows == [(second.analysis_id,)]
    assert store.get_arrays(f"analysis:{first.analysis_id}") == {}


def test_masks_without_segmentation_is_a_clear_error(store: Store) -> None:
    with pytest.raises(az.AnalysisError, match="no segmentation"):
        az.analyze(store, params=AnalysisParams(geometry="masks"))


def test_accept_then_incremental_reanalysis_keeps_decision(store: Store) -> None:
    az.analyze(store)
    found = _kinds(store)
    missing = dict(found["missing_label::2"], set_id=store.active_set_id())
    edit = decide(store, [missing], "accepted")
    edit.apply(store)
    az.reanalyze_images(store, edit.image_ids)
    after = _kinds(store)
    # the prediction is now matched, but the decided suspect stays visible as accepted
    assert after["missing_label::2"]["status"] == "accepted"
    m = az.matches(store)
    assert m["outcome"][1] == 1  # prediction 2 is now a true positive
    # undo: the label goes, the decision is cleared, re-analysis finds the suspect open again
    edit.revert(store)
    az.reanalyze_images(store, edit.image_ids)
    assert _kinds(store)["missing_label::2"]["status"] == "open"
    assert az.matches(store)["outcome"][1] == 0


def test_rejected_hidden_by_default_filter(store: Store) -> None:
    az.analyze(store)
    found = _kinds(store)
    wrong = dict(found["wrong_class:11:3"], set_id=store.active_set_id())
    decide(store, [wrong], "rejected").apply(store)
    idx = SuspectIndex.load(store)
    keys = {
        idx.row(int(r))["key"] for r in idx.query(DEFAULT_REVIEW_FILTER.with_(min_confidence=0.0))
    }
    assert "wrong_class:11:3" not in keys and "missing_label::2" in keys


def test_edits_during_analysis_are_not_overwritten(store: Store) -> None:
    """An edit committed while a (slow) analysis runs is re-analysed after the results land."""
    az.analyze(store)
    started, proceed = threading.Event(), threading.Event()

    def slow_stop() -> bool:
        started.set()
        proceed.wait(10)
        return False

    worker_store = Store.open(where(store))
    result: dict = {}

    def run() -> None:
        result["summary"] = az.analyze(worker_store, should_stop=slow_stop)

    t = threading.Thread(target=run)
    t.start()
    started.wait(10)
    # meanwhile, the user accepts the missing label on image 1
    found = _kinds(store)
    edit = decide(
        store, [dict(found["missing_label::2"], set_id=store.active_set_id())], "accepted"
    )
    edit.apply(store)
    proceed.set()
    t.join(30)
    worker_store.close()
    assert result["summary"].stale_images == 1
    assert store.annotation(edit.edits[0].annotation["id"]) is not None  # the edit survived
    assert az.matches(store)["outcome"][1] == 1  # and the analysis reflects it
    assert _kinds(store)["missing_label::2"]["status"] == "accepted"
