"""The analysis's chunk passes shared with a forked process (core.analyze_parallel) give the
in-process result bit for bit: matches, suspects, fit, confusions and masks, on real data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from labelfix.core import analysis_chunks, analyze_parallel
from labelfix.core import analyze as az
from labelfix.core.errors import AnalysisParams
from labelfix.core.progress import Cancelled
from labelfix.core.store import Store

from helpers import real81_project, val2014_segm_project

pytestmark = pytest.mark.skipif(not analyze_parallel.can_fork(), reason="Linux's fork only")


def _same(got: az.AnalysisResult, want: az.AnalysisResult) -> None:
    for k, v in want.matches.items():
        assert got.matches[k].dtype == v.dtype
        assert np.array_equal(got.matches[k], v, equal_nan=True), k
    assert got.suspects.dtype == want.suspects.dtype
    assert np.array_equal(got.suspects, want.suspects, equal_nan=True)
    assert len(got.suspects) > 20
    assert got.fit.to_json() == want.fit.to_json()
    assert got.confusion == want.confusion
    assert got.new_masks == want.new_masks
    assert repr(got.report_parts) == repr(want.report_parts)  # repr: nan equals nan


def _inputs(project: Path, params: AnalysisParams) -> az.AnalysisInputs:
    with Store.open(project) as store:
        return az.read_inputs(store, store.resolve_set(None), params)


@pytest.mark.parametrize("chunk", [7, 20])
@pytest.mark.parametrize("calibrate", [True, False])
def test_boxes_in_two_processes(tmp_path: Path, monkeypatch, chunk: int, calibrate: bool) -> None:
    """Real COCO labels and CenterNet detections, an odd and an even number of chunks."""
    inputs = _inputs(real81_project(tmp_path / "p.labelfix"), AnalysisParams(calibrate=calibrate))
    monkeypatch.setattr(analysis_chunks, "CHUNK", chunk)
    assert isinstance(analyze_parallel.runner(inputs, 2), analyze_parallel._Shared)
    seen: list[tuple[int, int]] = []
    got = az.compute(inputs, progress=lambda d, t: seen.append((d, t)), processes=2)
    assert seen[-1] == (len(inputs.image_ids),) * 2
    _same(got, az.compute(inputs, processes=1))


def test_masks_in_two_processes(tmp_path: Path, monkeypatch) -> None:
    """COCO val2014's first 100 images with segm results: masks encoded in both processes."""
    project = val2014_segm_project(tmp_path / "p.labelfix")
    inputs = _inputs(project, AnalysisParams(geometry="masks", duplicate_iou=0.05))
    monkeypatch.setattr(analysis_chunks, "CHUNK", 9)
    _same(az.compute(inputs, processes=2), az.compute(inputs, processes=1))


def test_cancel_and_child_failure(tmp_path: Path, monkeypatch) -> None:
    """A cancel stops both processes; a failure in the child is raised here."""
    inputs = _inputs(real81_project(tmp_path / "p.labelfix"), AnalysisParams())
    monkeypatch.setattr(analysis_chunks, "CHUNK", 10)
    with pytest.raises(Cancelled):
        az.compute(inputs, should_stop=lambda: True, processes=2)

    parent, first_pass = os.getpid(), analyze_parallel.first_pass

    def broken(*args, **kwargs):
        if os.getpid() != parent:
            raise ValueError("broken chunk")
        return first_pass(*args, **kwargs)

    monkeypatch.setattr(analyze_parallel, "first_pass", broken)
    with pytest.raises(RuntimeError, match="broken chunk"):
        az.compute(inputs, processes=2)


def test_who_runs_in_two_processes(monkeypatch) -> None:
    """Small inputs, one CPU or LABELFIX_ANALYSIS_PROCESSES=1: one process."""
    big = az.AnalysisInputs(
        1,
        AnalysisParams(),
        [],
        np.zeros((0, 10)),
        {"id": np.zeros(analyze_parallel.MIN_PREDICTIONS)},
    )
    small = az.AnalysisInputs(1, AnalysisParams(), [], np.zeros((0, 10)), {"id": np.zeros(10)})
    monkeypatch.delenv("LABELFIX_ANALYSIS_PROCESSES", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert analyze_parallel.processes_for(big) == 2
    assert analyze_parallel.processes_for(small) == 1
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert analyze_parallel.processes_for(big) == 1
    masks = az.AnalysisInputs(
        1,
        AnalysisParams(geometry="masks"),
        [],
        np.zeros((0, 10)),
        {"id": np.zeros(analyze_parallel.MIN_MASK_PREDICTIONS)},
    )
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert analyze_parallel.processes_for(masks) == 2
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    monkeypatch.setenv("LABELFIX_ANALYSIS_PROCESSES", "2")
    assert analyze_parallel.processes_for(small) == 2
    monkeypatch.setenv("LABELFIX_ANALYSIS_PROCESSES", "1")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert analyze_parallel.processes_for(big) == 1


def test_reference_sorted_in_a_thread(tmp_path: Path, monkeypatch) -> None:
    """The calibration reference sorted in a thread while the labels are read (large inputs)
    gives the fit and suspects of the one sorted in the fit, in one process or two."""
    project = real81_project(tmp_path / "p.labelfix")
    monkeypatch.setattr(az, "REFERENCE_IN_THREAD", 0)
    threaded = _inputs(project, AnalysisParams())
    assert threaded.reference is not None
    monkeypatch.setattr(az, "REFERENCE_IN_THREAD", 10**12)
    plain = _inputs(project, AnalysisParams())
    assert plain.reference is None
    want = az.compute(plain, processes=1)
    _same(az.compute(threaded, processes=2), want)
    assert threaded.reference is None  # handed on to the fit


def test_a_forked_analysis_in_the_desktop_s_job_process_ends(tmp_path: Path, monkeypatch) -> None:
    """The desktop analyses in a job process whose thread waits on its stdin: a child started
    by multiprocessing closes sys.stdin first and waited on that thread's lock for ever."""
    import threading

    from labelfix.core.project import import_project
    from labelfix.desktop import jobs

    n = analysis_chunks.CHUNK + 20  # two chunks: the second goes to the forked child
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 64, "height": 48} for i in range(n)]
    labels = [
        {"id": i + 1, "image_id": i, "category_id": 1, "bbox": [4, 4, 20, 20], "area": 400}
        for i in range(n)
    ]
    gt = {"images": images, "annotations": labels, "categories": [{"id": 1, "name": "a"}]}
    preds = [
        {"image_id": i, "category_id": 1, "bbox": [4 + i % 9, 4, 20, 20], "score": 0.9}
        for i in range(n)
    ]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "p.json").write_text(json.dumps(preds))
    project = tmp_path / "x.labelfix"
    import_project(project, tmp_path / "gt.json", None, tmp_path / "p.json", "model")
    monkeypatch.setenv("LABELFIX_ANALYSIS_PROCESSES", "2")
    out: dict = {}
    thread = threading.Thread(
        target=lambda: out.update(result=jobs.in_subprocess(jobs.analyze_project, project)),
        daemon=True,
    )
    thread.start()
    thread.join(90)
    assert not thread.is_alive(), "the analysis's second process hung"
    assert out["result"].summary.predictions == n and out["result"].summary.images == n
