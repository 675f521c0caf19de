"""The review window on a small screen (1024x700): it gets that small (a hidden start page and
one-line panel titles kept it at least 1326 px wide, off a laptop's screen), and the filter bar
wraps its controls into rows instead of overlapping or clipping them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect

from labelfix.desktop.main_window import MainWindow


def test_the_review_window_fits_1024x700(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    window = open_window(demo_project, size=(1400, 900))
    assert window.minimumSizeHint().width() <= 1024
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024 and window.height() == 700)
    qtbot.wait(50)
    for dock in window.docks.values():  # every panel on the screen, none cut off on the right
        right = dock.mapTo(window, dock.rect().topRight()).x()
        assert dock.isVisible() and right < window.width(), dock.objectName()
    bar = window.filter_bar
    controls = [
        bar.min_score, bar.min_conf, bar.seed, bar.per_object,
        bar.kinds, bar.classes, bar.iou, bar.status, bar.search,
    ]  # fmt: skip
    boxes = [QRect(c.mapTo(bar, c.rect().topLeft()), c.size()) for c in controls]
    for control, box in zip(controls, boxes, strict=True):
        assert bar.rect().contains(box), type(control).__name__  # whole, inside the bar
        assert box.width() >= control.minimumSizeHint().width()
    for i, a in enumerate(boxes):  # none drawn over another
        assert not any(a.intersects(b) for b in boxes[i + 1 :])
    table = window.table
    assert (
        table.mapTo(window, table.rect().topLeft()).y()
        >= bar.mapTo(window, bar.rect().bottomLeft()).y()
    )  # the table starts below the bar's last row


def test_wide_window_keeps_the_filter_bar_on_two_rows(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    window = open_window(demo_project, size=(1400, 900))
    bar = window.filter_bar
    qtbot.wait(50)
    cuts = [
        c.geometry().center().y() for c in (bar.min_score, bar.min_conf, bar.seed, bar.per_object)
    ]
    choices = [
        c.geometry().center().y() for c in (bar.kinds, bar.classes, bar.iou, bar.status, bar.search)
    ]
    assert max(cuts) - min(cuts) <= 2 and max(choices) - min(choices) <= 2  # two rows
    assert min(choices) > max(cuts) + 10  # the choices below the cuts
