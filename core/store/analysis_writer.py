"""The write steps of a full analysis (:class:`AnalysisWriter`, inside the one transaction of
:meth:`.analyses.AnalysisRepository.analysis_writer`) and what it hands on for the suspect
cache (:class:`WrittenSuspects`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import KINDS, AnalysisParams
from ..in_thread import InThread
from ..result_rows import RCOL, Rows
from . import suspect_blobs
from .analyses import (
    _MATCH_PREFIX,
    _NO_MATCHES,
    MATCH_FIELDS,
    _found,
    _keys_of,
    _not_found,
    _scope_ids,
    analysis_owner,
    scope_key,
)
from .base import now
from .location import is_team_location
from .spill import SpilledColumns
from .suspects import SUSPECT_INDEX_COLUMNS, compact_int, index_columns

if TYPE_CHECKING:
    from .analyses import AnalysisRepository

SUSPECTS_AS_COLUMNS = True
"""A project file's full analysis of one set stores its suspects as column blobs
(:mod:`.suspect_blobs`); False: as rows, as an older LabelFix did (tests make such files)."""


@dataclass
class WrittenSuspects:
    """The rows a full analysis wrote as suspect index columns (:data:`.suspects.
    SUSPECT_INDEX_COLUMNS`, in temporary files), with the ids from ``later_from`` on written
    after them (the old analysis's decided suspects it keeps) and the generation they are
    the analysis's suspects at: its suspect index is built from them, not by reading every
    row back (1 s of a 5 s analysis at 370k suspects; ~40 s at 8M)."""

    analysis_id: int
    columns: SpilledColumns
    later_from: int
    generation: int
    sorting: InThread | None = None  # the suspect cache's orders of the rows, being sorted

    def orders(self) -> dict[str, np.ndarray] | None:
        """The suspect cache's orders of the rows written (see ``AnalysisWriter.add_rows``),
        once sorted; None if not asked for or failed."""
        return None if self.sorting is None else self.sorting.result()

    def close(self) -> None:
        """Remove the temporary files."""
        self.columns.close()


class AnalysisWriter:
    """Consumes a full analysis's results inside the transaction of
    :meth:`AnalysisRepository.analysis_writer`: each set's matches, the suspect rows (once, or
    chunk by chunk in image order), the masks encoded, the fits and the report."""

    def __init__(
        self, store: AnalysisRepository, set_ids: int | Sequence[int], params: AnalysisParams
    ) -> None:
        self._store = store
        self.scope = scope_key(set_ids)
        self.set_ids = _scope_ids(self.scope)
        self.set_id = self.set_ids[0]
        self._old = store.current_analysis(self.set_ids)
        self.analysis_id = store._db.insert_id(
            "INSERT INTO analyses (prediction_set_id, params, created_at, geometry, current, "
            "set_ids) VALUES (?, ?, ?, ?, 0, ?)",
            [self.set_id, json.dumps(params.to_json()), now(), params.geometry, self.scope],
        )
        self._matches: dict[int, SpilledColumns] = {}
        location = store.location
        folder = None if is_team_location(location) else Path(location).resolve().parent
        self._spill_folder = folder if folder is not None and folder.is_dir() else None
        # what this analysis finds again of the old one's decided suspects (not every key found:
        # at 10M labels that set alone took a gigabyte)
        old = None if self._old is None else self._old["id"]
        # a project file's are read once: its write transaction holds it from the insert
        # above, so they are still the old analysis's decided rows when finish() keeps
        # those not found again (each read joins every old row to the decisions)
        self._decided_rows = store._decided_leftovers(old, self.set_ids, set(), None)
        self._decided = _keys_of(self._decided_rows)
        self._found: set = set()
        self.counts: Counter[str] = Counter(dict.fromkeys(KINDS, 0))
        # a project file keeps the rows' index columns for its suspect cache (core.suspects)
        keep = getattr(store, "path", None) is not None and store._db.dialect == "sqlite"
        self._index = (
            SpilledColumns(SUSPECT_INDEX_COLUMNS, self._spill_folder, ".labelfix-suspects-")
            if keep
            else None
        )
        self._later_from: int | None = None
        self._index_rows = 0  # rows added to the index columns
        self._sorting: InThread | None = None  # their cache orders (add_rows)
        # a project file's analysis of one set stores its suspects as columns (.suspect_blobs)
        self._as_columns = SUSPECTS_AS_COLUMNS and store._db.dialect == "sqlite" and not self.multi
        self._next_id = store._next_suspect_id()
        self._slices: list[list[int]] = []
        self._pending: list[dict[str, np.ndarray]] = []  # columns not in a slice yet

    @property
    def multi(self) -> bool:
        """True for an analysis of several sets."""
        return len(self.set_ids) > 1

    def add_matches(self, matches: dict[str, np.ndarray], set_id: int | None = None) -> None:
        """One chunk of a set's matches (:data:`MATCH_FIELDS`; the first set by default)."""
        key = self.set_id if set_id is None else int(set_id)
        if key not in self._matches:
            self._matches[key] = SpilledColumns(MATCH_FIELDS, self._spill_folder, _MATCH_PREFIX)
        self._matches[key].add(matches)

    def save_masks(self, masks: Iterable[tuple]) -> None:
        """Masks encoded by the analysis (mask-cache rows)."""
        self._store.save_masks(masks)

    def add_rows(
        self, rows: Rows, cache_orders: Callable[[dict], dict] | None = None
    ) -> None:
        """Suspect rows (``result_rows.RESULT_COLUMNS``; with their support for several sets).
        ``cache_orders`` (core.suspect_cache.cache_orders; for all of the analysis's rows at once):
        the suspect cache's sort orders of the rows' index columns, made in a thread while
        the rest is written (~0.1 s of the suspect cache's 0.16 at 370k suspects)."""
        columns = None
        if self._as_columns:
            first = self._next_id
            if len(rows):
                columns = index_columns(rows.rows, first, self.multi)
                self._pending.append(columns)
                if sum(len(c["ids"]) for c in self._pending) >= suspect_blobs.SLICE_ROWS:
                    self._write_pending()
            self._next_id += len(rows)
        else:
            first = self._store._insert_rows(self.analysis_id, rows, self.multi)
        if self._index is not None and len(rows):
            if columns is None:
                columns = index_columns(rows.rows, first, self.multi)
            if cache_orders is not None and self._sorting is None and not self._index_rows:
                self._sorting = InThread(cache_orders, columns)
            elif self._sorting is not None:  # more rows: those orders are not the index's
                self._sorting = None
            self._index_rows += len(rows)
            self._index.add({n: compact_int(c) for n, c in columns.items()})  # ~40% fewer bytes
        if self._decided:
            self._found |= _found(rows, self.multi) & self._decided
        per_kind = np.bincount(rows.rows[:, RCOL["kind"]].astype(np.int64), minlength=len(KINDS))
        self.counts.update({k: int(n) for k, n in zip(KINDS, per_kind.tolist(), strict=True) if n})

    def add(self, matches: dict[str, np.ndarray], rows: Rows, masks: Iterable[tuple] = ()) -> None:
        """One chunk of a one-set analysis: its matches, suspect rows and encoded masks."""
        self.save_masks(masks)
        self.add_matches(matches)
        self.add_rows(rows)

    def _write_pending(self) -> None:
        """Store the suspects' columns gathered so far as slices (chunks of a passes analysis
        are small: a slice holds many)."""
        if not self._pending:
            return
        parts, self._pending = self._pending, []
        columns = {n: np.concatenate([p[n] for p in parts]) for n in parts[0]}
        del parts
        self._slices += self._store.write_suspect_slices(
            self.analysis_id, columns, len(self._slices)
        )

    def close(self) -> None:
        """Remove the temporary files of the matches not stored (after an error)."""
        for spilled in self._matches.values():
            spilled.close()
        self._matches.clear()

    def close_index(self) -> None:
        """Remove the temporary files of the rows' index columns (not handed on)."""
        if self._index is not None:
            self._index.close()

    def written(self) -> WrittenSuspects | None:
        """After :meth:`finish`: the rows written as index columns (None when not kept)."""
        if self._index is None or self._later_from is None:
            return None
        generation = self._store.suspects_generation(self.analysis_id)
        return WrittenSuspects(
            self.analysis_id, self._index, self._later_from, generation, self._sorting
        )

    def set_details(self, fits: Mapping[int, dict], report: dict | None) -> None:
        """What the analysis learnt about each set's detector (JSON by set id, for its
        re-analyses) and its report."""
        self._store._db.execute(
            "UPDATE analyses SET fits = ?, report = ? WHERE id = ?",
            [
                json.dumps({str(k): v for k, v in fits.items()}),
                None if report is None else json.dumps(report),
                self.analysis_id,
            ],
        )

    def finish(self) -> None:
        """Store the matches, keep the old analysis's decided suspects, make this one current."""
        store, aid = self._store, self.analysis_id
        for set_id in self.set_ids:
            spilled = self._matches.pop(set_id, None)
            if spilled is None:
                spilled = SpilledColumns(MATCH_FIELDS, None, _MATCH_PREFIX)
            pred = spilled.column("prediction_id", _NO_MATCHES["prediction_id"])
            order = np.argsort(pred, kind="stable")
            del pred
            owner = analysis_owner(aid, None if set_id == self.set_id else set_id)
            store.delete_arrays(owner)
            for f in MATCH_FIELDS:  # one column at a time: memory holds one, sorted
                store.add_arrays(owner, {f: spilled.column(f, _NO_MATCHES[f])[order]})
            del order
            spilled.close()
        old = None if self._old is None else self._old["id"]
        if store._db.dialect == "sqlite":  # no other writer since __init__: the same rows
            leftovers = _not_found(self._decided_rows, self._found, self.multi)
        else:  # another reviewer's decision may have landed since
            leftovers = store._decided_leftovers(old, self.set_ids, self._found, None)
        if self._as_columns:
            self._write_pending()
            store.finish_suspect_slices(aid, self._slices, self._next_id)
        self._later_from = store._next_suspect_id()
        store._insert_leftovers(aid, leftovers)
        self.counts.update(r[0][self._store._ROW_FIELDS.index("kind")] for r in leftovers)
        store._drop_other_analyses(self.scope, aid)
        store._db.execute("UPDATE analyses SET current = 1 WHERE id = ?", [aid])
