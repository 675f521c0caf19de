"""A window made narrower keeps room for the canvas: the docks kept their widths and the
canvas was squeezed to a sliver (about 80 px of a 900 px window)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from labelfix.desktop.main_window import CANVAS_SHARE


def test_the_canvas_keeps_its_share_when_the_window_shrinks(
    qtbot: object, demo_project: Path, open_window: Callable[..., object]
) -> None:
    window = open_window(demo_project, size=(1400, 900))
    qtbot.waitUntil(lambda: window.canvas.width() > 0)
    wide = window.centralWidget().width()
    assert wide >= 1400 * CANVAS_SHARE
    left, right = window.docks["suspects"].width(), window.docks["inspector"].width()
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.width() <= 900)
    qtbot.wait(100)
    assert window.centralWidget().width() >= 900 * CANVAS_SHARE - 10, (
        window.centralWidget().width(),
        window.docks["suspects"].width(),
        window.docks["inspector"].width(),
    )
    # the docks gave room in proportion (the left one stays the wider)
    assert (window.docks["suspects"].width() > window.docks["inspector"].width()) == (left > right)
    window.resize(1400, 900)  # widening again leaves the docks as they are: the canvas grows
    qtbot.waitUntil(lambda: window.width() >= 1400)
    qtbot.wait(100)
    assert window.centralWidget().width() >= 1400 * CANVAS_SHARE
