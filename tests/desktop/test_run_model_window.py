"""Run a model… from the window's Analyse menu and from New Project (labels + images + model,
no results file): the new prediction set is analysed and shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from predict_project_data import detect_model, write_dataset

from labelfix.core import project
from labelfix.core.store import Store
from labelfix.desktop.dialogs import NewProjectDialog
from labelfix.desktop.main_window import MENUS, MainWindow

RUN_TIMEOUT = 180_000


def test_run_a_model_from_the_analyse_menu(
    qtbot: object, open_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    labels, images = write_dataset(tmp_path / "data", 5)
    path = tmp_path / "p.labelfix"
    project.import_project(path, labels, images)
    window = open_window(path)
    assert "run_model" in MENUS["&Analyse"]
    assert window.actions["run_model"].text() == "Run a model…"
    assert window.session.set_id is None
    window.actions["run_model"].trigger()
    dialog = window.model_dialog
    assert dialog is not None and dialog.isVisible() and dialog.project_path == path
    dialog.model.set_path(detect_model(tmp_path / "det.onnx"))
    dialog.inspect()
    qtbot.waitUntil(lambda: dialog.run_button.isEnabled())
    with qtbot.waitSignal(window.analysisFinished, timeout=RUN_TIMEOUT) as done:
        dialog.start()
    assert done.args[0].predictions == 15
    with Store.open(path, readonly=True) as store:
        assert window.session.set_id == store.resolve_set("det")
    assert window.session.row_count() > 0  # the new set's suspects are listed
    assert "as 'det' and analysed them" in window.statusBar().currentMessage()


def test_new_project_with_a_model_instead_of_predictions(qtbot: object, tmp_path: Path) -> None:
    labels, images = write_dataset(tmp_path / "data", 4)
    model = detect_model(tmp_path / "det.onnx")
    dialog = NewProjectDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    out = tmp_path / "new.labelfix"
    dialog.set_paths(labels, images, None, out)
    dialog.model.set_path(model)
    assert dialog.create_button.text() == "Create, then run the model…"
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.model_dialog is not None, timeout=RUN_TIMEOUT)
    run = dialog.model_dialog
    qtbot.waitUntil(lambda: run.run_button.isEnabled(), timeout=RUN_TIMEOUT)
    assert "2 of 3 model classes map" in run.mapping_status.text()
    with qtbot.waitSignal(dialog.projectCreated, timeout=RUN_TIMEOUT):
        run.start()
    assert dialog.result_path == out
    with Store.open(out, readonly=True) as store:
        assert [s["name"] for s in store.prediction_sets()] == ["det"]
        assert store.current_analysis() is not None


def test_new_project_checks_the_model_field(qtbot: object, tmp_path: Path) -> None:
    labels, images = write_dataset(tmp_path / "data", 2)
    dialog = NewProjectDialog()
    qtbot.addWidget(dialog)
    dialog.set_paths(labels, None, labels, tmp_path / "x.labelfix")
    dialog.model.set_path(tmp_path / "missing.onnx")
    assert not dialog.start()
    assert "give predictions or a model, not both" in dialog.problems.toPlainText()
    dialog.predictions.set_path(None)
    assert not dialog.start()
    assert "missing.onnx: no such file" in dialog.problems.toPlainText()
    dialog.model.set_path(detect_model(tmp_path / "det.onnx"))
    assert not dialog.start()
    assert "a model needs the images" in dialog.problems.toPlainText()


def test_the_message_after_opening_is_not_drawn_over_the_counts(
    qtbot: object, tmp_path: Path
) -> None:
    """A project opened from New project says what the import warned about (or that it has no
    analysis yet) in the status bar; the counts beside it were shown on top of that message
    (both texts drawn over each other) because Qt shows a newly added status bar widget later."""
    labels, images = write_dataset(tmp_path / "data", 2)
    path = tmp_path / "p.labelfix"
    project.import_project(path, labels, images)  # no predictions: "no analysis yet"
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_new_project(path)
    qtbot.wait(50)
    assert "no analysis yet" in window.statusBar().currentMessage()
    assert not window.counts.isVisible()
    window.statusBar().clearMessage()
    assert window.counts.isVisible()
