"""Analyses: their parameters, every prediction's match and the suspects they found.

An analysis covers one prediction set or several (``set_ids``: "1" or "1,2", sorted); each
combination of sets has at most one current analysis, and the project's *active* combination
(meta ``active_prediction_sets``, else the active set alone) is what the CLI and the window
list by default. An analysis's matches are numpy columns per set (owner ``analysis:<id>`` for
its first set, ``analysis:<id>:<set id>`` for the others), sorted by prediction id;
``match_updates`` overrides them for images re-analysed after an edit. Suspects are rows of
the ``suspects`` table, with their calibrated probability and group (one object's
alternatives), or, for a project file's full analysis of one set, column blobs
(:mod:`.suspect_blobs`); a multi-set analysis lists the sets behind each suspect in
``suspect_support``.
What the analysis learnt about each detector (``fits``) and its report (per-class metrics,
confusion table, default review cut) are JSON on the analysis's row.

Every write that changes an analysis's suspects bumps its generation (meta
``suspects_generation:<id>``), which invalidates the suspect index's column cache
(:mod:`.suspects`). The write steps of an analysis are :mod:`.analysis_writer` (a full run,
one transaction) and :meth:`AnalysisRepository.replace_image_results` (some images again). A
full run of a project file also keeps the suspect index's columns of the rows it wrote
(``WrittenSuspects``), so that its cache is built without reading them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

import numpy as np

from ..errors import KINDS, AnalysisParams, suspect_key
from ..result_rows import RCOL, Rows
from .base import Repository
from .suspect_blobs import ROW_FIELDS, keys_of, rows_owner

if TYPE_CHECKING:
    from .analysis_writer import AnalysisWriter, WrittenSuspects

# the suspects table's columns: the id, analysis, key, kind and score, the ids, IoU and
# confidence as in a suspects array (errors.SUSPECT_COLUMNS), then the calibrated probability,
# the group and its rank, and the set of the prediction (NULL: the analysis's only set)
SUSPECT_FIELDS = ROW_FIELDS
SUPPORT_FIELDS = (
    "analysis_id",
    "suspect_id",
    "set_id",
    "prediction_id",
    "key",
    "score",
    "confidence",
    "probability",
)
MATCH_FIELDS = ("prediction_id", "image_id", "outcome", "annotation_id", "iou")
_MATCH_PREFIX = ".labelfix-matches-"
_NO_MATCHES = {
    "prediction_id": np.zeros(0, np.int64),
    "image_id": np.zeros(0, np.int64),
    "outcome": np.zeros(0, np.int8),
    "annotation_id": np.zeros(0, np.int64),
    "iou": np.zeros(0),
}
ACTIVE_SETS_KEY = "active_prediction_sets"


def analysis_owner(analysis_id: int, set_id: int | None = None) -> str:
    """The ``arrays`` owner of an analysis's matches (of one of its later sets if ``set_id``)."""
    return f"analysis:{analysis_id}" if set_id is None else f"analysis:{analysis_id}:{set_id}"


def generation_key(analysis_id: int) -> str:
    """The meta key counting rewrites of an analysis's suspects."""
    return f"suspects_generation:{analysis_id}"


def scope_key(set_ids: int | Iterable[int]) -> str:
    """How an analysis's sets are stored: sorted ids joined by commas ("3", "1,2")."""
    ids = [set_ids] if isinstance(set_ids, int | np.integer) else list(set_ids)
    return ",".join(str(i) for i in sorted({int(i) for i in ids}))


def _scope_ids(key: str) -> list[int]:
    return [int(i) for i in key.split(",") if i]


def suspect_columns(analysis_id: int, rows: np.ndarray, first_id: int, multi: bool) -> list[list]:
    """The suspects table's columns (:data:`SUSPECT_FIELDS`) from a suspects array
    (``result_rows.RESULT_COLUMNS``), converted to Python values at once; ids from
    ``first_id`` on. One set: the set column stays NULL (the analysis's own set)."""
    n = len(rows)

    def column(col: int, dtype: type, missing: np.ndarray | None = None) -> list:
        out = rows[:, col].astype(dtype).astype(object)  # Python ints / floats, made in C
        if missing is not None:
            out[missing] = None
        return out.tolist()

    def ints(name: str) -> list[int | None]:
        col = RCOL[name]
        return column(col, np.int64, np.nan_to_num(rows[:, col], nan=-1).astype(np.int64) < 0)

    def floats(name: str) -> list[float | None]:
        col = RCOL[name]
        return column(col, np.float64, np.isnan(rows[:, col]))

    kinds = np.array(KINDS, dtype=object)[rows[:, RCOL["kind"]].astype(np.int64)].tolist()
    ann, other, pred = ints("annotation_id"), ints("other_annotation_id"), ints("prediction_id")
    keys = list(map(suspect_key, kinds, ann, pred, other))
    return [
        list(range(first_id, first_id + n)),
        [analysis_id] * n,
        keys,
        kinds,
        rows[:, RCOL["score"]].tolist(),
        column(RCOL["image_id"], np.int64),
        ann,
        other,
        pred,
        ints("category_id"),
        ints("predicted_category_id"),
        floats("iou"),
        floats("confidence"),
        floats("probability"),
        column(RCOL["group"], np.int64),
        column(RCOL["group_rank"], np.int64),
        ints("set_id") if multi else [None] * n,
    ]


_BOUND_INTS = (
    "image_id",
    "annotation_id",
    "other_annotation_id",
    "prediction_id",
    "category_id",
    "predicted_category_id",
    "group",
    "group_rank",
    "set_id",
)
_BOUND_FLOATS = ("score", "iou", "confidence", "probability")
_ROWS_PER_INSERT = 16_384
"""Suspect rows whose values are made at a time: ~600 bytes of Python objects a row (225 MB
at 370k suspects, held to the end of the insert); in these slices the write also took ~10%
less CPU (measured)."""
_KIND_NAME = " ".join(f"WHEN {code} THEN '{name}'" for code, name in enumerate(KINDS))


def _suspect_values(
    analysis_id: int, rows: np.ndarray, multi: bool, first_id: int
) -> tuple[str, list[list]]:
    """The suspects table's columns (:data:`SUSPECT_FIELDS`) as a SELECT over bound values
    (``column1`` ...: the id from ``first_id`` on, the kind code, :data:`_BOUND_FLOATS`,
    :data:`_BOUND_INTS`;
    the set only for several sets) and those values, for
    :meth:`sqlite.Database.insert_select_values`: the same rows as :func:`suspect_columns` (a
    negative or NaN id is NULL, a NaN number is NULL, the key is :func:`errors.suspect_key`'s)
    with the key, the kind's name and the NULLs made by SQLite."""
    names = ("id", "kind", *_BOUND_FLOATS, *_BOUND_INTS)
    col = {name: f"column{k + 1}" for k, name in enumerate(names)}
    opt = {n: f"CASE WHEN {col[n]} >= 0 THEN {col[n]} END" for n in _BOUND_INTS}
    kind = f"(CASE {col['kind']} {_KIND_NAME} END)"
    duplicate = KINDS.index("duplicate_label")
    second = (
        f"CASE WHEN {col['kind']} = {duplicate} THEN {opt['other_annotation_id']} "
        f"ELSE {opt['prediction_id']} END"
    )
    key = f"{kind} || ':' || COALESCE({opt['annotation_id']}, '') || ':' || COALESCE({second}, '')"
    select = ", ".join(
        [
            col["id"],
            str(int(analysis_id)),
            key,
            kind,
            col["score"],
            col["image_id"],
            opt["annotation_id"],
            opt["other_annotation_id"],
            opt["prediction_id"],
            opt["category_id"],
            opt["predicted_category_id"],
            col["iou"],  # a bound NaN is stored as NULL
            col["confidence"],
            col["probability"],
            col["group"],
            col["group_rank"],
            opt["set_id"] if multi else "NULL",
        ]
    )
    values = [
        list(range(first_id, first_id + len(rows))),
        rows[:, RCOL["kind"]].astype(np.int64).tolist(),
    ]
    values += [rows[:, RCOL[n]].astype(np.float64).tolist() for n in _BOUND_FLOATS]
    bound = _BOUND_INTS if multi else _BOUND_INTS[:-1]  # one set's rows name no set: unbound
    values += [np.nan_to_num(rows[:, RCOL[n]], nan=-1).astype(np.int64).tolist() for n in bound]
    return select, values


class AnalysisRepository(Repository):
    """The ``analyses``, ``suspects``, ``suspect_support`` and ``match_updates`` tables (and the
    matches' columns)."""

    # ------------------------------------------------------------------ which analysis
    def active_sets(self) -> list[int]:
        """The prediction sets the project reviews by default: the combination of the last
        multi-set analysis asked for by name, else the active set alone (empty: no sets)."""
        chosen = self.get_meta(ACTIVE_SETS_KEY)
        if chosen:
            known = {int(r[0]) for r in self._db.rows("SELECT id FROM prediction_sets")}
            ids = sorted({int(i) for i in chosen})
            if ids and set(ids) <= known:
                return ids
        active = self.active_set_id()
        return [] if active is None else [active]

    def set_active_sets(self, set_ids: Sequence[int]) -> None:
        """Review these sets by default (one set: it becomes the active set)."""
        ids = sorted({int(i) for i in set_ids})
        with self._db.atomic():
            if len(ids) == 1:
                self.set_meta("active_prediction_set", ids[0])
                self.delete_meta(ACTIVE_SETS_KEY)
            elif ids:
                self.set_meta(ACTIVE_SETS_KEY, ids)

    def current_analysis(self, set_id: int | Sequence[int] | None = None) -> dict | None:
        """The current analysis of a prediction set or of several together (by default the
        active ones, :meth:`active_sets`), or None: id, params (:class:`AnalysisParams`),
        created_at, geometry, set_id (its first set) and set_ids (all of them, sorted)."""
        ids = self.active_sets() if set_id is None else set_id
        if not isinstance(ids, int | np.integer) and not list(ids):
            return None
        row = self._db.one(
            "SELECT id, params, created_at, geometry, prediction_set_id, set_ids FROM analyses "
            "WHERE set_ids = ? AND current = 1",
            [scope_key(ids)],
        )
        if row is None:
            return None
        return {
            "id": row[0],
            "params": AnalysisParams.from_json(json.loads(row[1])),
            "created_at": row[2],
            "geometry": row[3],
            "set_id": row[4],
            "set_ids": _scope_ids(row[5]),
        }

    def analysis_sets(self, analysis_id: int) -> list[int]:
        """The prediction sets an analysis covers (sorted ids)."""
        key = self._db.scalar("SELECT set_ids FROM analyses WHERE id = ?", [analysis_id])
        return [] if key is None else _scope_ids(key)

    # ------------------------------------------------------------------ writing
    @contextmanager
    def analysis_writer(
        self, set_ids: int | Sequence[int], params: AnalysisParams
    ) -> Iterator[AnalysisWriter]:
        """The write step of a full analysis: one transaction that adds the new analysis and
        makes it the current one of its sets in place of the old (whose decided suspects it
        keeps).

        Afterwards (committed) :meth:`take_written_suspects` gives the index columns of the
        suspect rows it wrote (a project file only), until the next analysis."""
        from .analysis_writer import AnalysisWriter  # it imports this module's helpers

        self.take_written_suspects_close()
        written: WrittenSuspects | None = None
        # a project file's commit leaves its ~40 MB to a checkpoint in a thread (Database.
        # checkpoint_after), which overlaps the suspect cache the caller builds next
        later = self._db.checkpoint_after() if self._db.dialect == "sqlite" else nullcontext()
        try:
            with later, self._db.atomic():
                self._db.lock_changes()  # two analyses of a team project never interleave
                writer = AnalysisWriter(self, set_ids, params)
                try:
                    yield writer
                    writer.finish()
                    written = writer.written()
                finally:
                    writer.close()
                    if written is None:
                        writer.close_index()
        except BaseException:
            if written is not None:
                written.close()
            raise
        self.__dict__["_written_suspects"] = written

    def take_written_suspects(self) -> WrittenSuspects | None:
        """The suspects the last full analysis through this store wrote, as index columns
        (None if taken already, or not kept); the caller closes them."""
        written: WrittenSuspects | None = self.__dict__.pop("_written_suspects", None)
        return written

    def take_written_suspects_close(self) -> None:
        """Let go of the suspects the last full analysis wrote (their temporary files)."""
        written = self.take_written_suspects()
        if written is not None:
            written.close()

    def replace_image_results(
        self,
        analysis: dict,
        image_ids: list[int],
        matches: dict[str, np.ndarray] | Mapping[int, dict[str, np.ndarray]],
        rows: Rows,
        masks: Iterable[tuple] = (),
    ) -> int:
        """The write step of re-analysing some images of an analysis, in one transaction: their
        suspects and matches replaced (decided suspects kept; new groups numbered after the
        analysis's others); returns their suspect count. ``matches``: the match columns of
        the analysis's set, or of each of its sets by set id."""
        aid = analysis["id"]
        set_ids = analysis.get("set_ids") or [analysis["set_id"]]
        per_set = matches if set(matches) <= set(set_ids) and matches else {set_ids[0]: matches}
        with self._db.atomic():
            self._db.lock_changes()  # the generation bump and the rows of others' re-analyses
            self.save_masks(masks)
            # the cached suspect columns go stale with these rows: bump their generation (a few
            # bytes; deleting the ~100 MB cache here cost ~0.8 s per edit)
            self.set_meta(generation_key(aid), self.suspects_generation(aid) + 1)
            multi = len(set_ids) > 1
            leftovers = self._decided_leftovers(aid, set_ids, _found(rows, multi), image_ids)
            marks = self._db.marks(len(image_ids))
            if multi:
                self._db.execute(
                    "DELETE FROM suspect_support WHERE analysis_id = ? AND suspect_id IN "
                    f"(SELECT id FROM suspects WHERE analysis_id = ? AND image_id IN ({marks}))",
                    [aid, aid, *image_ids],
                )
            self._db.execute(
                f"DELETE FROM suspects WHERE analysis_id = ? AND image_id IN ({marks})",
                [aid, *image_ids],
            )
            if self.suspects_as_columns(aid):  # their new suspects are rows
                self.drop_suspect_images(aid, image_ids)
            top = self._max_group(aid)
            self._insert_rows(aid, rows, multi, group_offset=int(top) + 1)
            self._insert_leftovers(aid, leftovers)
            for set_id, cols in per_set.items():
                self._db.upsert(
                    "match_updates",
                    ("analysis_id", "set_id", *MATCH_FIELDS),
                    ("analysis_id", "set_id", "prediction_id"),
                    [
                        (
                            aid,
                            int(set_id),
                            int(p),
                            int(i),
                            int(o),
                            None if a < 0 else int(a),
                            None if np.isnan(u) else float(u),
                        )
                        for p, i, o, a, u in zip(*(cols[f] for f in MATCH_FIELDS), strict=True)
                    ],
                )
        return len(rows) + len(leftovers)

    # ------------------------------------------------------------------ reading
    def match_arrays(self, analysis_id: int, set_id: int | None = None) -> dict[str, np.ndarray]:
        """Every prediction's match in an analysis (of ``set_id``; its first set by default):
        :data:`MATCH_FIELDS` columns by prediction id, with the updates of re-analysed images
        applied."""
        sets = self.analysis_sets(analysis_id)
        set_id = sets[0] if set_id is None else int(set_id)
        first = not sets or set_id == sets[0]
        arr = self.get_arrays(analysis_owner(analysis_id, None if first else set_id))
        if not arr:
            return {k: v.copy() for k, v in _NO_MATCHES.items()}
        updates = self._db.rows(
            "SELECT prediction_id, outcome, annotation_id, iou FROM match_updates "
            "WHERE analysis_id = ? AND set_id = ?",
            [analysis_id, set_id],
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
        if self.suspects_as_columns(analysis_id):
            per_kind = self.blob_suspect_stats(analysis_id)[3]
            for kind, n in zip(KINDS, per_kind.tolist(), strict=True):
                counts[kind] += int(n)
        return counts

    def detector_fit(self, analysis_id: int, set_id: int | None = None) -> dict | None:
        """The detector fit (JSON, core.scoring.DetectorFit) an analysis stored for one of its
        sets (its first by default); None for analyses from before calibration."""
        fits = self.detector_fits(analysis_id)
        if not fits:
            return None
        if set_id is None:
            sets = self.analysis_sets(analysis_id)
            set_id = sets[0] if sets else next(iter(fits))
        return fits.get(int(set_id))

    def detector_fits(self, analysis_id: int) -> dict[int, dict]:
        """Set id -> the detector fit an analysis stored for it (empty if none)."""
        text = self._db.scalar("SELECT fits FROM analyses WHERE id = ?", [analysis_id])
        return {} if text is None else {int(k): v for k, v in json.loads(text).items()}

    def analysis_report(self, analysis_id: int) -> dict | None:
        """An analysis's report (core.analysis_report: per set the per-class metrics, the
        confusion table and the reliability bins; the default review cut); None if none."""
        text = self._db.scalar("SELECT report FROM analyses WHERE id = ?", [analysis_id])
        return None if text is None else json.loads(text)

    def suspects_generation(self, analysis_id: int) -> int:
        """How many times the analysis's suspects were rewritten since it was made."""
        return int(self.get_meta(generation_key(analysis_id), 0))

    # ------------------------------------------------------------------ helpers
    def _next_suspect_id(self) -> int:
        """The id after every suspect's, rows or columns (``analyses.suspect_ids_end``)."""
        rows = int(self._db.scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM suspects"))
        columns = self._db.scalar("SELECT MAX(suspect_ids_end) FROM analyses")
        return rows if columns is None else max(rows, int(columns))

    def _max_group(self, analysis_id: int) -> int:
        """The largest group id of an analysis's suspects that count (-1: none)."""
        top = int(
            self._db.scalar(
                "SELECT COALESCE(MAX(group_id), -1) FROM suspects WHERE analysis_id = ?",
                [analysis_id],
            )
        )
        if self.suspects_as_columns(analysis_id):
            top = max(top, self.blob_suspect_stats(analysis_id)[2])
        return top

    def _insert_rows(self, analysis_id: int, rows: Rows, multi: bool, group_offset: int = 0) -> int:
        """Insert suspect rows (and their support); returns the first one's id (the others
        follow it one by one)."""
        n = len(rows)
        first = self._next_suspect_id()
        if not n:
            return first
        data = rows.rows
        if group_offset:
            data = data.copy()
            data[:, RCOL["group"]] += group_offset
        if self._db.dialect == "sqlite":
            # ids from first on, in the order of the values: first, first + 1, ... (bound: the
            # ids of analyses stored as columns are not in the table)
            for start in range(0, n, _ROWS_PER_INSERT):
                select, values = _suspect_values(
                    analysis_id, data[start : start + _ROWS_PER_INSERT], multi, first + start
                )
                self._db.insert_select_values("suspects", SUSPECT_FIELDS, select, values)
            last = self._db.scalar("SELECT MAX(id) FROM suspects")
            if last != first + n - 1:  # the support rows and the index's ids rely on it
                raise RuntimeError(f"suspect ids {first}..{last} for {n} rows")
        else:
            columns = suspect_columns(analysis_id, data, first, multi)
            self._db.insert_columns("suspects", SUSPECT_FIELDS, columns)
        sup = rows.support
        if multi and sup is not None and len(sup):
            pred = sup.prediction_id.astype(object)
            pred[sup.prediction_id < 0] = None

            def opt(a: np.ndarray) -> list:
                out = a.astype(object)
                out[np.isnan(a)] = None
                return out.tolist()

            self._db.insert_columns(
                "suspect_support",
                SUPPORT_FIELDS,
                [
                    [analysis_id] * len(sup),
                    (sup.row + first).tolist(),
                    sup.set_id.tolist(),
                    pred.tolist(),
                    list(sup.key),
                    sup.score.tolist(),
                    opt(sup.confidence),
                    opt(sup.probability),
                ],
            )
        return first

    _ROW_FIELDS = SUSPECT_FIELDS[2:]  # what a leftover row carries (not its id or analysis)

    def _decided_leftovers(
        self, old_analysis: int | None, set_ids: list[int], found: set, image_ids: list[int] | None
    ) -> list[tuple[tuple, list[tuple]]]:
        """Old suspect rows that have a decision and were not found again, to keep them
        visible: (row without id and analysis, its support rows without analysis and suspect
        id). ``found``: the new rows' keys (one set) or (set id, key) pairs of their support
        (several sets; a suspect was found again when any set's key of it was)."""
        if old_analysis is None or not self._db.one(
            f"SELECT 1 FROM decisions WHERE prediction_set_id IN ({self._db.marks(len(set_ids))}) "
            "LIMIT 1",
            list(set_ids),
        ):
            return []  # nothing decided: no row to keep (and no scan of the old rows' keys)
        fields = ", ".join(f"s.{f}" for f in ("id", *self._ROW_FIELDS))
        where, params = "s.analysis_id = ?", [old_analysis]
        if image_ids is not None:
            where += f" AND s.image_id IN ({self._db.marks(len(image_ids))})"
            params += list(image_ids)
        if len(set_ids) == 1:
            decided = self._db.rows(
                f"SELECT {fields} FROM suspects s JOIN decisions d "
                "ON d.suspect_key = s.key AND d.prediction_set_id = ? "
                f"WHERE {where}",
                [set_ids[0], *params],
            )
            if self.suspects_as_columns(old_analysis):
                decided = list(decided) + self.blob_decided_rows(
                    old_analysis, set_ids[0], image_ids
                )
                image_at = self._ROW_FIELDS.index("image_id") + 1
                decided.sort(key=lambda r: (r[image_at], r[0]))  # as the table's index reads
            return _not_found([(r[1:], []) for r in decided], found, False)
        decided = self._db.rows(
            f"SELECT {fields} FROM suspects s WHERE {where} AND EXISTS (SELECT 1 FROM "
            "suspect_support sp JOIN decisions d ON d.prediction_set_id = sp.set_id AND "
            "d.suspect_key = sp.key WHERE sp.analysis_id = s.analysis_id AND sp.suspect_id = s.id)",
            params,
        )
        if not decided:
            return []
        ids = [r[0] for r in decided]
        support: dict[int, list[tuple]] = {}
        for s in range(0, len(ids), 500):
            some = ids[s : s + 500]
            for r in self._db.rows(
                f"SELECT suspect_id, {', '.join(SUPPORT_FIELDS[2:])} FROM suspect_support "
                f"WHERE analysis_id = ? AND suspect_id IN ({self._db.marks(len(some))})",
                [old_analysis, *some],
            ):
                support.setdefault(r[0], []).append(tuple(r[1:]))
        return _not_found([(r[1:], support.get(r[0], [])) for r in decided], found, True)

    def _insert_leftovers(
        self, analysis_id: int, leftovers: list[tuple[tuple, list[tuple]]]
    ) -> None:
        """Insert the leftover rows in the analysis, each old group under a new group id."""
        if not leftovers:
            return
        first = self._next_suspect_id()
        top = self._max_group(analysis_id)
        group_at = self._ROW_FIELDS.index("group_id")
        regroup: dict[object, int] = {}
        rows, support = [], []
        for k, (row, sup) in enumerate(leftovers):
            row = list(row)
            old = row[group_at] if row[group_at] is not None else ("alone", k)
            row[group_at] = regroup.setdefault(old, int(top) + 1 + len(regroup))
            rows.append((first + k, analysis_id, *row))
            support += [(analysis_id, first + k, *s) for s in sup]
        self._db.insert_columns(
            "suspects", SUSPECT_FIELDS, [list(c) for c in zip(*rows, strict=True)]
        )
        if support:
            self._db.insert_columns(
                "suspect_support", SUPPORT_FIELDS, [list(c) for c in zip(*support, strict=True)]
            )

    def _drop_other_analyses(self, scope: str, keep: int) -> None:
        """Delete the analyses of these sets other than ``keep``, with their matches and suspect
        caches."""
        for (old_id,) in self._db.rows(
            "SELECT id FROM analyses WHERE set_ids = ? AND id != ?", [scope, keep]
        ):
            for set_id in self.analysis_sets(old_id):
                self.delete_arrays(analysis_owner(old_id, set_id))
            self.delete_arrays(analysis_owner(old_id))
            self.delete_arrays(f"suspect_index:{old_id}")
            self.delete_arrays(rows_owner(old_id))
            self.delete_meta(generation_key(old_id))
            self._db.execute("DELETE FROM analyses WHERE id = ?", [old_id])


def _found(rows: Rows, multi: bool) -> set:
    """What rows say was found: their keys (one set) or their support's (set id, key) pairs."""
    if not multi:
        return set(_row_keys(rows))
    if rows.support is None:
        return set()
    return set(zip(rows.support.set_id.tolist(), rows.support.key, strict=True))


def _not_found(
    decided: list[tuple[tuple, list[tuple]]], found: set, multi: bool
) -> list[tuple[tuple, list[tuple]]]:
    """Of :meth:`AnalysisRepository._decided_leftovers`' rows, those ``found`` does not name:
    one set's by the row's key, several sets' by none of their support's (set id, key)."""
    if not multi:
        return [(row, sup) for row, sup in decided if row[0] not in found]
    return [(row, sup) for row, sup in decided if not any((s[0], s[2]) in found for s in sup)]


def _keys_of(leftovers: list[tuple[tuple, list[tuple]]]) -> set:
    """The keys (one set: the row's key; several: each support's (set id, key) pair) of
    :meth:`AnalysisRepository._decided_leftovers` rows."""
    return {row[0] for row, _ in leftovers} | {(s[0], s[2]) for _, sup in leftovers for s in sup}


def _row_keys(rows: Rows) -> list[str]:
    """The keys of a suspects array's rows."""
    data = rows.rows
    if not len(data):
        return []
    names = ("kind", "annotation_id", "prediction_id", "other_annotation_id")
    return keys_of({n: np.nan_to_num(data[:, RCOL[n]], nan=-1).astype(np.int64) for n in names})
