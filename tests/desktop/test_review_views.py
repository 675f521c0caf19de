"""The views that follow the session, each on its own: the canvas's duplicate partner, the status
counts, the class picker, the History view (a click that crosses a failing step) and the
inspector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labelfix.core.project import DatabaseError
from labelfix.desktop.canvas.view import CanvasView
from labelfix.desktop.dialogs import ClassPicker
from labelfix.desktop.history import HistoryView
from labelfix.desktop.inspector import Inspector
from labelfix.desktop.main_window import MainWindow
from labelfix.desktop.session import Session
from labelfix.desktop.widgets import StatusCounts


@pytest.fixture
def session(demo_project: Path) -> Iterator[Session]:
    """A session on a private copy of the demo project, every suspect listed."""
    s = Session.open(demo_project)
    s.set_filter(s.filter.__class__(min_confidence=0.0, statuses=None))
    yield s
    s.close()


def select_kind(s: Session, kind: str) -> dict:
    """Select the first listed suspect of a kind."""
    row = next(r for r in range(s.row_count()) if s.suspect_at(r)["kind"] == kind)
    s.select_row(row)
    return s.current()


def pen_width(view: CanvasView, annotation_id: int) -> float:
    """The width of a label's outline on the canvas."""
    return view.review_scene.label_items[annotation_id][0].pen().widthF()


def test_the_duplicate_partner_is_drawn_as_strongly_as_the_suspect(
    qtbot: object, session: Session
) -> None:
    big = max(
        (a for a in session.store.iter_annotations() if not a.get("iscrowd")),
        key=lambda a: a["area"],
    )
    copy = session.labels.duplicate(big["id"])  # 8 px away: the two overlap nearly whole
    assert copy is not None
    suspect = select_kind(session, "duplicate_label")
    assert {suspect["annotation_id"], suspect["other_annotation_id"]} == {big["id"], copy}
    partner = suspect["other_annotation_id"]
    assert partner is not None and partner != suspect["annotation_id"]
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    with qtbot.waitSignal(view.imageShown, timeout=10_000):
        view.attach(session)
    scene = view.review_scene
    others = [
        a["id"]
        for a in session.store.annotations_for_image(suspect["image_id"])
        if a["id"] not in (partner, suspect["annotation_id"])
    ]
    strong = pen_width(view, suspect["annotation_id"])
    assert pen_width(view, partner) == strong
    assert all(pen_width(view, a) < strong for a in others)
    x, y, w, h = session.store.annotation(partner)["bbox"]
    assert scene.focus_rect.contains(x + w / 2, y + h / 2)  # framed with the suspect
    view.attach(None)


def test_status_counts_follow_decisions_and_the_filter(session: Session, qtbot: object) -> None:
    counts = StatusCounts(session)
    qtbot.addWidget(counts)
    listed = session.row_count()
    assert counts.text().startswith(f"{listed} listed") and "accepted 0" in counts.text()
    assert session.decide("rejected")
    assert "rejected 1" in counts.text() and "0 edit(s)" in counts.text()
    session.set_filter(session.filter.__class__(min_confidence=0.0, statuses=frozenset({"open"})))
    assert counts.text().startswith(f"{listed - 1} listed")


def test_the_class_picker_filters_as_you_type(qtbot: object) -> None:
    names = {1: "person", 2: "bicycle", 3: "bus", 4: "bench"}
    picker = ClassPicker(names, current=2)
    qtbot.addWidget(picker)
    assert picker.chosen() == 2
    QTest.keyClicks(picker.search, "b")
    assert picker.chosen() == 4  # bench: the first match, alphabetically
    QTest.keyClick(picker.search, Qt.Key.Key_Down)
    assert picker.chosen() == 2  # bicycle
    QTest.keyClicks(picker.search, "us")
    assert picker.chosen() == 3
    QTest.keyClicks(picker.search, "zzz")
    assert picker.chosen() is None
    picker.search.clear()
    QTest.keyClicks(picker.search, "pers")
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    assert picker.result() == ClassPicker.DialogCode.Accepted and picker.chosen() == 1


def test_a_history_click_across_a_failing_step_stops_there(
    qtbot: object, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = session
    labels = [a for a in s.store.iter_annotations() if not isinstance(a["segmentation"], dict)]
    a, b = labels[:2]
    assert s.labels.delete(a["id"]) and s.labels.delete(b["id"])
    view = HistoryView(s.undo_stack)
    qtbot.addWidget(view)
    said: list[str] = []
    s.errorOccurred.connect(said.append)
    real = s.store.insert_annotation

    def insert(annotation: dict, *args: object) -> None:
        if annotation["id"] == a["id"]:
            raise DatabaseError("disk I/O error")
        real(annotation, *args)

    monkeypatch.setattr(s.store, "insert_annotation", insert)
    view.setCurrentIndex(view.model().index(0, 0))  # the "Project opened" line
    assert s.store.annotation(b["id"]) is not None and s.store.annotation(a["id"]) is None
    assert s.undo_stack.index() == 1 and len(said) == 1 and "disk I/O error" in said[0]
    assert view.currentIndex().row() == 1  # the view shows where the stack stayed


def test_the_inspector_shows_the_selected_label_then_the_suspects(
    qtbot: object, open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    win = open_window(demo_project)
    s = win.session
    inspector = win.findChild(Inspector)
    suspect = select_kind(s, "wrong_class")
    ann = s.store.annotation(suspect["annotation_id"])
    name = s.category_names[ann["category_id"]]
    shown = inspector.label_fields["label"]
    assert "wrong class" in inspector.title.text()
    assert shown.text() == inspector._label_name(ann) and name in shown.text()
    assert "suspect's label" in inspector.label_title.text()
    other = next(
        a for a in s.store.annotations_for_image(suspect["image_id"]) if a["id"] != ann["id"]
    )
    s.select_label(other["id"])
    qtbot.waitUntil(lambda: str(other["id"]) in shown.text())
    assert "Selected label" in inspector.label_title.text()
    x, y, w, h = other["bbox"]
    assert inspector.label_fields["box"].text() == f"{w:.1f} × {h:.1f} at ({x:.1f}, {y:.1f})"
    s.select_label(None)
    qtbot.waitUntil(lambda: str(ann["id"]) in shown.text())
