"""Review decisions on suspects and the append-only change log.

Every decision and change-log entry names its reviewer (the store's ``reviewer``). Entries are
numbered (``seq``) in commit order, also on a team project (``lock_changes``), so a reader that
remembers the last ``seq`` it saw misses nothing with :meth:`ReviewRepository.changes_since`.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from .base import ConflictError, Repository, now, readable_time
from .records import dumps


class ReviewRepository(Repository):
    """The ``decisions`` and ``change_log`` tables."""

    # ------------------------------------------------------------------ decisions
    def decision(self, set_id: int, suspect_key: str) -> dict | None:
        """The review decision on a suspect (decision, note, time, reviewer), or None."""
        rows = self._db.dicts(
            "SELECT decision, note, time, reviewer FROM decisions "
            "WHERE prediction_set_id = ? AND suspect_key = ?",
            [set_id, suspect_key],
        )
        return rows[0] if rows else None

    def decisions(self, set_id: int) -> dict[str, str]:
        """Suspect key -> decision, for every decided suspect of a prediction set."""
        return dict(
            self._db.rows(
                "SELECT suspect_key, decision FROM decisions WHERE prediction_set_id = ?", [set_id]
            )
        )

    def set_decision(
        self,
        set_id: int,
        suspect_key: str,
        decision: str | None,
        note: str | None,
        *,
        restore: dict | None = None,
    ) -> dict | None:
        """Record (or with None, clear) the review decision on a suspect, in this store's
        reviewer's name (an undo gives back a former decision as it was: ``restore``, a
        :meth:`decision` row, keeps its reviewer and time); returns the decision as now stored
        (None when cleared)."""
        if decision is None:
            self._db.execute(
                "DELETE FROM decisions WHERE prediction_set_id = ? AND suspect_key = ?",
                [set_id, suspect_key],
            )
            return None
        row = {"decision": decision, "note": note, "time": now(), "reviewer": self.reviewer}
        if restore is not None:
            row["time"] = restore.get("time") or row["time"]
            row["reviewer"] = restore.get("reviewer") or row["reviewer"]
        self._db.upsert(
            "decisions",
            ("prediction_set_id", "suspect_key", "decision", "note", "time", "reviewer"),
            ("prediction_set_id", "suspect_key"),
            [(set_id, suspect_key, decision, note, row["time"], row["reviewer"])],
        )
        return row

    # ------------------------------------------------------------------ change log
    def log(
        self,
        edit_id: str,
        action: str,
        *,
        annotation_id: int | None = None,
        image_id: int | None = None,
        before: Any = None,
        after: Any = None,
        reason: str | None = None,
        suspect_key: str | None = None,
        note: str | None = None,
        reverts: int | None = None,
    ) -> int:
        """Append one change-log entry in this store's reviewer's name; returns its sequence
        number (taking the change lock first: see :meth:`Store.lock_changes`)."""
        with contextlib.nullcontext() if self._db.in_transaction else self._db.atomic():
            self._db.lock_changes()
            return self._db.insert_id(
                "INSERT INTO change_log (time, edit_id, action, annotation_id, image_id, before, "
                "after, reason, suspect_key, note, reverts, reviewer, session) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    now(),
                    edit_id,
                    action,
                    annotation_id,
                    image_id,
                    None if before is None else dumps(before),
                    None if after is None else dumps(after),
                    reason,
                    suspect_key,
                    note,
                    reverts,
                    self.reviewer,
                    self.session,
                ],
                key="seq",
            )

    def change_log(self, after_seq: int = 0, limit: int | None = None) -> list[dict]:
        """Every change-log entry in order (those after ``after_seq``, at most ``limit``),
        before/after decoded."""
        out = []
        sql, params = "SELECT * FROM change_log WHERE seq > ? ORDER BY seq", [after_seq]
        if limit is not None:
            sql, params = sql + " LIMIT ?", [after_seq, limit]
        for row in self._db.dicts(sql, params):
            for key in ("before", "after"):
                row[key] = json.loads(row[key]) if row[key] is not None else None
            out.append(row)
        return out

    def changes_since(self, seq: int, limit: int | None = None) -> list[dict]:
        """The change-log entries after ``seq`` (oldest first, at most ``limit``): what other
        reviewers decided and edited since this client last looked (the change feed's poll)."""
        return self.change_log(seq, limit)

    def last_label_change(self, annotation_id: int) -> dict | None:
        """The latest change-log entry about a label (seq, time, action, reviewer, session),
        or None."""
        rows = self._db.dicts(
            "SELECT seq, time, action, reviewer, session FROM change_log "
            "WHERE annotation_id = ? ORDER BY seq DESC LIMIT 1",
            [annotation_id],
        )
        return rows[0] if rows else None

    def last_decision_change(self, suspect_key: str) -> dict | None:
        """The latest change-log entry that decided (or undid a decision on) a suspect."""
        rows = self._db.dicts(
            "SELECT seq, time, action, reviewer, session FROM change_log "
            "WHERE suspect_key = ? AND action IN ('decision', 'revert:decision') "
            "ORDER BY seq DESC LIMIT 1",
            [suspect_key],
        )
        return rows[0] if rows else None

    def change_conflict(
        self,
        *,
        annotation_id: int | None = None,
        set_id: int | None = None,
        suspect_key: str | None = None,
    ) -> ConflictError:
        """The error for an undo or redo that would overwrite a later change of someone else's
        to this label (or this suspect's decision): who made the latest change and when, and
        the state now."""
        if annotation_id is not None:
            last = self.last_label_change(annotation_id)
            current = self.annotation(annotation_id)  # type: ignore[attr-defined]
            what = f"label {annotation_id}"
        else:
            assert set_id is not None and suspect_key is not None
            last = self.last_decision_change(suspect_key)
            current = self.decision(set_id, suspect_key)
            what = f"the decision on suspect {suspect_key}"
        who = (last or {}).get("reviewer") or "someone"
        when = readable_time((last or {}).get("time"))
        return ConflictError(
            f"{what} was changed by {who} at {when} after your change; undoing or redoing "
            "yours would overwrite theirs, so nothing was changed.",
            annotation_id=annotation_id,
            suspect_key=suspect_key,
            reviewer=(last or {}).get("reviewer"),
            time=(last or {}).get("time"),
            current=current,
        )

    def edit_logged(self, edit_id: str) -> bool:
        """True if an edit's change-log entries are in the project: after a
        :class:`ConnectionLost` with ``in_doubt``, tells whether its commit landed."""
        return (
            self._db.one("SELECT 1 FROM change_log WHERE edit_id = ? LIMIT 1", [edit_id])
            is not None
        )

    def suspect_changes(self, suspect_key: str) -> list[dict]:
        """The label changes logged for one suspect (its fixes, their undos and re-decisions;
        not its decisions), in log order, before/after decoded."""
        out = []
        for row in self._db.dicts(
            "SELECT * FROM change_log WHERE suspect_key = ? AND action NOT IN "
            "('decision', 'revert:decision') ORDER BY seq",
            [suspect_key],
        ):
            for key in ("before", "after"):
                row[key] = json.loads(row[key]) if row[key] is not None else None
            out.append(row)
        return out

    def last_change(self) -> int:
        """The sequence number of the latest change-log entry (0 for none)."""
        return int(self._db.scalar("SELECT COALESCE(MAX(seq), 0) FROM change_log"))

    def images_changed_since(self, seq: int) -> set[int]:
        """The images whose labels changed after change-log entry ``seq``."""
        return {
            r[0]
            for r in self._db.rows(
                "SELECT DISTINCT image_id FROM change_log WHERE seq > ? AND image_id IS NOT NULL",
                [seq],
            )
        }
