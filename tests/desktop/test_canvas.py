"""The canvas: highlights, toggles, zoom, masks, missing and corrupt images, prefetch timing."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsPixmapItem

from labelfix.core.store import Store
from labelfix.desktop.canvas.items import TagItem
from labelfix.desktop.canvas.scene import Overlay, ReviewScene
from labelfix.desktop.canvas.view import CanvasView
from labelfix.desktop.session import Session


@pytest.fixture
def canvas(qtbot: object, demo_project: Path) -> CanvasView:
    """A shown canvas following the demo project's session."""
    session = Session.open(demo_project)
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    with qtbot.waitSignal(view.imageShown, timeout=10_000):
        view.attach(session)
    yield view
    view.attach(None)
    session.close()


def test_image_overlay_highlight_toggles_and_zoom(qtbot: object, canvas: CanvasView) -> None:
    scene = canvas.review_scene
    suspect = canvas.session.current()
    assert not scene.image_item.pixmap().isNull()
    assert (
        scene.image_item.pixmap().width()
        == canvas.session.store.image(suspect["image_id"])["width"]
    )
    assert scene.labels_layer.childItems() and scene.predictions_layer.childItems()
    assert scene.suspect_layer.childItems()  # the suspect's own prediction
    assert not scene.focus_rect.isEmpty()
    tags = [i for i in scene.suspect_tags.childItems() if isinstance(i, TagItem)]
    assert any(t.text.endswith(f"{suspect['confidence']:.2f}") for t in tags)
    canvas.toggle_predictions()
    assert not scene.predictions_layer.isVisible()
    assert scene.suspect_layer.isVisible() and all(t.isVisible() for t in tags)  # H keeps it
    canvas.toggle_labels()
    assert not scene.labels_layer.isVisible()
    canvas.toggle_predictions()
    canvas.toggle_labels()
    assert scene.predictions_layer.isVisible() and scene.labels_layer.isVisible()
    canvas.fit()
    fit = canvas.transform().m11()
    canvas.zoom_in()
    assert canvas.transform().m11() == pytest.approx(fit * 1.25)
    canvas.fit()
    assert canvas.transform().m11() == pytest.approx(fit, rel=0.02)
    _select_small_suspect(qtbot, canvas)  # zooming to a suspect as big as its image: no zoom
    canvas.fit()
    fit = canvas.transform().m11()
    canvas.zoom_to_suspect()
    assert canvas.transform().m11() > fit
    assert canvas.visible_scene_rect().intersects(scene.focus_rect)


def _select_small_suspect(qtbot: object, canvas: CanvasView) -> None:
    """Select the first listed suspect whose label and prediction cover under a quarter of
    its image's width and height."""
    session = canvas.session
    for row in range(session.row_count()):
        image = session.store.image(session.suspect_at(row)["image_id"])
        with qtbot.waitSignal(canvas.imageShown, timeout=3000, raising=False):
            session.select_row(row)
        rect = canvas.review_scene.focus_rect
        if (
            not rect.isEmpty()
            and rect.width() < image["width"] / 4
            and rect.height() < image["height"] / 4
        ):
            return
    raise AssertionError("no small suspect listed")


def test_rle_masks_are_drawn_as_overlays(qapp: object) -> None:
    scene = ReviewScene()
    rle = {"size": [40, 50], "counts": [0, 10, 40, 10, 40, 10, 1890]}
    overlay = Overlay(
        1,
        50,
        40,
        labels=[
            {"id": 3, "category_id": 1, "bbox": [0, 0, 3, 10], "segmentation": rle, "iscrowd": 1}
        ],
        names={1: "person"},
        annotation_id=3,
    )
    scene.set_overlay(overlay)
    masks = [i for i in scene.labels_layer.childItems() if isinstance(i, QGraphicsPixmapItem)]
    assert len(masks) == 1 and masks[0].pixmap().width() == 50
    assert scene.focus_rect == QRectF(0, 0, 3, 10)


def test_missing_and_corrupt_images_show_a_placeholder(
    qtbot: object, demo_project: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "images"
    broken.mkdir()
    with Store.open(demo_project) as store:
        first = store.images()[0]
        (broken / first["file_name"]).write_bytes(b"not a jpeg at all")
        with store.atomic():
            store.set_meta("images_root", str(broken))
    session = Session.open(demo_project)
    view = CanvasView()
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.imageShown, timeout=10_000):
        view.attach(session)
    assert view.review_scene.placeholder is not None
    text = view.review_scene.message.text  # the first suspect's image: missing, or the corrupt one
    assert "image file not found" in text or "image file cannot be read" in text
    rows = [
        r for r in range(session.row_count()) if session.suspect_at(r)["image_id"] == first["id"]
    ]
    if rows:
        with qtbot.waitSignal(view.imageShown, timeout=10_000):
            session.select_row(rows[0])
        want = f"{first['file_name']}: image file cannot be read"
        assert want in view.review_scene.message.text
    view.attach(None)
    session.close()


def switch_times(
    qtbot: object, view: CanvasView, steps: int, *, prefetch: bool, think_ms: int
) -> list[float]:
    """Milliseconds from selecting the next image to its pixels on screen."""
    session = view.session
    view.prefetch_enabled = prefetch
    view.loader.clear()
    times = []
    for _ in range(steps):
        image_id = view.image_id
        row = session.current_row()
        nxt = next(
            (
                r
                for r in range(row + 1, session.row_count())
                if session.suspect_at(r)["image_id"] != image_id
            ),
            None,
        )
        if nxt is None:
            break
        qtbot.wait(think_ms)  # the reviewer looks at the image; prefetch works meanwhile
        if not prefetch:
            view.loader.clear()
        with qtbot.waitSignal(view.imageShown, timeout=10_000):
            session.select_row(nxt)
        times.append(view.last_switch_ms)
    return times


def test_image_switch_time_with_and_without_prefetch(canvas: CanvasView, qtbot: object) -> None:
    cold = switch_times(qtbot, canvas, 8, prefetch=False, think_ms=50)
    canvas.session.select_row(0)
    warm = switch_times(qtbot, canvas, 8, prefetch=True, think_ms=150)
    print(
        f"\nimage switch median: {statistics.median(cold):.1f} ms without prefetch, "
        f"{statistics.median(warm):.1f} ms with prefetch ({len(cold)}/{len(warm)} switches)"
    )
    assert statistics.median(warm) <= statistics.median(cold)
    assert len(canvas.loader._cache) <= canvas.loader.capacity
    t = time.perf_counter()
    canvas.refresh()
    assert (time.perf_counter() - t) < 0.5
