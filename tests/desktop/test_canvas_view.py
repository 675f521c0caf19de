"""What the canvas shows of a suspect: framing with context and Z to the object, the three
strengths of outlines (H and O), the message of a missing image where the view is, the class a
drawn label will get."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest

from labelfix.core.store import Store
from labelfix.desktop.canvas.framing import (
    CONTEXT_FILL,
    CONTEXT_MAX_SCALE,
    OBJECT_FILL,
    OBJECT_MAX_SCALE,
    fit_scale,
    frame_box,
)
from labelfix.desktop.canvas.items import TagItem
from labelfix.desktop.canvas.scene import (
    FAINT_PREDICTION,
    MAX_PREDICTION_TAGS,
    NORMAL_PREDICTION,
)
from labelfix.desktop.canvas.view import CanvasView
from labelfix.desktop.main_window import MainWindow
from labelfix.desktop.session import Session


# ---------------------------------------------------------------------- framing arithmetic
def test_a_suspect_fills_forty_percent_of_the_view() -> None:
    frame = frame_box((300, 200, 50, 20), (1000, 800), (600, 400))
    assert frame.scale * 50 / 600 == pytest.approx(CONTEXT_FILL)  # width is the tighter side
    assert (frame.cx, frame.cy) == (325, 210)


def test_the_frame_stays_on_the_image_at_its_edges() -> None:
    frame = frame_box((0, 0, 40, 40), (1000, 800), (600, 400))
    x, y, w, h = frame.visible(600, 400)
    assert (x, y) == pytest.approx((0, 0))  # shifted in: no background beside the suspect
    assert w < 1000 and h < 800
    frame = frame_box((960, 780, 40, 20), (1000, 800), (600, 400))
    x, y, w, h = frame.visible(600, 400)
    assert (x + w, y + h) == pytest.approx((1000, 800))


def test_big_suspects_fit_the_image_and_tiny_ones_are_not_blown_up() -> None:
    fit = fit_scale(1000, 800, 600, 400)
    big = frame_box((0, 0, 900, 700), (1000, 800), (600, 400))
    assert big.scale == fit and (big.cx, big.cy) == (500, 400)
    tiny = frame_box((500, 400, 1, 1), (1000, 800), (600, 400))
    assert tiny.scale == CONTEXT_MAX_SCALE
    small_image = frame_box((10, 10, 5, 5), (40, 30), (600, 400))
    assert small_image.scale == fit_scale(40, 30, 600, 400)  # never below the fit


# ---------------------------------------------------------------------- the real canvas
@pytest.fixture
def canvas(qtbot: object, demo_project: Path) -> CanvasView:
    """A shown 700x500 canvas following the demo project's session."""
    session = Session.open(demo_project)
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    with qtbot.waitSignal(view.imageShown, timeout=10_000):
        view.attach(session)
    yield view
    view.attach(None)
    session.close()


def filled(view: CanvasView) -> float:
    """The share of the view the suspect's boxes fill (along their tighter side)."""
    rect = view.viewportTransform().mapRect(view.review_scene.focus_rect)
    vp = view.viewport().rect()
    return max(rect.width() / vp.width(), rect.height() / vp.height())


def test_framing_and_z_and_z_again(canvas: CanvasView) -> None:
    session = canvas.session
    seen = 0
    vp = canvas.viewport().rect()
    for row in range(min(session.row_count(), 12)):
        session.select_row(row)
        canvas.refresh()
        scene = canvas.review_scene
        image = scene.sceneRect()
        fit = fit_scale(image.width(), image.height(), vp.width(), vp.height())
        scale = canvas.transform().m11()
        assert scale >= fit * 0.999
        if scale > fit * 1.001 and scale < CONTEXT_MAX_SCALE * 0.999:
            assert filled(canvas) == pytest.approx(CONTEXT_FILL, abs=0.01)
            seen += 1
        visible = canvas.visible_scene_rect()
        if scale > fit * 1.001:  # zoomed in: the view stays on the image
            assert image.adjusted(-1, -1, 1, 1).contains(visible)
        # a tag clamped flush to the view's edge maps back with float error (1e-13 px)
        viewport = QRectF(canvas.viewport().rect()).adjusted(-0.01, -0.01, 0.01, 0.01)
        for tag in scene.tags:
            if tag.suspect_own:  # the suspect's tags are inside the view
                w, h = tag.item.size()
                top_left = canvas.viewportTransform().map(tag.item.pos())
                assert viewport.contains(QRectF(top_left.x(), top_left.y(), w, h))
        canvas.zoom_to_suspect()
        assert filled(canvas) == pytest.approx(OBJECT_FILL, abs=0.01) or (
            canvas.transform().m11() == pytest.approx(OBJECT_MAX_SCALE)  # a small object
        )
        canvas.zoom_to_suspect()  # Z again: back to the context
        assert canvas.transform().m11() == pytest.approx(scale)
    assert seen >= 3


def test_other_predictions_are_faint_until_o_and_h_keeps_the_suspects_own(
    qtbot: object, canvas: CanvasView
) -> None:
    scene = canvas.review_scene
    session = canvas.session
    for row in range(session.row_count()):  # a suspect whose other predictions get tags
        if row:
            with qtbot.waitSignal(canvas.imageShown, timeout=3000, raising=False):
                session.select_row(row)
        drawn = [i for i in scene.predictions_layer.childItems() if not isinstance(i, TagItem)]
        own_prediction = session.suspect_at(row)["prediction_id"] is not None
        if own_prediction and 1 <= len(drawn) < MAX_PREDICTION_TAGS:
            break
    others = [i for i in scene.predictions_layer.childItems() if not isinstance(i, TagItem)]
    assert others
    assert all(i.pen().color().alpha() == FAINT_PREDICTION[1] for i in others)
    assert not scene.prediction_tags.childItems()  # faint ones carry no tag
    own = scene.suspect_layer.childItems()
    assert len(own) == 1 and own[0].pen().widthF() == 3.0
    canvas.toggle_other_predictions()
    others = [i for i in scene.predictions_layer.childItems() if not isinstance(i, TagItem)]
    assert all(i.pen().color().alpha() == NORMAL_PREDICTION[1] for i in others)
    assert scene.prediction_tags.childItems()
    canvas.toggle_predictions()  # H
    assert not scene.predictions_layer.isVisible() and not scene.prediction_tags.isVisible()
    assert scene.suspect_layer.isVisible() and scene.suspect_tags.isVisible()
    assert all(t.item.isVisible() for t in scene.tags if t.item.parentItem() is scene.suspect_tags)
    canvas.toggle_predictions()
    canvas.toggle_other_predictions()
    assert not scene.prediction_tags.childItems()


def test_the_missing_image_message_is_where_the_view_is(
    qtbot: object, demo_project: Path, tmp_path: Path
) -> None:
    with Store.open(demo_project) as store, store.atomic():
        store.set_meta("images_root", str(tmp_path))  # no image is there
    session = Session.open(demo_project)
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    view.attach(session)
    qtbot.waitUntil(lambda: view.review_scene.message is not None, timeout=10_000)
    rows, images = [], {session.current()["image_id"]}
    for row in range(session.row_count()):
        if session.suspect_at(row)["image_id"] not in images and len(rows) < 10:
            images.add(session.suspect_at(row)["image_id"])
            rows.append(row)
    off_centre = 0
    for row in [None, *rows]:
        if row is not None:
            with qtbot.waitSignal(view.imageShown, timeout=10_000):
                session.select_row(row)
        scene = view.review_scene
        assert "image file not found" in scene.message.text
        visible = view.visible_scene_rect()
        centre = scene.sceneRect().center()
        off_centre += not visible.contains(centre)  # where the message used to be
        assert visible.contains(scene.message.pos())
        view.zoom_in()
        view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())
        assert view.visible_scene_rect().contains(scene.message.pos())
    assert off_centre >= 1  # some suspects are framed away from the image centre
    view.attach(None)
    session.close()


def test_the_tool_hint_names_the_class_a_new_label_gets(
    qtbot: object, open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    win = open_window(demo_project)
    s, canvas = win.session, win.canvas
    messages: list[str] = []
    canvas.message.connect(messages.append)
    QTest.keyClick(win, Qt.Key.Key_W)
    name = s.category_names[s.labels.current_draw_category()]
    assert canvas.tool_badge.isVisible() and name in canvas.tool_badge.text()
    canvas.zoom_in()
    canvas.horizontalScrollBar().setValue(canvas.horizontalScrollBar().maximum())
    canvas.verticalScrollBar().setValue(canvas.verticalScrollBar().maximum())
    assert canvas.rect().contains(canvas.tool_badge.geometry())  # panning does not move it
    assert f"becomes a {name} label" in messages[-1]
    other = next(c for c in s.category_names if c != s.labels.current_draw_category())
    s.labels.draw_category = other
    canvas.update_tool_hint()
    assert s.category_names[other] in canvas.tool_badge.text()
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.tool_badge.isVisible()
