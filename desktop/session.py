"""The open project: the Store, its QUndoStack, the suspect index with the current filter,
sort and selection, and the label selected on the canvas. Views never talk to each other; they
follow the session's signals. Every change of a label is one core Edit in one QUndoCommand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from labelfix.core import describe, geometry, project
from labelfix.core.analyze import reanalyze_images
from labelfix.core.editing import offset_geometry
from labelfix.core.edits import (
    AddLabel,
    CompositeEdit,
    DeleteLabel,
    Edit,
    EditError,
    SetCategory,
    SetDecision,
    SetGeometry,
)
from labelfix.core.new_labels import dataset_style, new_label
from labelfix.core.review import FixPreview, decide, fix_preview
from labelfix.core.store import Store
from labelfix.core.suspects import (
    CACHE_MIN_ROWS,
    DEFAULT_REVIEW_FILTER,
    SORT_KEYS,
    STATUS_CODE,
    SuspectFilter,
    SuspectIndex,
)

from .commands import EditCommand, Focus, NudgeCommand
from .fix_choice import FixChoice
from .undo_history import UndoHistory

UI_STATE_KEY = "ui_state"
OPEN = STATUS_CODE["open"]
DUPLICATE_OFFSET = 8.0  # pixels right and down of the original
ADJUSTABLE_FIXES = ("missing_label", "inaccurate_label")  # accepting these selects the result


def filter_to_json(flt: SuspectFilter) -> dict[str, Any]:
    """A JSON-able form of a suspect filter (for the project's ui_state)."""

    def opt(values: frozenset | None) -> list | None:
        return None if values is None else sorted(values)

    return {
        "min_confidence": flt.min_confidence,
        "min_iou": flt.min_iou,
        "max_iou": flt.max_iou,
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
        min_iou=float(data.get("min_iou", base.min_iou)),
        max_iou=float(data.get("max_iou", base.max_iou)),
        kinds=opt("kinds", base.kinds),
        category_ids=opt("category_ids", base.category_ids),
        statuses=opt("statuses", base.statuses),
        file_name=str(data.get("file_name", base.file_name)),
    )


class Session(QObject):
    """One open project and everything the review window shows about it."""

    suspectsChanged = Signal()  # the index or the listed rows changed (table, counts, summary)
    orderChanged = Signal()  # the same rows, sorted anew (the table only)
    labelsChanged = Signal(object)  # set of image ids whose labels changed (canvas)
    selectionChanged = Signal()  # the current suspect changed, or its data did
    filterChanged = Signal()  # the filter or the sort changed (filter bar, header)
    labelSelectionChanged = Signal()  # the label selected on the canvas changed
    errorOccurred = Signal(str)  # a sentence to show the user

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.history = UndoHistory(self)
        self.history.stepFailed.connect(self.errorOccurred)
        self.fix_choice = FixChoice(self)  # the form the current suspect's fix takes (V)
        self.category_names: dict[int, str] = store.category_names()
        self.index = SuspectIndex.load(store)
        self.filter: SuspectFilter = DEFAULT_REVIEW_FILTER
        self.sort_key = "score"
        self.descending = True
        self.positions = np.zeros(0, dtype=np.int64)
        self.current_pos: int | None = None  # position in the index (not the table row)
        self._current_image: int | None = None  # the current suspect's image id
        self.view_image_id: int | None = None  # an image shown instead of the suspect's own
        self.selected_label: int | None = None  # the label with handles on the canvas
        self.draw_category: int | None = None  # the class new labels take
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
        return cls(project.open_project(path), parent)

    def close(self) -> None:
        """Save the review state and close the project."""
        self.save_ui_state()
        if len(self.index) >= CACHE_MIN_ROWS and not self.index.cache_is_current(self.store):
            self.index.save_cache(self.store)  # the next open skips re-reading every suspect row
        self.undo_stack.clear()
        self.store.close()

    # ------------------------------------------------------------------ state
    @property
    def undo_stack(self) -> QUndoStack:
        """The undo stack (the History view shows it)."""
        return self.history.stack

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
        analysis = self.store.current_analysis()
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
        return [(c, self.category_names.get(c, str(c))) for c in self.store.frequent_categories(9)]

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
        self._requery(reordered=True)
        self.filterChanged.emit()

    def _requery(self, *, reordered: bool = False) -> None:
        self.positions = self.index.query(self.filter, self.sort_key, self.descending)
        (self.orderChanged if reordered else self.suspectsChanged).emit()
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
        if self.view_image_id is not None and self.current_pos is not None:
            self._select_pos(self.current_pos)  # back from an adjusted label to the suspect
            return True
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

    def _select_pos(self, pos: int | None, *, save: bool = True, keep_view: bool = False) -> None:
        shown = self.shown_image_id()
        self.current_pos = pos
        self._current_image = None if pos is None else int(self.index.image_id[pos])
        if not keep_view or self.view_image_id == self._suspect_image():
            self.view_image_id = None
        if self.shown_image_id() != shown and self.selected_label is not None:
            self.selected_label = None
            self.labelSelectionChanged.emit()
        self.selectionChanged.emit()
        if save:
            self._save_timer.start()

    def _suspect_image(self) -> int | None:
        """The current suspect's image (cached: valid even while the index is being reloaded)."""
        return self._current_image

    # ------------------------------------------------------------------ canvas image and label
    def shown_image_id(self) -> int | None:
        """The image the canvas shows: an adjusted label's, else the current suspect's."""
        return self.view_image_id if self.view_image_id is not None else self._suspect_image()

    def select_label(self, annotation_id: int | None) -> None:
        """Select a label of the shown image (None clears the label selection)."""
        if annotation_id is not None:
            ann = self.store.annotation(annotation_id)
            if ann is None or ann["image_id"] != self.shown_image_id():
                annotation_id = None
        if annotation_id != self.selected_label:
            self.selected_label = annotation_id
            self.labelSelectionChanged.emit()

    def show_label(self, image_id: int | None, annotation_id: int | None) -> None:
        """Show an image (keeping the current suspect) with one of its labels selected."""
        if annotation_id is not None and self.store.annotation(annotation_id) is None:
            annotation_id = None
        self.view_image_id = None if image_id == self._suspect_image() else image_id
        self.selected_label = annotation_id
        self.selectionChanged.emit()
        self.labelSelectionChanged.emit()

    def selected_annotation(self) -> dict | None:
        """The selected label's record, or None."""
        if self.selected_label is None:
            return None
        return self.store.annotation(self.selected_label)

    def label_name(self, annotation: dict) -> str:
        """A label's class name and id, for messages and the history."""
        name = self.category_names.get(annotation["category_id"], str(annotation["category_id"]))
        return f"{name} #{annotation['id']}"

    def current_draw_category(self) -> int | None:
        """The class a drawn label takes: the last one picked, else the most frequent."""
        if self.draw_category is None:
            quick = self.quick_classes()
            if quick:
                self.draw_category = quick[0][0]
            elif self.category_names:
                self.draw_category = min(self.category_names)
        return self.draw_category

    def edits_since_export(self) -> int:
        """Label edits made since the last export (the project itself is always saved)."""
        return int(self.store.get_meta("edits_since_export", 0) or 0)

    def fix_preview(self, suspect: dict, variant: str | None = None) -> FixPreview | None:
        """What accepting ``suspect`` (in form ``variant``) would leave behind, computed by core
        without writing; None when its fix cannot be made any more (see FixChoice)."""
        try:
            return fix_preview(self.store, suspect, variant)
        except EditError:
            return None

    def _current_key(self) -> str | None:
        return None if self.current_pos is None else self.index.key(self.current_pos)

    def _position_of_key(self, key: str | None) -> int | None:
        if key is None or not len(self.index):
            return None
        hits = self.index.positions_of([key])
        return int(hits[0]) if len(hits) else None

    # ------------------------------------------------------------------ edits
    def decide(
        self,
        decision: str,
        note: str | None = None,
        rows: list[int] | None = None,
        *,
        adjust: bool = False,
    ) -> bool:
        """Record a decision on the given table rows (the current suspect by default) as one
        undoable command, then select the next open suspect. Accepting a missing_label or an
        inaccurate_label selects the resulting label; with ``adjust`` the canvas stays on it
        (accept, then adjust; Space then shows the next suspect)."""
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
            variants = self.fix_choice.variants_for(suspects) if decision == "accepted" else None
            edit = decide(self.store, suspects, decision, note, variants=variants)
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
        result = _resulting_label(edit, suspects) if decision == "accepted" else None
        if result is not None and (adjust or suspects[0]["image_id"] == self._suspect_image()):
            self.show_label(suspects[0]["image_id"], result)  # the result, selected, in view
        return True

    def set_category(self, category_id: int) -> bool:
        """Give the selected label (else the current suspect's) another class, as one undoable
        command; new labels take this class from now on."""
        self.draw_category = category_id
        selected = self.selected_annotation()
        if selected is not None:
            if selected["category_id"] == category_id:
                return True
            edit = SetCategory(selected["id"], category_id, reason="manual")
            text = self.edit_text("change class", selected, new_category_id=category_id)
            return self._push_label(edit, selected, "change class", text=text)
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
        text = self.edit_text("change class", ann, new_category_id=category_id)
        return self.push(edit, {suspect["image_id"]}, suspect["key"], text=text)

    def push(
        self,
        edit: Edit,
        image_ids: set[int],
        focus_key: str | None,
        *,
        redo_focus: Focus | None = None,
        undo_focus: Focus | None = None,
        text: str | None = None,
        command_class: type[EditCommand] = EditCommand,
    ) -> bool:
        """Push one command wrapping ``edit`` (applied at once); False when it failed."""
        command = command_class(
            edit,
            self.store,
            self._after_edit,
            image_ids=image_ids,
            reanalyze=self._reanalyze,
            undo_focus=undo_focus or Focus(suspect_key=focus_key),
            redo_focus=redo_focus,
            text=text,
        )
        error = self.history.push(command)
        if error is not None:
            self.errorOccurred.emit(f"The change was not made: {error}")
            return False
        return True

    def _push_label(
        self,
        edit: Edit,
        ann: dict,
        what: str,
        *,
        before: int | None = -1,
        after: int | None = -1,
        command_class: type[EditCommand] = EditCommand,
        text: str | None = None,
    ) -> bool:
        """Push a label edit whose undo and redo bring the label's image (and the label) back
        into view; ``before``/``after`` are the label selected then (-1: this label). The
        History line says what was done to which label on which image (or ``text``)."""
        key = self._current_key()
        image_id = ann["image_id"]
        return self.push(
            edit,
            {image_id},
            key,
            undo_focus=Focus(key, ann["id"] if before == -1 else before, image_id),
            redo_focus=Focus(key, ann["id"] if after == -1 else after, image_id),
            text=text or self.edit_text(what, ann),
            command_class=command_class,
        )

    def edit_text(self, what: str, ann: dict, **changes: int) -> str:
        """The History line of a hand edit of a label (see core.describe.label_edit)."""
        image = self.store.image(ann["image_id"])
        file_name = image["file_name"] if image else None
        return describe.label_edit(what, ann, self.category_names, file_name, **changes)

    # ------------------------------------------------------------------ label edits
    def set_geometry(
        self,
        annotation_id: int,
        *,
        bbox: list[float] | None = None,
        segmentation: list[list[float]] | None = None,
        what: str = "change geometry",
        nudge: bool = False,
    ) -> bool:
        """Give a label a new box or polygon (bbox and area derived by core), as one command;
        ``nudge`` commands of one label merge while they come in a burst."""
        ann = self.store.annotation(annotation_id)
        if ann is None:
            self.errorOccurred.emit("This label no longer exists.")
            return False
        if ann.get("iscrowd") and isinstance(ann.get("segmentation"), dict):
            self.errorOccurred.emit(
                "Crowd masks are read-only; convert the mask to a polygon first."
            )
            return False
        edit = SetGeometry(annotation_id, bbox=bbox, segmentation=segmentation, reason="manual")
        return self._push_label(
            edit, ann, what, command_class=NudgeCommand if nudge else EditCommand
        )

    def add_label(
        self,
        image_id: int,
        *,
        bbox: list[float] | None = None,
        segmentation: list[list[float]] | None = None,
        category_id: int | None = None,
        what: str = "draw label",
    ) -> int | None:
        """Add a drawn label of the current class (box or polygon) and select it; its new id."""
        image = self.store.image(image_id)
        category_id = category_id if category_id is not None else self.current_draw_category()
        if image is None or category_id is None:
            self.errorOccurred.emit("There is no image or class to add a label to.")
            return None
        ann = new_label(
            self.store.next_annotation_id(),
            image,
            category_id,
            dataset_style(self.store),
            bbox=bbox,
            segmentation=segmentation,
        )
        if ann["bbox"][2] <= 0 or ann["bbox"][3] <= 0:
            self.errorOccurred.emit("The drawn label is empty.")
            return None
        edit = AddLabel(ann, reason="manual")
        ok = self._push_label(edit, ann, what, before=self.selected_label)
        return ann["id"] if ok else None

    def delete_label(self, annotation_id: int | None = None) -> bool:
        """Delete the selected label (or the given one), as one command."""
        ann = self._target(annotation_id)
        if ann is None:
            return False
        return self._push_label(DeleteLabel(ann["id"], reason="manual"), ann, "delete", after=None)

    def duplicate_label(self, annotation_id: int | None = None) -> int | None:
        """Copy the selected label a few pixels right and down, select the copy; its new id."""
        ann = self._target(annotation_id)
        if ann is None:
            return None
        image = self.store.image(ann["image_id"])
        seg = ann.get("segmentation")
        polygon = seg if geometry.is_polygon(seg) and seg else None  # a mask copies as its box
        box, polygon = offset_geometry(ann["bbox"], polygon, DUPLICATE_OFFSET, **_hw(image))
        copy = new_label(
            self.store.next_annotation_id(),
            image,
            ann["category_id"],
            dataset_style(self.store),
            bbox=box,
            segmentation=polygon,
        )
        text = self.edit_text("duplicate", ann, new_label_id=copy["id"])
        ok = self._push_label(
            AddLabel(copy, reason="manual"), copy, "duplicate", before=ann["id"], text=text
        )
        return copy["id"] if ok else None

    def convert_to_polygon(self, annotation_id: int | None = None) -> bool:
        """Turn the selected label's RLE mask into polygon parts (then it is editable)."""
        ann = self._target(annotation_id)
        if ann is None:
            return False
        seg = ann.get("segmentation")
        if not isinstance(seg, dict):
            self.errorOccurred.emit("This label has no mask to convert.")
            return False
        image = self.store.image(ann["image_id"])
        parts = geometry.rle_to_polygon(seg, image["height"], image["width"])
        if not parts:
            self.errorOccurred.emit("The mask is empty; there is no outline to convert.")
            return False
        edit = SetGeometry(ann["id"], segmentation=parts, reason="manual")
        return self._push_label(edit, ann, "convert to polygon")

    def _target(self, annotation_id: int | None) -> dict | None:
        ann = (
            self.selected_annotation()
            if annotation_id is None
            else self.store.annotation(annotation_id)
        )
        if ann is None:
            self.errorOccurred.emit("Select a label on the image first (click it).")
        return ann

    def undo(self) -> None:
        """Undo the last command (a failure is said, and nothing moves)."""
        self.history.undo()

    def redo(self) -> None:
        """Redo the last undone command (a failure is said, and nothing moves)."""
        self.history.redo()

    def _reanalyze(self, edit: Edit, image_ids: set[int]) -> None:
        """Re-score the touched images (the command runs this inside the edit's transaction);
        decisions alone change no suspect, only its status."""
        if _changes_labels(edit):
            reanalyze_images(self.store, image_ids, self.index.set_id)

    def _after_edit(self, edit: Edit, image_ids: set[int], focus: Focus | None) -> None:
        """Reload the index (the edit and its re-analysis are committed) and keep (or move to)
        a selection; a label edit shows its image and label again (undo and redo work across
        images)."""
        key = (focus.suspect_key if focus else None) or self._current_key()
        if _changes_labels(edit):  # only the re-analysed images' suspects changed (a full
            self.index.reload_images(self.store, image_ids)  # reload takes seconds at scale)
        # the same suspects elsewhere: read back the status of the decided ones
        self._reload_statuses(_decision_keys(edit))
        self.positions = self.index.query(self.filter, self.sort_key, self.descending)
        self.suspectsChanged.emit()
        self.labelsChanged.emit(set(image_ids))
        if focus is not None and focus.image_id is not None:
            self._select_pos(self._position_of_key(key), keep_view=True)
            self.show_label(focus.image_id, focus.label_id)
        else:
            self._select_pos(self._position_of_key(key), keep_view=focus is None)

    def _reload_statuses(self, keys: set[str]) -> None:
        """Set these suspects' status in the index from the decisions table."""
        if not keys:
            return
        decided = self.store.decisions(self.index.set_id)
        by_status: dict[str, list[str]] = {}
        for key in keys:
            by_status.setdefault(decided.get(key, "open"), []).append(key)
        for status, group in by_status.items():
            self.index.set_status(group, status)

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


def _hw(image: dict | None) -> dict[str, int]:
    """height= and width= keywords of an image record."""
    assert image is not None
    return {"height": int(image["height"]), "width": int(image["width"])}


def _flat_edits(edit: Edit) -> list[Edit]:
    """The leaf edits of a (possibly composite) edit."""
    if isinstance(edit, CompositeEdit):
        return [leaf for part in edit.edits for leaf in _flat_edits(part)]
    return [edit]


def _changes_labels(edit: Edit) -> bool:
    """Whether an edit changes labels (else it only records decisions)."""
    return any(not isinstance(e, SetDecision) for e in _flat_edits(edit))


def _decision_keys(edit: Edit) -> set[str]:
    """The suspects whose decision an edit sets."""
    return {e.suspect_key for e in _flat_edits(edit) if isinstance(e, SetDecision)}


def _resulting_label(edit: Edit, suspects: list[dict]) -> int | None:
    """The label an accepted missing_label / inaccurate_label suspect leaves behind."""
    if len(suspects) != 1 or suspects[0]["kind"] not in ADJUSTABLE_FIXES:
        return None
    if suspects[0]["kind"] == "inaccurate_label":
        return suspects[0]["annotation_id"]
    edits = edit.edits if isinstance(edit, CompositeEdit) else [edit]
    added = [e for e in edits if isinstance(e, AddLabel)]
    return added[0].annotation["id"] if added else None
