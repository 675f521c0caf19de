"""Leftovers of the review window's walkthroughs: the Model tab names its single prediction
set, a damaged JPEG's note stays on the canvas (the status bar keeps its counts), and a
wrong_class whose predicted class is a weak guess says so in the inspector."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from labelfix.core.suspects import KINDS
from labelfix.desktop.inspector import WEAK_GUESS
from labelfix.desktop.main_window import MainWindow

SIZES = [(1400, 900), (1024, 700)]
DAMAGED = "000000000544"  # the demo's image with damaged JPEG data


def settle(qtbot: object) -> None:
    qtbot.wait(60)  # the inspector and the summary follow the session a moment later
    QApplication.processEvents()


def model_tab(window: MainWindow) -> object:
    summary = window.docks["summary"].widget()
    summary.setCurrentIndex(1)
    QApplication.processEvents()
    return summary.model_report


# ---------------------------------------------------------------- 1. the Model tab's set
def test_the_model_tab_names_its_only_prediction_set(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    """With one set the heading read "Prediction set" and nothing said which."""
    window = open_window(demo_project)
    report = model_tab(window)
    settle(qtbot)
    (only,) = window.session.prediction_sets()
    assert not report.set_choice.isVisible()
    assert report.set_heading.isVisible()
    assert only["name"] in report.set_heading.text()


def test_with_two_sets_the_box_names_the_set(
    open_window: Callable[..., MainWindow], two_sets_project: Path, qtbot: object
) -> None:
    window = open_window(two_sets_project)
    report = model_tab(window)
    settle(qtbot)
    assert report.set_choice.isVisible() and report.set_choice.count() == 2
    names = {s["name"] for s in window.session.prediction_sets()}
    assert report.set_choice.currentText() in names
    assert not any(name in report.set_heading.text() for name in names)  # the box says it


# ---------------------------------------------------------------- 2. a damaged JPEG's note
def show_file(window: MainWindow, qtbot: object, file_name: str) -> None:
    s, canvas = window.session, window.canvas
    s.set_filter(s.filter.with_(min_score=0.0, per_object=False, file_name=file_name))
    assert s.row_count() > 0, file_name
    s.select_row(0)
    qtbot.waitUntil(lambda: canvas.shown_image_id == s.current()["image_id"], timeout=10_000)
    settle(qtbot)


@pytest.mark.parametrize("size", SIZES)
def test_a_damaged_jpeg_note_stays_on_the_canvas_and_the_counts_stay(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object, size: tuple
) -> None:
    """The note went to the status bar for 6 s each time the image was shown and hid the
    counts (listed · open · accepted ...); it belongs to the image, while it is shown."""
    window = open_window(demo_project, size=size)
    canvas, bar = window.canvas, window.statusBar()
    note = canvas.image_note
    listed = {int(i) for i in window.session.index.image_id}
    other = next(
        r["file_name"].rsplit(".", 1)[0]
        for r in window.session.store.images()
        if DAMAGED not in r["file_name"] and r["id"] in listed
    )
    for _ in range(2):  # shown again (from the loader's cache) says it again
        show_file(window, qtbot, DAMAGED)
        assert note.isVisible()
        assert note.text().startswith("Image: the JPEG data is damaged")
        assert note.text().endswith("; parts of the image show garbage")
        assert "(Corrupt JPEG data: " in note.note  # a narrow canvas leaves the details out
        assert QRect(0, 0, canvas.width(), canvas.height()).contains(note.geometry())
        assert note.height() >= note.heightForWidth(note.width())  # not clipped
        assert bar.currentMessage() == ""
        assert window.counts.isVisible() and "listed" in window.counts.text()
        show_file(window, qtbot, other)
        assert not note.isVisible()
        assert window.counts.isVisible()


def test_a_narrow_canvas_shows_the_note_without_its_details(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    window = open_window(demo_project)
    show_file(window, qtbot, DAMAGED)
    note = window.canvas.image_note
    window.canvas.resize(900, 600)
    QApplication.processEvents()
    assert "(Corrupt JPEG data" in note.text()  # the whole note fits a wide canvas
    window.canvas.resize(160, 400)
    QApplication.processEvents()
    assert note.text() == "Image: the JPEG data is damaged; parts of the image show garbage"
    assert note.width() <= 160 and note.height() >= note.heightForWidth(note.width())


# ---------------------------------------------------------------- 3. a weak wrong_class
def wrong_class_where(window: MainWindow, weak: bool) -> int:
    s = window.session
    index = s.index
    s.set_filter(s.filter.with_(min_score=0.0, per_object=False))
    wrong = index.kind == KINDS.index("wrong_class")
    prob = index.probability
    hit = wrong & ~np.isnan(prob) & ((prob < WEAK_GUESS) if weak else (prob >= WEAK_GUESS))
    positions = np.flatnonzero(hit)
    assert len(positions), f"the demo has no wrong_class with weak={weak}"
    return int(index.ids[positions[0]])


def test_a_wrong_class_with_a_weak_predicted_class_says_so(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    """ "sheep → horse" with calibrated probability 0.01 offered A like a sure fix; such a
    suspect says the detector does not support the label's class, not that it is a horse."""
    window = open_window(demo_project)
    s = window.session
    s.select_id(wrong_class_where(window, weak=True))
    settle(qtbot)
    current = s.current()
    names = s.category_names
    hint = window.docks["inspector"].widget().hint.text()
    assert (
        f"The detector's class is a weak guess (probability {current['probability']:.2f})" in hint
    )
    assert "check the class before accepting; F flags it" in hint
    # what A does is said as before, and unchanged
    assert f"the class {names[current['predicted_category_id']]}" in hint


def test_a_wrong_class_with_a_likely_predicted_class_says_nothing_more(
    open_window: Callable[..., MainWindow], demo_project: Path, qtbot: object
) -> None:
    window = open_window(demo_project)
    s = window.session
    s.select_id(wrong_class_where(window, weak=False))
    settle(qtbot)
    hint = window.docks["inspector"].widget().hint.text()
    assert "weak guess" not in hint and hint.startswith("A gives label #")
