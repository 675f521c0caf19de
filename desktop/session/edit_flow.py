"""How an edit reaches the project and the views: pushed as one undoable command (a team
project's revisions stamped, a lost connection kept as unsaved), re-analysed inside its
transaction, then the index reloaded and a selection kept (mixed into :class:`.session.Session`)."""

from __future__ import annotations

from labelfix.core.analyze import reanalyze_images
from labelfix.core.edits import AddLabel, Edit, SetDecision
from labelfix.core.store import ConflictError, ConnectionLost

from ..commands import EditCommand, Focus, leaf_edits
from .team import conflict_images


class EditFlow:
    """Push edits as commands, undo and redo them, follow them in the views (a mixin of
    :class:`.session.Session`)."""

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
        if self.refuse_read_only():
            return False
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
        if self.refuse_read_only():
            return
        if self.team is not None and self.team.refuse_while_offline():
            return
        self.history.undo()

    def redo(self) -> None:
        """Redo the last undone command (a failure is said, and nothing moves)."""
        self.labels.end_burst()
        if self.refuse_read_only():
            return
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
