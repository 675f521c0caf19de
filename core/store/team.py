"""Working together on one project: claims, the change feed and the lead's queries.

- **Claims** hand open suspects to one reviewer session at a time: :meth:`TeamRepository.
  claim_suspects` takes the best-scored open suspects nobody else holds, locking them with
  ``SELECT … FOR UPDATE SKIP LOCKED`` on a team project, so two reviewers claiming at the same
  moment never get the same suspect; a claim lasts until it expires (the server's clock) or is
  released. On a project file the same calls work (one writer at a time: nothing to skip).
- **The change feed** (:class:`ChangeFeed`) hands out the change-log entries others commit, as
  they are committed: woken by the server's notification (LISTEN/NOTIFY) on a team project, by
  polling ``changes_since(seq)`` on a file or when notifications are unavailable.
- **The lead's queries**: decisions by reviewer, and each reviewer's counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .base import Repository
from .suspect_blobs import best_open

DEFAULT_CLAIM_SECONDS = 15 * 60.0


def _with_objects(pick: Callable[[dict[str, np.ndarray]], np.ndarray]) -> Callable:
    """A ``suspect_rows_view`` pick that adds every suspect of the picked ones' objects (their
    groups), so a claim on a file sees whole objects."""

    def picked(columns: dict[str, np.ndarray]) -> np.ndarray:
        at = pick(columns)
        group = columns["group"]
        return np.union1d(at, np.flatnonzero(np.isin(group, group[at])))

    return picked


class TeamRepository(Repository):
    """The ``claims`` table, and reviewer-centred reads of ``decisions`` and ``change_log``."""

    session: str

    # ------------------------------------------------------------------ claims
    def claim_suspects(
        self,
        set_id: int,
        count: int,
        *,
        seconds: float = DEFAULT_CLAIM_SECONDS,
        kinds: Iterable[str] | None = None,
        min_confidence: float = 0.0,
    ) -> list[str]:
        """Claim up to ``count`` more objects of a prediction set's current analysis for this
        session, best score first, for ``seconds``: every open suspect of each object (its
        group: one label's or prediction's alternatives), so one reviewer holds all of them;
        returns their keys. An object is picked by its best open suspect of ``kinds`` with
        ``min_confidence``; objects with an unexpired claim on any suspect (this session's
        too) are not claimed again; renew this session's claims with :meth:`renew_claims`."""
        analysis = self._current_analysis_id(set_id)
        if analysis is None or count <= 0:
            return []
        got: list[str] = []
        objects = 0
        kinds = sorted(set(kinds)) if kinds else []
        # claims committed by others while a claim's statement read are not seen by it: it
        # picks them, the insert skips them, and it may claim nothing; go on while a fresh
        # look finds open objects nobody holds
        for _ in range(12):
            pick = None
            if self._db.dialect == "sqlite":
                # a file's analysis stored as columns is read as rows here (suspect_blobs):
                # its best open ones are among the first count + decided + claimed
                taken = self._db.scalar(
                    "SELECT (SELECT COUNT(*) FROM decisions WHERE prediction_set_id = ?)"
                    " + (SELECT COUNT(*) FROM claims WHERE prediction_set_id = ?)",
                    [set_id, set_id],
                )
                pick = _with_objects(best_open(count - objects + int(taken), kinds, min_confidence))
            with self._db.atomic(), self.suspect_rows_view(analysis, pick):
                picked = self._pick_heads(set_id, analysis, count - objects, kinds, min_confidence)
                heads = self._insert_claims(set_id, [k for k, _i, _g in picked], seconds)
                taken = set(heads)
                objects_of = [(i, g) for k, i, g in picked if k in taken and g is not None]
                more = heads + self._claim_rest_of_objects(
                    set_id, analysis, objects_of, taken, seconds
                )
                left = bool(heads) or bool(
                    self._pick_heads(set_id, analysis, 1, kinds, min_confidence, probe=True)
                )
            got += more
            objects += len(heads)
            if not left or objects >= count:
                break
        return got

    def _pick_heads(
        self,
        set_id: int,
        analysis_id: int,
        count: int,
        kinds: Iterable[str] | None,
        min_confidence: float,
        *,
        probe: bool = False,
    ) -> list[tuple[str, int, int | None]]:
        """The best open suspect (key, image, group) of up to ``count`` objects nobody holds,
        locked until the transaction ends (the head a claim locks: two sessions claiming at
        once pick the same head, and one skips it); ``probe``: only look, locking nothing."""
        now = self._db.epoch_now()
        kinds = sorted(set(kinds)) if kinds else []

        def wanted(alias: str) -> tuple[str, list[Any]]:
            where = [
                f"{alias}.analysis_id = ?",
                "NOT EXISTS (SELECT 1 FROM decisions d WHERE d.prediction_set_id = ?"
                f" AND d.suspect_key = {alias}.key)",
            ]
            params: list[Any] = [analysis_id, set_id]
            if kinds:
                where.append(f"{alias}.kind IN ({self._db.marks(len(kinds))})")
                params += kinds
            if min_confidence > 0:
                where.append(f"({alias}.confidence IS NULL OR {alias}.confidence >= ?)")
                params.append(min_confidence)
            return " AND ".join(where), params

        head_where, head_params = wanted("s")
        better_where, better_params = wanted("b")
        fence = "" if self._db.dialect == "sqlite" else " OFFSET 0"
        sql = (
            f"SELECT s.key, s.image_id, s.group_id FROM suspects s WHERE {head_where}"
            # no better open one of its object (the same image, the same group)
            f" AND NOT EXISTS (SELECT 1 FROM suspects b WHERE {better_where}"
            "  AND b.image_id = s.image_id AND b.group_id = s.group_id"
            "  AND (b.group_rank < s.group_rank OR (b.group_rank = s.group_rank AND b.id < s.id)))"
            # nobody holds it, nor any suspect of its object
            " AND NOT EXISTS (SELECT 1 FROM claims c"
            f"  WHERE c.prediction_set_id = ? AND c.suspect_key = s.key AND c.expires > {now})"
            # (the object's suspects read per row through the by-image index: PostgreSQL's
            # planner otherwise hash-joined every suspect with the claims, 150 ms at 200,000)
            " AND NOT EXISTS (SELECT 1 FROM (SELECT g.key AS key FROM suspects g"
            "  WHERE g.analysis_id = s.analysis_id AND g.image_id = s.image_id"
            f"  AND g.group_id = s.group_id{fence}) AS o JOIN claims c ON c.prediction_set_id = ?"
            f"  AND c.suspect_key = o.key AND c.expires > {now})"
            " ORDER BY s.score DESC, s.id LIMIT ?"
        )
        if not probe:
            sql += self._db.skip_locked("s")
        params = [*head_params, *better_params, set_id, set_id, count]
        return [
            (str(k), int(i), None if g is None else int(g))
            for k, i, g in self._db.rows(sql, params)
        ]

    def _insert_claims(self, set_id: int, keys: list[str], seconds: float) -> list[str]:
        """Claim these suspects for this session, but for those another session holds (a
        claim committed since they were read); the keys claimed."""
        now = self._db.epoch_now()
        got: list[str] = []
        for at in range(0, len(keys), 150):  # 5 values a row: within SQLite's 999
            chunk = keys[at : at + 150]
            values = ", ".join(f"(?, ?, ?, ?, {now} + ?)" for _ in chunk)
            params: list[Any] = []
            for key in chunk:
                params += [set_id, key, self.reviewer, self.session, float(seconds)]
            got += [
                r[0]
                for r in self._db.rows(
                    "INSERT INTO claims (prediction_set_id, suspect_key, reviewer, session, "
                    f"expires) VALUES {values} "
                    "ON CONFLICT (prediction_set_id, suspect_key) DO UPDATE SET "
                    "reviewer = excluded.reviewer, session = excluded.session, "
                    f"expires = excluded.expires WHERE claims.expires <= {now} "
                    "RETURNING suspect_key",
                    params,
                )
            ]
        return got

    def _claim_rest_of_objects(
        self,
        set_id: int,
        analysis_id: int,
        objects: list[tuple[int, int]],
        heads: set[str],
        seconds: float,
    ) -> list[str]:
        """Claim the other open suspects of these objects ((image, group) pairs: their heads
        were just claimed), read through the suspects-by-image index."""
        wanted = set(objects)
        members: list[str] = []
        images = sorted({i for i, _g in wanted})
        for at in range(0, len(images), 500):
            chunk = images[at : at + 500]
            members += [
                str(k)
                for k, i, g in self._db.rows(
                    "SELECT m.key, m.image_id, m.group_id FROM suspects m WHERE m.analysis_id = ?"
                    f" AND m.image_id IN ({self._db.marks(len(chunk))})"
                    " AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.prediction_set_id = ?"
                    " AND d.suspect_key = m.key)",
                    [analysis_id, *chunk, set_id],
                )
                if (int(i), None if g is None else int(g)) in wanted and k not in heads
            ]
        return self._insert_claims(set_id, members, seconds)

    def renew_claims(self, set_id: int, seconds: float = DEFAULT_CLAIM_SECONDS) -> int:
        """Extend this session's unexpired claims to ``seconds`` from now; returns how many."""
        now = self._db.epoch_now()
        with self._db.atomic():
            return int(
                self._db.execute(
                    f"UPDATE claims SET expires = {now} + ? "
                    f"WHERE prediction_set_id = ? AND session = ? AND expires > {now}",
                    [float(seconds), set_id, self.session],
                ).rowcount
            )

    def release_claims(self, set_id: int, keys: Iterable[str] | None = None) -> int:
        """Give back this session's claims (those on ``keys``, or all); returns how many."""
        sql, params = (
            "DELETE FROM claims WHERE prediction_set_id = ? AND session = ?",
            [
                set_id,
                self.session,
            ],
        )
        if keys is not None:
            keys = list(keys)
            if not keys:
                return 0
            sql += f" AND suspect_key IN ({self._db.marks(len(keys))})"
            params += keys
        with self._db.atomic():
            return int(self._db.execute(sql, params).rowcount)

    def claims(self, set_id: int) -> dict[str, dict[str, Any]]:
        """Every unexpired claim of a prediction set: suspect key -> reviewer, session, and
        seconds left."""
        now = self._db.epoch_now()
        return {
            key: {"reviewer": reviewer, "session": session, "seconds_left": float(left)}
            for key, reviewer, session, left in self._db.rows(
                f"SELECT suspect_key, reviewer, session, expires - {now} FROM claims "
                f"WHERE prediction_set_id = ? AND expires > {now}",
                [set_id],
            )
        }

    def my_claims(self, set_id: int) -> list[str]:
        """The keys of this session's unexpired claims."""
        return sorted(k for k, c in self.claims(set_id).items() if c["session"] == self.session)

    def _current_analysis_id(self, set_id: int) -> int | None:
        return self._db.scalar(
            "SELECT id FROM analyses WHERE prediction_set_id = ? AND current = 1", [set_id]
        )

    # ------------------------------------------------------------------ the lead's queries
    def decisions_by_reviewer(self, set_id: int, reviewer: str | None = None) -> list[dict]:
        """The decisions of a prediction set (only ``reviewer``'s, if given), oldest first:
        suspect_key, decision, note, time, reviewer."""
        sql = (
            "SELECT suspect_key, decision, note, time, reviewer FROM decisions "
            "WHERE prediction_set_id = ?"
        )
        params: list[Any] = [set_id]
        if reviewer is not None:
            sql += " AND reviewer = ?"
            params.append(reviewer)
        return self._db.dicts(sql + " ORDER BY time, suspect_key", params)

    def reviewer_counts(self, set_id: int) -> dict[str, dict[str, int]]:
        """Each reviewer's numbers: their standing decisions of a prediction set by kind
        (accepted, rejected, flagged, and decided in all), and the label edits they made
        (change-log entries that changed a label, undos not counted)."""
        out: dict[str, dict[str, int]] = {}

        def entry(name: str | None) -> dict[str, int]:
            return out.setdefault(
                name or "(unknown)",
                {"accepted": 0, "rejected": 0, "flagged": 0, "decided": 0, "label_edits": 0},
            )

        for reviewer, decision, n in self._db.rows(
            "SELECT reviewer, decision, COUNT(*) FROM decisions WHERE prediction_set_id = ? "
            "GROUP BY reviewer, decision",
            [set_id],
        ):
            row = entry(reviewer)
            row[decision] += int(n)
            row["decided"] += int(n)
        for reviewer, n in self._db.rows(
            "SELECT reviewer, COUNT(*) FROM change_log WHERE annotation_id IS NOT NULL "
            "AND action IN ('add_label', 'delete_label', 'set_category', 'set_geometry', "
            "'update_label') GROUP BY reviewer"
        ):
            entry(reviewer)["label_edits"] += int(n)
        return dict(sorted(out.items()))

    # ------------------------------------------------------------------ the change feed
    def change_feed(self, after_seq: int | None = None, *, poll_seconds: float = 1.0) -> ChangeFeed:
        """A feed of the change-log entries committed after ``after_seq`` (default: now), on
        connections of its own (safe to use from another thread than this store's)."""
        reader = self.reader()  # type: ignore[attr-defined]
        try:
            listener = reader._db.listen()
            start = reader.last_change() if after_seq is None else after_seq
        except BaseException:
            reader.close()
            raise
        return ChangeFeed(reader, listener, start, poll_seconds)


class ChangeFeed:
    """Others' decisions and edits, as they are committed (see the module).

    ``poll(timeout)`` returns the entries committed since the last call (oldest first),
    waiting up to ``timeout`` seconds for some. The server's notification wakes it at once; a
    project file (or a lost notification connection, reopened on the next call) falls back to
    polling every ``poll_seconds``. :class:`~.base.ConnectionLost` is raised while the server is
    away; calling again later resumes where it stopped, missing nothing.
    """

    def __init__(self, reader: Any, listener: Any, after_seq: int, poll_seconds: float) -> None:
        self._reader = reader
        self._listener = listener
        self.seq = after_seq
        self.poll_seconds = poll_seconds

    def poll(self, timeout: float = 2.0) -> list[dict]:
        """The entries after the last seen one; waits up to ``timeout`` s for the first."""
        entries = self._reader.changes_since(self.seq)
        deadline = time.monotonic() + timeout
        while not entries:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self._listener is not None:
                self._listener.wait(left)
            else:
                time.sleep(min(self.poll_seconds, left))
            entries = self._reader.changes_since(self.seq)
        if entries:
            self.seq = int(entries[-1]["seq"])
        return entries

    def close(self) -> None:
        """Close the feed's connections."""
        if self._listener is not None:
            self._listener.close()
        self._reader.close()

    def __enter__(self) -> ChangeFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
