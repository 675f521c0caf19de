"""The suspects under review: the analysis's suspect index, the filter and sort that list some of
them (``positions``: index positions in table order), and the current one.

Plain Python over numpy (no Qt, no store writes): the session changes it and emits the signals
the views follow. Another way of listing suspects (one row per object, another prediction set,
the suspects claimed by one reviewer) is another query here; another view of the same list (a
triage grid) reads the same rows.
"""

from __future__ import annotations

import numpy as np

from labelfix.core.store import Store
from labelfix.core.suspects import (
    DEFAULT_REVIEW_FILTER,
    SORT_KEYS,
    STATUS_CODE,
    SuspectFilter,
    SuspectIndex,
)

OPEN = STATUS_CODE["open"]


class ReviewList:
    """The listed suspects (filter, sort) and the current one, by index position."""

    def __init__(self, index: SuspectIndex) -> None:
        self.index = index
        self.filter: SuspectFilter = DEFAULT_REVIEW_FILTER
        self.sort_key = "score"
        self.descending = True
        self.positions = np.zeros(0, dtype=np.int64)
        self.current_pos: int | None = None  # position in the index (not the table row)
        self.current_image: int | None = None  # its image (kept while the index reloads)
        # a team view narrowing the list (my claims, one reviewer's decisions): its name and
        # the suspect keys it keeps
        self.only_name: str | None = None
        self.only_keys: frozenset[str] | None = None

    # ------------------------------------------------------------------ listing
    def requery(self) -> None:
        """List the index's suspects by the filter and sort (and the team view, if any)."""
        positions = self.index.query(self.filter, self.sort_key, self.descending)
        if self.only_keys is not None:
            keep = np.zeros(len(self.index), dtype=bool)
            if self.only_keys:
                keep[self.index.positions_of(sorted(self.only_keys))] = True
            positions = positions[keep[positions]]
        self.positions = positions

    def set_only(self, name: str | None, keys: frozenset[str] | None) -> bool:
        """List only these suspects (None: all the filter keeps); False when unchanged."""
        if (name, keys) == (self.only_name, self.only_keys):
            return False
        self.only_name, self.only_keys = name, keys
        self.requery()
        return True

    def set_filter(self, flt: SuspectFilter) -> bool:
        """Use another filter; False when it is the same."""
        if flt == self.filter:
            return False
        self.filter = flt
        self.requery()
        return True

    def set_sort(self, key: str, descending: bool) -> bool:
        """Sort by one of SORT_KEYS; False when the order is the same."""
        if key not in SORT_KEYS:
            raise KeyError(key)
        if (key, descending) == (self.sort_key, self.descending):
            return False
        self.sort_key, self.descending = key, descending
        self.requery()
        return True

    def set_view(self, flt: SuspectFilter, sort_key: str, descending: bool) -> None:
        """Filter and sort as saved (unknown sort keys are ignored)."""
        self.filter = flt
        if sort_key in SORT_KEYS:
            self.sort_key, self.descending = sort_key, descending
        self.requery()

    def replace_index(self, index: SuspectIndex) -> None:
        """List a new analysis's suspects (the caller keeps the selection by key)."""
        self.index = index
        self.requery()

    def reload_images(self, store: Store, image_ids: set[int]) -> None:
        """Read the suspects of re-analysed images again."""
        self.index.reload_images(store, image_ids)

    def reload_statuses(self, store: Store, pairs: set[tuple[int, str]]) -> None:
        """Set the status of the suspects decided under these (set id, key) pairs from the
        project's decisions (several sets: every suspect's, from the latest decision under any
        of its sets' keys)."""
        if not pairs:
            return
        if self.index.multi:
            self.index.reload_statuses(store)
            return
        decided = store.decisions(self.index.set_id)
        by_status: dict[str, list[str]] = {}
        for set_id, key in pairs:
            if set_id == self.index.set_id:
                by_status.setdefault(decided.get(key, "open"), []).append(key)
        for status, group in by_status.items():
            self.index.set_status(group, status)

    # ------------------------------------------------------------------ reading
    def row_count(self) -> int:
        """Suspects listed."""
        return len(self.positions)

    def suspect_at(self, row: int) -> dict:
        """The suspect on a table row (a row dict; ``set_id``: its prediction's set)."""
        return self.suspect(int(self.positions[row]))

    def suspect(self, pos: int) -> dict:
        """The suspect at an index position (a row dict; ``set_id``: its prediction's set)."""
        return self.index.row(pos)

    def position_of_id(self, suspect_id: int | None) -> int | None:
        """The index position of a suspect id, or None."""
        if suspect_id is None or not len(self.index):
            return None
        pos = int(np.searchsorted(self.index.ids, suspect_id))
        return pos if pos < len(self.index) and self.index.ids[pos] == suspect_id else None

    def open_alternatives(self, suspect: dict) -> list[dict]:
        """The other open suspects of a suspect's object (accepting it closes them)."""
        pos = self.position_of_id(suspect.get("id"))
        if pos is None:
            return []
        return [
            self.index.row(int(p))
            for p in self.index.alternatives(pos)
            if self.index.status[p] == OPEN
        ]

    def current(self) -> dict | None:
        """The current suspect, or None."""
        return None if self.current_pos is None else self.suspect(self.current_pos)

    def current_key(self) -> str | None:
        """The current suspect's key, or None."""
        return None if self.current_pos is None else self.index.key(self.current_pos)

    def row_of(self, pos: int | None) -> int | None:
        """The table row of an index position, or None when it is not listed."""
        if pos is None:
            return None
        hits = np.flatnonzero(self.positions == pos)
        return int(hits[0]) if len(hits) else None

    def current_row(self) -> int | None:
        """The table row of the current suspect, or None."""
        return self.row_of(self.current_pos)

    def position_of_key(self, key: str | None) -> int | None:
        """The index position of a suspect key, or None."""
        if key is None or not len(self.index):
            return None
        hits = self.index.positions_of([key])
        return int(hits[0]) if len(hits) else None

    def first(self) -> int | None:
        """The position of the first listed suspect, or None."""
        return int(self.positions[0]) if len(self.positions) else None

    def at_row(self, row: int | None) -> int | None:
        """The position listed on a row (None for no row or one out of range)."""
        if row is None or not 0 <= row < len(self.positions):
            return None
        return int(self.positions[row])

    # ------------------------------------------------------------------ moving
    def select(self, pos: int | None) -> None:
        """Make a position current (None: none)."""
        self.current_pos = pos
        self.current_image = None if pos is None else int(self.index.image_id[pos])

    def following(self, start: int, direction: int, open_only: bool, *, wrap: bool) -> int | None:
        """The first listed position from table row ``start`` on, in ``direction`` (open
        suspects only, if asked; with ``wrap`` forward, round to the top)."""
        n = len(self.positions)
        if direction > 0:
            candidates = np.arange(max(start, 0), n)
            if wrap:
                candidates = np.concatenate([candidates, np.arange(0, min(max(start, 0), n))])
        else:
            candidates = np.arange(min(start, n - 1), -1, -1)
        if open_only and len(candidates):
            candidates = candidates[self.index.status[self.positions[candidates]] == OPEN]
        return int(self.positions[candidates[0]]) if len(candidates) else None

    def step(self, direction: int, open_only: bool) -> int | None:
        """The next (or previous) listed position after the current row, or None."""
        n = len(self.positions)
        if n == 0:
            return None
        row = self.current_row()
        start = (-1 if direction > 0 else n) if row is None else row
        return self.following(start + direction, direction, open_only, wrap=False)
