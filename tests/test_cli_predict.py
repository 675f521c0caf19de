"""``labelfix predict``: the mapping and problems printed, exit codes, Ctrl-C, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from predict_project_data import detect_model, segment_model, unrelated_model, write_dataset

from labelfix.core import project
from labelfix.core.store import Store

COUNT = 6


def labelfix(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "labelfix", *args], capture_output=True, text=True, **kwargs
    )


@pytest.fixture
def dataset(tmp_path):
    labels, images = write_dataset(tmp_path / "data", COUNT)
    out = tmp_path / "p.labelfix"
    project.import_project(out, labels, images)
    return out


def test_predict_prints_the_model_and_mapping_and_adds_a_set(tmp_path, dataset):
    model = detect_model(tmp_path / "det.onnx")
    out = tmp_path / "results.json"
    r = labelfix(
        "predict", str(dataset), "--model", str(model), "--name", "yolo", "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert "model: det.onnx: Ultralytics YOLOv8 / YOLO11 detection" in r.stderr
    assert "images fitted to 640x640" in r.stderr
    assert (
        "2 of 3 model classes map to dataset categories; ignored (no such category): bicycle"
        in (r.stderr)
    )
    assert "mapped: person, car" in r.stderr
    assert "no model class for the categories: dog" in r.stderr
    assert f"added {3 * COUNT} predictions on {COUNT} images as 'yolo'" in r.stderr
    assert len(json.loads(out.read_text())) == 3 * COUNT
    info = labelfix("info", str(dataset))
    assert f"predictions * yolo: {3 * COUNT} (boxes) from {model.resolve()}" in info.stdout


def test_predict_analyze_with_masks(tmp_path, dataset):
    model = segment_model(tmp_path / "seg.onnx")
    r = labelfix("predict", str(dataset), "--model", str(model), "--name", "seg", "--analyze")
    assert r.returncode == 0, r.stderr
    assert "masks and boxes" in r.stderr and "(masks) in" in r.stderr
    suspects = labelfix("suspects", str(dataset), "--format", "json")
    assert suspects.returncode == 0 and suspects.stdout.strip()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: (p.write_bytes(b"junk"), p)[1], "broken.onnx: not a usable ONNX model"),
        (lambda p: p, "broken.onnx: model file not found"),
        (lambda p: unrelated_model(p), "no class of broken.onnx matches a dataset category"),
    ],
)
def test_bad_models_exit_2_with_the_file_named(tmp_path, dataset, make, message):
    model = make(tmp_path / "broken.onnx")
    r = labelfix("predict", str(dataset), "--model", str(model), "--name", "x")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_bad_options_exit_2(tmp_path, dataset):
    model = str(detect_model(tmp_path / "det.onnx"))
    for extra, message in (
        (["--conf", "2"], "--conf and --iou must be between 0 and 1"),
        (["--classes", "nope.txt"], "nope.txt: no such classes file"),
        (["--family", "resnet"], "unknown model family 'resnet'"),
        (["--imgsz", "320"], "the model's input is fixed at 640x640; it cannot run at 320x320"),
    ):
        r = labelfix("predict", str(dataset), "--model", model, "--name", "x", *extra)
        assert r.returncode == 2 and message in r.stderr, (extra, r.stderr)


def test_a_project_without_an_image_folder_is_refused(tmp_path):
    labels, _ = write_dataset(tmp_path / "data", 2)
    path = tmp_path / "noimages.labelfix"
    project.import_project(path, labels, None)
    r = labelfix(
        "predict", str(path), "--model", str(detect_model(tmp_path / "d.onnx")), "--name", "x"
    )
    assert r.returncode == 2 and "has no image folder" in r.stderr


def test_unreadable_images_are_listed_with_their_files(tmp_path, dataset):
    (tmp_path / "data" / "images" / "img002.png").write_bytes(b"broken")
    model = detect_model(tmp_path / "det.onnx")
    r = labelfix("predict", str(dataset), "--model", str(model), "--name", "yolo")
    assert r.returncode == 0, r.stderr
    assert "1 image(s) could not be predicted:" in r.stderr and "img002.png" in r.stderr
    assert f"on {COUNT - 1} images" in r.stderr


def test_ctrl_c_cancels_cleanly_and_the_same_command_resumes(tmp_path):
    labels, images = write_dataset(tmp_path / "data", 40)
    path = tmp_path / "p.labelfix"
    project.import_project(path, labels, images)
    model = detect_model(tmp_path / "slow.onnx", work_channels=48)
    args = ("predict", str(path), "--model", str(model), "--name", "yolo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "labelfix", *args],
        stderr=subprocess.PIPE,
        env={**os.environ, "LABELFIX_PROGRESS": "1"},
    )
    seen = b""
    deadline = time.monotonic() + 120
    while b"images/s" not in seen and time.monotonic() < deadline:  # a few images are done
        chunk = proc.stderr.read1(4096)
        if not chunk:
            break
        seen += chunk
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    proc.wait(timeout=60)
    err = (seen + rest).decode()
    assert proc.returncode == 130, err
    assert "stopping after the current image" in err
    assert "cancelled: the project is unchanged" in err
    with Store.open(path, readonly=True) as store:
        assert store.prediction_sets() == []
        (run,) = store.prediction_runs()
        done = run["done"]
    assert 0 < done < 40
    info = labelfix("info", str(path))
    assert f"unfinished model run 'yolo': {done} of 40 images" in info.stdout
    again = labelfix(*args)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {done} of 40 images were predicted" in again.stderr
    assert f"({done} from the unfinished run)" in again.stderr


def test_the_set_is_named_after_the_model_file_without_name(tmp_path, dataset):
    """`labelfix predict X --model yolo11n.onnx` stopped at "--name is required", while the
    app's Run a model dialog names the set after the model file: so does the CLI now."""
    model = detect_model(tmp_path / "yolo11n.onnx")
    r = labelfix("predict", str(dataset), "--model", str(model))
    assert r.returncode == 0, r.stderr
    assert "as 'yolo11n'" in r.stderr
    again = labelfix("predict", str(dataset), "--model", str(model))
    assert again.returncode == 2
    assert "already has a prediction set named 'yolo11n'; choose another name" in again.stderr
