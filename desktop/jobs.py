"""Qt-free job functions the desktop runs in workers: each takes ``progress(done, total)`` and
``should_stop()`` and opens its own connection to the project, through the project service
(:mod:`labelfix.core.project`). :func:`in_subprocess` runs one in a child process, so long
numpy/JSON/SQLite calls there never hold the UI thread's GIL."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelfix.core import project
from labelfix.core.errors import AnalysisParams
from labelfix.core.progress import Cancelled, Progress, ShouldStop
from labelfix.core.project import AnalysisSummary, import_and_analyze
from labelfix.core.relabel import RelabelExport
from labelfix.core.suspects import SuspectFilter, SuspectIndex

__all__ = [
    "Cancelled",
    "Progress",
    "ShouldStop",
    "analyze_project",
    "import_and_analyze",
    "inspect_model",
    "predict_and_analyze",
]


@dataclass
class AnalysisResult:
    """A finished analysis and the suspect index read right after it (off the UI thread)."""

    summary: AnalysisSummary
    index: SuspectIndex


def analyze_project(
    path: Path,
    params: AnalysisParams | None = None,
    set_ids: list[int] | None = None,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> AnalysisResult:
    """Analyse a project on a connection of its own (with these prediction sets together,
    which become the ones reviewed; by default the ones reviewed now) and load the new suspect
    index."""
    with project.open_project(path) as store:
        summary = project.analyze_project(
            store,
            params,
            set_ids=set_ids,
            activate=set_ids is not None,
            progress=progress,
            should_stop=should_stop,
        )
        return AnalysisResult(summary, SuspectIndex.load(store))


@dataclass
class PredictResult:
    """A finished model run: its report, and the analysis of the new prediction set."""

    report: project.PredictReport
    analysis: AnalysisResult


def inspect_model(
    path: Path, model: Path, options: project.PredictOptions | None = None
) -> project.ModelInspection:
    """The model against the project (family, input, class mapping, sets, unfinished runs)."""
    return project.inspect_model(path, model, options)


def predict_and_analyze(
    path: Path,
    model: Path,
    name: str,
    options: project.PredictOptions | None = None,
    params: AnalysisParams | None = None,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> PredictResult:
    """Run a model into the new prediction set ``name``, then analyse it (masks when the model
    gives masks and the labels have shapes). A cancelled run raises Cancelled (the project is
    as it was; a rerun resumes); once the set is added, its analysis runs to the end."""
    report = project.predict(path, model, name, options, progress=progress, should_stop=should_stop)
    if report.cancelled:
        raise Cancelled(f"{report.predicted + report.resumed} of {report.images} images done")
    with project.open_project(path) as store:
        params = project.analysis_params_for(store, name, params)
        summary = project.analyze_project(store, params, set_name=name)
        return PredictResult(report, AnalysisResult(summary, SuspectIndex.load(store)))


def export_for_relabel(
    path: Path,
    flt: SuspectFilter,
    sort_key: str,
    descending: bool,
    out: Path,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> RelabelExport:
    """The suspects this filter lists (in this order) sent for re-labelling: their images as a
    COCO subset at ``out`` and the work list beside it, on a connection of its own."""
    with project.open_project(path) as store:
        index = SuspectIndex.load(store)
        rows = index.query(flt, sort_key, descending)
        if len(rows) == 0:
            raise project.ProjectError("no suspects to send for re-labelling")
        suspects = [dict(index.row(int(r)), set_id=index.set_id) for r in rows]
        if should_stop is not None and should_stop():
            raise Cancelled("export cancelled")
        return project.export_for_relabel(store, suspects, out, progress)


# ---------------------------------------------------------------------- out of process
# A child Python (started with vfork by subprocess, so the UI's process is never copied) runs
# one job: it reads the pickled (fn, args, kwargs) on stdin, then "stop" lines; it answers with
# length-prefixed pickled messages on its own copy of stdout: progress, then result / error.
_HEADER = struct.Struct("<Q")


def _send(out: Any, message: tuple) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data)) + data)
    out.flush()


def child_main() -> None:
    """Entry point of the child process."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed goes to stderr, never into the message stream
    fn, args, kwargs = pickle.load(sys.stdin.buffer)
    stop = threading.Event()

    def watch_stdin() -> None:
        for line in sys.stdin.buffer:
            if line.strip() == b"stop":
                stop.set()
        stop.set()  # the parent went away

    threading.Thread(target=watch_stdin, daemon=True).start()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] > 0.05:
            last[0] = now
            _send(out, ("progress", (int(done), int(total))))

    try:
        result = fn(*args, progress=progress, should_stop=stop.is_set, **kwargs)
    except Cancelled:
        _send(out, ("cancelled", None))
    except Exception as exc:  # noqa: BLE001 - handed to the parent as its exception
        try:
            _send(out, ("error", exc))
        except Exception:  # noqa: BLE001 - an unpicklable exception travels as its message
            _send(out, ("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    else:
        _send(out, ("result", result))
    out.close()
    sys.stderr.flush()
    # end now: a normal interpreter shutdown would race the daemon thread blocked on stdin
    # ("could not acquire lock for <stdin> at interpreter shutdown")
    os._exit(0)


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def in_subprocess(
    fn: Callable[..., Any],
    *args: Any,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    **kwargs: Any,
) -> Any:
    """Run a job function in a child process (no GIL shared with the UI) and return its result.

    Progress and cancel cross the process boundary; the job's exceptions are re-raised here.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", "from labelfix.desktop.jobs import child_main; child_main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
    )
    assert proc.stdin is not None and proc.stdout is not None
    fd = proc.stdout.fileno()
    stopping = False
    try:
        proc.stdin.write(pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL))
        proc.stdin.flush()
        while True:
            if not stopping and should_stop is not None and should_stop():
                stopping = True
                with contextlib.suppress(OSError):
                    proc.stdin.write(b"\nstop\n")
                    proc.stdin.flush()
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                kind, payload = pickle.loads(
                    _read_exactly(fd, _HEADER.unpack(_read_exactly(fd, _HEADER.size))[0])
                )
            except EOFError:
                proc.wait(timeout=10)
                raise RuntimeError(
                    f"the background process ended unexpectedly (exit code {proc.returncode})"
                ) from None
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
            elif kind == "result":
                return payload
            elif kind == "cancelled":
                raise Cancelled("cancelled")
            else:
                raise payload
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
