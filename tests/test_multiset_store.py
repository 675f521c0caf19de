"""The store operations of issue 14 on both backends (a project file and a team project): an
analysis of two prediction sets with its support table, groups, fits and report; decisions
kept under every supporting set's key and read back from either analysis; an edit's
re-analysis of a multi-set analysis; push / pull keep it all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelfix.core import analyze as az
from labelfix.core import project
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.edits import SetCategory
from labelfix.core.review import decide
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectFilter, SuspectIndex

from backends import drop, location
from helpers import tiny_dataset, tiny_predictions, write_json


def other_predictions() -> list[dict]:
    """A second model: the same detections a little shifted and less sure, one more."""
    out = []
    for p in tiny_predictions():
        x, y, w, h = p["bbox"]
        out.append(dict(p, bbox=[x + 1.0, y, w, h], score=round(p["score"] * 0.8, 4)))
    out.append({"image_id": 2, "category_id": 1, "bbox": [2.0, 2.0, 20.0, 20.0], "score": 0.7})
    return out


@pytest.fixture
def store(tmp_path: Path, backend: str) -> Store:
    gt = read_ground_truth(write_json(tmp_path / "gt.json", tiny_dataset()))
    at = location(backend, tmp_path)
    s = Store.create(at)
    s.import_ground_truth(gt, None)
    for name, records in (("a", tiny_predictions()), ("b", other_predictions())):
        pf = read_predictions(
            write_json(tmp_path / f"{name}.json", records), s.image_sizes(), set(s.category_names())
        )
        s.add_predictions(pf, name, activate=name == "a")
    yield s
    s.close()
    drop(at)


def test_two_sets_analysed_together(store: Store) -> None:
    a, b = store.resolve_sets("all")
    az.analyze(store, a)
    az.analyze(store, b)
    summary = project.analyze_project(store, set_name="a,b")
    assert store.active_sets() == [a, b]
    analysis = store.current_analysis()
    assert analysis["id"] == summary.analysis_id and analysis["set_ids"] == [a, b]
    assert store.current_analysis(a)["set_ids"] == [a]  # each set's own analysis stays
    assert set(store.detector_fits(analysis["id"])) == {a, b}
    report = store.analysis_report(analysis["id"])
    assert set(report["sets"]) == {str(a), str(b)} and "review_cut" in report
    both = SuspectIndex.load(store)
    assert both.multi and len(both) == sum(summary.suspects.values())
    counts = both.support_counts()
    assert (counts >= 1).all() and (counts == 2).any()
    # every set's own suspects support the merged ones, with their keys
    for set_id in (a, b):
        own = SuspectIndex.load(store, set_id)
        keys = {own.key(p) for p in range(len(own))}
        supported = {
            s["key"]
            for p in range(len(both))
            for s in both.supported_by(p)
            if s["set_id"] == set_id
        }
        assert supported == keys
    # matches of each set
    for set_id in (a, b):
        assert len(store.match_arrays(analysis["id"], set_id)["prediction_id"]) == len(
            store.prediction_arrays(set_id)["id"]
        )


def test_decisions_under_every_set_and_a_reanalysis(store: Store) -> None:
    a, b = store.resolve_sets("all")
    az.analyze(store, a)
    project.analyze_project(store, set_name="a,b")
    both = SuspectIndex.load(store)
    pos = int(np.flatnonzero(both.support_counts() == 2)[0])
    row = both.row(pos)
    edit = decide(store, [row], "rejected")
    edit.apply(store)
    for s in row["supported_by"]:
        assert store.decision(s["set_id"], s["key"])["decision"] == "rejected"
    own = SuspectIndex.load(store, a)
    key = next(s["key"] for s in row["supported_by"] if s["set_id"] == a)
    assert own.row(int(own.positions_of([key])[0]))["status"] == "rejected"
    # a label edit on its image: the analysis of both is re-analysed there; the decision stays
    ann = store.annotations_for_image(row["image_id"])[0]
    other = next(c for c in store.category_names() if c != ann["category_id"])
    label_edit = SetCategory(ann["id"], other)
    label_edit.apply(store)
    az.reanalyze_images(store, label_edit.image_ids)
    both.reload_images(store, label_edit.image_ids)
    fresh = SuspectIndex.load(store)
    for name in ("ids", "score", "group", "prediction_set_id", "status"):
        np.testing.assert_array_equal(getattr(both, name), getattr(fresh, name), err_msg=name)
    (at,) = fresh.positions_of_decisions([(row["set_id"], row["key"])])
    assert fresh.row(int(at))["status"] == "rejected"
    edit.revert(store)
    assert SuspectIndex.load(store).counts_by_status()["rejected"] == 0
    assert len(fresh.query(SuspectFilter(per_object=True))) <= len(fresh)


def test_push_and_pull_keep_the_analysis_of_two_sets(
    store: Store, tmp_path: Path, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("push copies a project file")
    from backends import team_url

    project.analyze_project(store, set_name="all")
    want = SuspectIndex.load(store)
    url = team_url()
    store.close()
    try:
        project.push_project(store.path, url)
        back = tmp_path / "back.labelfix"
        project.pull_project(url, back)
        with Store.open(back) as pulled:
            got = SuspectIndex.load(pulled)
            assert got.multi and len(got) == len(want)
            for name in ("score", "group", "group_rank", "prediction_set_id"):
                np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
            for name, col in want.support.items():
                np.testing.assert_array_equal(got.support[name], col)
    finally:
        drop(url)
