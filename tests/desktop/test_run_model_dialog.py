"""Run a model…: the dialog shows the model's family, input size and class mapping; mapping
edits reach the run; Cancel leaves the project as it was; without onnxruntime it says how to
get it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from predict_project_data import detect_model, write_dataset

from labelfix.core import project
from labelfix.core.store import Store
from labelfix.desktop.run_model import IGNORE, RunModelDialog

RUN_TIMEOUT = 180_000  # ms: a child process, a model and an analysis on a loaded machine


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    labels, images = write_dataset(tmp_path / "data", 6)
    path = tmp_path / "p.labelfix"
    project.import_project(path, labels, images)
    return path


def open_dialog(qtbot: object, path: Path, model: Path | None) -> RunModelDialog:
    dialog = RunModelDialog(path, model=model)
    qtbot.addWidget(dialog)
    dialog.show()
    if model is not None:
        qtbot.waitUntil(lambda: dialog.inspection is not None or dialog.problems.isVisible())
    return dialog


def test_the_dialog_shows_the_family_the_input_size_and_the_mapping(
    qtbot: object, dataset: Path, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, dataset, detect_model(tmp_path / "yolo.onnx"))
    assert "Ultralytics YOLOv8 / YOLO11 detection" in dialog.info.text()
    assert "images fitted to 640x640" in dialog.info.text()
    assert dialog.table.rowCount() == 3
    assert [dialog.table.item(r, 0).text() for r in range(3)] == [
        "0: person",
        "1: bicycle",
        "2: car",
    ]
    assert dialog.table.cellWidget(1, 1).currentText() == IGNORE
    assert dialog.class_map() == {0: 1, 1: None, 2: 3}
    assert "2 of 3 model classes map" in dialog.mapping_status.text()
    assert "bicycle" in dialog.mapping_status.text()
    assert dialog.name.text() == "yolo" and dialog.run_button.isEnabled()
    assert "not trained on these labels" in dialog.hint.text()


def test_mapping_edits_reach_the_run_and_the_set_is_analysed(
    qtbot: object, dataset: Path, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, dataset, detect_model(tmp_path / "yolo.onnx"))
    dialog.set_category(1, 3)  # bicycle -> car
    dialog.set_category(2, None)  # car: ignored
    assert dialog.class_map() == {0: 1, 1: 3, 2: None}
    assert "ignored: car" in dialog.mapping_status.text()
    with qtbot.waitSignal(dialog.completed, timeout=RUN_TIMEOUT) as done:
        assert dialog.start()
    result = done.args[0]
    assert result.report.predicted == 6 and result.analysis.summary.predictions > 0
    with Store.open(dataset, readonly=True) as store:
        arrays = store.prediction_arrays(store.resolve_set("yolo"))
        # anchors 0 and 2 are persons; the bicycle anchor is a car now; the car anchor is gone
        assert sorted(arrays["category_id"].tolist()) == [1] * 12 + [3] * 6
        assert store.active_set_id() == store.resolve_set("yolo")
        assert store.current_analysis() is not None


def test_cancel_leaves_the_project_as_it_was(qtbot: object, tmp_path: Path) -> None:
    labels, images = write_dataset(tmp_path / "data", 60)
    path = tmp_path / "p.labelfix"
    project.import_project(path, labels, images)
    dialog = open_dialog(qtbot, path, detect_model(tmp_path / "slow.onnx", work_channels=48))
    assert dialog.start()
    qtbot.waitUntil(lambda: "images/s" in dialog.status.text(), timeout=RUN_TIMEOUT)
    assert not dialog.run_button.isEnabled() and not dialog.model.isEnabled()
    with qtbot.waitSignal(dialog.worker.signals.cancelled, timeout=RUN_TIMEOUT):
        dialog.reject()  # closing the window while the model runs cancels it
    assert dialog.isVisible()
    assert "Cancelled; the project is as it was" in dialog.status.text()
    with Store.open(path, readonly=True) as store:
        assert store.prediction_sets() == []
        (run,) = store.prediction_runs()
    assert 0 < run["done"] < 60
    # the count kept aside as the project has it (the last progress report can lag behind)
    qtbot.waitUntil(lambda: f"predicted {run['done']} of 60 images" in dialog.status.text())
    assert "Cancelled; the project is as it was" in dialog.status.text()
    qtbot.waitUntil(dialog.run_button.isEnabled)


def test_a_model_that_cannot_be_used_is_said_in_the_dialog(
    qtbot: object, dataset: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    dialog = open_dialog(qtbot, dataset, junk)
    assert dialog.problems.isVisible()
    assert "junk.onnx: not a usable ONNX model" in dialog.problems.toPlainText()
    assert not dialog.run_button.isEnabled()


def test_a_taken_name_or_nothing_mapped_disables_run(
    qtbot: object, dataset: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r.json"
    results.write_text(json.dumps([]))
    with Store.open(dataset) as store:
        project.add_predictions(store, results, "yolo")
    dialog = open_dialog(qtbot, dataset, detect_model(tmp_path / "yolo.onnx"))
    assert dialog.name.text() == "yolo-2" and dialog.run_button.isEnabled()
    dialog.name.setText("yolo")
    assert not dialog.run_button.isEnabled() and "already has" in dialog.run_button.toolTip()
    dialog.name.setText("yolo-3")
    for index in (0, 2):
        dialog.set_category(index, None)
    assert not dialog.run_button.isEnabled()
    assert "No model class maps" in dialog.mapping_status.text()


def test_without_onnxruntime_the_dialog_says_how_to_get_it(
    qtbot: object, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime: ImportError
    model = detect_model(tmp_path / "yolo.onnx")
    dialog = RunModelDialog(dataset, model=model)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.missing.isVisible()
    assert "pip install onnxruntime" in dialog.missing.text()
    assert dialog.inspection is None and not dialog.run_button.isEnabled()


BLOCKED = """
import sys
sys.modules["onnxruntime"] = None  # as if it were not installed
from labelfix.cli import main
main()
"""


def test_the_app_runs_without_onnxruntime(demo_project: Path, tmp_path: Path) -> None:
    """From source without onnxruntime: the window opens, and labelfix predict says what to do."""
    smoke = subprocess.run(
        [sys.executable, "-c", BLOCKED, "open", str(demo_project), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert smoke.returncode == 0, smoke.stderr
    r = subprocess.run(
        [sys.executable, "-c", BLOCKED, "predict", str(demo_project), "--model",
         str(detect_model(tmp_path / "m.onnx")), "--name", "x"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 2 and "pip install onnxruntime" in r.stderr


def test_leaving_the_model_field_unchanged_keeps_run_enabled(
    qtbot: object, dataset: Path, tmp_path: Path
) -> None:
    """The model path is filled in (File > New project) and the cursor is in its field: the
    click on Run and analyse moves the focus, and the field's editingFinished must not read
    the same model again (that disabled Run under the pointer and swallowed the click)."""
    dialog = open_dialog(qtbot, dataset, detect_model(tmp_path / "yolo.onnx"))
    seen = dialog.inspect_worker
    dialog.model.edit.editingFinished.emit()  # focus left the field, text as it was
    dialog.classes.edit.editingFinished.emit()
    dialog.imgsz.editingFinished.emit()
    assert dialog.run_button.isEnabled() and dialog.inspect_worker is seen
    dialog.family.setCurrentIndex(dialog.family.findData("yolov5"))  # a change: read again
    assert dialog.inspect_worker is not seen and not dialog.run_button.isEnabled()


def test_a_model_already_run_on_the_project_is_said(
    qtbot: object, dataset: Path, tmp_path: Path
) -> None:
    """Opening Run a model with a model the project already has a set from says so (a user
    who does not remember the last run would add the same predictions again)."""
    model = detect_model(tmp_path / "yolo.onnx")
    project.predict(dataset, model, "yolo")
    dialog = open_dialog(qtbot, dataset, model)
    assert dialog.name.text() == "yolo-2" and dialog.run_button.isEnabled()
    assert "already has the prediction set 'yolo' from yolo.onnx" in dialog.status.text()
    other = detect_model(tmp_path / "other.onnx")
    dialog.model.set_path(other)
    dialog.inspect()
    qtbot.waitUntil(lambda: dialog.name.text() == "other")
    assert "already has" not in dialog.status.text()


def test_a_model_that_cannot_be_used_hides_the_empty_mapping_and_squeezes_nothing(
    qtbot: object, dataset: Path, tmp_path: Path
) -> None:
    """A wrong family for the model: the reason shows under "This model cannot be used:"
    without an empty class mapping table between them, without the last inspection's note,
    and without squeezing the settings (seen at 1024x700: spin boxes cut in half)."""
    model = detect_model(tmp_path / "yolo.onnx")
    project.predict(dataset, model, "yolo")
    dialog = open_dialog(qtbot, dataset, model)
    assert "already has" in dialog.status.text()
    dialog.family.setCurrentIndex(dialog.family.findData("yolox"))
    qtbot.waitUntil(dialog.problems.isVisible)
    assert "not a YOLOX head" in dialog.problems.toPlainText()
    assert not dialog.table.isVisible() and not dialog.mapping_caption.isVisible()
    assert dialog.status.text() == ""
    qtbot.wait(50)
    for spin in (dialog.conf, dialog.iou, dialog.max_dets, dialog.imgsz):
        assert spin.height() >= spin.minimumSizeHint().height()
    # the reason right under its heading, not a table's height below it
    gap = dialog.problems.geometry().top() - dialog.info.geometry().bottom()
    assert gap < 4 * dialog.fontMetrics().height()
    dialog.family.setCurrentIndex(0)  # detect it again: the mapping is back
    qtbot.waitUntil(dialog.table.isVisible)
    assert dialog.mapping_caption.isVisible() and not dialog.problems.isVisible()


def test_a_hugging_face_export_shows_its_family_resize_and_folder_name(
    qtbot: object, dataset: Path, tmp_path: Path
) -> None:
    import numpy as np
    from onnx_models import constant_model

    folder = tmp_path / "detr-resnet-50"
    folder.mkdir()
    config = {"model_type": "detr", "id2label": {"0": "person", "1": "bicycle", "2": "car"}}
    (folder / "config.json").write_text(json.dumps(config))
    outputs = {
        "logits": np.zeros((1, 10, 4), np.float32),
        "pred_boxes": np.zeros((1, 10, 4), np.float32),
    }
    model = constant_model(
        folder / "model.onnx", outputs, input_name="pixel_values", input_shape=[1, 3, "h", "w"]
    )
    dialog = open_dialog(qtbot, dataset, model)
    text = dialog.info.text()
    assert "Hugging Face DETR" in text and "config.json model_type detr" in text
    assert "images fitted to short side 800, long side at most 1333" in text
    assert dialog.name.text() == "detr-resnet-50" and dialog.table.rowCount() == 3
