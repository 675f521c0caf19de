"""Background work: a QRunnable carrying a signals QObject (progress, finished, failed,
cancelled) and a cancel flag the job polls through ``should_stop``."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from labelfix.core.progress import Cancelled

_RUNNING: set[Worker] = set()  # keeps workers (and their signal objects) alive while they run
_LOCK = threading.Lock()
MIN_THREADS = 4  # a job waiting on its child process must never queue another one behind it


class WorkerSignals(QObject):
    """Signals of one worker, delivered to the UI thread."""

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal(object)  # the worker, after any of finished / failed / cancelled


class Worker(QRunnable):
    """Run ``fn(*args, progress=..., should_stop=..., **kwargs)`` on the thread pool."""

    def __init__(
        self, fn: Callable[..., Any], *args: Any, takes_progress: bool = True, **kwargs: Any
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.takes_progress = takes_progress
        self.signals = WorkerSignals()
        self._stop = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._stop.set()

    def should_stop(self) -> bool:
        """True once cancel() was called."""
        return self._stop.is_set()

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last_progress > 0.05:  # at most ~20 updates a second
            self._last_progress = now
            self.signals.progress.emit(int(done), int(total))

    def run(self) -> None:
        """Run the job and emit its outcome (quietly dropped if the app is already gone)."""
        with contextlib.suppress(RuntimeError):  # "Signal source has been deleted" at shutdown
            self._run()

    def _run(self) -> None:
        try:
            if self.takes_progress:
                result = self.fn(
                    *self.args, progress=self._progress, should_stop=self.should_stop, **self.kwargs
                )
            else:
                result = self.fn(*self.args, **self.kwargs)
        except Cancelled:
            self.signals.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - reported to the UI as a message
            self.signals.failed.emit(exc)
        else:
            self.signals.finished.emit(result)
        finally:
            self.signals.done.emit(self)  # the UI thread's reaper drops it once delivered


class _Reaper(QObject):
    """Lives in the UI thread; forgets a worker after its last signal was delivered."""

    @Slot(object)
    def reap(self, worker: Worker) -> None:
        with _LOCK:
            _RUNNING.discard(worker)


_REAPER: _Reaper | None = None


def _reaper() -> _Reaper:
    global _REAPER
    if _REAPER is None:
        _REAPER = _Reaper()
        app = QCoreApplication.instance()
        if app is not None:
            _REAPER.moveToThread(app.thread())
    return _REAPER


def start(worker: Worker, pool: QThreadPool | None = None) -> Worker:
    """Start a worker on the pool (the global one by default), keeping it alive until done."""
    with _LOCK:
        _RUNNING.add(worker)
    worker.signals.done.connect(_reaper().reap, Qt.ConnectionType.QueuedConnection)
    pool = pool or QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_THREADS))  # jobs mostly wait on a child
    pool.start(worker)
    return worker


def running() -> int:
    """How many workers are still running."""
    with _LOCK:
        return len(_RUNNING)


def running_names() -> list[str]:
    """The jobs of the workers still running (their functions' names), for messages."""
    with _LOCK:
        return sorted(getattr(w.fn, "__qualname__", repr(w.fn)) for w in _RUNNING)


def cancel_all() -> None:
    """Ask every running worker to stop."""
    with _LOCK:
        workers = list(_RUNNING)
    for w in workers:
        w.cancel()
