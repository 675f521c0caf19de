"""The open project as the window sees it: the one object the views follow through signals.

It holds the parts and says, by signal, what changed:

- ``review`` (:class:`.review_list.ReviewList`): the listed suspects (filter, sort) and the
  current one;
- ``labels`` (:class:`.label_edits.LabelEdits`): hand edits of labels, one command each;
- ``history`` (:class:`.undo_history.UndoHistory`): the undo stack, agreeing with the project;
- ``ui_state`` (:class:`.ui_state.UiState`): where the review was, saved in the project;
- ``fix_choice`` (:class:`..fix_choice.FixChoice`): the form the current suspect's fix takes.

Here: opening and closing, what the views read, the filter and sort, the selection, the
canvas's image and selected label. The decisions on suspects are in :mod:`.decisions`; how an
edit is pushed and what follows it (the re-analysis in its transaction, then the views) in
:mod:`.edit_flow`. Views never talk to each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from labelfix.core import project
from labelfix.core.edits import EditError
from labelfix.core.review import FixPreview, fix_preview
from labelfix.core.store import Store, TeamLocation, lock
from labelfix.core.store.location import is_team_location
from labelfix.core.store.lock import LockHolder
from labelfix.core.suspects import CACHE_MIN_ROWS, SuspectFilter, SuspectIndex

from ..fix_choice import FixChoice
from .decisions import Decisions
from .edit_flow import EditFlow
from .label_edits import LabelEdits
from .review_list import ReviewList
from .team import TeamSync
from .ui_state import UiState
from .undo_history import UndoHistory


class Session(Decisions, EditFlow, QObject):
    """One open project and everything the review window shows about it."""

    suspectsChanged = Signal()  # the index or the listed rows changed (table, counts, summary)
    orderChanged = Signal()  # the same rows, sorted anew (the table only)
    labelsChanged = Signal(object)  # set of image ids whose labels changed (canvas)
    selectionChanged = Signal()  # the current suspect changed, or its data did
    filterChanged = Signal()  # the filter or the sort changed (filter bar, header)
    labelSelectionChanged = Signal()  # the label selected on the canvas changed
    errorOccurred = Signal(str)  # a sentence to show the user
    selectionKept = Signal()  # a move was refused (team server away): views show the current
    rowsReselected = Signal(object)  # table rows to select again (an undone bulk decision's)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        # why nothing can be changed (another app holds the project's lock), or None
        self.read_only: str | None = None
        self.lock_holder: LockHolder | None = None  # who holds it while this one is read-only
        if store.readonly:
            self.read_only = store.readonly_reason or "opened read-only"
        self.category_names: dict[int, str] = store.category_names()
        self.history = UndoHistory(self)
        self.history.stepFailed.connect(self.errorOccurred)
        self.history.stepRefused.connect(lambda images: self.refresh_from_store(images))
        self.review = ReviewList(SuspectIndex.load(store))
        # the revision of each label as the canvas last read it: an edit of it is written
        # compare-and-set on that revision (a team project refuses it if someone changed it)
        self.read_revisions: dict[int, int] = {}
        self.team = TeamSync(self) if store.is_team else None
        if self.team is not None:
            self.team.message.connect(self.errorOccurred)  # said like every other problem
        self.labels = LabelEdits(self)
        self.ui_state = UiState(store, self.review, self)
        self.fix_choice = FixChoice(self)  # the form the current suspect's fix takes (V)
        self.view_image_id: int | None = None  # an image shown instead of the suspect's own
        self.selected_label: int | None = None  # the label with handles on the canvas
        pos = self.review.position_of_key(self.ui_state.restore())
        if pos is None:
            pos = self.review.first()  # no (or a vanished) saved selection: the first listed
        self._select_pos(pos, save=False)

    @classmethod
    def open(
        cls,
        location: str | Path | TeamLocation,
        parent: QObject | None = None,
        *,
        read_only: LockHolder | None = None,
    ) -> Session:
        """Open a project file or a team project's ``postgresql://`` location (raises
        ProjectError with a readable message). ``read_only``: the other app that holds the
        file's lock; the project opens read-only (browse, look, export) and the lock stays
        theirs."""
        store = project.open_project(location, readonly=read_only is not None)
        if read_only is not None:
            store.readonly_reason = read_only.sentence(store.path or location)
        session = cls(store, parent)
        session.lock_holder = read_only
        if session.path is not None and session.read_only is None:
            lock.acquire(session.path, session.store.reviewer)  # a second app is told
        return session

    @staticmethod
    def opened_elsewhere(location: str | Path | TeamLocation) -> LockHolder | None:
        """Who else (another app, alive) has this project file open; None for a team project."""
        return None if is_team_location(location) else lock.holder(location)

    def close(self) -> None:
        """Write what is pending, save the review state and close the project (a team
        project's claims are given back, a file's lock too)."""
        try:
            self._close()
        finally:
            if self.path is not None and self.read_only is None:
                lock.release(self.path)

    def _close(self) -> None:
        self.write_pending()
        if self.team is not None:
            self.team.release()
            if not self.team.connected:  # nothing more can be written: just let go
                self.history.clear()
                self.store.close()
                return
        self.ui_state.save()
        index = self.review.index
        # a file's index equals the project (its one writer); a team project's may lag behind
        # others' changes still on the way, so only a fresh load caches it there
        if (
            not self.store.is_team
            and not self.store.readonly
            and len(index) >= CACHE_MIN_ROWS
            and not index.cache_is_current(self.store)
        ):
            index.save_cache(self.store)  # the next open skips re-reading every suspect row
        self.history.clear()
        self.store.close()

    def refuse_read_only(self) -> bool:
        """True (and said) when the project is open read-only: no edit or decision starts."""
        if self.read_only is None:
            return False
        self.errorOccurred.emit(
            f"Read-only ({self.read_only}): nothing was changed. Close it there, then open it "
            "here again to edit."
        )
        return True

    def write_pending(self) -> bool:
        """Write what is only on screen so far (a nudge burst); False when that failed."""
        return self.labels.end_burst()

    def save_ui_state(self) -> None:
        """Write the review state into the project (so reopening resumes here)."""
        self.ui_state.save()

    # ------------------------------------------------------------------ what the views read
    @property
    def undo_stack(self) -> QUndoStack:
        """The undo stack (the History view shows it)."""
        return self.history.stack

    @property
    def path(self) -> Path | None:
        """The project file (None for a team project: see :attr:`target`, :attr:`location`)."""
        return self.store.path

    @property
    def target(self) -> Path | TeamLocation:
        """Where the project is, to open it again (a background job, the crop threads)."""
        return self.store.team if self.store.team is not None else self.store.path

    @property
    def location(self) -> str:
        """Where the project is, in words a person reads (a team URL without password)."""
        return self.store.location

    @property
    def is_team(self) -> bool:
        """True for a team project on a PostgreSQL server."""
        return self.store.is_team

    @property
    def title(self) -> str:
        """The project's short name: the file's name, or the team project's name."""
        if self.store.team is not None:
            return f"{self.store.team.project} (team)"
        return self.store.path.name

    def default_output(self, suffix: str) -> Path:
        """Where an export of this project goes by default: beside the project file, or in
        the current folder named after the team project (``suffix`` like ``.json``)."""
        if self.store.team is not None:
            return Path.cwd() / f"{self.store.team.project}{suffix}"
        return self.store.path.with_suffix(suffix)

    @property
    def index(self) -> SuspectIndex:
        """The current analysis's suspects."""
        return self.review.index

    @property
    def positions(self) -> np.ndarray:
        """The listed suspects' index positions, in table order."""
        return self.review.positions

    @property
    def filter(self) -> SuspectFilter:
        """The filter that lists the suspects."""
        return self.review.filter

    @property
    def sort_key(self) -> str:
        """The column the list is sorted by."""
        return self.review.sort_key

    @property
    def descending(self) -> bool:
        """Whether the list is sorted high to low."""
        return self.review.descending

    @property
    def current_pos(self) -> int | None:
        """The current suspect's index position."""
        return self.review.current_pos

    @property
    def set_id(self) -> int | None:
        """The prediction set of the current suspect's prediction (the analysis's first set
        when none is selected): the predictions the canvas draws."""
        index, pos = self.review.index, self.review.current_pos
        if pos is not None and len(index.prediction_set_id) > pos:
            return int(index.prediction_set_id[pos])
        return index.set_id

    def analysis_report(self) -> tuple[dict | None, dict[int, dict]]:
        """The current analysis's report (core.analysis_report) and detector fits by set id
        (the fitted calibration curves), or (None, {}) without an analysis."""
        analysis_id = self.review.index.analysis_id
        if analysis_id is None:
            return None, {}
        return self.store.analysis_report(analysis_id), self.store.detector_fits(analysis_id)

    def prediction_sets(self) -> list[dict]:
        """The project's prediction sets (id, name, count, ...)."""
        return self.store.prediction_sets()

    def set_count(self) -> int:
        """How many prediction sets the project has."""
        return len(self.store.prediction_sets())  # a handful of rows

    def analysed(self) -> bool:
        """Whether the project has a current analysis."""
        return self.review.index.analysis_id is not None

    def analysis_params(self) -> Any:
        """The thresholds of the current analysis, or None."""
        analysis = self.store.current_analysis()
        return None if analysis is None else analysis["params"]

    def row_count(self) -> int:
        """Suspects listed by the current filter."""
        return self.review.row_count()

    def suspect_at(self, row: int) -> dict:
        """The suspect on a table row (a row dict with ``set_id``)."""
        return self.review.suspect_at(row)

    def current(self) -> dict | None:
        """The selected suspect, or None."""
        return self.review.current()

    def current_key(self) -> str | None:
        """The selected suspect's key, or None."""
        return self.review.current_key()

    def current_row(self) -> int | None:
        """The table row of the selected suspect, or None when it is not listed."""
        return self.review.current_row()

    def status_counts(self) -> dict[str, int]:
        """Open / accepted / rejected / flagged suspects in the whole analysis."""
        return self.review.index.counts_by_status()

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

    # ------------------------------------------------------------------ filter and sort
    def set_filter(self, flt: SuspectFilter) -> None:
        """List the suspects this filter keeps; the selection stays when still listed."""
        if self.review.set_filter(flt):
            self._listed_anew(reordered=False)

    def set_sort(self, key: str, descending: bool) -> None:
        """Sort the list by one of SORT_KEYS."""
        if self.review.set_sort(key, descending):
            self._listed_anew(reordered=True)

    def set_only(self, name: str | None, keys: set[str] | None) -> None:
        """Narrow the list to these suspect keys (a team view: "my claims", one reviewer's
        decisions), named for the filter bar; None lists everything the filter keeps."""
        if self.review.set_only(name, None if keys is None else frozenset(keys)):
            self._listed_anew(reordered=False)

    def _listed_anew(self, *, reordered: bool) -> None:
        (self.orderChanged if reordered else self.suspectsChanged).emit()
        if self.review.current_row() is None:
            self._select_pos(self.review.first())
        else:
            self.selectionChanged.emit()
        self.ui_state.changed()
        self.filterChanged.emit()

    def set_index(self, index: SuspectIndex) -> None:
        """Show a new suspect index (after an analysis), keeping the selection by its key when
        the analysis is of the same prediction sets (a key names another object in another
        set: prediction ids restart), else on the first listed suspect."""
        self.labels.end_burst()
        same_sets = sorted(index.set_ids) == sorted(self.review.index.set_ids)
        key = self.review.current_key() if same_sets else None
        self.review.replace_index(index)
        self.history.clear()  # the edits were made against the old analysis
        self.suspectsChanged.emit()
        pos = self.review.position_of_key(key)
        if self.review.row_of(pos) is None:
            pos = self.review.first()
        self._select_pos(pos)  # an analysis never changes labels: no labelsChanged

    # ------------------------------------------------------------------ selection
    def select_row(self, row: int | None) -> None:
        """Select the suspect on a table row (None clears the selection)."""
        self._select_pos(self.review.at_row(row))

    def select_key(self, key: str | None) -> None:
        """Select a suspect by its key (the inspector's links to other suspects)."""
        self._select_pos(self.review.position_of_key(key))

    def select_id(self, suspect_id: int | None) -> None:
        """Select a suspect by its id (unique also when several sets share a key)."""
        self._select_pos(self.review.position_of_id(suspect_id))

    def step(self, direction: int = 1, *, open_only: bool = True) -> bool:
        """Select the next (or previous) listed suspect, open ones only by default."""
        if self.view_image_id is not None and self.review.current_pos is not None:
            self._select_pos(self.review.current_pos)  # back from an adjusted label
            return True
        pos = self.review.step(direction, open_only)
        if pos is None:
            return False
        self._select_pos(pos)
        return True

    def step_alternative(self) -> bool:
        """Select the next suspect of the current one's object (its group, most likely fix
        first, round to it again after the last), listed or not: the alternatives one key
        away. False when the suspect has none."""
        pos = self.review.current_pos
        if pos is None:
            return False
        others = [int(p) for p in self.index.alternatives(pos)]
        if not others:
            return False
        members = sorted([pos, *others], key=lambda p: (int(self.index.group_rank[p]), p))
        self._select_pos(members[(members.index(pos) + 1) % len(members)])
        return True

    def _select_pos(self, pos: int | None, *, save: bool = True, keep_view: bool = False) -> None:
        if (
            self.team is not None
            and pos != self.review.current_pos
            and self.team.refuse_while_offline("the selection stays")
        ):  # another suspect's image and labels would wait on the missing server
            self.selectionKept.emit()  # the table goes back to the current row (nothing re-read)
            return
        self.labels.end_burst()
        shown = self.shown_image_id()
        self.review.select(pos)
        if not keep_view or self.view_image_id == self.review.current_image:
            self.view_image_id = None
        if self.shown_image_id() != shown and self.selected_label is not None:
            self.selected_label = None
            self.labelSelectionChanged.emit()
        self.selectionChanged.emit()
        if save:
            self.ui_state.changed()

    # ------------------------------------------------------------------ canvas image and label
    def shown_image_id(self) -> int | None:
        """The image the canvas shows: an adjusted label's, else the current suspect's."""
        return self.view_image_id if self.view_image_id is not None else self.review.current_image

    def select_label(self, annotation_id: int | None) -> None:
        """Select a label of the shown image (None clears the label selection)."""
        if annotation_id is not None:
            ann = self.store.annotation(annotation_id)
            if ann is None or ann["image_id"] != self.shown_image_id():
                annotation_id = None
        if annotation_id != self.selected_label:
            self.labels.end_burst()
            self.selected_label = annotation_id
            self.labelSelectionChanged.emit()

    def show_label(self, image_id: int | None, annotation_id: int | None) -> None:
        """Show an image (keeping the current suspect) with one of its labels selected."""
        self.labels.end_burst()
        if annotation_id is not None and self.store.annotation(annotation_id) is None:
            annotation_id = None
        self.view_image_id = None if image_id == self.review.current_image else image_id
        self.selected_label = annotation_id
        self.selectionChanged.emit()
        self.labelSelectionChanged.emit()

    def image_labels(self, image_id: int) -> list[dict]:
        """The labels of an image as the canvas shows them; their revisions are remembered,
        so an edit based on what is shown is refused if someone changed the label since."""
        labels = self.store.annotations_for_image(image_id)
        self.read_revisions = {  # the shown image's labels only: what the reviewer sees
            int(a["id"]): int(a["revision"]) for a in labels if a.get("revision") is not None
        }
        return labels

    def selected_annotation(self) -> dict | None:
        """The selected label's record, or None."""
        if self.selected_label is None:
            return None
        return self.store.annotation(self.selected_label)
