"""The canvas's own sentences (why an edit was not made, a tool's use, a toggle, which image it
shows) are a hint on the canvas, not a status-bar message: the status bar hid its counts
(listed · open · accepted ...) for 6 s each time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSizeF
from PySide6.QtWidgets import QApplication

from labelfix.desktop.main_window import MainWindow

SIZES = [(1400, 900), (1024, 700)]


def settle(qtbot: object) -> None:
    qtbot.wait(60)
    QApplication.processEvents()


def counts_stay(window: MainWindow) -> None:
    assert window.statusBar().currentMessage() == ""
    assert window.counts.isVisible() and "listed" in window.counts.text()


def in_canvas(window: MainWindow, widget: object) -> bool:
    canvas = window.canvas
    return QRect(0, 0, canvas.width(), canvas.height()).contains(widget.geometry())


@pytest.mark.parametrize("size", SIZES)
def test_canvas_sentences_are_hints_and_the_counts_stay(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object, size: tuple
) -> None:
    window = open_window(demo_project, size=size)
    s, canvas = window.session, window.canvas
    s.select_row(0)
    qtbot.waitUntil(lambda: canvas.shown_image_id == s.current()["image_id"], timeout=10_000)
    canvas.nudge(-1, 0)  # no label selected: refused, and said why
    settle(qtbot)
    counts_stay(window)
    hint = canvas.hint
    assert hint.isVisible() and hint.text() == "S selects the suspect's label to move it"
    assert in_canvas(window, hint) and hint.height() >= hint.heightForWidth(hint.width())
    assert hint.height() < 2 * hint.fontMetrics().lineSpacing()  # a short sentence: one line
    counts_stay(window)
    canvas.set_tool("box")
    settle(qtbot)
    assert hint.text().startswith("Box tool: drag a rectangle")
    counts_stay(window)
    canvas.set_tool("")
    canvas.toggle_other_predictions()
    settle(qtbot)
    assert hint.text().startswith("Other predictions: ")
    counts_stay(window)
    hint.timer.setInterval(50)  # a passing sentence goes by itself
    canvas.toggle_other_predictions()
    qtbot.waitUntil(lambda: not hint.isVisible(), timeout=2000)
    counts_stay(window)


def test_another_image_shown_is_said_while_it_is_shown(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    """ "Showing X for the edited label; Space returns ..." lasted 6 s in the status bar
    while the canvas could show the other image for minutes."""
    window = open_window(demo_project, size=(1024, 700))
    s, canvas = window.session, window.canvas
    s.select_row(0)
    qtbot.waitUntil(lambda: canvas.shown_image_id == s.current()["image_id"], timeout=10_000)
    here = s.current()["image_id"]
    other = next(i for i in s.store.images() if i["id"] != here)
    label = s.store.annotations_for_image(other["id"])[0]
    s.show_label(other["id"], label["id"])
    qtbot.waitUntil(lambda: canvas.shown_image_id == other["id"], timeout=10_000)
    counts_stay(window)
    hint = canvas.hint
    assert hint.isVisible() and other["file_name"] in hint.text()
    assert "Space returns to the selected suspect" in hint.text()
    hint.timer.setInterval(50)
    canvas.remove_vertex()  # a passing sentence, then the standing one again
    qtbot.wait(300)
    assert hint.isVisible() and other["file_name"] in hint.text()
    s.show_label(here, None)
    qtbot.waitUntil(lambda: canvas.shown_image_id == here, timeout=10_000)
    assert not hint.isVisible()


def test_keys_about_the_canvas_say_so_on_the_canvas(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    """V with one form of the fix, and E with no label, said it in the status bar."""
    window = open_window(demo_project, size=(1024, 700))
    s, canvas = window.session, window.canvas
    rows = [r for r in range(s.row_count()) if s.suspect_at(r)["kind"] == "wrong_class"]
    s.select_row(rows[0])
    qtbot.waitUntil(lambda: canvas.shown_image_id == s.current()["image_id"], timeout=10_000)
    window.cycle_fix()
    settle(qtbot)
    counts_stay(window)
    assert canvas.hint.isVisible() and "only one form" in canvas.hint.text()


def test_a_click_inside_a_selected_crowd_mask_is_no_edit_refused(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    """A click inside a selected crowd mask, on another label (to select it), said "Crowd
    masks are read-only" as if the mask had been dragged; only a drag says it now."""
    from tests.desktop.test_editing import drag, show, vp

    window = open_window(demo_project, size=(1400, 900))
    s, canvas = window.session, window.canvas
    crowd = next(a for a in s.store.iter_annotations() if isinstance(a["segmentation"], dict))
    show(qtbot, window, crowd)
    x, y, w, h = crowd["bbox"]
    inside = vp(window, x + w / 2, y + h / 2)
    assert canvas.editor.hit(canvas, QPointF(inside)) is not None  # on the mask body
    drag(window, inside, inside + QPoint(40, 0))  # a drag: the mask does not move
    settle(qtbot)
    assert canvas.hint.isVisible() and "read-only" in canvas.hint.text()
    assert s.store.annotation(crowd["id"])["bbox"] == crowd["bbox"]
    canvas.hint.timer.setInterval(50)
    canvas.say("")  # passes at once
    qtbot.waitUntil(lambda: "read-only" not in canvas.hint.text())
    assert canvas.editor.annotation_id == crowd["id"]
    canvas.hint.timer.setInterval(4000)
    drag(window, inside, inside)  # a click (it may select a smaller label under it)
    settle(qtbot)
    assert "read-only" not in canvas.hint.text()


@pytest.mark.parametrize("size", [(1400, 900), (1600, 800), (1800, 700)])
def test_tags_keep_off_the_canvas_badges(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object, size: tuple
) -> None:
    """The damaged image's note covered the suspect's prediction tag ("person 0.10"). (A
    passing hint moves no tag: they would jump away and back within 4 s.)"""
    from tests.desktop.test_review_window_leftovers import DAMAGED, show_file

    window = open_window(demo_project, size=size)
    canvas = window.canvas
    show_file(window, qtbot, DAMAGED)
    settle(qtbot)
    viewport = canvas.viewport().geometry()  # in the view's pixels, like the badges
    badges = [canvas.image_note.geometry().translated(-viewport.topLeft())]
    assert canvas.image_note.isVisible() and badges[0].isValid()
    to_view = canvas.viewportTransform()
    own = [t for t in canvas.review_scene.tags if t.suspect_own and t.item.isVisible()]
    assert own
    for tag in own:
        top_left = to_view.map(tag.item.pos())
        rect = QRectF(top_left, QSizeF(*tag.item.size())).toAlignedRect()
        for badge in badges:
            assert not rect.intersects(badge), (tag.item.text, rect, badge)
