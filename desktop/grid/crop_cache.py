"""Crops for the triage grid, made lazily off the UI thread and cached.

The grid says which suspects are on screen (and the next page) with :meth:`CropCache.want`;
that replaces the queue, so crops scrolled past are never made. :data:`THREADS` crop threads
(QThreads, each with its own read-only connection) take jobs newest page first, read what a
crop shows, and either load it from the disk cache (a small JPEG named by the crop's
signature) or decode the region and draw it (:mod:`.render`), then hand the image to the UI
thread (``ready``), which keeps the last :data:`MEMORY_CROPS` in memory. Nothing here blocks the
UI thread: it only moves jobs between lists and images into a dict.

A label edit makes the crops of its image stale: :meth:`forget_images` drops them from memory
and bumps their version, so a crop being made from the old label is thrown away when it
arrives; the disk cache needs nothing, since the signature of the new label differs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QThread, Signal
from PySide6.QtGui import QImage

from labelfix.core.project import TeamLocation

from .render import CropJob, CropSource, message_crop, render_crop

THREADS = 2
MEMORY_CROPS = 1500  # ~100 MB of 176x132 RGB crops
DISK_CROPS = 50_000  # crops kept on disk per machine (~0.5 GB); the oldest go first
JPEG_QUALITY = 88
NICE = 10  # how much lower than the UI thread the crop threads run (Linux)
_FINISHING: set[QThread] = set()  # crop threads of closed caches still ending their last crop


def cache_dir() -> Path:
    """Where crops are cached on disk (LABELFIX_CACHE_DIR, else the platform's cache folder)."""
    override = os.environ.get("LABELFIX_CACHE_DIR")
    if override:
        return Path(override) / "crops"
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    base = Path(location) if location else Path.home() / ".cache" / "labelfix"
    return base / "crops"


class _Queue:
    """The jobs waiting, newest request first; shared by the crop threads."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.jobs: deque[CropJob] = deque()
        self.stopping = False

    def replace(self, jobs: list[CropJob]) -> None:
        with self.lock:
            self.jobs = deque(jobs)
            self.lock.notify_all()

    def take(self) -> CropJob | None:
        with self.lock:
            while not self.jobs and not self.stopping:
                self.lock.wait(0.5)
            return None if self.stopping else self.jobs.popleft()

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.jobs.clear()
            self.lock.notify_all()


class CropThread(QThread):
    """Makes crops from the shared queue until stopped."""

    made = Signal(str, int, QImage)  # key, version, crop

    def __init__(self, project: Path | TeamLocation, queue: _Queue, disk: Path | None) -> None:
        super().__init__()
        self.project = project
        self.queue = queue
        self.disk = disk

    def run(self) -> None:  # noqa: D102 - QThread API
        lower_priority()
        try:
            source = CropSource(self.project)
        except Exception:  # noqa: BLE001 - a project that cannot be read shows placeholders
            return
        try:
            while (job := self.queue.take()) is not None:
                image = self._make(source, job)
                if image is not None:
                    self.made.emit(job.key, job.version, image)
        finally:
            source.close()

    def _make(self, source: CropSource, job: CropJob) -> QImage | None:
        try:
            spec = source.spec(job)
        except Exception:  # noqa: BLE001 - e.g. the project is being written: try again later
            return None
        if spec is None:
            return None
        file = None if self.disk is None else self.disk / f"{spec.signature}.jpg"
        if file is not None and file.exists():
            cached = QImage(str(file))
            if not cached.isNull():
                return cached.convertToFormat(QImage.Format.Format_RGB888)
        try:
            image = render_crop(spec)
        except Exception as exc:  # noqa: BLE001 - a crop that cannot be drawn says so
            return message_crop(f"cannot draw: {type(exc).__name__}")
        if file is not None:
            with contextlib.suppress(OSError):
                tmp = file.with_suffix(f".{threading.get_ident()}.tmp")
                if image.save(str(tmp), "JPG", JPEG_QUALITY):
                    os.replace(tmp, file)
        return image


class CropCache(QObject):
    """Crops by suspect key: in memory, on disk, or being made."""

    ready = Signal(str)  # a crop is in memory now

    def __init__(
        self,
        project: Path | TeamLocation,
        *,
        disk: bool = True,
        threads: int = THREADS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = Path(project) if isinstance(project, str) else project
        self._memory: OrderedDict[str, QImage] = OrderedDict()
        self._versions: dict[str, int] = {}
        self._image_of: dict[str, int] = {}
        self._waiting: set[str] = set()
        self.disk: Path | None = None
        if disk:
            where = (
                self.project.resolve() if isinstance(self.project, Path) else self.project.key()
            )  # a team project: its server, database and name (never a password)
            digest = hashlib.sha1(str(where).encode()).hexdigest()[:16]
            self.disk = cache_dir() / digest
            with contextlib.suppress(OSError):
                self.disk.mkdir(parents=True, exist_ok=True)
            threading.Thread(target=prune, args=(self.disk.parent, DISK_CROPS), daemon=True).start()
        self._queue = _Queue()
        self._threads = [CropThread(self.project, self._queue, self.disk) for _ in range(threads)]
        for thread in self._threads:
            thread.made.connect(self._made)
            thread.start(QThread.Priority.LowPriority)

    def get(self, key: str) -> QImage | None:
        """The crop if it is in memory (marks it recently used)."""
        image = self._memory.get(key)
        if image is not None:
            self._memory.move_to_end(key)
        return image

    def want(self, jobs: Iterable[CropJob]) -> None:
        """Make these crops next, in this order (those not in memory); earlier wishes are
        dropped."""
        todo = []
        for job in jobs:
            self._image_of[job.key] = job.image_id
            if job.key in self._memory:
                continue
            version = self._versions.get(job.key, 0)
            todo.append(
                job if job.version == version else CropJob(**{**job.__dict__, "version": version})
            )
        self._waiting = {job.key for job in todo}
        self._queue.replace(todo)

    def pending(self) -> int:
        """Crops asked for and not made yet."""
        return len(self._waiting)

    def forget_images(self, image_ids: Iterable[int]) -> None:
        """Drop the crops of suspects on these images (their labels changed)."""
        ids = set(image_ids)
        for key, image_id in list(self._image_of.items()):
            if image_id in ids:
                self._memory.pop(key, None)
                self._versions[key] = self._versions.get(key, 0) + 1

    def clear(self) -> None:
        """Drop every crop in memory (the analysis was replaced)."""
        for key in self._memory:
            self._versions[key] = self._versions.get(key, 0) + 1
        self._memory.clear()

    def close(self) -> None:
        """Stop the crop threads (waits a moment for the crop each is making; a thread still
        busy after that is kept alive until it ends, never destroyed while running)."""
        self._queue.stop()
        for thread in self._threads:
            if not thread.wait(2_000):
                thread.made.disconnect()
                _FINISHING.add(thread)
        self._threads = []
        _FINISHING.difference_update({t for t in _FINISHING if t.isFinished()})

    def _made(self, key: str, version: int, image: QImage) -> None:
        self._waiting.discard(key)
        if version != self._versions.get(key, 0):
            return  # made from a label that changed since
        self._memory[key] = image
        self._memory.move_to_end(key)
        while len(self._memory) > MEMORY_CROPS:
            self._memory.popitem(last=False)
        self.ready.emit(key)


def lower_priority() -> None:
    """Let the UI thread have the CPU first: on Linux, where Qt's thread priorities do not
    apply to normal threads, this thread (only: Linux takes a thread id) runs at nice +10;
    elsewhere QThread's LowPriority (set at start) does it."""
    if sys.platform.startswith("linux") and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


def prune(root: Path, keep: int) -> None:
    """Delete the oldest cached crops under ``root`` beyond ``keep`` files."""
    files = list(root.glob("*/*.jpg"))
    if len(files) <= keep:
        return
    with contextlib.suppress(OSError):
        files.sort(key=lambda p: p.stat().st_mtime)
    for path in files[: len(files) - int(keep * 0.8)]:
        with contextlib.suppress(OSError):
            path.unlink()
