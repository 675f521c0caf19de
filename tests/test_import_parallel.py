"""The import reads a results file of RLE masks in a forked child while it imports the labels
(core/import_parallel.py): the project is the one a single process builds, errors and warnings
are word for word the single process's, and a child that fails, dies or is not needed any
more never changes the answer nor hangs the import."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from test_typed_results import _generate, _mutate, _project

from labelfix.core import import_parallel
from labelfix.core.progress import Cancelled

from helpers import write_json


@pytest.fixture(autouse=True)
def _fork_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process may hold pytest-qt's QApplication (no Qt thread runs during these
    tests); the gate itself is tested in test_no_fork_beside_a_qt_application."""
    monkeypatch.setattr(import_parallel, "qt_running", lambda: False)


def _files() -> tuple[dict, list[dict]]:
    """20 images of polygon labels, 6 plain compressed-RLE predictions an image."""
    generate = _generate()
    gt = generate.make_ground_truth(20, seed=3)
    return gt, generate.make_predictions(gt, 6, seed=4, segm=True)


def _two_and_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gt: dict, preds: list[dict]
) -> tuple[dict, dict, list[bool]]:
    """The project imported with the child and in one process, and per import with the
    child whether its answer was used."""
    used: list[bool] = []
    made = import_parallel.prediction_file

    def spy(*args):
        out = made(*args)
        used.append(out is not None)
        return out

    monkeypatch.setattr(import_parallel, "prediction_file", spy)
    started: list[import_parallel.PredictionsAhead | None] = []
    start = import_parallel.start

    def spy_start(path: Path | None) -> import_parallel.PredictionsAhead | None:
        started.append(start(path))
        return started[-1]

    monkeypatch.setattr(import_parallel, "start", spy_start)
    monkeypatch.setenv("LABELFIX_IMPORT_PROCESSES", "2")
    two = _project(tmp_path, gt, preds, "two")
    for ahead in started:  # the child is always ended and reaped
        assert ahead is None or ahead.ended
    monkeypatch.setenv("LABELFIX_IMPORT_PROCESSES", "1")
    one = _project(tmp_path, gt, preds, "one")
    return two, one, used


def test_clean_file_read_in_the_child_gives_the_same_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gt, preds = _files()
    two, one, used = _two_and_one(tmp_path, monkeypatch, gt, preds)
    assert used == [True]
    assert "error" not in two
    assert two == one


@pytest.mark.parametrize(
    "kind",
    [
        "score above 1", "unknown image", "unknown category", "size not the image's",
        "float image id", "extra key", "a box", "not by image", "malformed counts",
        "uint64 image id", "list counts", "empty file",
    ],
)  # fmt: skip
def test_other_files_give_the_single_process_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    gt, preds = _files()
    _mutate(kind, preds, gt)
    two, one, used = _two_and_one(tmp_path, monkeypatch, gt, preds)
    assert two == one
    assert any(used) == (kind == "not by image")  # the child vouches only for clean files
    if kind in ("score above 1", "unknown image", "malformed counts", "uint64 image id"):
        assert "prediction 18" in two["error"]


def test_box_only_pycocotools_derives_is_read_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pycocotools import mask as mask_utils

    gt, preds = _files()
    h, w = preds[9]["segmentation"]["size"]
    rle = mask_utils.frPyObjects({"size": [h, w], "counts": [5, 3, 0, 4, h * w - 12]}, h, w)
    preds[9]["segmentation"]["counts"] = rle["counts"].decode("ascii")
    two, one, used = _two_and_one(tmp_path, monkeypatch, gt, preds)
    assert not any(used)
    assert two == one


def _raise(*args: object) -> None:
    raise RuntimeError("broken child")


def _exit(*args: object) -> None:
    os._exit(3)


def _killed(*args: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("failure", [_raise, _exit, _killed])
@pytest.mark.parametrize("kind", ["clean", "malformed counts"])
def test_a_failed_child_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure, kind: str
) -> None:
    """The child raises, exits or is killed: the file is read in process, with the same
    project or the same message naming the file and the record."""
    gt, preds = _files()
    if kind != "clean":
        _mutate(kind, preds, gt)
    monkeypatch.setattr(import_parallel, "plan_of", failure)
    started = time.monotonic()
    two, one, used = _two_and_one(tmp_path, monkeypatch, gt, preds)
    assert time.monotonic() - started < 60
    assert used == []  # no answer from the child: prediction_file never ran
    assert two == one
    if kind != "clean":
        assert "prediction 18" in two["error"] and "DIR/p.json" in two["error"]


def test_cancel_while_waiting_for_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gt, preds = _files()
    path = write_json(tmp_path / "p.json", preds)
    monkeypatch.setattr(import_parallel, "plan_of", lambda *args: time.sleep(60))
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    started = time.monotonic()
    with import_parallel.PredictionsAhead(path) as ahead, pytest.raises(Cancelled):
        ahead.take(sizes, {c["id"] for c in gt["categories"]}, should_stop=lambda: True)
    assert time.monotonic() - started < 10
    assert ahead.ended


def test_which_files_get_a_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gt, preds = _files()
    masks = write_json(tmp_path / "masks.json", preds)
    boxes = write_json(tmp_path / "boxes.json", [dict(p, bbox=[0, 0, 1, 1]) for p in preds])
    monkeypatch.delenv("LABELFIX_IMPORT_PROCESSES", raising=False)
    assert import_parallel.processes_for(masks) == 1  # small: not worth a fork
    monkeypatch.setattr(import_parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert import_parallel.processes_for(masks) == 2
    assert import_parallel.processes_for(boxes) == 1  # the child reads RLE masks only
    assert import_parallel.processes_for(tmp_path / "missing.json") == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert import_parallel.processes_for(masks) == 1
    monkeypatch.setenv("LABELFIX_IMPORT_PROCESSES", "2")
    assert import_parallel.processes_for(masks) == 2
    monkeypatch.setenv("LABELFIX_IMPORT_PROCESSES", "1")
    assert import_parallel.processes_for(masks) == 1
    assert import_parallel.start(None) is None


def test_no_fork_beside_a_qt_application(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp
) -> None:
    monkeypatch.undo()  # the real gate
    _, preds = _files()
    masks = write_json(tmp_path / "masks.json", preds)
    monkeypatch.setenv("LABELFIX_IMPORT_PROCESSES", "2")
    assert import_parallel.qt_running()
    assert import_parallel.start(masks) is None


def test_bad_labels_end_the_child_with_the_labels_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gt, preds = _files()
    gt["annotations"][3]["category_id"] = 999
    two, one, used = _two_and_one(tmp_path, monkeypatch, gt, preds)
    assert used == []
    assert two == one
    assert "annotations[3]" in two["error"] and "unknown category id 999" in two["error"]


def test_the_desktop_job_process_forks_without_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desktop imports in a child process whose thread is blocked reading stdin
    (jobs.child_main); a multiprocessing child closes stdin first and waited forever for that
    thread's lock."""
    from labelfix.core import project
    from labelfix.desktop import jobs

    gt, preds = _files()
    g, p = write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "p.json", preds)
    monkeypatch.setenv("LABELFIX_IMPORT_PROCESSES", "2")
    out: dict = {}

    def run() -> None:
        out["report"] = jobs.in_subprocess(
            project.import_project, tmp_path / "x.labelfix", g, None, p, "model"
        )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the import's child process hung"
    assert out["report"].predictions == len(preds)
