"""The import's second process: a results file of compressed-RLE masks read and checked in a
forked child while this process reads, checks and writes the labels.

Reading the usual segm results file needs the labels only at its very end: parsing it (the
typed decoder of :mod:`.coco_results_typed`), pulling its columns out and checking every
counts string (the pixel totals, and the boxes ``loadRes`` derives) depend on nothing but the
file. So :func:`start` forks a child (before the labels are read: the fork copies little) that
does all that with each RLE's own ``size`` standing in for its image's, while this process
imports the labels; :meth:`PredictionsAhead.take` then checks the columns against the
project's images and categories in numpy (a known image and category, a score in [0, 1], an
RLE of its image's size: then the sizes the child used are the images' and its answers are
the in-process reader's, bit for bit) and gives the :class:`.coco_results.PredictionFile` the
store writes.

Whatever the child cannot vouch for goes back to the in-process reader
(:func:`.coco_results.read_predictions`), which reads the file again and says what it says
without the child: a file of another shape (boxes, polygons, extra keys, JSON only the
standard library reads), any record that is not clean, any counts string with a problem or a
box only pycocotools derives, and a child that failed or ended. So errors and warnings are
the in-process reader's word for word, and a broken child costs time, never a hang or a
different answer. While waiting for the child, ``should_stop`` is polled.

The child's answer (the columns and the counts strings, about the file's size) is handed over
in an anonymous shared mapping made before the fork (no temporary file, no pipe copy; the
arrays in this process are views of it); the pipe carries only where they lie.

Used for results files of :data:`MIN_BYTES` and more that look like RLE masks, on Linux with
more than one CPU; never in a process with a running Qt application (its threads must not be
forked: the desktop imports in a child process of its own, without Qt).
``LABELFIX_IMPORT_PROCESSES=1`` keeps one process (``2`` forks whatever the file's size).

Measured (5,000 images, 36,938 polygon labels, 100,000 RLE masks): with the second CPU free the
import's wall time in this process went 1.27 -> 0.79 s (phases, each its minimum of 3); with
both CPUs busy with other work (other sessions' tests) the two processes took about 0.05 s more
than one (medians 1.43 vs 1.37 s over 8 alternating pairs; on one pinned CPU 1.28-1.31 vs
1.22-1.28 s): the gain needs the second CPU, the loss without it is small.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from .analyze_parallel import can_fork, fork
from .coco_masks import decode_rle_text, rle_batches
from .coco_results import PredictionFile
from .coco_results_typed import (
    RleRecordColumns,
    clean_sizes,
    decode_rle_predictions,
    record_columns,
)
from .prediction_columns import ImageTable
from .progress import Cancelled, ShouldStop
from .timing import phase

MIN_BYTES = 8 << 20
"""Smaller results files are read in this process (the fork and hand-over would cost more
than they save: about 20,000 masks)."""
_PEEK = 1 << 16  # bytes read to tell a file of RLE masks from one of boxes
_MAX_SIDE = 1 << 31  # larger RLE sizes: the in-process reader (no int64 overflow here)
_ALIGN = 64  # where each array's bytes start in the mapping
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def processes_for(path: Path) -> int:
    """How many processes import this results file (1 or 2), by the environment, the CPUs and
    the file (its size, and whether its start holds an RLE ``counts`` and no ``bbox``)."""
    chosen = os.environ.get("LABELFIX_IMPORT_PROCESSES")
    if chosen is not None and chosen.strip() in ("", "0", "1"):
        return 1
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(_PEEK)
    except OSError:
        return 1  # the in-process reader says what is wrong
    if b'"counts"' not in head or b'"bbox"' in head:
        return 1
    if chosen is not None:
        return 2
    if (os.cpu_count() or 1) < 2 or size < MIN_BYTES:
        return 1
    return 2


def qt_running() -> bool:
    """True when this process has a Qt application (Qt threads may run: never fork it). Only
    looks at a Qt binding already imported; imports none."""
    for name in ("PySide6.QtCore", "PyQt6.QtCore", "PyQt5.QtCore", "PySide2.QtCore"):
        module = sys.modules.get(name)
        if module is None:
            continue
        app = getattr(module, "QCoreApplication", None)
        if app is None or app.instance() is not None:
            return True
    return False


def start(path: Path | None) -> PredictionsAhead | None:
    """A child reading the results file ``path`` ahead (see the module), or None: read it in
    this process (no file, one process chosen or fitting, no fork, a Qt application)."""
    if path is None or processes_for(path) < 2 or not can_fork() or qt_running():
        return None
    try:
        return PredictionsAhead(path)
    except OSError:  # no shared memory or no process to spare: one process
        return None


# ---------------------------------------------------------------------- the work


@dataclass
class Plan:
    """A file of clean-looking RLE records as columns, its counts strings as one ASCII text,
    and room for what checking them finds (filled batch by batch by either process)."""

    image_id: np.ndarray  # int64 (n,)
    category_id: np.ndarray  # int64 (n,)
    score: np.ndarray  # float64 (n,)
    hw: np.ndarray  # int64 (n, 2): each RLE's [height, width]
    lengths: np.ndarray  # int64 (n,): each counts string's length
    text: np.ndarray  # uint8: the counts strings one after another
    cuts: np.ndarray  # int64 (batches, 2): first and one past the last string of each batch
    totals: np.ndarray  # int64 (n,): each string's pixel total (once checked)
    valid: np.ndarray  # bool (n,): well-formed (once checked)
    box: np.ndarray  # float64 (n, 4): each mask's box, as loadRes derives it (once checked)


_FIELDS = (  # the plan's arrays in its buffer, in this order: name, dtype, columns
    ("image_id", np.int64, 0),
    ("category_id", np.int64, 0),
    ("score", np.float64, 0),
    ("hw", np.int64, 2),
    ("lengths", np.int64, 0),
    ("text", np.uint8, 0),
    ("cuts", np.int64, 2),
    ("totals", np.int64, 0),
    ("valid", np.bool_, 0),
    ("box", np.float64, 4),
)


def plan_size(n: int, chars: int, batches: int, at: int = 0) -> int:
    """Bytes a plan of ``n`` strings of ``chars`` characters in ``batches`` batches takes in a
    buffer from ``at`` (each array aligned)."""
    for name, dtype, width in _FIELDS:
        rows = chars if name == "text" else batches if name == "cuts" else n
        at = _aligned(at) + rows * max(width, 1) * np.dtype(dtype).itemsize
    return at


def plan_in(buffer: Any, n: int, chars: int, batches: int, at: int = 0) -> Plan:
    """The plan's arrays as views of ``buffer`` from ``at`` (as :func:`plan_size` lays them
    out): both processes see the same arrays in the shared mapping."""
    arrays = {}
    for name, dtype, width in _FIELDS:
        rows = chars if name == "text" else batches if name == "cuts" else n
        shape = (rows, width) if width else (rows,)
        at = _aligned(at)
        array = np.ndarray(shape, dtype, buffer, at)
        arrays[name] = array
        at += array.nbytes
    return Plan(**arrays)


def plan_of(
    path: Path, keep: list[Any] | None = None, buffer: Any = None, at: int = 0
) -> Plan | None:
    """The child's first step (no image or category needed): parse, columns, the counts
    strings' text, as a plan in ``buffer`` from ``at`` (a new one if None). None where the
    in-process reader must decide (see the module), or when the plan does not fit in
    ``buffer``. ``keep``: where the decoded records go instead of being freed (the child
    ends without freeing them: ~0.2 s at 500,000 records)."""
    try:  # parsed from the page cache as it is: no copy of the file, fewer page faults
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as raw:
            records = decode_rle_predictions(raw)
    except (OSError, ValueError):  # unreadable or empty: the in-process reader says so
        return None
    if records is None:
        return None
    columns = record_columns(records)
    if keep is not None:
        keep += [records, columns]
    if columns is None:
        return None
    hw = columns.hw
    if not ((hw > 0) & (hw < _MAX_SIDE)).all():
        return None
    n, counts = len(hw), columns.counts
    lengths = np.fromiter(map(len, counts), np.int64, n)
    ends = np.cumsum(lengths)
    cuts = rle_batches(ends)
    chars = int(ends[-1])
    size = plan_size(n, chars, len(cuts), at)
    if buffer is None:
        buffer = bytearray(size)
    elif size > len(buffer):
        return None
    plan = plan_in(buffer, n, chars, len(cuts), at)
    plan.image_id[:] = columns.image_id
    plan.category_id[:] = columns.category_id
    plan.score[:] = columns.score
    plan.hw[:] = hw
    plan.lengths[:] = lengths
    plan.cuts[:] = cuts
    plan.totals[:] = 0
    plan.valid[:] = False
    plan.box[:] = np.nan
    text, done = plan.text, 0
    for first, stop in cuts:  # batch by batch: each joined, encoded and copied in cache
        joined = "".join(counts[first:stop])
        if not joined.isascii():
            return None
        end = int(ends[stop - 1])
        text[done:end] = np.frombuffer(joined.encode("ascii"), np.uint8)
        done = end
    return plan


def check_batch(plan: Plan, k: int, starts: np.ndarray) -> None:
    """Check and box the strings of batch ``k`` into the plan (``starts``: where each string
    starts in the text), each against its own RLE's size."""
    first, stop = plan.cuts[k].tolist()
    lengths = plan.lengths[first:stop]
    at = int(starts[first])
    text = memoryview(plan.text)[at : at + int(lengths.sum())]
    totals, valid, found = decode_rle_text(text, lengths, plan.hw[first:stop, 0].copy())
    plan.totals[first:stop] = totals
    plan.valid[first:stop] = valid
    plan.box[first:stop] = found


def _starts(plan: Plan) -> np.ndarray:
    return np.cumsum(plan.lengths) - plan.lengths


def prediction_file(
    path: Path,
    plan: Plan,
    images: Mapping[int, tuple[int, int]],
    category_ids: Collection[int],
) -> PredictionFile | None:
    """The :class:`PredictionFile` the in-process reader gives for this file (read for the
    store: ``boxes_in_records=False``) once every batch is checked, when every string is
    well-formed with its pixels and a box of the fast decoders, and every record is clean
    against these images and categories; else None (the in-process reader decides)."""
    hw = plan.hw
    if not (
        plan.valid.all()
        and (plan.totals == hw[:, 0] * hw[:, 1]).all()
        and not np.isnan(plan.box[:, 0]).any()
    ):
        return None  # a problem to name, or a box only pycocotools derives
    columns = RleRecordColumns(plan.image_id, plan.category_id, plan.score, hw, [])
    sizes = clean_sizes(columns, ImageTable(images), category_ids)
    if sizes is None:
        return None
    n = len(hw)
    text = memoryview(plan.text)
    ends = np.cumsum(plan.lengths)
    starts = ends - plan.lengths
    pieces = [  # the in-process reader's pieces: one per batch (the store's blobs likewise)
        np.frombuffer(text[int(starts[a]) : int(ends[b - 1])], np.uint8)
        for a, b in plan.cuts.tolist()
    ]
    columns_out = {
        "image_id": plan.image_id,
        "category_id": plan.category_id,
        "score": plan.score,
        "box": plan.box,
        "has_segmentation": np.ones(n, bool),
        "extra_keys": np.zeros(n, bool),
        "plain_rle": np.ones(n, bool),
    }
    rles = {
        "place": np.arange(n, dtype=np.int64),
        "height": sizes[:, 0],
        "width": sizes[:, 1],
        "end": ends,
        "counts": pieces,
    }
    return PredictionFile(Path(path), _Unread(n), True, [], columns_out, rles)


class _Unread(list):
    """The records of a file read in the child: only their number is here (the store reads
    such a file's columns and RLE strings, never its records)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __getitem__(self, index: Any) -> Any:
        raise LookupError("the records of a results file read in the child are not kept")

    def __iter__(self) -> Any:
        raise LookupError("the records of a results file read in the child are not kept")


# ---------------------------------------------------------------------- the fork
# The shared mapping: a page of claims (int64: the next batch from the front, one past the
# last unclaimed one), then the plan (plan_in). The child takes batches from the front, this
# process from the back once the labels are in.

_CLAIMS = mmap.PAGESIZE


def _aligned(at: int) -> int:
    return -(-at // _ALIGN) * _ALIGN


def _claim(claims: np.ndarray, lock: Any, from_front: bool) -> int | None:
    """The next batch to check (None when all are taken)."""
    with lock:
        front, back = int(claims[0]), int(claims[1])
        if front >= back:
            return None
        if from_front:
            claims[0] = front + 1
            return front
        claims[1] = back - 1
        return back - 1


def _claims(shared: mmap.mmap) -> np.ndarray:
    return np.frombuffer(shared, np.int64, 2)


def _keep_freed_memory() -> None:
    """glibc, in the child: blocks up to 32 MiB from the heap, and freed memory kept for the
    next batch rather than returned to the system. Else every numpy temporary of every batch
    (each above the default 128 KiB) is a fresh mapping of zeroed pages: 100,000 masks took
    ~100,000 more page faults, ~0.3 s of system time."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        mallopt = ctypes.CDLL(None).mallopt
        mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        mallopt(_M_TRIM_THRESHOLD, 1 << 30)


def _child(conn: Connection, shared: mmap.mmap, lock: Any, path: Path) -> None:
    """The forked process: :func:`plan_of` into ``shared``, then batches checked from the
    front until none is left (see the module)."""
    kept: list[Any] = []  # never freed: the process ends with os._exit
    _keep_freed_memory()
    try:
        plan = plan_of(path, kept, shared, _CLAIMS)
        if plan is None:
            conn.send(("in process",))
            return
        with lock:
            _claims(shared)[:] = (0, len(plan.cuts))
        conn.send(("plan", len(plan.image_id), len(plan.text), len(plan.cuts)))
        starts = _starts(plan)
        while (k := _claim(_claims(shared), lock, True)) is not None:
            check_batch(plan, k, starts)
        conn.send(("checked",))
    except BaseException:  # noqa: BLE001 - the parent reads the file itself
        with contextlib.suppress(BaseException):
            conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers or buffers of the parent's run twice


def _shared_size(path: Path) -> int:
    """Room for the plan: the counts text is part of the file, and the columns take under
    100 bytes per record, each of which is at least ~80 bytes of JSON."""
    return _CLAIMS + 2 * os.path.getsize(path) + (1 << 20)


class PredictionsAhead:
    """A forked child reading a results file ahead (see the module); :meth:`take` its answer,
    :meth:`close` always (a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._shared = mmap.mmap(-1, _shared_size(self.path))
        ctx = multiprocessing.get_context("fork")
        self._lock = ctx.Lock()
        self._conn, child_end = ctx.Pipe(duplex=False)
        self._status: int | None = None

        def child() -> None:  # touches no stream (see analyze_parallel.fork)
            self._conn.close()
            _child(child_end, self._shared, self._lock, self.path)

        self._pid = fork(child)
        child_end.close()

    @property
    def ended(self) -> bool:
        """True once the child has ended (and been reaped)."""
        if self._status is None:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
            if pid == 0:
                return False
            self._status = status
        return True

    def __enter__(self) -> PredictionsAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def take(
        self,
        images: Mapping[int, tuple[int, int]],
        category_ids: Collection[int],
        should_stop: ShouldStop | None = None,
    ) -> PredictionFile | None:
        """The checked file, or None: read it in this process (see the module). Checks the
        batches the child has not taken yet, from the back, meanwhile."""
        with phase("waiting for the second process"):
            message = self._receive(should_stop)
        if message is None or message[0] != "plan":
            return None
        plan = plan_in(self._shared, *message[1:], _CLAIMS)
        with phase("validate"):
            starts = _starts(plan)
            while (k := _claim(_claims(self._shared), self._lock, False)) is not None:
                check_batch(plan, k, starts)
        with phase("waiting for the second process"):
            message = self._receive(should_stop)  # the child's last batch
        if message is None or message[0] != "checked":
            return None
        with phase("validate"):
            return prediction_file(self.path, plan, images, category_ids)

    def _receive(self, should_stop: ShouldStop | None) -> tuple | None:
        """The child's next message (None if it ended without one)."""
        while not self._conn.poll(0.05):
            if should_stop is not None and should_stop():
                raise Cancelled("import cancelled")
            if self.ended and not self._conn.poll(0):
                return None
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            return None

    def close(self) -> None:
        """End the child (its work is no longer wanted, or done) and free the mapping once
        nothing uses it (the arrays :meth:`take` gave are views of it)."""
        if not self.ended:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            _, self._status = os.waitpid(self._pid, 0)
        self._conn.close()
        with contextlib.suppress(BufferError):  # still viewed: freed with the last view
            self._shared.close()
