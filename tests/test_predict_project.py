"""A model run into a project (core/project.predict): a new prediction set the analysis uses
unchanged, masks end to end, cancel and SIGKILL leave the project as it was, reruns resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from predict_project_data import detect_model, segment_model, unrelated_model, write_dataset

from labelfix.core import project
from labelfix.core.analyze import matches
from labelfix.core.errors import AnalysisParams
from labelfix.core.predict import ClassesError, ModelError
from labelfix.core.predict import model as model_module
from labelfix.core.project import PredictOptions
from labelfix.core.store import Store

COUNT = 10


@pytest.fixture
def dataset(tmp_path):
    labels, images = write_dataset(tmp_path / "data", COUNT)
    out = tmp_path / "p.labelfix"
    project.import_project(out, labels, images)
    return out


class CountingSession:
    """An onnxruntime session that records the shape of each input it runs on."""

    def __init__(self, session, seen: list) -> None:
        self._session, self.seen = session, seen

    def run(self, names, feeds):
        self.seen.append(next(iter(feeds.values())).shape)
        return self._session.run(names, feeds)

    def __getattr__(self, name):
        return getattr(self._session, name)


@pytest.fixture
def model_runs(monkeypatch) -> list:
    """Every session.run of the models opened from now on (one entry per image predicted)."""
    seen: list = []
    opened = model_module.open_session
    monkeypatch.setattr(
        model_module, "open_session", lambda *a, **k: CountingSession(opened(*a, **k), seen)
    )
    return seen


def state(path: Path) -> dict:
    """What a user sees of a project: its sets, the active one, its analysis and matches."""
    with Store.open(path, readonly=True) as store:
        analysis = store.current_analysis(store.active_set_id()) if store.active_set_id() else None
        return {
            "sets": [(s["name"], s["count"]) for s in store.prediction_sets()],
            "active": store.active_set_id(),
            "counts": store.counts(),
            "analysis": None if analysis is None else analysis["id"],
        }


def test_a_model_run_is_a_set_analysed_like_its_results_file(tmp_path, dataset, model_runs):
    model = detect_model(tmp_path / "det.onnx")
    out = tmp_path / "results.json"
    report = project.predict(dataset, model, "yolo", out=out)
    assert report.predicted == COUNT == len(model_runs) and report.set_id is not None
    assert not report.problems and not report.cancelled and report.out == out
    records = json.loads(out.read_text())
    # three mapped anchors per image (bicycle is not a category), image after image, best first
    assert report.predictions == len(records) == 3 * COUNT
    assert [r["image_id"] for r in records] == [i for i in range(1, COUNT + 1) for _ in range(3)]
    assert len({r["score"] for r in records}) > 3  # the scores follow each image's pixels
    with Store.open(dataset) as store:
        project.add_predictions(store, out, "from-json")
        ran, read = store.resolve_set("yolo"), store.resolve_set("from-json")
        assert store.prediction_set(ran)["source_path"] == str(model.resolve())
        for key, column in store.prediction_arrays(ran).items():
            np.testing.assert_array_equal(column, store.prediction_arrays(read)[key], err_msg=key)
        found = {}
        for name in ("yolo", "from-json"):
            summary = project.analyze_project(store, set_name=name)
            found[name] = (summary.suspects, matches(store, store.resolve_set(name)))
    assert found["yolo"][0] == found["from-json"][0]
    assert found["yolo"][0]["missing_label"] > 0 and found["yolo"][0]["wrong_class"] > 0
    for key, column in found["yolo"][1].items():
        np.testing.assert_array_equal(column, found["from-json"][1][key], err_msg=key)


def test_masks_end_to_end_with_geometry_masks(tmp_path, dataset):
    out = tmp_path / "seg.json"
    report = project.predict(dataset, segment_model(tmp_path / "seg.onnx"), "seg", out=out)
    assert report.has_masks and report.predictions == 3 * COUNT
    records = json.loads(out.read_text())
    assert all(set(r["segmentation"]) == {"size", "counts"} for r in records)
    cli = [sys.executable, "-m", "labelfix"]
    r = subprocess.run(
        [*cli, "analyze", str(dataset), "--predictions", "seg", "--geometry", "masks"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "(masks)" in r.stderr
    with Store.open(dataset) as store:
        assert store.prediction_set(store.resolve_set("seg"))["has_segmentation"] == 1
        assert project.suggested_geometry(store, "seg") == "masks"
        ran = matches(store, store.resolve_set("seg"))
        project.add_predictions(store, out, "seg-json")
        project.analyze_project(store, AnalysisParams(geometry="masks"), set_name="seg-json")
        read = matches(store, store.resolve_set("seg-json"))
    for key, column in ran.items():
        np.testing.assert_array_equal(column, read[key], err_msg=key)
    # masks matter: the disc-shaped masks overlap the polygon labels less than their boxes do
    assert np.nanmax(ran["iou"]) < 0.95


def test_cancel_leaves_the_project_as_it_was_and_a_rerun_resumes(tmp_path, dataset, model_runs):
    model = detect_model(tmp_path / "det.onnx")
    with Store.open(dataset) as store:
        project.add_predictions(store, _json(tmp_path, []), "empty")
        project.analyze_project(store, set_name="empty")
    before = state(dataset)
    done: list[int] = []
    report = project.predict(
        dataset, model, "yolo", progress=lambda d, t: done.append(d),
        should_stop=lambda: len(model_runs) >= 4, flush_seconds=0,
    )  # fmt: skip
    assert report.cancelled and report.set_id is None and report.predicted == 4
    assert state(dataset) == before
    with Store.open(dataset, readonly=True) as store:
        (run,) = store.prediction_runs()
        assert run["name"] == "yolo" and run["done"] == 4 and run["images"] == COUNT
    model_runs.clear()
    plans = []
    again = project.predict(dataset, model, "yolo", on_plan=plans.append)
    assert plans[0].resumed == 4 and again.resumed == 4 and again.predicted == COUNT - 4
    assert len(model_runs) == COUNT - 4  # the model ran only on the images not done yet
    with Store.open(dataset, readonly=True) as store:
        assert store.prediction_runs() == []
        assert store.prediction_set(again.set_id)["count"] == 3 * COUNT
        assert store.active_set_id() == again.set_id


def test_a_rerun_with_other_options_starts_over(tmp_path, dataset, model_runs):
    model = detect_model(tmp_path / "det.onnx")
    stop = lambda: len(model_runs) >= 3  # noqa: E731
    project.predict(dataset, model, "yolo", should_stop=stop, flush_seconds=0)
    model_runs.clear()
    plans = []
    report = project.predict(dataset, model, "yolo", PredictOptions(conf=0.5), on_plan=plans.append)
    assert plans[0].resumed == 0 and plans[0].discarded == 3
    assert report.predicted == COUNT == len(model_runs)


def test_the_results_of_a_resumed_run_equal_an_uninterrupted_one(tmp_path, dataset, model_runs):
    model = detect_model(tmp_path / "det.onnx")
    whole = tmp_path / "whole.json"
    project.predict(dataset, model, "whole", out=whole)
    stop = lambda: len(model_runs) >= COUNT + 5  # noqa: E731
    project.predict(dataset, model, "parts", should_stop=stop, flush_seconds=0)
    parts = tmp_path / "parts.json"
    project.predict(dataset, model, "parts", out=parts)
    assert json.loads(parts.read_text()) == json.loads(whole.read_text())


def test_unreadable_images_are_reported_by_file_and_left_out(tmp_path, dataset):
    folder = tmp_path / "data" / "images"
    (folder / "img003.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (folder / "img005.png").unlink()
    report = project.predict(dataset, detect_model(tmp_path / "det.onnx"), "yolo")
    assert report.predicted == COUNT - 2 and len(report.problems) == 2
    assert "img003.png" in report.problems[0] and "img005.png" in report.problems[1]
    with Store.open(dataset, readonly=True) as store:
        arrays = store.prediction_arrays(report.set_id)
        assert 3 not in arrays["image_id"] and 5 not in arrays["image_id"]
        assert any("img003.png" in w for w in store.get_meta("warnings"))


def test_a_model_that_can_predict_no_image_adds_nothing(tmp_path, dataset):
    for image in (tmp_path / "data" / "images").iterdir():
        image.unlink()
    before = state(dataset)
    with pytest.raises(project.ProjectError, match="predicted none of the 10 images"):
        project.predict(dataset, detect_model(tmp_path / "det.onnx"), "yolo")
    assert state(dataset) == before
    with Store.open(dataset, readonly=True) as store:
        assert store.prediction_runs() == []


def test_bad_models_and_mappings_are_clear_errors(tmp_path, dataset):
    before = state(dataset)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="broken.onnx: not a usable ONNX model"):
        project.predict(dataset, broken, "x")
    with pytest.raises(ModelError, match="missing.onnx: model file not found"):
        project.predict(dataset, tmp_path / "missing.onnx", "x")
    with pytest.raises(ClassesError, match="no class of unrelated.onnx matches"):
        project.predict(dataset, unrelated_model(tmp_path / "unrelated.onnx"), "x")
    seen = project.inspect_model(dataset, tmp_path / "unrelated.onnx")
    assert seen.mapping is None and "no class of unrelated.onnx matches" in seen.mapping_problem
    assert state(dataset) == before


def test_a_taken_name_is_refused_before_the_model_runs(tmp_path, dataset, model_runs):
    with Store.open(dataset) as store:
        project.add_predictions(store, _json(tmp_path, []), "yolo")
    with pytest.raises(project.ProjectError, match="already has a prediction set named 'yolo'"):
        project.predict(dataset, detect_model(tmp_path / "det.onnx"), "yolo")
    assert model_runs == []


def test_a_chosen_class_mapping_reaches_the_records(tmp_path, dataset):
    out = tmp_path / "r.json"
    chosen = {0: 7, 1: 3, 2: None}  # person -> dog, bicycle -> car, car ignored
    options = PredictOptions(class_map=chosen)
    seen = project.inspect_model(dataset, detect_model(tmp_path / "det.onnx"), options)
    assert seen.info.family == "ultralytics" and seen.mapping.to_category == {0: 7, 1: 3}
    assert seen.categories == {1: "person", 3: "car", 7: "dog"}
    project.predict(dataset, tmp_path / "det.onnx", "chosen", options, out=out)
    assert {r["category_id"] for r in json.loads(out.read_text())} == {7, 3}


CHILD = """
import sys
from labelfix.core import project
project.predict(sys.argv[1], sys.argv[2], "yolo", flush_seconds=0.05)
"""


def test_sigkill_mid_run_leaves_the_project_as_it_was_and_a_rerun_resumes(
    tmp_path, dataset, model_runs
):
    # a model with a real convolution, so the run lasts long enough to be killed mid-way
    labels, images = write_dataset(tmp_path / "big", 60)
    path = tmp_path / "big.labelfix"
    project.import_project(path, labels, images)
    model = detect_model(tmp_path / "slow.onnx", work_channels=48)
    before = state(path)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(model)])
    staged = 0
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        with Store.open(path, readonly=True) as store:
            runs = store.prediction_runs()
        if runs and runs[0]["done"] >= 3:
            os.kill(child.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert state(path) == before
    with Store.open(path) as store:
        assert store.integrity_ok()
        (run,) = store.prediction_runs()
        staged = run["done"]
    assert 3 <= staged < 60
    report = project.predict(path, model, "yolo")
    assert report.resumed == staged and len(model_runs) == report.predicted == 60 - staged
    whole = tmp_path / "whole.json"
    project.predict(path, model, "whole", out=whole)
    with Store.open(path, readonly=True) as store:
        for key, column in store.prediction_arrays(report.set_id).items():
            np.testing.assert_array_equal(
                column, store.prediction_arrays(store.resolve_set("whole"))[key], err_msg=key
            )


def _json(tmp_path: Path, records: list) -> Path:
    path = tmp_path / f"results{len(list(tmp_path.glob('results*.json')))}.json"
    path.write_text(json.dumps(records))
    return path


def test_a_model_run_on_each_backend_resumes_and_publishes_once(
    tmp_path: Path, backend: str, model_runs: list
) -> None:
    """The staging tables and the publish step on a project file and on a team project."""
    from labelfix.core.store import parse_location

    from backends import drop, location

    labels, images = write_dataset(tmp_path / "data", COUNT)
    at = location(backend, tmp_path)
    project.import_project(parse_location(at), labels, images)
    try:
        model = detect_model(tmp_path / "det.onnx")
        stop = lambda: len(model_runs) >= 4  # noqa: E731
        first = project.predict(at, model, "yolo", should_stop=stop, flush_seconds=0)
        assert first.cancelled
        with project.open_project(at, readonly=True) as store:
            assert store.prediction_sets() == [] and store.prediction_runs()[0]["done"] == 4
        model_runs.clear()
        out = tmp_path / "r.json"
        report = project.predict(at, model, "yolo", out=out)
        assert report.resumed == 4 and len(model_runs) == COUNT - 4
        with project.open_project(at) as store:
            assert store.prediction_runs() == []
            project.add_predictions(store, out, "json")
            ran, read = (store.prediction_arrays(store.resolve_set(n)) for n in ("yolo", "json"))
            for key, column in ran.items():
                np.testing.assert_array_equal(column, read[key], err_msg=key)
    finally:
        drop(at)
