"""A project opened read-only (a second app's window while another holds the project's lock)
refuses every write with one clear error that names the project and why it is read-only;
nothing in the file changes, and reading and exporting still work."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelfix.core import edits
from labelfix.core.analyze import analyze
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.errors import AnalysisParams
from labelfix.core.export import export_coco
from labelfix.core.review import decide
from labelfix.core.store import ReadOnlyError, Store
from labelfix.core.suspects import SuspectFilter, SuspectIndex

from helpers import tiny_dataset, tiny_predictions, write_json

WHY = "p.labelfix is open in LabelFix on this computer (pid 1, reviewer ann) since 09:00"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The tiny project, analysed (a missing label and a wrong class)."""
    path = tmp_path / "p.labelfix"
    with Store.create(path) as store:
        gt = read_ground_truth(write_json(tmp_path / "gt.json", tiny_dataset()))
        store.import_ground_truth(gt, None)
        preds = read_predictions(
            write_json(tmp_path / "pred.json", tiny_predictions()), store.image_sizes(), {1, 3, 7}
        )
        analyze(store, store.add_predictions(preds, "m"), AnalysisParams())
    return path


def suspects(store: Store) -> list[dict]:
    index = SuspectIndex.load(store)
    return [dict(index.row(int(p)), set_id=index.set_id) for p in index.query(SuspectFilter())]


def test_every_write_is_refused_with_a_sentence_saying_why(project: Path) -> None:
    with Store.open(project, readonly=True) as store:
        store.readonly_reason = WHY
        rows = suspects(store)
        labels = store.counts()["labels"]
        for write in (
            lambda: decide(store, rows[:1], "accepted").apply(store),
            lambda: edits.SetCategory(10, 7, reason="manual").apply(store),
            lambda: store.set_meta("x", 1),
        ):
            with pytest.raises(ReadOnlyError) as refused:
                write()
            text = str(refused.value)
            assert text.startswith("p.labelfix is open read-only") and WHY in text
            assert "nothing was changed" in text
        assert store.counts()["labels"] == labels
        assert store.decision(rows[0]["set_id"], rows[0]["key"]) is None
    with Store.open(project) as store:  # the file is as it was
        assert store.get_meta("x") is None and store.counts()["changes"] == 0


def test_without_a_reason_the_error_still_says_read_only(project: Path) -> None:
    with Store.open(project, readonly=True) as store, pytest.raises(ReadOnlyError) as refused:
        store.set_meta("x", 1)
    assert str(refused.value) == "p.labelfix is open read-only: nothing was changed."


def test_a_read_only_project_exports_without_touching_its_edit_count(
    project: Path, tmp_path: Path
) -> None:
    with Store.open(project) as store:
        store.bump_edits_since_export(3)
    with Store.open(project, readonly=True) as store:
        counts = export_coco(store, tmp_path / "out.json")
    assert counts["labels"] > 0 and (tmp_path / "out.json").exists()
    with Store.open(project) as store:  # the writer's count is the writer's
        assert store.get_meta("edits_since_export") == 3
