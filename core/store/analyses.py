"""Analyses: their parameters, every prediction's match and the suspects they found.

An analysis's matches are numpy columns (owner ``analysis:<id>``), sorted by prediction id;
``match_updates`` overrides them for images re-analysed after an edit. Suspects are rows of the
``suspects`` table. Every write that changes an analysis's suspects bumps its generation (meta
``suspects_generation:<id>``), which invalidates the suspect index's column cache
(:mod:`.suspects`). The write steps of an analysis are :class:`AnalysisWriter` (a full run, one
transaction) and :meth:`AnalysisRepository.replace_image_results` (some images again).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from ..errors import KINDS, SUSPECT_COLUMNS, AnalysisParams, suspect_key
from .base import Repository, now

# the suspects table's columns: the analysis, the key, kind and score, then the ids, IoU and
# confidence as in a suspects array (errors.SUSPECT_COLUMNS)
SUSPECT_FIELDS = ("analysis_id", "key", "kind", "score", *SUSPECT_COLUMNS[1:9])
MATCH_FIELDS = ("prediction_id", "image_id", "outcome", "annotation_id", "iou")
_NO_MATCHES = {
    "prediction_id": np.zeros(0, np.int64),
    "image_id": np.zeros(0, np.int64),
    "outcome": np.zeros(0, np.int8),
    "annotation_id": np.zeros(0, np.int64),
    "iou": np.zeros(0),
}


def analysis_owner(analysis_id: int) -> str:
    """The ``arrays`` owner of an analysis's matches."""
    return f"analysis:{analysis_id}"


def generation_key(analysis_id: int) -> str:
    """The meta key counting rewrites of an analysis's suspects."""
    return f"suspects_generation:{analysis_id}"


def fit_key(analysis_id: int) -> str:
    """The meta key of what an analysis learnt about its detector (core.scoring.DetectorFit)."""
    return f"detector_fit:{analysis_id}"


def suspect_columns(analysis_id: int, suspects: np.ndarray) -> list[list]:
    """The suspects table's columns (:data:`SUSPECT_FIELDS`) from a scored suspects array
    (``errors.SUSPECT_COLUMNS`` plus the score last), converted to Python values at once."""
    n = len(suspects)

    def column(col: int, dtype: type, missing: np.ndarray | None = None) -> list:
        out = suspects[:, col].astype(dtype).astype(object)  # Python ints / floats, made in C
        if missing is not None:
            out[missing] = None
        return out.tolist()

    def ints(col: int) -> list[int | None]:
        return column(col, np.int64, suspects[:, col].astype(np.int64) < 0)

    def floats(col: int) -> list[float | None]:
        return column(col, np.float64, np.isnan(suspects[:, col]))

    kinds = np.array(KINDS, dtype=object)[suspects[:, 0].astype(np.int64)].tolist()
    ann, other, pred = ints(2), ints(3), ints(4)
    keys = list(map(suspect_key, kinds, ann, pred, other))
    return [
        [analysis_id] * n,
        keys,
        kinds,
        suspects[:, -1].tolist(),
        column(1, np.int64),
        ann,
        other,
        pred,
        ints(5),
        ints(6),
        floats(7),
        floats(8),
    ]


class AnalysisRepository(Repository):
    """The ``analyses``, ``suspects`` and ``match_updates`` tables (and the matches' columns)."""

    def current_analysis(self, set_id: int | None = None) -> dict | None:
        """The current analysis of a prediction set (the active one by default), or None:
        id, params (:class:`AnalysisParams`), created_at, geometry, set_id."""
        if set_id is None:
            set_id = self.active_set_id()
            if set_id is None:
                return None
        row = self._db.one(
            "SELECT id, params, created_at, geometry FROM analyses "
            "WHERE prediction_set_id = ? AND current = 1",
            [set_id],
        )
        if row is None:
            return None
        return {
            "id": row[0],
            "params": AnalysisParams.from_json(json.loads(row[1])),
            "created_at": row[2],
            "geometry": row[3],
            "set_id": set_id,
        }

    @contextmanager
    def analysis_writer(self, set_id: int, params: AnalysisParams) -> Iterator[AnalysisWriter]:
        """The write step of a full analysis: one transaction that adds the new analysis and
        makes it the set's current one in place of the old (whose decided suspects it keeps)."""
        with self._db.atomic():
            self._db.lock_changes()  # two analyses of a team project never interleave
            writer = AnalysisWriter(self, set_id, params)
            yield writer
            writer.finish()

    def replace_image_results(
        self,
        analysis: dict,
        image_ids: list[int],
        matches: dict[str, np.ndarray],
        suspects: np.ndarray,
        masks: Iterable[tuple] = (),
    ) -> int:
        """The write step of re-analysing some images of an analysis, in one transaction: their
        suspects and matches replaced (decided suspects kept); returns their suspect count."""
        aid, set_id = analysis["id"], analysis["set_id"]
        with self._db.atomic():
            self._db.lock_changes()  # the generation bump and the rows of others' re-analyses
            self.save_masks(masks)
            # the cached suspect columns go stale with these rows: bump their generation (a few
            # bytes; deleting the ~100 MB cache here cost ~0.8 s per edit)
            self.set_meta(generation_key(aid), self.suspects_generation(aid) + 1)
            columns = suspect_columns(aid, suspects)
            leftovers = self._decided_leftovers(aid, set_id, set(columns[1]), image_ids)
            self._db.execute(
                f"DELETE FROM suspects WHERE analysis_id = ? AND image_id IN ({self._db.marks(len(image_ids))})",
                [aid, *image_ids],
            )
            self._insert_suspects(columns, leftovers, aid)
            self._db.upsert(
                "match_updates",
                ("analysis_id", *MATCH_FIELDS),
                ("analysis_id", "prediction_id"),
                [
                    (
                        aid,
                        int(p),
                        int(i),
                        int(o),
                        None if a < 0 else int(a),
                        None if np.isnan(u) else float(u),
                    )
                    for p, i, o, a, u in zip(*(matches[f] for f in MATCH_FIELDS), strict=True)
                ],
            )
        return len(columns[0]) + len(leftovers)

    def match_arrays(self, analysis_id: int) -> dict[str, np.ndarray]:
        """Every prediction's match in an analysis (:data:`MATCH_FIELDS` columns by prediction
        id), with the updates of re-analysed images applied."""
        arr = self.get_arrays(analysis_owner(analysis_id))
        updates = self._db.rows(
            "SELECT prediction_id, outcome, annotation_id, iou FROM match_updates WHERE analysis_id = ?",
            [analysis_id],
        )
        if updates:
            pos = np.searchsorted(arr["prediction_id"], [u[0] for u in updates])
            arr["outcome"][pos] = [u[1] for u in updates]
            arr["annotation_id"][pos] = [-1 if u[2] is None else u[2] for u in updates]
            arr["iou"][pos] = [np.nan if u[3] is None else u[3] for u in updates]
        return arr

    def suspect_counts(self, analysis_id: int) -> dict[str, int]:
        """Suspects of an analysis by kind (every kind present, maybe 0)."""
        counts = dict.fromkeys(KINDS, 0)
        counts.update(
            self._db.rows(
                "SELECT kind, COUNT(*) FROM suspects WHERE analysis_id = ? GROUP BY kind",
                [analysis_id],
            )
        )
        return counts

    def detector_fit(self, analysis_id: int) -> dict | None:
        """The detector fit (JSON) stored with an analysis; None for analyses from before."""
        return self.get_meta(fit_key(analysis_id))

    def suspects_generation(self, analysis_id: int) -> int:
        """How many times the analysis's suspects were rewritten since it was made."""
        return int(self.get_meta(generation_key(analysis_id), 0))

    # ------------------------------------------------------------------ helpers
    def _decided_leftovers(
        self, old_analysis: int | None, set_id: int, new_keys: set[str], image_ids: list[int] | None
    ) -> list[tuple]:
        """Old suspect rows (without analysis id) that have a decision and were not found again
        (to keep them visible)."""
        if old_analysis is None:
            return []
        sql = (
            "SELECT s.key, s.kind, s.score, s.image_id, s.annotation_id, s.other_annotation_id, "
            "s.prediction_id, s.category_id, s.predicted_category_id, s.iou, s.confidence "
            "FROM suspects s JOIN decisions d ON d.suspect_key = s.key AND d.prediction_set_id = ? "
            "WHERE s.analysis_id = ?"
        )
        params: list = [set_id, old_analysis]
        if image_ids is not None:
            sql += f" AND s.image_id IN ({self._db.marks(len(image_ids))})"
            params += list(image_ids)
        return [r for r in self._db.rows(sql, params) if r[0] not in new_keys]

    def _insert_suspects(
        self, columns: list[list], leftovers: list[tuple], analysis_id: int
    ) -> None:
        """Insert suspect rows given as columns, then the leftovers (rows without analysis id)."""
        self._db.insert_columns("suspects", SUSPECT_FIELDS, columns)
        if leftovers:
            rows = [(analysis_id, *r) for r in leftovers]
            self._db.insert_columns(
                "suspects", SUSPECT_FIELDS, [list(c) for c in zip(*rows, strict=True)]
            )

    def _drop_other_analyses(self, set_id: int, keep: int) -> None:
        """Delete a set's analyses other than ``keep``, with their matches and suspect caches."""
        for (old_id,) in self._db.rows(
            "SELECT id FROM analyses WHERE prediction_set_id = ? AND id != ?", [set_id, keep]
        ):
            self.delete_arrays(analysis_owner(old_id))
            self.delete_arrays(f"suspect_index:{old_id}")
            self.delete_meta(generation_key(old_id))
            self.delete_meta(fit_key(old_id))
            self._db.execute("DELETE FROM analyses WHERE id = ?", [old_id])


class AnalysisWriter:
    """Consumes a full analysis's results (one chunk of images or many, in image order) inside
    the transaction of :meth:`AnalysisRepository.analysis_writer`."""

    def __init__(self, store: AnalysisRepository, set_id: int, params: AnalysisParams) -> None:
        self._store = store
        self.set_id = set_id
        self._old = store.current_analysis(set_id)
        self.analysis_id = store._db.insert_id(
            "INSERT INTO analyses (prediction_set_id, params, created_at, geometry, current) "
            "VALUES (?, ?, ?, ?, 0)",
            [set_id, json.dumps(params.to_json()), now(), params.geometry],
        )
        self._matches: list[dict[str, np.ndarray]] = []
        # the old analysis's decided suspects, and those of them this one finds again (not
        # every key: at 10M labels that set alone took a gigabyte)
        old = None if self._old is None else self._old["id"]
        self._decided = {r[0] for r in store._decided_leftovers(old, set_id, set(), None)}
        self._keys: set[str] = set()
        self.counts: Counter[str] = Counter(dict.fromkeys(KINDS, 0))

    def add(
        self, matches: dict[str, np.ndarray], suspects: np.ndarray, masks: Iterable[tuple] = ()
    ) -> None:
        """One chunk's results: its predictions' matches (:data:`MATCH_FIELDS`), its scored
        suspects, and the masks encoded for it (mask-cache rows)."""
        self._store.save_masks(masks)
        self._matches.append(dict(matches))  # (its columns are let go one by one in finish)
        columns = suspect_columns(self.analysis_id, suspects)
        self._store._db.insert_columns("suspects", SUSPECT_FIELDS, columns)
        if self._decided:
            self._keys.update(k for k in columns[1] if k in self._decided)
        self.counts.update(columns[2])

    def set_fit(self, fit: dict) -> None:
        """What the analysis learnt about its detector (JSON), for its re-analyses."""
        self._store.set_meta(fit_key(self.analysis_id), fit)

    def finish(self) -> None:
        """Store the matches, keep the old analysis's decided suspects, make this one current."""
        store, aid = self._store, self.analysis_id
        parts = self._matches or [dict(_NO_MATCHES)]
        order = np.argsort(np.concatenate([p["prediction_id"] for p in parts]), kind="stable")
        store.delete_arrays(analysis_owner(aid))
        for f in MATCH_FIELDS:  # one column at a time: memory holds one, sorted
            column = np.concatenate([p.pop(f) for p in parts])
            store.add_arrays(analysis_owner(aid), {f: column[order]})
            del column
        self._matches = []
        old = None if self._old is None else self._old["id"]
        leftovers = store._decided_leftovers(old, self.set_id, self._keys, None)
        store._insert_suspects([], leftovers, aid)
        self.counts.update(r[1] for r in leftovers)
        store._drop_other_analyses(self.set_id, aid)
        store._db.execute("UPDATE analyses SET current = 1 WHERE id = ?", [aid])
