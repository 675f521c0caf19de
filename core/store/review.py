"""Review decisions on suspects and the append-only change log."""

from __future__ import annotations

import json
from typing import Any

from .base import Repository, now
from .records import dumps


class ReviewRepository(Repository):
    """The ``decisions`` and ``change_log`` tables."""

    # ------------------------------------------------------------------ decisions
    def decision(self, set_id: int, suspect_key: str) -> dict | None:
        """The review decision on a suspect, or None."""
        rows = self._db.dicts(
            "SELECT decision, note, time FROM decisions WHERE prediction_set_id = ? AND suspect_key = ?",
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
        self, set_id: int, suspect_key: str, decision: str | None, note: str | None
    ) -> None:
        """Record (or with None, clear) the review decision on a suspect."""
        if decision is None:
            self._db.execute(
                "DELETE FROM decisions WHERE prediction_set_id = ? AND suspect_key = ?",
                [set_id, suspect_key],
            )
        else:
            self._db.upsert(
                "decisions",
                ("prediction_set_id", "suspect_key", "decision", "note", "time"),
                ("prediction_set_id", "suspect_key"),
                [(set_id, suspect_key, decision, note, now())],
            )

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
        """Append one change-log entry; returns its sequence number."""
        return self._db.insert_id(
            "INSERT INTO change_log (time, edit_id, action, annotation_id, image_id, before, after, "
            "reason, suspect_key, note, reverts) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
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
            ],
        )

    def change_log(self, after_seq: int = 0) -> list[dict]:
        """Every change-log entry in order (those after ``after_seq``), before/after decoded."""
        out = []
        for row in self._db.dicts(
            "SELECT * FROM change_log WHERE seq > ? ORDER BY seq", [after_seq]
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
