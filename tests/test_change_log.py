"""The change log as a downstream user reads it (pandas, Python's csv): one row per accepted
suspect, the suspect's parts in their own columns, integer columns that stay integers, category
id beside the name, the command a row belongs to, \\n line endings, compact geometry in the CSV
(none repeated for a class change), every value as JSON in the .json log."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from labelfix.core import edits
from labelfix.core.analyze import analyze
from labelfix.core.change_log import CHANGE_FIELDS, INTEGER_FIELDS
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.errors import AnalysisParams
from labelfix.core.export import export_changes
from labelfix.core.review import decide
from labelfix.core.store import Store
from labelfix.core.suspects import SuspectFilter, SuspectIndex

from helpers import tiny_dataset, tiny_predictions, write_json


@pytest.fixture
def reviewed(tmp_path: Path) -> Iterator[tuple[Store, dict[str, dict]]]:
    """The tiny project analysed (a missing label and a wrong class), then: one command
    accepting both, undone; the wrong class rejected; the missing label accepted; a manual
    class change."""
    store = Store.create(tmp_path / "p.labelfix")
    store.import_ground_truth(
        read_ground_truth(write_json(tmp_path / "gt.json", tiny_dataset())), None
    )
    preds = read_predictions(
        write_json(tmp_path / "pred.json", tiny_predictions()), store.image_sizes(), {1, 3, 7}
    )
    set_id = store.add_predictions(preds, "m")
    analyze(store, set_id, AnalysisParams())
    index = SuspectIndex.load(store, set_id)
    rows = [dict(index.row(int(p)), set_id=set_id) for p in index.query(SuspectFilter())]
    by_kind = {r["kind"]: r for r in rows}
    assert sorted(by_kind) == ["missing_label", "wrong_class"]
    both = decide(store, [by_kind["missing_label"], by_kind["wrong_class"]], "accepted")
    both.apply(store)
    both.revert(store)
    decide(store, [by_kind["wrong_class"]], "rejected").apply(store)
    decide(store, [by_kind["missing_label"]], "accepted").apply(store)
    edits.SetCategory(10, 7, reason="manual").apply(store)
    yield store, by_kind
    store.close()


def test_one_row_per_accepted_suspect_with_its_parts(
    reviewed: tuple[Store, dict], tmp_path: Path
) -> None:
    store, by_kind = reviewed
    export_changes(store, tmp_path / "log.json")
    rows = json.loads((tmp_path / "log.json").read_text())
    assert all(list(r) == list(CHANGE_FIELDS) for r in rows)
    accepted = [r for r in rows if r["decision"] == "accepted"]
    assert [r["suspect_kind"] for r in accepted] == [
        "missing_label",
        "wrong_class",
        "missing_label",
    ]
    missing, wrong = accepted[:2]
    suspect = by_kind["missing_label"]
    assert missing["action"] == "add_label" and missing["reason"] == "missing_label"
    assert missing["suspect_prediction_id"] == suspect["prediction_id"]
    assert missing["suspect_label_id"] is None and missing["label_id"] > 12  # the new label
    assert missing["suspect_score"] == suspect["score"]
    assert missing["suspect_confidence"] == suspect["confidence"]
    assert missing["after_category_id"] == 7 and missing["after_category"] == "dog"
    assert missing["after_segmentation"] and missing["before_bbox"] is None
    assert (
        wrong["action"] == "set_category"
        and wrong["label_id"] == by_kind["wrong_class"]["annotation_id"]
    )
    assert (wrong["before_category_id"], wrong["before_category"]) == (3, "car")
    assert (wrong["after_category_id"], wrong["after_category"]) == (1, "person")
    assert missing["command"] == wrong["command"]  # one command: one undo step
    # every accepted suspect is one row: no decision row without its label change
    assert not [r for r in rows if r["action"] == "decision" and r["decision"] == "accepted"]
    manual = rows[-1]
    assert manual["reason"] == "manual" and manual["suspect_kind"] is None
    assert (manual["before_category"], manual["after_category"]) == ("person", "dog")
    rejected = next(r for r in rows if r["decision"] == "rejected")
    assert rejected["action"] == "decision" and rejected["label_id"] == 11
    assert rejected["suspect_score"] == by_kind["wrong_class"]["score"]
    assert [r["command"] for r in rows] == [1, 1, 1, 1, 2, 3, 4]
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)


def test_an_undone_command_gives_one_revert_row_per_row(
    reviewed: tuple[Store, dict], tmp_path: Path
) -> None:
    store, _ = reviewed
    export_changes(store, tmp_path / "log.json")
    rows = json.loads((tmp_path / "log.json").read_text())
    reverts = [r for r in rows if r["action"].startswith("revert:")]
    assert [r["action"] for r in reverts] == ["revert:set_category", "revert:add_label"]
    for revert in reverts:
        original = next(r for r in rows if r["seq"] == revert["reverts"])
        assert original["decision"] == "accepted" and revert["decision"] is None
        assert revert["action"] == "revert:" + original["action"]
        assert revert["command"] == original["command"] == 1
        assert revert["suspect_kind"] == original["suspect_kind"]


def test_csv_reads_as_typed_columns(reviewed: tuple[Store, dict], tmp_path: Path) -> None:
    store, _ = reviewed
    path = tmp_path / "log.csv"
    export_changes(store, path)
    raw = path.read_bytes()
    assert b"\r\n" not in raw and raw.endswith(b"\n")
    with open(path, newline="", encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    assert tuple(records[0]) == CHANGE_FIELDS
    frame = pd.read_csv(path)
    for column in ("seq", "command", "image_id", "label_id"):
        assert frame[column].dtype == "int64", column
    typed = pd.read_csv(path, dtype=dict.fromkeys(INTEGER_FIELDS, "Int64"))
    assert all(str(typed[c].dtype) == "Int64" for c in INTEGER_FIELDS)
    wrong = next(r for r in records if r["suspect_kind"] == "wrong_class")
    assert wrong["before_segmentation"] == wrong["after_segmentation"] == ""  # not repeated
    assert wrong["before_bbox"] == json.dumps(
        json.loads(wrong["before_bbox"]), separators=(",", ":")
    )
    added = next(r for r in records if r["action"] == "add_label")
    assert added["after_segmentation"].startswith("[[") and " " not in added["after_segmentation"]
