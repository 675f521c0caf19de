"""The Model tab's sentence on whether the prediction set's scores are comparable across
classes (core.score_scale), and the Analyse dialog's opt-in "Scores: comparable across
classes" (AnalysisParams.scores); with several sets, each set's weight and how dependent the
sets are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from demo_copies import private_copy, with_shifted_set
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from labelfix.core import score_scale
from labelfix.core.analysis_report import dependence_sentence, set_weights, weight_sentence
from labelfix.core.errors import AnalysisParams
from labelfix.desktop import jobs
from labelfix.desktop.dialogs import ThresholdsDialog
from labelfix.desktop.main_window import MainWindow


def test_the_analyse_dialog_turns_comparable_scores_on_and_off(qtbot: object) -> None:
    dialog = ThresholdsDialog(AnalysisParams())
    qtbot.addWidget(dialog)
    assert not dialog.comparable.isChecked()  # off by default
    assert dialog.params() == AnalysisParams()
    dialog.comparable.setChecked(True)
    assert dialog.params() == AnalysisParams(scores="comparable")
    again = ThresholdsDialog(dialog.params())  # the last analysis's choice shown again
    qtbot.addWidget(again)
    assert again.comparable.isChecked()
    again.comparable.setChecked(False)
    assert again.params().scores == "per-class"


def _sentence(window: MainWindow) -> str:
    summary = window.docks["summary"].widget()
    summary.setCurrentIndex(1)
    note = summary.model_report.scale_note
    assert note.isVisibleTo(summary)
    return note.text()


def test_the_model_tab_says_whether_the_scores_are_comparable(
    open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    window = open_window(demo_project)
    s = window.session
    stored, _ = s.analysis_report()
    (part,) = stored["sets"].values()
    scale = part["score_scale"]
    option = '"Scores: comparable across classes" (Analyse with thresholds…)'
    expected = score_scale.sentence(scale["pooled_loss"], scale["class_loss"], False, option)
    assert _sentence(window) == expected
    assert expected.startswith("Scores ") and f"{scale['pooled_loss']:.3f}" in expected
    # analysed again with the option: the sentence says it is on
    result = jobs.analyze_project(demo_project, replace(s.analysis_params(), scores="comparable"))
    s.set_index(result.index)
    on = score_scale.sentence(scale["pooled_loss"], scale["class_loss"], True, option)
    assert _sentence(window) == on != expected
    assert s.analysis_params().scores == "comparable"


def test_the_model_tab_says_how_much_each_sets_suspects_weigh(
    open_window: Callable[..., MainWindow], two_sets_project: Path
) -> None:
    """Analysed with two sets, the Model tab gives each set's recall and the weight its
    suspects carry in the merged ranking (score version 13), as ``labelfix report`` does."""
    window = open_window(two_sets_project)
    stored, _ = window.session.analysis_report()
    weights = set_weights(stored, window.session.analysis_params().score_version)
    assert sorted(weights.values())[-1] == 1.0 and len(weights) == 2
    report = window.docks["summary"].widget().model_report
    for i in range(report.set_choice.count()):
        report.set_choice.setCurrentIndex(i)
        key = str(report.set_choice.itemData(i))
        expected = weight_sentence(stored["sets"][key]["recall"], weights[key])
        assert expected in report.summary.text() and "weigh" in expected


def test_the_model_tab_says_how_dependent_the_sets_are(
    open_window: Callable[..., MainWindow], two_sets_project: Path, demo_project: Path
) -> None:
    """Analysed with two sets (score version 14), the Model tab says how often their
    missing-label candidates coincide and how many independent sets they count as, in
    ``labelfix report``'s words, whichever set is chosen; one set: no such sentence."""
    window = open_window(two_sets_project)
    stored, _ = window.session.analysis_report()
    assert window.session.analysis_params().score_version >= 14
    expected = dependence_sentence(2, stored["dependence"])
    summary = window.docks["summary"].widget()
    summary.setCurrentIndex(1)
    report = summary.model_report
    for i in range(report.set_choice.count()):
        report.set_choice.setCurrentIndex(i)
        assert report.dependence_note.isVisibleTo(summary)
        assert report.dependence_note.text() == expected
    assert "The 2 sets' missing-label candidates coincide" in expected
    alone = open_window(demo_project).docks["summary"].widget()
    alone.setCurrentIndex(1)
    assert not alone.model_report.dependence_note.isVisibleTo(alone)


@pytest.fixture(scope="module")
def built_long_names(built_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with a second set of a long name, analysed with both sets."""
    folder = tmp_path_factory.mktemp("long_set_name")
    return with_shifted_set(
        built_demo, folder, "centernet-mobilenetv3-coco80-run1", square_scores=True
    )


def test_a_narrow_model_tab_clips_nothing_at_the_right(
    open_window: Callable[..., MainWindow], built_long_names: Path, tmp_path: Path, qtbot: object
) -> None:
    """The set chooser held the Model tab as wide as its longest set name: in a summary panel
    of 250 px (1280x800 under openbox) the page ran under the panel's right edge, cutting the
    summary's and the dependence sentence's lines (the tab scrolls only up and down)."""
    window = open_window(private_copy(built_long_names, tmp_path / "long.labelfix"), (1280, 800))
    dock = window.docks["summary"]
    summary = dock.widget()
    summary.setCurrentIndex(1)
    window.resizeDocks([dock], [230], Qt.Orientation.Horizontal)
    qtbot.wait(60)
    QApplication.processEvents()
    assert dock.width() <= 260
    area = summary.widget(1)
    assert area.widget().width() <= area.viewport().width()
    report = summary.model_report
    assert report.set_choice.isVisibleTo(summary) and report.dependence_note.isVisibleTo(summary)
