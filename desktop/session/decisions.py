"""The session's decisions on suspects: accept, reject, flag, reopen, each one undoable command
(mixed into :class:`.session.Session`; the commands go through :mod:`.edit_flow`)."""

from __future__ import annotations

from labelfix.core.edits import AddLabel, CompositeEdit, Edit, EditError
from labelfix.core.redecide import redecide
from labelfix.core.review import decide

from ..commands import EditCommand, Focus, leaf_edits

ADJUSTABLE_FIXES = ("missing_label", "inaccurate_label")  # accepting these selects the result
# accepting these with ``adjust`` (Shift+A) keeps their label selected: the class changed, the
# box may want a nudge too (a plain accept moves on: the canvas has nothing new to show)
ADJUSTABLE_WITH_SHIFT = ("wrong_class",)


class Decisions:
    """Decide, reopen and re-decide suspects (a mixin of :class:`.session.Session`)."""

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
        (accept, then adjust; Space then shows the next suspect), a wrong_class's label too. ``seen`` (:meth:`statuses`
        taken when the reviewer began, e.g. before the flag's note dialog): refused if another
        reviewer decided one of them meanwhile, or the selection is another one now."""
        self.labels.end_burst()  # a nudge in progress is written first (it may change suspects)
        if self.labels.offline():
            return False
        suspects = self._suspects_of(rows)
        if rows is not None and len(rows) > 1:  # a bulk decision leaves the decided ones be
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
        result = _resulting_label(edit, suspects, adjust) if decision == "accepted" else None
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
        suspects = [s for s in self._suspects_of(rows) if s["status"] != "open"]
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
        return {s["key"]: s["status"] for s in self._suspects_of(rows)}

    def _suspects_of(self, rows: list[int] | None) -> list[dict]:
        """The suspects of the given table rows; the current one when none or one is given."""
        if rows is None or len(rows) <= 1:
            suspect = self.current() if not rows else self.suspect_at(rows[0])
            return [] if suspect is None else [suspect]
        return [self.suspect_at(r) for r in rows]

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


def _resulting_label(edit: Edit, suspects: list[dict], adjust: bool = False) -> int | None:
    """The label an accepted missing_label / inaccurate_label suspect leaves behind (with
    ``adjust``: a wrong_class one's too, its class changed)."""
    kinds = ADJUSTABLE_FIXES + (ADJUSTABLE_WITH_SHIFT if adjust else ())
    if len(suspects) != 1 or suspects[0]["kind"] not in kinds:
        return None
    if suspects[0]["kind"] != "missing_label":
        return suspects[0]["annotation_id"]
    edits = edit.edits if isinstance(edit, CompositeEdit) else [edit]
    added = [e for e in edits if isinstance(e, AddLabel)]
    return added[0].annotation["id"] if added else None
