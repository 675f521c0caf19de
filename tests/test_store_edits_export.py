"""The project store, reversible edits and COCO export, on a tiny synthetic dataset: on both
backends (a project file, and a team project on the PostgreSQL test server)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from labelfix.core import edits
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.export import ExportError, coco_dataset, export_changes, export_coco
from labelfix.core.store import DatabaseError, ProjectError, Store, migrations

from backends import drop, location, where
from helpers import sql, tiny_dataset, tiny_predictions, write_json


@pytest.fixture
def project(tmp_path: Path, backend: str) -> Store:
    gt_path = write_json(tmp_path / "gt.json", tiny_dataset())
    gt = read_ground_truth(gt_path)
    at = location(backend, tmp_path)
    store = Store.create(at)
    store.import_ground_truth(gt, tmp_path)
    pred_path = write_json(tmp_path / "pred.json", tiny_predictions())
    store.add_predictions(
        read_predictions(pred_path, store.image_sizes(), set(store.category_names())), "model"
    )
    yield store
    store.close()
    drop(at)


def test_schema_pragmas_and_migrations(project: Store) -> None:
    if not project.is_team:
        assert sql(project, "PRAGMA journal_mode").fetchone()[0] == "wal"
        assert sql(project, "PRAGMA foreign_keys").fetchone()[0] == 1
    assert project.schema_version() == migrations.latest_version()
    versions = [r[0] for r in sql(project, "SELECT version FROM _migrations ORDER BY version")]
    assert versions == [v for v, _, _ in migrations.MIGRATIONS]


def test_import_then_export_is_identical(project: Store, tmp_path: Path) -> None:
    export_coco(project, tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text()) == tiny_dataset()


def test_integers_stay_integers(project: Store) -> None:
    data = coco_dataset(project)
    car = next(a for a in data["annotations"] if a["id"] == 11)
    assert car["bbox"] == [50, 20, 20, 20] and all(isinstance(v, int) for v in car["bbox"])
    assert isinstance(car["area"], int)


def test_predictions_are_numbered_like_loadres(project: Store) -> None:
    set_id = project.active_set_id()
    assert set_id is not None
    p = project.prediction(set_id, 2)
    assert p["category_id"] == 7 and p["score"] == 0.9
    assert [q["id"] for q in project.predictions_for_image(set_id, 1)] == [1, 2, 3]


def test_reopen_and_readonly(project: Store, tmp_path: Path) -> None:
    path = where(project)
    project.close()
    with Store.open(path, readonly=True) as ro:
        assert ro.counts()["labels"] == 3
        with pytest.raises(DatabaseError):
            ro.set_meta("x", 1)


def test_not_a_project(tmp_path: Path) -> None:
    bad = tmp_path / "x.labelfix"
    bad.write_text("hello, I am not SQLite" * 100)
    with pytest.raises(ProjectError, match="not a LabelFix project"):
        Store.open(bad)
    other = tmp_path / "other.labelfix"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(ProjectError, match="not a LabelFix project"):
        Store.open(other)


def test_schema_too_new(project: Store) -> None:
    sql(project, "INSERT INTO _migrations VALUES (999, 'future', 'x')")
    path = where(project)
    project.close()
    with pytest.raises(ProjectError, match="update LabelFix"):
        Store.open(path)


def test_change_log_is_append_only(project: Store) -> None:
    edits.SetCategory(10, 3).apply(project)
    with pytest.raises(DatabaseError, match="append-only"):
        sql(project, "DELETE FROM change_log")
    with pytest.raises(DatabaseError, match="append-only"):
        sql(project, "UPDATE change_log SET action = 'x'")
    if project.is_team:
        with pytest.raises(DatabaseError, match="append-only"):
            sql(project, "TRUNCATE change_log")
    assert len(project.change_log()) == 1


def _every_kind_of_edit(store: Store) -> list[edits.Edit]:
    new_id = store.next_annotation_id()
    set_id = store.active_set_id()
    return [
        edits.SetCategory(10, 7, reason="wrong_class"),
        edits.SetGeometry(
            10, segmentation=[[12.25, 11.0, 45.0, 11.0, 45.0, 52.0, 12.25, 52.0, 20.0, 60.0]]
        ),
        edits.SetGeometry(11, bbox=[48.5, 19.0, 25.0, 22.0], reason="inaccurate_label"),
        edits.SetGeometry(10, bbox=[5.0, 5.0, 20.0, 20.0]),
        edits.AddLabel(
            {
                "id": new_id,
                "image_id": 1,
                "category_id": 7,
                "bbox": [70.0, 50.0, 20.0, 20.0],
                "area": 400.0,
                "iscrowd": 0,
            },
            reason="missing_label",
        ),
        edits.DeleteLabel(12, reason="spurious_label"),
        edits.SetDecision(set_id, "wrong_class:10:1", "rejected", note="looks right"),
        edits.CompositeEdit(
            [edits.SetCategory(11, 1), edits.SetDecision(set_id, "wrong_class:11:3", "accepted")],
            "accept",
        ),
    ]


def test_edits_apply_and_revert_leave_export_identical(project: Store, tmp_path: Path) -> None:
    original = coco_dataset(project)
    applied = _every_kind_of_edit(project)
    for edit in applied:
        edit.apply(project)
    changed = coco_dataset(project)
    assert changed != original
    by_id = {a["id"]: a for a in changed["annotations"]}
    assert 12 not in by_id and by_id[10]["category_id"] == 7 and by_id[11]["category_id"] == 1
    assert by_id[10]["bbox"] == [5.0, 5.0, 20.0, 20.0]  # polygon scaled into the new box
    assert max(by_id) > 12  # the new label got an id above the maximum
    for edit in reversed(applied):
        edit.revert(project)
    assert coco_dataset(project) == original
    log = project.change_log()
    assert len([e for e in log if e["action"].startswith("revert:")]) == len(log) // 2
    assert project.get_meta("edits_since_export") == 0
    # redo everything gives the same result as the first time
    for edit in applied:
        edit.apply(project)
    assert coco_dataset(project) == changed


def test_polygon_edit_recomputes_bbox_and_area(project: Store) -> None:
    poly = [[10.25, 10.0, 40.75, 10.0, 40.75, 50.5, 10.25, 50.5]]
    edits.SetGeometry(10, segmentation=poly).apply(project)
    ann = project.annotation(10)
    assert ann["bbox"] == [10.25, 10.0, 30.5, 40.5]
    from pycocotools import mask

    rle = mask.merge(mask.frPyObjects(poly, 80, 100))
    assert ann["area"] == float(mask.area(rle))


def test_geometry_is_clamped_to_image(project: Store) -> None:
    edits.SetGeometry(11, bbox=[90.0, 70.0, 30.0, 30.0]).apply(project)
    assert project.annotation(11)["bbox"] == [90.0, 70.0, 10.0, 10.0]


def test_change_log_export(project: Store, tmp_path: Path) -> None:
    set_id = project.active_set_id()
    edits.SetCategory(10, 3, reason="wrong_class", suspect_key="wrong_class:10:2").apply(project)
    edits.SetDecision(set_id, "missing_label::2", "flagged", note="ask the annotator").apply(
        project
    )
    n = export_changes(project, tmp_path / "log.json")
    records = json.loads((tmp_path / "log.json").read_text())
    assert (
        n == 2
        and records[0]["before_category"] == "person"
        and records[0]["after_category"] == "car"
    )
    assert records[1]["decision"] == "flagged" and records[1]["note"] == "ask the annotator"
    export_changes(project, tmp_path / "log.csv")
    assert "ask the annotator" in (tmp_path / "log.csv").read_text()


def test_export_refuses_to_overwrite_input(project: Store, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="--overwrite"):
        export_coco(project, tmp_path / "gt.json")
    export_coco(project, tmp_path / "gt.json", overwrite=True)


def test_failed_export_keeps_previous_file(project: Store, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("previous")

    def boom() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError, match="No space left"):
        export_coco(project, out, fail_after=boom)
    assert out.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.json")] == []


def test_a_project_made_before_values_as_read_opens_and_exports(
    project: Store, tmp_path: Path
) -> None:
    """Schema 1 had no as_read columns: opening migrates, and nothing assumed means nothing
    to write back."""
    if project.is_team:
        pytest.skip("a project file made by an older LabelFix")
    path = project.path
    project.close()
    conn = sqlite3.connect(path)
    for table in ("images", "categories", "annotations"):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN as_read")
    conn.execute("DELETE FROM _migrations WHERE version = 2")
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version() == migrations.latest_version()
        assert coco_dataset(store) == tiny_dataset()
        edits.SetCategory(10, 3).apply(store)
        assert coco_dataset(store)["annotations"][0]["category_id"] == 3
