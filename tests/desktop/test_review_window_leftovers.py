"""Leftovers of the review window's walkthroughs: the Model tab names its single prediction
set, a damaged JPEG's note stays on the canvas (the status bar keeps its counts), and a
wrong_class whose predicted class is a weak guess says so in the inspector."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

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


