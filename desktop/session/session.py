"""The open project as the window sees it: the one object the views follow through signals.

It holds the parts and says, by signal, what changed:

- ``review`` (:class:`.review_list.ReviewList`): the listed suspects (filter, sort) and the
  current one;
- ``labels`` (:class:`.label_edits.LabelEdits`): hand edits of labels, one command each;
- ``history`` (:class:`.undo_history.UndoHistory`): the undo stack, agreeing with the project;
- ``ui_state`` (:class:`.ui_state.UiState`): where the review was, saved in the project;
- ``fix_choice`` (:class:`..fix_choice.FixChoice`): the form the current suspect's fix takes.

Here: the decisions on suspects, the canvas's image and selected label, and what follows an
edit (the re-analysis in its transaction, then the views). Views never talk to each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from labelfix.core import project
from labelfix.core.analyze import reanalyze_images
from labelfix.core.edits import (
    AddLabel,
    CompositeEdit,
    Edit,
    EditError,
    SetDecision,
)
from labelfix.core.redecide import redecide
from labelfix.core.review import FixPreview, decide, fix_preview
from labelfix.core.store import ConflictError, ConnectionLost, Store, TeamLocation, lock
from labelfix.core.store.location import is_team_location
from labelfix.core.store.lock import LockHolder
from labelfix.core.suspects import CACHE_MIN_ROWS, SuspectFilter, SuspectIndex

from ..commands import EditCommand, Focus, leaf_edits
from ..fix_choice import FixChoice
from .label_edits import LabelEdits
from .review_list import ReviewList
from .team import TeamSync, conflict_images
from .ui_state import UiState
from .undo_history import UndoHistory

ADJUSTABLE_FIXES = ("missing_label", "inaccurate_label")  # accepting these selects the result


class Session(QObject):
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
    def open(cls, location: str | Path | TeamLocation, parent: QObject | None = None) -> Session:
        """Open a project file or a team project's ``postgresql://`` location (raises
        ProjectError with a readable message)."""
        session = cls(project.open_project(location), parent)
        if session.path is not None:  # a second app opening it is told (see opened_elsewhere)
            lock.acquire(session.path, session.store.reviewer)
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
            if self.path is not None:
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
            and len(index) >= CACHE_MIN_ROWS
            and not index.cache_is_current(self.store)
        ):
            index.save_cache(self.store)  # the next open skips re-reading every suspect row
        self.history.clear()
        self.store.close()

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

    # ------------------------------------------------------------------ decisions
    def decide(
        self,
        decision: str,
        note: str | None = None,
        rows: list[int] | None = None,
        *,
        adjust: bool = False,
        seen: dict[str, str] | None = None,
    ) -> bool:
        """Record a decision on the given table rows (the current suspect by default) as one
        undoable command, then select the next open suspect (after a bulk decision: the first
        open one from the top of the selection on). Accepting a missing_label or an
        inaccurate_label selects the resulting label; with ``adjust`` the canvas stays on it
        (accept, then adjust; Space then shows the next suspect). ``seen`` (:meth:`statuses`
        taken when the reviewer began, e.g. before the flag's note dialog): refused if another
        reviewer decided one of them meanwhile, or the selection is another one now."""
        self.labels.end_burst()  # a nudge in progress is written first (it may change suspects)
        if self.labels.offline():
            return False
        if rows is None or len(rows) <= 1:
            suspect = self.current() if not rows else self.suspect_at(rows[0])
            suspects = [] if suspect is None else [suspect]
        else:
            suspects = [self.suspect_at(r) for r in rows]
            suspects = [s for s in suspects if s["status"] == "open"]
        if seen is not None and self._changed_since(suspects, seen, decision):
            return False
        if self.team is not None and suspects:  # another reviewer's claim is theirs to review
            held = [s for s in suspects if self.team.claimed_by_other(s["key"])]
            if held:
                who = self.team.claimed_by_other(held[0]["key"])
                self.errorOccurred.emit(
                    f"{len(held)} suspect(s) claimed by another reviewer ({who}) left alone."
                    if len(held) < len(suspects)
                    else f"Not decided: {who} has claimed this suspect (claims keep two "
                    "reviewers off the same one)."
                )
                suspects = [s for s in suspects if s not in held]
                if not suspects:
                    return False
        if not suspects:
            self.errorOccurred.emit("No open suspect selected.")
            return False
        if len(suspects) == 1 and suspects[0]["status"] != "open":
            return self._redecide(suspects[0], decision, note)
        if decision == "accepted":  # accepting one fix of an object closes its others
            suspects = [dict(s, alternatives=self.review.open_alternatives(s)) for s in suspects]
        try:
            variants = self.fix_choice.variants_for(suspects) if decision == "accepted" else None
            edit = decide(self.store, suspects, decision, note, variants=variants)
        except Exception as exc:  # noqa: BLE001 - shown as a sentence
            self.errorOccurred.emit(
                f"Cannot {decision[:-2] if decision.endswith('ed') else decision}: {exc}"
            )
            return False
        old_row = self.current_row()
        focus = suspects[0]["key"] if len(suspects) == 1 else self.current_key()
        keys = tuple(s["key"] for s in suspects) if len(suspects) > 1 else ()
        undo_focus = Focus(suspect_key=focus, keys=keys)  # undo selects them all again
        if not self.push(edit, {s["image_id"] for s in suspects}, focus, undo_focus=undo_focus):
            return False
        row = self.current_row()
        start = row + 1 if row is not None else (old_row or 0)
        if rows is not None and len(rows) > 1:
            start = min(rows)  # a bulk decision goes on from where its selection began
        following = self.review.following(start, 1, True, wrap=True)
        if following is not None or row is None:
            self._select_pos(following)
        result = _resulting_label(edit, suspects) if decision == "accepted" else None
        if result is not None and (adjust or suspects[0]["image_id"] == self.review.current_image):
            self.show_label(suspects[0]["image_id"], result)  # the result, selected, in view
        self._redo_shows_this()
        return True

    def reopen(self, rows: list[int] | None = None) -> bool:
        """Clear the decision of the given table rows' decided suspects (the current one by
        default), reverting accepted fixes by the re-decide rule, as one undoable command; the
        selection stays (the suspect is open again)."""
        self.labels.end_burst()
        if self.labels.offline():
            return False
        if rows is None or len(rows) <= 1:
            suspect = self.current() if not rows else self.suspect_at(rows[0])
            suspects = [] if suspect is None else [suspect]
        else:
            suspects = [self.suspect_at(r) for r in rows]
        suspects = [s for s in suspects if s["status"] != "open"]
        if not suspects:
            self.errorOccurred.emit("No decided suspect selected: only a decision can be reopened.")
            return False
        if len(suspects) == 1:
            return self._redecide(suspects[0], None, None)
        edits, refused = [], []
        for s in suspects:
            try:
                edit = redecide(self.store, s, None)
            except EditError as exc:
                refused.append(str(exc))
                continue
            if edit is not None:
                edits.append(edit)
        if refused:
            self.errorOccurred.emit(f"{len(refused)} of {len(suspects)} not reopened: {refused[0]}")
        if not edits:
            return False
        leaves = [leaf for e in edits for leaf in leaf_edits(e)]  # one command in the log
        edit = CompositeEdit(leaves, f"reopen {len(edits)} suspects")
        return self.push(edit, {s["image_id"] for s in suspects}, self.current_key())

    def statuses(self, rows: list[int] | None = None) -> dict[str, str]:
        """Suspect key -> status of what :meth:`decide` on ``rows`` would decide now."""
        if rows is None or len(rows) <= 1:
            one = self.current() if not rows else self.suspect_at(rows[0])
            return {} if one is None else {one["key"]: one["status"]}
        return {s["key"]: s["status"] for s in map(self.suspect_at, rows)}

    def _changed_since(self, suspects: list[dict], seen: dict[str, str], decision: str) -> bool:
        """True (and says so) when a suspect to decide is not as the reviewer saw it."""
        for s in suspects:
            if s["key"] not in seen:
                what = "the selection changed meanwhile"
            elif s["status"] != seen[s["key"]]:
                last = self.store.last_decision_change(s["key"]) or {}
                who = last.get("reviewer") or "someone"
                what = f"suspect {s['key']} was {s['status']} by {who} at {last.get('time')}"
            else:
                continue
            self.errorOccurred.emit(f"Not {decision}: {what}; nothing was changed.")
            return True
        return False

    def _redecide(self, suspect: dict, decision: str | None, note: str | None) -> bool:
        """Give a decided suspect another decision (None: reopen it) as one command; a fix that
        cannot be reverted is said, nothing changes."""
        variant = None
        if decision == "accepted":
            variant = (self.fix_choice.variants_for([suspect]) or {}).get(suspect["key"])
        try:
            edit = redecide(self.store, suspect, decision, note, variant=variant)
        except EditError as exc:
            self.errorOccurred.emit(f"Not changed: {exc}")
            return False
        if edit is None:  # the decision it has already
            if decision is not None:
                self.step(1)
            return True
        old_row = self.current_row()
        if not self.push(edit, {suspect["image_id"]}, suspect["key"]):
            return False
        if decision is None:
            return True  # the suspect is open again: it stays selected
        row = self.current_row()
        start = row + 1 if row is not None else (old_row or 0)
        following = self.review.following(start, 1, True, wrap=True)
        if following is not None or row is None:
            self._select_pos(following)
        self._redo_shows_this()
        return True

    def _redo_shows_this(self) -> None:
        """Make a redo of the decision just pushed show what the decision itself went on to
        (the next suspect, or the label its accept left): the decided suspect may no longer be
        listed, and a key pressed after the redo must not re-decide it unseen."""
        stack = self.history.stack
        command = stack.command(stack.index() - 1) if stack.index() > 0 else None
        if not isinstance(command, EditCommand):
            return
        label = self.selected_label if self.shown_image_id() is not None else None
        image = self.view_image_id if label is not None else None
        if label is not None and image is None:
            image = self.review.current_image
        command.redo_focus = Focus(self.current_key(), label, image)

    # ------------------------------------------------------------------ commands
    def push(
        self,
        edit: Edit,
        image_ids: set[int],
        focus_key: str | None,
        *,
        redo_focus: Focus | None = None,
        undo_focus: Focus | None = None,
        text: str | None = None,
    ) -> bool:
        """Push one command wrapping ``edit`` (applied at once); False when it failed.

        On a team project the labels' revisions read for the canvas go with the edit (a label
        changed by someone since is refused: the message says who, and the fresh state is
        shown); a lost connection keeps the edit as unsaved, to be sent again."""
        self.labels.end_burst()  # a nudge burst in progress is its own command, written first
        if self.team is not None and self.team.refuse_while_offline():
            return False
        error = self._push(edit, image_ids, focus_key, redo_focus, undo_focus, text)
        if error is None:
            return True
        if self.team is not None and isinstance(error, ConnectionLost):
            self.team.keep_unsaved(edit, image_ids, focus_key, text, error)
            self.errorOccurred.emit(
                f"Lost the connection to the team server: “{text or edit.description}” is NOT "
                "saved yet (shown as unsaved); it is sent again when the server is back."
            )
            return False
        if isinstance(error, ConflictError):
            self.errorOccurred.emit(f"Not changed: {error} The table and canvas show it now.")
            self.refresh_from_store(conflict_images(error, edit) | set(image_ids))
            return False
        self.errorOccurred.emit(f"The change was not made: {error}")
        return False

    def send(
        self, edit: Edit, image_ids: set[int], focus_key: str | None, text: str | None
    ) -> Exception | None:
        """Push an edit again (an unsaved one, after reconnecting); the error, if any."""
        return self._push(edit, image_ids, focus_key, None, None, text)

    def _push(
        self,
        edit: Edit,
        image_ids: set[int],
        focus_key: str | None,
        redo_focus: Focus | None,
        undo_focus: Focus | None,
        text: str | None,
    ) -> Exception | None:
        self._stamp_revisions(edit)
        command = EditCommand(
            edit,
            self.store,
            self._after_edit,
            image_ids=image_ids,
            reanalyze=self._reanalyze,
            undo_focus=undo_focus or Focus(suspect_key=focus_key),
            redo_focus=redo_focus,
            text=text,
        )
        return self.history.push(command)

    def _stamp_revisions(self, edit: Edit) -> None:
        """Give each label edit the revision of its label as last read for the canvas."""
        for leaf in leaf_edits(edit):
            if isinstance(leaf, AddLabel | SetDecision) or leaf.undone:
                continue
            ann_id = getattr(leaf, "annotation_id", None)
            if ann_id is not None and getattr(leaf, "revision", 0) is None:
                leaf.revision = self.read_revisions.get(int(ann_id))

    def can_undo_decision(self, key: str) -> bool:
        """Whether Ctrl+Z reaches the current set's decision on ``key``: one of this window's
        own commands still to undo set it (another reviewer's or an earlier session's not)."""
        stack = self.undo_stack
        commands = (stack.command(i) for i in range(stack.index()))
        return any(
            (self.set_id, key) in _decision_keys(c.edit)
            for c in commands
            if isinstance(c, EditCommand)
        )

    def undo(self) -> None:
        """Undo the last command (a failure is said, and nothing moves)."""
        self.labels.end_burst()
        if self.team is not None and self.team.refuse_while_offline():
            return
        self.history.undo()

    def redo(self) -> None:
        """Redo the last undone command (a failure is said, and nothing moves)."""
        self.labels.end_burst()
        if self.team is not None and self.team.refuse_while_offline():
            return
        self.history.redo()

    def refresh_from_store(self, image_ids: set[int], *, statuses: bool = True) -> None:
        """Show the project as it is now for these images (others' edits, a refused edit):
        their suspects and labels read again, every status too; the current suspect stays
        selected (by key) and the keyboard focus where it is."""
        review = self.review
        key = review.current_key()
        if image_ids:
            review.reload_images(self.store, set(image_ids))
        if statuses:
            review.index.reload_statuses(self.store)
        if self.team is not None:  # unsaved decisions stay shown as made
            for k, decision in self.team.unsaved_keys.items():
                review.index.set_status([k], decision)
        review.requery()
        pos = review.position_of_key(key)
        if key is not None and pos is None:  # its suspect is gone (someone fixed it)
            self.suspectsChanged.emit()
            self._select_pos(review.first(), save=False)
            if image_ids:
                self.labelsChanged.emit(set(image_ids))
            return
        moved = pos != review.current_pos
        review.select(pos)  # the same suspect: positions shift when images reload
        self.suspectsChanged.emit()
        if image_ids:
            self.labelsChanged.emit(set(image_ids))
        if moved or image_ids & {self.shown_image_id()}:
            self.selectionChanged.emit()

    def _reanalyze(self, edit: Edit, image_ids: set[int]) -> None:
        """Re-score the touched images (the command runs this inside the edit's transaction);
        decisions alone change no suspect, only its status."""
        if _changes_labels(edit):
            reanalyze_images(self.store, image_ids, self.review.index.set_ids)

    def _after_edit(self, edit: Edit, image_ids: set[int], focus: Focus | None) -> None:
        """Reload the index (the edit and its re-analysis are committed) and keep (or move to)
        a selection; a label edit shows its image and label again (undo and redo work across
        images)."""
        review = self.review
        key = (focus.suspect_key if focus else None) or review.current_key()
        was = review.position_of_key(key)
        label = None if was is None else int(review.index.annotation_id[was])
        row = review.row_of(was) if was is not None else review.current_row()
        for leaf in leaf_edits(edit):  # this session's own writes: read afresh when next shown
            self.read_revisions.pop(getattr(leaf, "annotation_id", None), None)
        if _changes_labels(edit):  # only the re-analysed images' suspects changed (a full
            review.reload_images(self.store, image_ids)  # reload takes seconds at scale)
        # the same suspects elsewhere: read back the status of the decided ones
        review.reload_statuses(self.store, _decision_keys(edit))
        review.requery()
        self.suspectsChanged.emit()
        self.labelsChanged.emit(set(image_ids))
        pos = review.position_of_key(key)
        if pos is None and key is not None and not _decision_keys(edit):
            pos = self._in_place_of(label, row)  # a label edit made its suspect go
        if focus is not None and focus.image_id is not None:
            self._select_pos(pos, keep_view=True)
            self.show_label(focus.image_id, focus.label_id)
        else:
            self._select_pos(pos, keep_view=focus is None)
        if focus is not None and focus.keys:
            rows = [review.row_of(int(p)) for p in review.index.positions_of(focus.keys)]
            self.rowsReselected.emit(sorted(r for r in rows if r is not None))

    def _in_place_of(self, label: int | None, row: int | None) -> int | None:
        """What to show when an edit made the shown suspect go: a listed suspect of the same
        label (a class change's wrong_class), else the next open one from its row (never
        nothing while something is listed: a blank canvas loses the reviewer's place)."""
        review = self.review
        if label is not None and label >= 0:
            listed = review.positions[review.index.annotation_id[review.positions] == label]
            if len(listed):
                return int(listed[0])
        if row is None:
            return None
        following = review.following(row, 1, True, wrap=True)
        return following if following is not None else review.first()


def _changes_labels(edit: Edit) -> bool:
    """Whether an edit changes labels (else it only records decisions)."""
    return any(not isinstance(e, SetDecision) for e in leaf_edits(edit))


def _decision_keys(edit: Edit) -> set[tuple[int, str]]:
    """The (set id, key) pairs whose decision an edit sets."""
    return {(e.set_id, e.suspect_key) for e in leaf_edits(edit) if isinstance(e, SetDecision)}


def _resulting_label(edit: Edit, suspects: list[dict]) -> int | None:
    """The label an accepted missing_label / inaccurate_label suspect leaves behind."""
    if len(suspects) != 1 or suspects[0]["kind"] not in ADJUSTABLE_FIXES:
        return None
    if suspects[0]["kind"] == "inaccurate_label":
        return suspects[0]["annotation_id"]
    edits = edit.edits if isinstance(edit, CompositeEdit) else [edit]
    added = [e for e in edits if isinstance(e, AddLabel)]
    return added[0].annotation["id"] if added else None
