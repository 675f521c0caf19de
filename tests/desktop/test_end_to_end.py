"""End to end on real data: New Project dialog -> analyse -> filter -> walk 10 suspects by
keyboard (accept, reject, flag, skip) -> undo one -> export; the export holds exactly the fixes.
One check a test (each walks again: a second), so a failure does not hide the later ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from labelfix.core.errors import suspect_key
from labelfix.core.review import CLOSED_NOTE
from labelfix.desktop.dialogs import NewProjectDialog
from labelfix.desktop.export_dialogs import changes_path
from labelfix.desktop.main_window import MainWindow
from labelfix.desktop.widgets import FilterBar
from tests.conftest import shared_path

ROOT = shared_path("coco_real81")
LABELS = ROOT / "annotations" / "instances_real81.json"
PREDICTIONS = ROOT / "predictions" / "centernet_bbox_results.json"
KEYS = {"A": Qt.Key.Key_A, "R": Qt.Key.Key_R, "F": Qt.Key.Key_F, "Space": Qt.Key.Key_Space}
PLAN = ["A", "R", "A", "Space", "A", "R", "F", "A", "R", "A"]


def close(a: list[float], b: list[float], tol: float = 1.0) -> bool:
    """Boxes equal within ``tol`` pixels."""
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def apply_expected(
    expected: dict[int, dict], added: list[dict], suspect: dict, pred: dict | None
) -> None:
    """What accepting ``suspect`` must do to the labels."""
    kind = suspect["kind"]
    if kind == "missing_label":
        added.append(
            {"category_id": pred["category_id"], "bbox": pred["bbox"], "image_id": pred["image_id"]}
        )
    elif kind == "wrong_class":
        expected[suspect["annotation_id"]]["category_id"] = suspect["predicted_category_id"]
    elif kind == "inaccurate_label":
        expected[suspect["annotation_id"]]["bbox"] = pred["bbox"]
    else:
        del expected[suspect["annotation_id"]]


Walked = list[tuple[str, dict]]


@pytest.fixture
def project(qtbot: object, tmp_path: Path) -> Path:
    """The real81 project made through the New Project dialog (import + analyse)."""
    dialog = NewProjectDialog()
    qtbot.addWidget(dialog)
    out = tmp_path / "real81.labelfix"
    dialog.set_paths(LABELS, ROOT / "images", PREDICTIONS, out)
    with qtbot.waitSignal(dialog.projectCreated, timeout=120_000):
        assert dialog.start()
    assert dialog.result_path == out and out.exists()
    return out


@pytest.fixture
def window(
    project: Path, open_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch
) -> MainWindow:
    """The project open, the confidence cut at 0.3, the first suspect selected, the flag note
    dialog answered."""
    win = open_window(project, size=(1300, 850))
    win.findChild(FilterBar).min_conf.setValue(0.3)
    win.session.select_row(0)
    win.table.setFocus()
    monkeypatch.setattr("labelfix.desktop.window_review.ask_flag_note", lambda *a, **k: ("unsure", True))
    return win


def walk(win: MainWindow) -> Walked:
    """Press the PLAN's keys on ten suspects; (key, suspect) for each."""
    session = win.session
    walked: Walked = []
    for k in PLAN:
        suspect = session.current()
        assert suspect is not None and suspect["status"] == "open"
        walked.append((k, suspect))
        QTest.keyClick(win, KEYS[k])
    return walked


def undo_last(win: MainWindow) -> None:
    """Ctrl+Z: undo the last decision."""
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def export(win: MainWindow, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+Shift+E into ``out`` (the change log beside it)."""
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "COCO JSON (*.json)")
    )
    QTest.keyClick(
        win, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert out.exists() and changes_path(out).exists()


def test_the_new_project_dialog_makes_an_analysed_project(window: MainWindow) -> None:
    session = window.session
    assert session.analysed()
    assert session.filter.min_confidence == pytest.approx(0.3)
    assert session.row_count() >= 10


def test_each_key_decides_the_suspect_it_was_pressed_on(window: MainWindow) -> None:
    session = window.session
    walked = walk(window)
    assert len({s["key"] for _k, s in walked}) == 10  # ten distinct suspects
    for k, suspect in walked:
        decision = session.store.decision(session.set_id, suspect["key"])
        if k == "Space":
            assert decision is None
        else:
            assert decision["decision"] == {"A": "accepted", "R": "rejected", "F": "flagged"}[k]
            assert decision["note"] == ("unsure" if k == "F" else None)


def test_undo_takes_back_the_last_accept(window: MainWindow) -> None:
    session = window.session
    walked = walk(window)
    undo_last(window)
    assert session.store.decision(session.set_id, walked[-1][1]["key"]) is None
    assert session.store.decision(session.set_id, walked[-2][1]["key"]) is not None


def test_the_export_holds_exactly_the_fixes(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = window.session
    walked = walk(window)
    undo_last(window)
    out = tmp_path / "fixed.json"
    export(window, out, monkeypatch)
    original = json.loads(LABELS.read_text())
    exported = json.loads(out.read_text())
    expected = {
        a["id"]: {"category_id": a["category_id"], "bbox": a["bbox"]}
        for a in original["annotations"]
    }
    added: list[dict] = []
    for k, suspect in walked[:-1]:
        if k == "A":
            pred = (
                session.store.prediction(session.set_id, suspect["prediction_id"])
                if suspect["prediction_id"]
                else None
            )
            apply_expected(expected, added, suspect, pred)
    got = {a["id"]: a for a in exported["annotations"]}
    new = [a for i, a in got.items() if i not in {x["id"] for x in original["annotations"]}]
    assert set(expected) == set(got) - {a["id"] for a in new}
    for ann_id, want in expected.items():
        assert got[ann_id]["category_id"] == want["category_id"], ann_id
        assert close(got[ann_id]["bbox"], want["bbox"]), (ann_id, got[ann_id]["bbox"], want["bbox"])
    assert len(new) == len(added)
    for want in added:
        assert any(
            a["category_id"] == want["category_id"]
            and a["image_id"] == want["image_id"]
            and close(a["bbox"], want["bbox"])
            for a in new
        ), want
    assert len(exported["images"]) == len(original["images"])
    assert sum(1 for k, _s in walked[:-1] if k == "A") >= 3


def test_the_change_log_has_each_decision_and_fix(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked = walk(window)
    undo_last(window)
    undone = walked[-1][1]
    out = tmp_path / "fixed.json"
    export(window, out, monkeypatch)
    decided = {
        s["key"]: {"A": "accepted", "R": "rejected", "F": "flagged"}[k]
        for k, s in walked[:-1]
        if k != "Space"
    }
    changes = json.loads(changes_path(out).read_text())
    final: dict[str, str | None] = {}
    fixes: dict[str, int] = {}
    closed: set[str] = set()  # other suspects of an accepted one's object, rejected with it
    for rec in changes:  # one row per decided suspect, its label change included
        if not rec["suspect_kind"]:
            continue
        second = rec["suspect_other_label_id"] or rec["suspect_prediction_id"]
        key = suspect_key(rec["suspect_kind"], rec["suspect_label_id"], second, second)
        final[key] = rec["decision"]
        is_closure = rec["decision"] == "rejected" and (rec["note"] or "").startswith(
            CLOSED_NOTE.split("(")[0]
        )
        (closed.add if is_closure else closed.discard)(key)
        if rec["action"] not in ("decision", "revert:decision"):
            fixes[key] = fixes.get(key, 0) + (-1 if rec["action"].startswith("revert:") else 1)
    assert {k: v for k, v in final.items() if v is not None and k not in closed} == decided
    assert final[undone["key"]] is None
    accepted = {key for key, d in decided.items() if d == "accepted"}
    assert {key for key, n in fixes.items() if n > 0} == accepted
    assert fixes.get(undone["key"], 0) == 0  # applied, then reverted
