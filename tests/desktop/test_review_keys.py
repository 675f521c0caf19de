"""The review loop by keyboard on the demo project: decisions, skip, undo/redo, classes, bulk."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labelfix.core.suspects import SuspectFilter
from labelfix.desktop.main_window import MainWindow


def key(
    win: MainWindow, k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """Press a key on the main window, as a user would."""
    QTest.keyClick(win, k, mod)


def test_accept_reject_flag_skip_undo_redo(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = window.session
    assert s.filter.min_score is None and s.filter.per_object  # the demo's stored filter
    first = s.current()
    assert first is not None and s.current_row() == 0
    key(window, Qt.Key.Key_R)
    assert s.store.decision(s.set_id, first["key"])["decision"] == "rejected"
    second = s.current()
    assert second["key"] != first["key"] and second["status"] == "open"
    assert first["key"] not in {
        s.suspect_at(r)["key"] for r in range(s.row_count())
    }  # open-only filter
    key(window, Qt.Key.Key_Space)  # skip
    third = s.current()
    assert third["key"] != second["key"]
    key(window, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)  # back
    assert s.current()["key"] == second["key"]
    monkeypatch.setattr(
        "labelfix.desktop.window_review.ask_flag_note", lambda *a, **k: ("check the tail", True)
    )
    key(window, Qt.Key.Key_F)
    assert s.store.decision(s.set_id, second["key"]) == {
        "decision": "flagged",
        "note": "check the tail",
        "time": s.store.decision(s.set_id, second["key"])["time"],
        "reviewer": s.store.reviewer,
    }
    labels_before = s.store.counts()["labels"]
    target = s.current()
    key(window, Qt.Key.Key_A)
    assert s.store.decision(s.set_id, target["key"])["decision"] == "accepted"
    if target["kind"] == "missing_label":
        assert s.store.counts()["labels"] == labels_before + 1
    assert s.undo_stack.count() == 3
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.store.decision(s.set_id, target["key"]) is None
    assert s.store.counts()["labels"] == labels_before
    assert s.current()["key"] == target["key"]  # undo shows the undone suspect again
    key(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert s.store.decision(s.set_id, target["key"])["decision"] == "accepted"
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    key(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert s.store.decision(s.set_id, target["key"])["decision"] == "accepted"
    counts = s.status_counts()
    assert (counts["accepted"], counts["rejected"], counts["flagged"]) == (1, 1, 1)
    assert str(counts["open"]) in window.counts.text()


def test_quick_class_and_class_picker(window: MainWindow) -> None:
    s = window.session
    s.set_filter(
        SuspectFilter(
            min_confidence=0.3, kinds=frozenset({"wrong_class"}), statuses=frozenset({"open"})
        )
    )
    suspect = s.current()
    assert suspect["kind"] == "wrong_class"
    quick = s.labels.quick_classes()
    assert len(quick) == 9
    key(window, Qt.Key.Key_1)
    assert s.store.annotation(suspect["annotation_id"])["category_id"] == quick[0][0]
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.store.annotation(suspect["annotation_id"])["category_id"] == suspect["category_id"]
    log = s.store.change_log()
    assert [e["action"] for e in log[-2:]] == ["set_category", "revert:set_category"]


def test_bulk_decision_is_one_undoable_command(window: MainWindow) -> None:
    s = window.session
    s.set_filter(
        SuspectFilter(
            min_confidence=0.3, kinds=frozenset({"spurious_label"}), statuses=frozenset({"open"})
        )
    )
    n = s.row_count()
    assert n > 5
    window.select_all_listed()
    labels = s.store.counts()["labels"]
    window.reject()
    assert s.status_counts()["rejected"] == n
    assert s.undo_stack.count() == 1
    assert s.store.counts()["labels"] == labels
    s.undo()
    assert s.status_counts()["rejected"] == 0
    assert window.table.selected_rows() == list(range(n))  # the rows it was made on, again


def test_resume_restores_filter_sort_and_selection(
    qtbot: object, window: MainWindow, demo_project: Path
) -> None:
    s = window.session
    s.set_filter(s.filter.with_(min_confidence=0.35, statuses=None, file_name="0001"))
    window.table.sortByColumn(
        window.table.suspect_model.column_of("iou"), Qt.SortOrder.AscendingOrder
    )
    assert (s.sort_key, s.descending) == ("iou", False)
    s.select_row(2)
    chosen = s.current()["key"]
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.open_path(demo_project)
    s2 = again.session
    assert s2.filter == s.filter
    assert (s2.sort_key, s2.descending) == ("iou", False)
    assert s2.current()["key"] == chosen
    assert (
        again.table.horizontalHeader().sortIndicatorSection()
        == again.table.suspect_model.column_of("iou")
    )
    assert again.findChild(type(again.docks["suspects"].widget()), None) is not None
    again.close()


def test_large_bulk_decision_shows_progress(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accepting hundreds of suspects at once reports progress, then undoes as one command."""
    from PySide6.QtWidgets import QProgressDialog

    from labelfix.core.export import coco_dataset
    from labelfix.desktop import commands

    values: list[int] = []
    real_set_value = QProgressDialog.setValue
    monkeypatch.setattr(
        QProgressDialog, "setValue", lambda self, v: (values.append(v), real_set_value(self, v))
    )
    monkeypatch.setattr(commands, "BULK_PROGRESS_MIN", 50)
    s = window.session
    s.set_filter(SuspectFilter(min_confidence=0.0, statuses=frozenset({"open"})))
    n = s.row_count()
    assert n >= 200
    before = coco_dataset(s.store)
    window.select_all_listed()
    window.accept()
    assert s.undo_stack.count() == 1
    assert values and values[-1] >= n and values == sorted(values)  # it advanced to the end
    assert coco_dataset(s.store) != before
    values.clear()
    s.undo()
    assert values and values[-1] >= n  # undoing it reports progress too
    assert coco_dataset(s.store) == before


def test_redo_of_a_decision_moves_on_as_the_decision_did(window: MainWindow) -> None:
    """Redoing an accept under the open-only filter selects the suspect the accept moved to,
    not the accepted one (no longer listed): the next R must not reject the redone accept."""
    s = window.session
    first = s.current()
    key(window, Qt.Key.Key_A)
    after_accept = s.current_key()
    assert after_accept != first["key"]
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.current_key() == first["key"] and s.current_row() is not None
    key(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert s.store.decision(s.set_id, first["key"])["decision"] == "accepted"
    assert s.current_row() is not None  # the table shows what the inspector shows
    assert s.current_key() == after_accept
    key(window, Qt.Key.Key_R)
    assert s.store.decision(s.set_id, first["key"])["decision"] == "accepted"
    assert s.store.decision(s.set_id, after_accept)["decision"] == "rejected"


def test_a_class_key_keeps_the_place_when_its_suspect_goes(window: MainWindow) -> None:
    """A class change by key re-analyses the image: the suspect it was pressed on goes, and
    the selection follows the label (its new suspect), never to nothing (a blank canvas)."""
    s = window.session
    s.select_row(1)
    suspect = s.current()
    assert suspect["annotation_id"] is not None and suspect["kind"] == "inaccurate_label"
    image, label = suspect["image_id"], suspect["annotation_id"]
    before = s.store.annotation(label)["category_id"]
    key(window, Qt.Key.Key_2)
    assert s.store.annotation(label)["category_id"] != before
    assert s.review.position_of_key(suspect["key"]) is None  # its suspect is gone
    now = s.current()
    assert now is not None and s.current_row() is not None
    assert now["annotation_id"] == label and s.shown_image_id() == image
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.store.annotation(label)["category_id"] == before
    assert s.current_key() == suspect["key"]
