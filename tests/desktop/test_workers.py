"""Background work: a Worker's signals (in order, each once), cancel, errors; the child-process
runner (progress and cancel across the process boundary, the child's exceptions, an unpicklable
one, a child that dies)."""

from __future__ import annotations

import pytest

from labelfix.core.progress import Cancelled
from labelfix.desktop import jobs, workers
from tests.desktop import job_functions as jf


def signals_of(worker: workers.Worker, payloads: dict | None = None) -> list[str]:
    """Record the names of the worker's signals as they arrive (and their arguments)."""
    seen: list[str] = []
    sig = worker.signals

    def record(name: str, *args: object) -> None:
        seen.append(name)
        if payloads is not None:
            payloads[name] = args

    for name in ("progress", "finished", "failed", "cancelled", "done"):
        getattr(sig, name).connect(lambda *a, name=name: record(name, *a))
    return seen


def test_a_finished_job_sends_progress_then_its_result_then_done(qtbot: object) -> None:
    worker = workers.Worker(jf.count, 7)
    payloads: dict = {}
    seen = signals_of(worker, payloads)
    sig = worker.signals
    with qtbot.waitSignals([sig.progress, sig.finished, sig.done], order="strict", timeout=10_000):
        workers.start(worker)
    assert payloads["finished"] == (7,) and payloads["progress"] == (1, 1)
    qtbot.waitUntil(lambda: workers.running() == 0)
    assert seen == ["progress", "finished", "done"]


def test_a_failing_job_sends_its_exception_then_done(qtbot: object) -> None:
    worker = workers.Worker(jf.fail, "bad input")
    payloads: dict = {}
    seen = signals_of(worker, payloads)
    with qtbot.waitSignals(
        [worker.signals.failed, worker.signals.done], order="strict", timeout=10_000
    ):
        workers.start(worker)
    (error,) = payloads["failed"]
    assert isinstance(error, ValueError) and str(error) == "bad input"
    assert seen == ["failed", "done"]


def test_cancel_stops_the_job_at_its_next_check(qtbot: object) -> None:
    worker = workers.Worker(jf.wait_for_stop)
    seen = signals_of(worker)
    with qtbot.waitSignal(worker.signals.progress, timeout=10_000):
        workers.start(worker)
    with qtbot.waitSignals(
        [worker.signals.cancelled, worker.signals.done], order="strict", timeout=10_000
    ):
        workers.cancel_all()
    assert seen == ["progress", "cancelled", "done"]


def test_a_job_without_progress_takes_only_its_arguments(qtbot: object) -> None:
    worker = workers.Worker(sum, [1, 2, 3], takes_progress=False)
    with qtbot.waitSignal(worker.signals.finished, timeout=10_000) as blocker:
        workers.start(worker)
    assert blocker.args == [6]


# ---------------------------------------------------------------------- the child process
def test_a_child_job_reports_progress_and_returns_its_result() -> None:
    steps: list[tuple[int, int]] = []
    assert jobs.in_subprocess(jf.count, 5, progress=lambda d, t: steps.append((d, t))) == 5
    assert steps == [(1, 1)]


def test_a_child_job_is_cancelled_across_the_process_boundary() -> None:
    started: list[int] = []
    with pytest.raises(Cancelled):
        jobs.in_subprocess(
            jf.wait_for_stop,
            progress=lambda d, t: started.append(d),
            should_stop=lambda: bool(started),
        )


def test_a_child_jobs_exception_is_raised_in_the_parent() -> None:
    with pytest.raises(ValueError, match="^no such file: x.json$"):
        jobs.in_subprocess(jf.fail, "no such file: x.json")


def test_an_unpicklable_exception_arrives_as_its_type_and_message() -> None:
    with pytest.raises(RuntimeError, match="^Unpicklable: cannot pickle me$"):
        jobs.in_subprocess(jf.fail_unpicklable, "cannot pickle me")


def test_a_child_that_dies_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="ended unexpectedly .exit code 3"):
        jobs.in_subprocess(jf.die)


def test_a_child_job_in_a_worker_delivers_failed_then_done(qtbot: object) -> None:
    worker = workers.Worker(jobs.in_subprocess, jf.fail_unpicklable, "no pickle")
    payloads: dict = {}
    signals_of(worker, payloads)
    with qtbot.waitSignals(
        [worker.signals.failed, worker.signals.done], order="strict", timeout=30_000
    ):
        workers.start(worker)
    (error,) = payloads["failed"]
    assert isinstance(error, RuntimeError) and "no pickle" in str(error)
