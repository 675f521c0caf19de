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
"""

from __future__ import annotations

import contextlib
import mmap
import multiprocessing
import os
import pickle
import sys
import traceback
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from .analyze_parallel import can_fork
from .coco import _Report
from .coco_masks import check_rle_columns
from .coco_results import PredictionFile, _prediction_place
from .coco_results_typed import (
    checked_columns,
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
    return PredictionsAhead(path)


# ---------------------------------------------------------------------- the child's work


@dataclass
class ReadAhead:
    """What the child found in a file of clean-looking RLE records, every counts string
    checked against its own RLE's size."""

    image_id: np.ndarray  # int64 (n,)
    category_id: np.ndarray  # int64 (n,)
    score: np.ndarray  # float64 (n,)
    hw: np.ndarray  # int64 (n, 2): each RLE's [height, width]
    box: np.ndarray  # float64 (n, 4): each mask's box, as loadRes derives it
    lengths: list[np.ndarray]  # int64: the counts strings' lengths, batch by batch
    counts: list[np.ndarray]  # uint8: the counts strings one after another, batch by batch


def read_ahead(path: Path, keep: list[Any] | None = None) -> ReadAhead | None:
    """The child's work (no image or category needed): parse, columns, every counts string
    checked and boxed with its RLE's own size, on one thread (the other CPU imports the
    labels meanwhile). None where the in-process reader must decide (see the module).
    ``keep``: where the decoded records go instead of being freed (the child ends without
    freeing them: ~0.2 s at 500,000 records)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    records = decode_rle_predictions(raw)
    if records is None:
        return None
    del raw
    columns = record_columns(records)
    if keep is not None:
        keep += [records, columns]
    if columns is None:
        return None
    hw = columns.hw
    if not ((hw > 0) & (hw < _MAX_SIDE)).all():
        return None
    report = _Report(os.fspath(path))
    texts: list[tuple[bytes, np.ndarray]] = []
    rows = np.arange(len(hw), dtype=np.int64)
    heights = hw[:, 0].copy()
    box = check_rle_columns(
        rows, columns.counts, hw[:, 0] * hw[:, 1], report, _prediction_place, heights, texts, 1
    )
    if report.error_count or box is None or np.isnan(box[:, 0]).any():
        return None  # a problem to name, or a box only pycocotools derives
    return ReadAhead(
        columns.image_id,
        columns.category_id,
        columns.score,
        hw,
        box,
        [n for _, n in texts],
        [np.frombuffer(text, np.uint8) for text, _ in texts],
    )


def prediction_file(
    path: Path,
    ahead: ReadAhead,
    images: Mapping[int, tuple[int, int]],
    category_ids: Collection[int],
) -> PredictionFile | None:
    """The :class:`PredictionFile` the in-process reader gives for this file (read for the
    store: ``boxes_in_records=False``) when every record is clean against these images and
    categories; else None (the in-process reader decides)."""
    table = ImageTable(images)
    found = _Found(ahead)
    sizes = clean_sizes(found, table, category_ids)
    if sizes is None:
        return None
    fast = checked_columns(found, sizes)
    n = len(fast.image_id)
    columns = {
        "image_id": fast.image_id,
        "category_id": fast.category_id,
        "score": fast.score,
        "box": ahead.box,
        "has_segmentation": fast.has_segmentation,
        "extra_keys": fast.extra_keys,
        "plain_rle": fast.plain_rle,
    }
    rles = {
        "place": fast.rle_rows,
        "height": sizes[:, 0],
        "width": sizes[:, 1],
        "end": np.cumsum(np.concatenate([np.zeros(0, np.int64), *ahead.lengths])),
        "counts": list(ahead.counts),
    }
    return PredictionFile(Path(path), _Unread(n), True, [], columns, rles)


class _Found:
    """A :class:`ReadAhead` as the columns :func:`clean_sizes` checks."""

    def __init__(self, ahead: ReadAhead) -> None:
        self.image_id, self.category_id = ahead.image_id, ahead.category_id
        self.score, self.hw = ahead.score, ahead.hw
        self.counts: list[str] = []  # the strings are in ahead.counts


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


def _aligned(at: int) -> int:
    return -(-at // _ALIGN) * _ALIGN


def _child(conn: Connection, shared: mmap.mmap, path: Path) -> None:
    """The forked process: :func:`read_ahead`, its answer put in ``shared`` (see the module)."""
    kept: list[Any] = []  # never freed: the process ends with os._exit
    try:
        ahead = read_ahead(path, kept)
        if ahead is None:
            conn.send(("in process",))
            return
        buffers: list[pickle.PickleBuffer] = []
        head = pickle.dumps(ahead, protocol=5, buffer_callback=buffers.append)
        raws = [buffer.raw() for buffer in buffers]
        end = len(head) + sum(_ALIGN + raw.nbytes for raw in raws)
        if end > len(shared):  # cannot happen for a file of records (see _shared_size)
            conn.send(("in process",))
            return
        shared[: len(head)] = head
        spans, at = [], len(head)
        for raw in raws:
            at = _aligned(at)
            shared[at : at + raw.nbytes] = raw
            spans.append((at, raw.nbytes))
            at += raw.nbytes
        conn.send(("read", len(head), spans))
    except BaseException:  # noqa: BLE001 - the parent reads the file itself
        with contextlib.suppress(BaseException):
            conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers or buffers of the parent's run twice


def _shared_size(path: Path) -> int:
    """Room for the child's answer: the counts strings are part of the file, and the other
    columns take 80 bytes per record, each of which is at least ~80 bytes of JSON."""
    return 2 * os.path.getsize(path) + (1 << 20)


class PredictionsAhead:
    """A forked child reading a results file ahead (see the module); :meth:`take` its answer,
    :meth:`close` always (a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._shared = mmap.mmap(-1, _shared_size(self.path))
        ctx = multiprocessing.get_context("fork")
        self._conn, child_end = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_child, args=(child_end, self._shared, self.path), daemon=True
        )
        self._proc.start()
        child_end.close()

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
        """The checked file, or None: read it in this process (see the module)."""
        with phase("waiting for the second process"):
            ahead = self._receive(should_stop)
        if ahead is None:
            return None
        with phase("validate"):
            return prediction_file(self.path, ahead, images, category_ids)

    def _receive(self, should_stop: ShouldStop | None) -> ReadAhead | None:
        while not self._conn.poll(0.05):
            if should_stop is not None and should_stop():
                raise Cancelled("import cancelled")
            if not self._proc.is_alive() and not self._conn.poll(0):
                return None  # ended without a word
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            return None
        if message[0] != "read":
            return None
        head, spans = message[1:]
        view = memoryview(self._shared)
        return pickle.loads(view[:head], buffers=[view[a : a + n] for a, n in spans])

    def close(self) -> None:
        """End the child (its work is no longer wanted, or done) and free the mapping once
        nothing uses it (the arrays :meth:`take` gave are views of it)."""
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        self._conn.close()
        with contextlib.suppress(BufferError):  # still viewed: freed with the last view
            self._shared.close()
