"""The analysis's chunk passes shared with a forked process: every other chunk is matched,
its facts made and its suspects found in a child, which keeps those facts between the passes.

:func:`labelfix.core.analyze.compute` makes two passes over the chunks of images: the first
matches each chunk and makes its facts (errors.chunk_facts), the second, after the calibration
fit (which needs every chunk's matches), finds each chunk's suspects on its probabilities.
Both passes are per chunk, so here this process takes the even chunks and one forked child the
odd ones; the child inherits the inputs (fork: nothing pickled), keeps its chunks' facts, and
hands back only the small results (match columns, label classes; then the suspect rows, habit
totals and confusions), which are put together in chunk order. The results go through a
temporary file the child writes while the parent still works, and a pipe message saying so
(through the pipe alone, tens of megabytes of suspect rows took ~0.1 s of the parent's time:
the child blocks on a full pipe until the parent reads); their arrays' bytes are written and
read once, not copied into and out of a pickle. The functions and the chunks
are the ones the in-process run uses, so the result is the same bit for bit
(``tests/test_analyze_parallel.py``).

Used for large inputs (:data:`MIN_PREDICTIONS`; masks :data:`MIN_MASK_PREDICTIONS`) on Linux
with more than one CPU (the CLI, the desktop's analysis child process);
``LABELFIX_ANALYSIS_PROCESSES=1`` turns it off. The child's memory is mostly the parent's
pages, shared until written.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection

import numpy as np

from . import analysis_chunks, analyze
from .analysis_chunks import AnalysisInputs, chunk_at
from .analyze import ChunkFound, ChunkMatched, first_pass, second_pass
from .progress import Cancelled, Progress, ShouldStop
from .timing import phase

MIN_PREDICTIONS = 200_000
"""Inputs with fewer predictions run in one process (a fork and the hand-over cost more)."""
MIN_MASK_PREDICTIONS = 20_000
"""The same for masks (encoding and comparing masks is most of their analysis's work)."""


def processes_for(inputs: AnalysisInputs) -> int:
    """How many processes the chunk passes of these inputs use (1 or 2)."""
    chosen = os.environ.get("LABELFIX_ANALYSIS_PROCESSES")
    if chosen is not None:
        return 2 if chosen.strip() not in ("", "0", "1") else 1
    least = MIN_MASK_PREDICTIONS if inputs.params.geometry == "masks" else MIN_PREDICTIONS
    if (os.cpu_count() or 1) < 2 or len(inputs.predictions["id"]) < least:
        return 1
    return 2


def fork(child: Callable[[], object]) -> int:
    """Run ``child()`` in a forked process, which then ends at once (``os._exit``: no atexit
    handler or buffer of this process runs twice); returns its pid, to reap with os.waitpid.
    Plain os.fork, not multiprocessing.Process: its child first closes sys.stdin, which waits
    for ever on the lock of a thread blocked reading stdin (the desktop's job process has one)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            child()
            code = 0
        finally:
            os._exit(code)
    return pid


def can_fork() -> bool:
    """True on Linux (fork exists elsewhere too, but macOS's system libraries are not safe to
    use in a forked child)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def runner(inputs: AnalysisInputs, processes: int | None = None) -> analyze._InProcess:
    """The in-process passes, or the passes shared with a forked child (``processes`` > 1,
    default :func:`processes_for`; fork available; at least two chunks)."""
    n = processes_for(inputs) if processes is None else processes
    starts = list(range(0, len(inputs.image_ids), analysis_chunks.CHUNK))
    if n < 2 or len(starts) < 2 or not can_fork():
        return analyze._InProcess(inputs)
    return _Shared(inputs, starts)


_ALIGN = 64  # where each array's bytes start in the handover file (numpy wants them aligned)


def _aligned(at: int) -> int:
    return -(-at // _ALIGN) * _ALIGN


def _write_all(fd: int, data: memoryview, at: int) -> None:
    done = 0
    while done < data.nbytes:
        done += os.pwrite(fd, data[done:], at + done)


def _send(conn: Connection, handover: int, kind: str, payload: object) -> None:
    """Hand ``payload`` to the parent through the shared temporary file ``handover`` (from its
    start: the parent has read the previous one before asking for more): the pickle (protocol
    5), then each array's bytes as they are (its out-of-band buffers), aligned, so neither
    side copies them once more; and a message with the places."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(payload, protocol=5, buffer_callback=buffers.append)
    _write_all(handover, memoryview(head), 0)
    spans, end = [], len(head)
    for buffer in buffers:
        raw, at = buffer.raw(), _aligned(end)
        _write_all(handover, raw, at)
        spans.append((at, raw.nbytes))
        end = at + raw.nbytes
    conn.send((kind, len(head), spans, end))


def _child(conn: Connection, handover: int, inputs: AnalysisInputs, starts: list[int]) -> None:
    """The forked process: the first pass over its chunks, then on request the second."""
    try:
        params, kept, matched = inputs.params, [], []
        for start in starts:
            m, facts, ious = first_pass(chunk_at(inputs, start, analysis_chunks.CHUNK), params)
            matched.append(m)
            kept.append((facts, ious))
        _send(conn, handover, "first", matched)
        message = conn.recv()
        if message[0] == "second":
            _, probabilities, want_habits, want_confusion = message
            found = [
                second_pass(f, i, p, params, want_habits, want_confusion)
                for (f, i), p in zip(kept, probabilities, strict=True)
            ]
            _send(conn, handover, "second", found)
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        with contextlib.suppress(BaseException):  # else the parent sees the pipe close
            conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class _Shared(analyze._InProcess):
    """The two passes with the odd chunks in a forked child (see the module)."""

    def __init__(self, inputs: AnalysisInputs, starts: list[int]) -> None:
        super().__init__(inputs)
        self._mine = starts[0::2]
        self._theirs = starts[1::2]
        self._conn, child_end = multiprocessing.Pipe()
        # the child's results (see _send); closed by close()
        self._handover = tempfile.TemporaryFile()  # noqa: SIM115
        handover = self._handover.fileno()

        def child() -> None:
            self._conn.close()  # the child sees EOF once this process ends
            _child(child_end, handover, inputs, self._theirs)

        self._pid = fork(child)
        self._status: int | None = None
        child_end.close()
        self._finished = False

    def _exit_code(self) -> int | None:
        """The child's exit code once it has ended (reaped), else None."""
        if self._status is None:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
            if pid == 0:
                return None
            self._status = status
        return os.waitstatus_to_exitcode(self._status)

    def _receive(self, kind: str) -> list:
        try:
            message = self._conn.recv()
        except EOFError:
            raise RuntimeError(
                f"the analysis's second process ended unexpectedly (exit code {self._exit_code()})"
            ) from None
        if message[0] == "error":
            raise RuntimeError(f"the analysis's second process failed:\n{message[1]}")
        assert message[0] == kind, message[0]
        head, spans, size = message[1:]
        data = bytearray(size)  # read once; the arrays are views of it (see _send)
        view, at, fd = memoryview(data), 0, self._handover.fileno()
        while at < size:
            got = os.preadv(fd, [view[at:]], at)
            if got <= 0:
                raise RuntimeError("the analysis's second process handed over too little")
            at += got
        return pickle.loads(view[:head], buffers=[view[a : a + n] for a, n in spans])

    def first(
        self, progress: Progress | None, should_stop: ShouldStop | None
    ) -> list[ChunkMatched]:
        inputs = self._inputs
        total = len(inputs.image_ids)
        mine: list[ChunkMatched] = []
        done = 0
        for start in self._mine:
            if should_stop is not None and should_stop():
                raise Cancelled("analysis cancelled")
            with phase("prepare chunks"):
                chunk = chunk_at(inputs, start, analysis_chunks.CHUNK)
            matched, facts, ious = first_pass(chunk, inputs.params)
            mine.append(matched)
            self._kept.append((facts, ious))
            done += len(chunk.image_ids)
            if progress is not None:
                progress(done, total)
        with phase("waiting for the second process"):
            theirs = self._receive("first")
        if progress is not None:
            progress(total, total)
        out = [None] * (len(mine) + len(theirs))
        out[0::2], out[1::2] = mine, theirs
        return out

    def second(
        self,
        probabilities: list[np.ndarray],
        want_habits: bool,
        want_confusion: bool,
        should_stop: ShouldStop | None,
        meanwhile: Callable[[], None] | None = None,
    ) -> list[ChunkFound]:
        self._conn.send(("second", probabilities[1::2], want_habits, want_confusion))
        mine = super().second(
            probabilities[0::2], want_habits, want_confusion, should_stop, meanwhile
        )
        with phase("waiting for the second process"):
            theirs = self._receive("second")
        self._finished = True
        out = [None] * (len(mine) + len(theirs))
        out[0::2], out[1::2] = mine, theirs
        return out

    def close(self) -> None:
        super().close()
        if self._exit_code() is None:
            if not self._finished:  # cancelled or failed: the child's work is not wanted
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGKILL)
            _, self._status = os.waitpid(self._pid, 0)
        self._conn.close()
        self._handover.close()
