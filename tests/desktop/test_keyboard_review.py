"""A reviewer who never touches the mouse (measured on coco_real81 under Xvfb): what each key
does where the focus is, and what it costs the canvas."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolButton

from labelfix.desktop.main_window import MainWindow


def test_showing_the_next_suspect_lays_the_tags_out_once(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Framing a suspect moves the view three times (transform reset, scale, centre); each move
    laid the tags out again (~14 ms each on coco_real81, ~85 ms of a ~250 ms decision)."""
    scene = window.canvas.review_scene
    calls: list[int] = []
    real = scene.layout_tags
    monkeypatch.setattr(scene, "layout_tags", lambda *a, **k: (calls.append(1), real(*a, **k)))
    s = window.session
    first = s.current()
    QTest.keyClick(window, Qt.Key.Key_Space)
    QApplication.processEvents()
    assert s.current()["key"] != first["key"]
    assert window.canvas.image_id == s.current()["image_id"]
    assert len(calls) == 1
    calls.clear()
    window.canvas.zoom_to_suspect()  # Z
    assert len(calls) == 1
    calls.clear()
    window.canvas.fit()  # Ctrl+0
    assert len(calls) == 1


def test_space_on_a_focused_filter_control_works_it_and_skips_no_suspect(
    window: MainWindow,
) -> None:
    """Tabbing to the filter bar and pressing Space (how a keyboard user presses a button)
    skipped to the next suspect instead: the Kinds and Classes menus could not be opened."""
    s = window.session
    bar = window.filter_bar
    first = s.current()["key"]
    per_object = bar.per_object.isChecked()
    bar.per_object.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(bar.per_object, Qt.Key.Key_Space)
    assert bar.per_object.isChecked() != per_object
    assert s.filter.per_object != per_object
    assert s.current()["key"] == first  # no skip

    shown: list[bool] = []

    def look_and_close() -> None:
        menu = bar.kinds.menu()
        shown.append(menu.isVisible())
        menu.close()

    bar.kinds.setFocus(Qt.FocusReason.BacktabFocusReason)
    QTimer.singleShot(200, look_and_close)
    QTest.keyClick(bar.kinds, Qt.Key.Key_Space)
    QTest.qWait(300)
    assert shown == [True]
    assert s.current()["key"] == first
    assert isinstance(bar.kinds, QToolButton)


def test_space_after_clicking_a_filter_control_still_skips(window: MainWindow) -> None:
    """A mouse user who ticked "per object", or chose in the Kinds menu, and presses Space
    means the next suspect; so does Space on a control the program focused."""
    s = window.session
    bar = window.filter_bar
    per_object = bar.per_object.isChecked()
    QTest.mouseClick(bar.per_object, Qt.MouseButton.LeftButton)
    assert bar.per_object.isChecked() != per_object
    assert QApplication.focusWidget() is bar.per_object
    first = s.current()["key"]
    QTest.keyClick(bar.per_object, Qt.Key.Key_Space)
    assert bar.per_object.isChecked() != per_object  # not ticked back
    assert s.current()["key"] != first
    bar.per_object.setFocus(Qt.FocusReason.TabFocusReason)
    bar.kinds.setFocus(Qt.FocusReason.PopupFocusReason)  # back from its menu
    second = s.current()["key"]
    QTest.keyClick(bar.kinds, Qt.Key.Key_Space)
    assert s.current()["key"] != second
    bar.status.setFocus(Qt.FocusReason.OtherFocusReason)
    third = s.current()["key"]
    QTest.keyClick(bar.status, Qt.Key.Key_Space)
    assert s.current()["key"] != third


def test_s_selects_the_suspects_label_for_the_arrow_keys_and_again_the_next(
    window: MainWindow,
) -> None:
    """Nudging a label needed a click on it (the canvas takes no Tab focus; only Shift+A
    selected a label, after accepting the fix): a label could not be adjusted by keyboard
    while the suspect stays open. S selects the suspect's label and gives the canvas the keys;
    S again the next label of the image, nearest the suspect first; Shift+S goes back."""
    s = window.session
    for _ in range(40):  # a suspect with a label, on an image with other labels
        suspect = s.current()
        if (
            suspect["annotation_id"] is not None
            and len(s.store.annotations_for_image(suspect["image_id"])) > 2
        ):
            break
        QTest.keyClick(window, Qt.Key.Key_Space)
    own = suspect["annotation_id"]
    before = s.store.annotation(own)["bbox"]
    QTest.keyClick(window, Qt.Key.Key_S)
    assert s.selected_label == own
    assert QApplication.focusWidget() is window.canvas
    QApplication.processEvents()  # the canvas builds the label's editor
    QTest.keyClick(window.canvas, Qt.Key.Key_Right)
    s.labels.end_burst()
    after = s.store.annotation(own)["bbox"]
    assert after[0] == pytest.approx(before[0] + 1) and after[1:] == before[1:]
    assert s.store.decision(s.set_id, suspect["key"]) is None  # still open
    QTest.keyClick(window.canvas, Qt.Key.Key_S)
    second = s.selected_label
    assert second not in (None, own)
    assert s.store.annotation(second)["image_id"] == suspect["image_id"]
    QTest.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ShiftModifier)
    assert s.selected_label == own


def test_enter_on_a_model_tab_row_lists_its_suspects_as_a_click_does(
    window: MainWindow,
) -> None:
    """The Model tab's class and confusion rows listed their suspects on a click only: a
    keyboard user could move to a row but Enter did nothing."""
    s = window.session
    summary = window.docks["summary"].widget()
    summary.setCurrentIndex(1)
    report = summary.model_report
    view = report.metrics_view
    row = 1
    cat = report.metrics.keys[row]
    view.setFocus()
    view.setCurrentIndex(report.metrics.index(row, 0))
    QTest.keyClick(view, Qt.Key.Key_Return)
    assert s.filter.category_ids == frozenset({cat})
    assert report.confusions.rowCount() > 0
    pair = report.confusions.keys[0]
    view = report.confusions_view
    view.setFocus()
    view.setCurrentIndex(report.confusions.index(0, 0))
    QTest.keyClick(view, Qt.Key.Key_Enter)
    assert s.filter.class_pair == tuple(pair) or s.filter.class_pair == pair


def test_m_brings_the_model_tabs_class_rows_to_the_keyboard(window: MainWindow) -> None:
    """From the table the per-class rows were Tab, Tab, Tab, Right, Tab, Tab away (and the way
    back as long); M shows the Model tab with its class table focused, Enter lists a class."""
    s = window.session
    QTest.keyClick(window, Qt.Key.Key_M)
    summary = window.docks["summary"].widget()
    report = summary.model_report
    assert summary.currentIndex() == 1
    assert QApplication.focusWidget() is report.metrics_view
    assert report.metrics_view.currentIndex().isValid()
    QTest.keyClick(report.metrics_view, Qt.Key.Key_Down)
    row = report.metrics_view.currentIndex().row()
    QTest.keyClick(report.metrics_view, Qt.Key.Key_Return)
    assert s.filter.category_ids == frozenset({report.metrics.keys[row]})


def test_tab_leaves_the_model_tabs_tables(window: MainWindow) -> None:
    """Tab in the Model tab's tables walked their cells (twenty-odd rows of five), so the
    keyboard could not get from them to the filter bar or back to the suspects."""
    QTest.keyClick(window, Qt.Key.Key_M)
    report = window.docks["summary"].widget().model_report
    for view in (report.metrics_view, report.confusions_view):
        view.setFocus(Qt.FocusReason.TabFocusReason)
        QTest.keyClick(view, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is not view


def test_the_s_sentence_goes_with_its_suspect(window: MainWindow) -> None:
    """S says which label it selected for 4 s; a quick R moved on and the next suspect's
    canvas still said "carrot #1064648 (the suspect's label) selected" over a spoon."""
    s = window.session
    for _ in range(40):
        if s.current()["annotation_id"] is not None:
            break
        QTest.keyClick(window, Qt.Key.Key_Space)
    QTest.keyClick(window, Qt.Key.Key_S)
    hint = window.canvas.hint
    assert "selected" in hint.note and hint.isVisibleTo(window.canvas)
    QTest.keyClick(window, Qt.Key.Key_Space)
    QApplication.processEvents()
    assert "selected" not in hint.note


def test_the_table_answers_flags_without_enum_arithmetic(window: MainWindow) -> None:
    """Each decision repaints the visible table: ~620 flags() calls, each composing three
    Qt.ItemFlag members with Python's enum ``|`` (~25 µs a call; 17 ms of a decision)."""
    import sys

    ors: list[str] = []

    def count(frame: object, event: str, _arg: object) -> None:
        code = frame.f_code  # type: ignore[attr-defined]
        if event == "call" and code.co_name == "__or__" and code.co_filename.endswith("enum.py"):
            ors.append(code.co_name)

    model = window.table.suspect_model
    sys.setprofile(count)
    try:
        flags = {model.flags(model.index(r, c)) for r in range(20) for c in range(3)}
    finally:
        sys.setprofile(None)
    assert not ors
    assert len(flags) == 1
    (only,) = flags
    assert only & Qt.ItemFlag.ItemIsSelectable and only & Qt.ItemFlag.ItemIsEnabled
