"""A team project's side of the session: others' changes arriving, claims, the lead's numbers,
and the edits the server did not acknowledge (the connection went away).

Qt only for its signal; the store calls of the team features live here, so the views and the
window's team panel never touch the store. The :class:`~.change_follower.ChangeFollower`
thread reads the change feed and the claims on connections of its own and hands them to
:meth:`TeamSync.apply_remote` / :meth:`TeamSync.set_claims` on the UI thread.

Unacknowledged edits: an edit whose write raised :class:`ConnectionLost` is kept as *unsaved*
(its suspects show the decision marked "unsaved" in the table, nothing says it is saved). When
the connection is back, :meth:`TeamSync.resend` asks the server whether each one landed after
all (``store.edit_logged(edit_id)``: a commit whose answer was lost) and sends the others
again. While the connection is away, new edits are refused with a sentence (no frozen UI
waiting on a server that is not there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from labelfix.core.edits import DeleteLabel, Edit, SetDecision
from labelfix.core.store import ConflictError, ConnectionLost, ProjectError
from labelfix.core.suspects import STATUS_CODE

from ..commands import leaf_edits

if TYPE_CHECKING:
    from .session import Session

CLAIM_SECONDS = 15 * 60.0  # a claim lasts this long unless renewed
RENEW_EVERY_S = 5 * 60.0  # the window renews its claims this often while it is open
LABEL_ACTIONS = ("add_label", "delete_label", "set_category", "set_geometry", "update_label")


@dataclass
class Unsaved:
    """An edit the server did not acknowledge, kept to be sent again."""

    edit: Edit
    image_ids: set[int]
    focus_key: str | None
    text: str | None
    keys: dict[str, str] = field(default_factory=dict)  # suspect key -> its decision


def is_label_entry(entry: dict) -> bool:
    """Whether a change-log entry changed a label (its image's suspects were re-analysed)."""
    action = str(entry.get("action") or "")
    return action.removeprefix("revert:") in LABEL_ACTIONS or action.startswith("merge")


class TeamSync(QObject):
    """Claims, others' changes and unsaved edits of one open team project."""

    changed = Signal()  # claims, connection or unsaved edits changed (table marks, panel)
    message = Signal(str)  # a sentence for the status bar

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session
        self.store = session.store
        self.own_session = self.store.session
        self.reviewer = self.store.reviewer
        self.start_seq = self.store.last_change()  # the feed starts here: nothing is missed
        self.connected = True
        self.connection_note = ""
        self.unsaved: list[Unsaved] = []
        self.unsaved_keys: dict[str, str] = {}
        self.mine: set[str] = set()  # this window's claims
        self.others: dict[str, str] = {}  # suspect key -> who else holds it
        self.remote_changes = 0  # entries of others applied (for the panel and tests)

    # ------------------------------------------------------------------ reading
    @property
    def set_id(self) -> int | None:
        """The prediction set whose suspects are claimed and counted."""
        return self.session.index.set_id

    def note_for(self, key: str) -> str:
        """The table's team mark of a suspect: unsaved, or claimed by someone else."""
        if key in self.unsaved_keys:
            return "unsaved"
        who = self.others.get(key)
        if who is not None:
            return f"claimed: {who}"
        return "mine" if key in self.mine else ""

    def claimed_by_other(self, key: str) -> str | None:
        """Who else holds a claim on this suspect, or None."""
        return self.others.get(key)

    def reviewer_counts(self) -> dict[str, dict[str, int]]:
        """Each reviewer's decisions (by kind) and label edits on this prediction set."""
        return {} if self.set_id is None else self.store.reviewer_counts(self.set_id)

    def keys_decided_by(self, reviewer: str) -> list[str]:
        """The suspects whose standing decision is ``reviewer``'s."""
        if self.set_id is None:
            return []
        return [d["suspect_key"] for d in self.store.decisions_by_reviewer(self.set_id, reviewer)]

    # ------------------------------------------------------------------ others' changes
    def apply_remote(self, entries: list[dict]) -> int:
        """Show others' committed changes: reload the suspects of the images whose labels they
        changed, and every status; the selection stays on its suspect (by key). Entries of this
        window's own session are skipped (its edits refreshed the views already). Returns
        how many entries were others'."""
        theirs = [e for e in entries if e.get("session") != self.own_session]
        if not theirs or not self.connected:
            return len(theirs)
        images = {int(e["image_id"]) for e in theirs if is_label_entry(e) and e.get("image_id")}
        decided = any(not is_label_entry(e) for e in theirs) or bool(images)
        self.remote_changes += len(theirs)
        self.session.refresh_from_store(images, statuses=decided)
        return len(theirs)

    # ------------------------------------------------------------------ claims
    def set_claims(self, claims: dict[str, dict]) -> None:
        """The claims the follower read: this window's, and who else holds which."""
        mine = {k for k, c in claims.items() if c.get("session") == self.own_session}
        others = {
            k: str(c.get("reviewer") or "?")
            for k, c in claims.items()
            if c.get("session") != self.own_session
        }
        if mine != self.mine or others != self.others:
            self.mine, self.others = mine, others
            self.changed.emit()

    def refresh_claims(self) -> None:
        """Read the claims now (the follower reads them every few seconds after)."""
        if self.set_id is not None and self.connected:
            try:
                self.set_claims(self.store.claims(self.set_id))
            except ProjectError as exc:
                self._lost_or_say(exc, "Reading the claims failed")

    def claim_next(self, count: int) -> list[str]:
        """Claim up to ``count`` more open suspects (best score first) for this window."""
        if self.set_id is None or not self._usable():
            return []
        try:
            keys = self.store.claim_suspects(self.set_id, count, seconds=CLAIM_SECONDS)
        except ProjectError as exc:
            self._lost_or_say(exc, "Claiming failed")
            return []
        self.mine |= set(keys)
        self.changed.emit()
        return keys

    def renew(self) -> int:
        """Extend this window's claims (a timer calls this while the window is open)."""
        if self.set_id is None or not self.mine or not self._usable():
            return 0
        try:
            return self.store.renew_claims(self.set_id, CLAIM_SECONDS)
        except ProjectError as exc:
            self._lost_or_say(exc, "Renewing the claims failed")
            return 0

    def release(self) -> int:
        """Give back this window's claims (closing the project does)."""
        if self.set_id is None or not self.mine:
            return 0
        try:
            n = self.store.release_claims(self.set_id)
        except ProjectError:
            return 0  # they expire on their own
        self.mine = set()
        self.changed.emit()
        return n

    def my_claims_mask(self) -> np.ndarray:
        """A mask over the index: the suspects this window holds."""
        index = self.session.index
        mask = np.zeros(len(index), dtype=bool)
        if self.mine:
            mask[index.positions_of(sorted(self.mine))] = True
        return mask

    # ------------------------------------------------------------------ the connection
    def refuse_while_offline(self, outcome: str = "nothing was changed") -> bool:
        """True (and says so) while the server is away: a new edit (or another suspect's
        reads) would only wait on it."""
        if self.connected:
            return False
        waiting = len(self.unsaved)
        then = f" ({waiting} unsaved edit(s) will be sent then)" if waiting else ""
        self.message.emit(
            f"Not connected to the team server: {outcome}. LabelFix is reconnecting "
            f"and goes on once the server is back{then}."
        )
        return True

    def keep_unsaved(
        self, edit: Edit, image_ids: set[int], focus_key: str | None, text: str | None,
        error: ConnectionLost,
    ) -> None:
        """An edit the server did not acknowledge: keep it, show its decisions marked
        unsaved, and go offline until the follower reconnects."""
        keys = {
            e.suspect_key: e.decision or "open"
            for e in leaf_edits(edit)
            if isinstance(e, SetDecision)
        }
        self.unsaved.append(Unsaved(edit, set(image_ids), focus_key, text, keys))
        self.unsaved_keys.update(keys)
        index = self.session.index
        for key, decision in keys.items():
            if decision in STATUS_CODE:
                index.set_status([key], decision)
        self.set_connected(False, str(error))

    def set_connected(self, connected: bool, note: str = "") -> None:
        """The follower (or a failed write) says the server went away, or is back."""
        if connected == self.connected:
            return
        self.connected = connected
        self.connection_note = note
        self.changed.emit()
        if connected:
            self.resend()

    def resend(self) -> None:
        """Back online: for each unsaved edit, ask whether it landed after all (its commit's
        answer was lost); send the others again, in order. A conflict meanwhile is said and the
        edit dropped (someone else decided); the views show the server's state."""
        pending, self.unsaved = self.unsaved, []
        self.unsaved_keys = {}
        landed, sent, refused = 0, 0, []
        images: set[int] = set()
        for i, item in enumerate(pending):
            try:
                if self.store.edit_logged(item.edit.edit_id):
                    landed += 1
                    images |= item.image_ids
                    continue
            except ConnectionLost:
                self._requeue(pending[i:])
                return
            error = self.session.send(item.edit, item.image_ids, item.focus_key, item.text)
            if isinstance(error, ConnectionLost):
                self._requeue(pending[i:])
                return
            if error is None:
                sent += 1
            else:
                refused.append(str(error))
                images |= item.image_ids
        if landed or refused:
            self.session.refresh_from_store(images, statuses=True)
        if pending:
            parts = []
            if sent:
                parts.append(f"{sent} sent again")
            if landed:
                parts.append(f"{landed} had reached the server (not on the undo list)")
            if refused:
                parts.append(f"{len(refused)} refused: {refused[0]}")
            self.message.emit(f"Reconnected. Unsaved edits: {'; '.join(parts)}.")
        self.changed.emit()

    def _requeue(self, items: list[Unsaved]) -> None:
        self.unsaved = items + self.unsaved
        self.unsaved_keys = {k: d for u in self.unsaved for k, d in u.keys.items()}
        self.connected = False
        self.changed.emit()

    def _usable(self) -> bool:
        return not self.refuse_while_offline()

    def _lost_or_say(self, exc: Exception, what: str) -> None:
        if isinstance(exc, ConnectionLost):
            self.set_connected(False, str(exc))
        self.message.emit(f"{what}: {exc}")


def conflict_images(error: Exception, edit: Edit) -> set[int]:
    """The images to show afresh after a refused edit (its own, and the label's)."""
    images = set(edit.image_ids)
    if isinstance(error, ConflictError) and error.current is not None:
        image = error.current.get("image_id")
        if image is not None:
            images.add(int(image))
    for leaf in leaf_edits(edit):
        if isinstance(leaf, DeleteLabel) and leaf.deleted is not None:
            images.add(int(leaf.deleted["image_id"]))
    return images
