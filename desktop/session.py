"""The open project: the Store, its QUndoStack, the suspect index with the current filter,
sort and selection. Views never talk to each other; they follow the session's signals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from labelfix.core.analyze import current_analysis, reanalyze_images
from labelfix.core.edits import Edit, SetCategory
from labelfix.core.review import decide
from labelfix.core.store import Store
from labelfix.core.suspects import (
    DEFAULT_REVIEW_FILTER,
    SORT_KEYS,
    STATUS_CODE,
    SuspectFilter,
    SuspectIndex,
)

from .commands import EditCommand

UI_STATE_KEY = "ui_state"
OPEN = STATUS_CODE["open"]


def filter_to_json(flt: SuspectFilter) -> dict[str, Any]:
    """A JSON-able form of a suspect filter (for the project's ui_state)."""

    def opt(values: frozenset | None) -> list | None:
        return None if values is None else sorted(values)

    return {
        "min_confidence": flt.min_confidence,
        "kinds": opt(flt.kinds),
        "category_ids": opt(flt.category_ids),
        "statuses": opt(flt.statuses),
        "file_name": flt.file_name,
    }


def filter_from_json(data: dict[str, Any] | None) -> SuspectFilter:
    """A suspect filter from its JSON form; missing keys take the default review filter's values."""
    data = data or {}
    base = DEFAULT_REVIEW_FILTER

    def opt(key: str, default: frozenset | None) -> frozenset | None:
        if key not in data:
            return default
        return None if data[key] is None else frozenset(data[key])

    return SuspectFilter(
        min_confidence=float(data.get("min_confidence", base.min_confidence)),
        kinds=opt("kinds", base.kinds),
        category_ids=opt("category_ids", base.category_ids),
        statuses=opt("statuses", base.statuses),
        file_name=str(data.get("file_name", base.file_name)),
    )


class Session(QObject):
    """One open project and everything the review window shows about it."""

    suspectsChanged = Signal()  # the index or the listed rows changed (table, counts, summary)
    labelsChanged = Signal(object)  # set of image ids whose labels changed (canvas)
    selectionChanged = Signal()  # the current suspect changed, or its data did
    filterChanged = Signal()  # the filter or the sort changed (filter bar, header)
    errorOccurred = Signal(str)  # a sentence to show the user

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.undo_stack = QUndoStack(self)
        self.category_names: dict[int, str] = store.category_names()
        self.index = SuspectIndex.load(store)
        self.filter: SuspectFilter = DEFAULT_REVIEW_FILTER
        self.sort_key = "score"
        self.descending = True
        self.positions = np.zeros(0, dtype=np.int64)
        self.current_pos: int | None = None  # position in the index (not the table row)
        self._save_timer = QTimer(self, singleShot=True, interval=400)
        self._save_timer.timeout.connect(self.save_ui_state)
        saved = self._load_ui_state()
        self.positions = self.index.query(self.filter, self.sort_key, self.descending)
        pos = self._position_of_key(saved.get("selected"))
        if pos is None and len(self.positions):
            pos = int(self.positions[0])  # no (or a vanished) saved selection: the first listed
        self._select_pos(pos, save=False)

    @classmethod
    def open(cls, path: str | Path, parent: QObject | None = None) -> Session:
        """Open a project file (raises ProjectError with a readable message)."""
        return cls(Store.open(path), parent)

    def close(self) -> None:
        """Save the review state and close the project."""
        self.save_ui_state()
        self.undo_stack.clear()
        self.store.close()

    # ------------------------------------------------------------------ state
    @property
    def path(self) -> Path:
        """The project file."""
        return self.store.path

    @property
    def set_id(self) -> int | None:
        """The prediction set the suspects belong to."""
        return self.index.set_id

    def analysed(self) -> bool:
        """Whether the project has a current analysis."""
        return self.index.analysis_id is not None

    def analysis_params(self) -> Any:
        """The thresholds of the current analysis, or None."""
        analysis = current_analysis(self.store)
        return None if analysis is None else analysis["params"]

    def row_count(self) -> int:
        """Suspects listed by the current filter."""
        return len(self.positions)

    def suspect_at(self, row: int) -> dict:
        """The suspect on a table row (a row dict with ``set_id``)."""
        return dict(self.index.row(int(self.positions[row])), set_id=self.index.set_id)

    def current(self) -> dict | None:
        """The selected suspect, or None."""
        if self.current_pos is None:
            return None
        return dict(self.index.row(self.current_pos), set_id=self.index.set_id)

    def current_row(self) -> int | None:
        """The table row of the selected suspect, or None when it is not listed."""
        if self.current_pos is None:
            return None
        hits = np.flatnonzero(self.positions == self.current_pos)
        return int(hits[0]) if len(hits) else None

    def status_counts(self) -> dict[str, int]:
        """Open / accepted / rejected / flagged suspects in the whole analysis."""
        return self.index.counts_by_status()

    def quick_classes(self) -> list[tuple[int, str]]:
        """The nine most frequent label classes (for the 1-9 keys)."""
        rows = self.store.execute(
            "SELECT category_id, COUNT(*) AS n FROM annotations GROUP BY category_id ORDER BY n DESC, category_id LIMIT 9"
        ).fetchall()
        return [(int(r[0]), self.category_names.get(int(r[0]), str(r[0]))) for r in rows]

    # ------------------------------------------------------------------ filter and sort
    def set_filter(self, flt: SuspectFilter) -> None:
        """List the suspects this filter keeps; the selection stays when still listed."""
        if flt == self.filter:
            return
        self.filter = flt
        self._requery()
        self.filterChanged.emit()

    def set_sort(self, key: str, descending: bool) -> None:
        """Sort the list by one of SORT_KEYS."""
        if key not in SORT_KEYS:
            raise KeyError(key)
        if (key, descending) == (self.sort_key, self.descending):
            return
        self.sort_key, self.descending = key, descending
        self._requery()
        self.filterChanged.emit()

    def _requery(self) -> None:
        self.positions = self.index.query(self.filter, self.sort_key, self.descending)
        self.suspectsChanged.emit()
        if self.current_row() is None:
            self._select_pos(int(self.positions[0]) if len(self.positions) else None)
        else:
            self.selectionChanged.emit()
        self._save_timer.start()

    def set_index(self, index: SuspectIndex) -> None:
        """Show a new suspect index (after an analysis), keeping the selection by its key."""
        key = self._current_key()
        self.index = index
        self.undo_stack.clear()  # the edits were made against the old analysis
        self.positions = index.query(self.filter, self.sort_key, self.descending)
        self.suspectsChanged.emit()
        pos = self._position_of_key(key)
        if pos is None or self.current_row_of(pos) is None:
            pos = int(self.positions[0]) if len(self.positions) else None
        self._select_pos(pos)  # an analysis never changes labels: no labelsChanged

    # ------------------------------------------------------------------ selection
    def current_row_of(self, pos: int) -> int | None:
        """The table row of an index position, or None."""
        hits = np.flatnonzero(self.positions == pos)
        return int(hits[0]) if len(hits) else None

    def select_row(self, row: int | None) -> None:
        """Select the suspect on a table row (None clears the selection)."""
        if row is None or not 0 <= row < len(self.positions):
            self._select_pos(None)
        else:
            self._select_pos(int(self.positions[row]))

    def select_key(self, key: str | None) -> None:
        """Select a suspect by its key."""
        self._select_pos(self._position_of_key(key))

    def step(self, direction: int = 1, *, open_only: bool = True) -> bool:
        """Select the next (or previous) listed suspect, open ones only by default."""
        n = len(self.positions)
        if n == 0:
            return False
        row = self.current_row()
        start = (-1 if direction > 0 else n) if row is None else row
        return self._select_from(start + direction, direction, open_only, wrap=False)

    def _select_from(self, start: int, direction: int, open_only: bool, *, wrap: bool) -> bool:
        n = len(self.positions)
        if direction > 0:
            candidates = np.arange(max(start, 0), n)
            if wrap:
                candidates = np.concatenate([candidates, np.arange(0, min(max(start, 0), n))])
        else:
            candidates = np.arange(min(start, n - 1), -1, -1)
        if open_only and len(candidates):
            candidates = candidates[self.index.status[self.positions[candidates]] == OPEN]
        if not len(candidates):
            return False
        self._select_pos(int(self.positions[candidates[0]]))
        return True

    def _select_pos(self, pos: int | None, *, save: bool = True) -> None:
        self.current_pos = pos
        self.selectionChanged.emit()
        if save:
            self._save_timer.start()

    def _current_key(self) -> str | None:
        return None if self.current_pos is None else str(self.index.keys[self.current_pos])

    def _position_of_key(self, key: str | None) -> int | None:
        if key is None or not len(self.index):
            return None
        hits = np.flatnonzero(self.index.keys == key)
        return int(hits[0]) if len(hits) else None

    # ------------------------------------------------------------------ edits
    def decide(self, decision: str, note: str | None = None, rows: list[int] | None = None) -> bool:
        """Record a decision on the given table rows (the current suspect by default) as one
        undoable command, then show the next open suspect."""
        if rows is None or len(rows) <= 1:
            suspect = self.current() if not rows else self.suspect_at(rows[0])
            suspects = [] if suspect is None else [suspect]
        else:
            suspects = [self.suspect_at(r) for r in rows]
            suspects = [s for s in suspects if s["status"] == "open"]
        if not suspects:
            self.errorOccurred.emit("No open suspect selected.")
            return False
        if len(suspects) == 1 and suspects[0]["status"] == "accepted":
            self.errorOccurred.emit(
                "This suspect was already accepted; undo (Ctrl+Z) to change that."
            )
            return False
        if len(suspects) == 1 and suspects[0]["status"] == decision:
            self.step(1)
            return True
        try:
            edit = decide(self.store, suspects, decision, note)
        except Exception as exc:  # noqa: BLE001 - shown as a sentence
            self.errorOccurred.emit(
                f"Cannot {decision[:-2] if decision.endswith('ed') else decision}: {exc}"
            )
            return False
        old_row = self.current_row()
        focus = suspects[0]["key"] if len(suspects) == 1 else self._current_key()
        if not self.push(edit, {s["image_id"] for s in suspects}, focus):
            return False
        row = self.current_row()
        start = row + 1 if row is not None else (old_row or 0)
        if not self._select_from(start, 1, True, wrap=True) and row is None:
            self._select_pos(None)
        return True

    def set_category(self, category_id: int) -> bool:
        """Give the current suspect's label another class, as one undoable command."""
        suspect = self.current()
        if suspect is None or suspect["annotation_id"] is None:
            self.errorOccurred.emit(
                "The selected suspect has no label to change (accept it first)."
            )
            return False
        ann = self.store.annotation(suspect["annotation_id"])
        if ann is None:
            self.errorOccurred.emit("The label of this suspect no longer exists.")
            return False
        if ann["category_id"] == category_id:
            return True
        edit = SetCategory(suspect["annotation_id"], category_id, reason="manual")
        return self.push(edit, {suspect["image_id"]}, suspect["key"])

    def push(self, edit: Edit, image_ids: set[int], focus_key: str | None) -> bool:
        """Push one command wrapping ``edit`` (applied at once); False when it failed."""
        command = EditCommand(
            edit, self.store, self._after_edit, image_ids=image_ids, focus_key=focus_key
        )
        self.undo_stack.push(command)
        if command.error is not None:
            self.errorOccurred.emit(f"The change was not made: {command.error}")
            return False
        return True

    def undo(self) -> None:
        """Undo the last command."""
        self.undo_stack.undo()

    def redo(self) -> None:
        """Redo the last undone command."""
        self.undo_stack.redo()

    def _after_edit(self, edit: Edit, image_ids: set[int], focus_key: str | None) -> None:
        """Re-analyse the touched images, reload the index and keep (or move to) a selection."""
        key = focus_key or self._current_key()
        reanalyze_images(self.store, image_ids, self.index.set_id)
        self.index = SuspectIndex.load(self.store, self.index.set_id)
        self.positions = self.index.query(self.filter, self.sort_key, self.descending)
        self.suspectsChanged.emit()
        self.labelsChanged.emit(set(image_ids))
        self._select_pos(self._position_of_key(key))

    # ------------------------------------------------------------------ resume
    def ui_state(self) -> dict[str, Any]:
        """Filter, sort and selection as stored in the project's meta ``ui_state``."""
        return {
            "filter": filter_to_json(self.filter),
            "sort": {"key": self.sort_key, "descending": self.descending},
            "selected": self._current_key(),
        }

    def save_ui_state(self) -> None:
        """Write the review state into the project (so reopening resumes here)."""
        self._save_timer.stop()
        if self.store.readonly:
            return
        try:
            with self.store.atomic():
                self.store.set_meta(UI_STATE_KEY, self.ui_state())
        except Exception:  # noqa: BLE001 - a closed or locked project must not break the UI
            return

    def _load_ui_state(self) -> dict[str, Any]:
        saved = self.store.get_meta(UI_STATE_KEY, {}) or {}
        try:
            self.filter = filter_from_json(saved.get("filter"))
            sort = saved.get("sort") or {}
            if sort.get("key") in SORT_KEYS:
                self.sort_key = sort["key"]
                self.descending = bool(sort.get("descending", True))
        except (TypeError, ValueError, KeyError):
            self.filter = DEFAULT_REVIEW_FILTER
        return saved
