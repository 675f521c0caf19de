"""An analysis's suspects stored as column blobs instead of rows of the ``suspects`` table.

A full analysis of one prediction set in a project file (schema 7) writes its suspects as
slices of numpy columns (:data:`.suspects.SUSPECT_INDEX_COLUMNS`, integers in their smallest
type) in ``arrays`` (owner ``suspect_rows:<analysis id>``): SQLite writes a few MB of blobs
instead of one B-tree row (with its text key and index entry) per suspect, ~1 s of a 3 s
analysis at 370k suspects. The analysis's row then names the end of its suspect ids
(``analyses.suspect_ids_end``; NULL: its suspects are rows, as every analysis of an older
LabelFix, of several sets or of a team project).

- Each slice (``slice:<k>``, one structured array) holds up to :data:`SLICE_ROWS` suspects of
  a range of images, in id order; ``slices`` lists per slice its first and last image, its
  count, largest id and group and its count per kind, so that the suspects of a few images
  (a re-analysis after an edit) read one slice, and counts read no slice at all.
- Re-analysing images leaves the blobs as they are: the images go to ``dropped`` (their
  blob suspects no longer count) and their new suspects are rows of ``suspects``, as are the
  decided suspects an analysis keeps from the one before. Readers take both.
- The suspects' keys are not stored: they follow from kind, label and prediction
  (:func:`labelfix.core.errors.suspect_key`).
- SQL that needs the table (a team push, claims on a file, tests) reads
  :meth:`SuspectBlobRepository.suspect_rows_view`: a temporary ``suspects`` table with the
  blob suspects as rows, for the time of one block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import KIND_CODE, KINDS, suspect_key
from .base import Repository
from .predictions import npy_array
from .suspects import SUSPECT_INDEX_COLUMNS, compact_int

SLICE_ROWS = 1 << 18
"""Suspects per slice (~20 MB of columns): a re-analysis of a few images reads one slice."""
_OWNER_PREFIX = "suspect_rows:"
_DIRECTORY = ("image_min", "image_max", "count", "max_id", "max_group")  # then one per kind
_DTYPES = {
    "ids": np.int64,
    "kind": np.int8,
    "score": np.float64,
    "image_id": np.int64,
    "annotation_id": np.int64,
    "other_annotation_id": np.int64,
    "prediction_id": np.int64,
    "category_id": np.int64,
    "predicted_category_id": np.int64,
    "iou": np.float64,
    "confidence": np.float64,
    "probability": np.float64,
    "group": np.int64,
    "group_rank": np.int32,
    "prediction_set_id": np.int64,
}
assert tuple(_DTYPES) == SUSPECT_INDEX_COLUMNS


ROW_FIELDS = (
    "id",
    "analysis_id",
    "key",
    "kind",
    "score",
    "image_id",
    "annotation_id",
    "other_annotation_id",
    "prediction_id",
    "category_id",
    "predicted_category_id",
    "iou",
    "confidence",
    "probability",
    "group_id",
    "group_rank",
    "set_id",
)
"""The ``suspects`` table's columns, in the order of :func:`row_tuples` (``analyses.
SUSPECT_FIELDS``)."""


def rows_owner(analysis_id: int) -> str:
    """The ``arrays`` owner of an analysis's suspects stored as columns."""
    return f"{_OWNER_PREFIX}{analysis_id}"


def is_rows_owner(owner: str) -> bool:
    """True for the ``arrays`` owner of an analysis's suspect columns."""
    return owner.startswith(_OWNER_PREFIX)


def empty_columns() -> dict[str, np.ndarray]:
    """No suspects, as :data:`SUSPECT_INDEX_COLUMNS`."""
    return {n: np.zeros(0, d) for n, d in _DTYPES.items()}


def _packed(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Columns as one structured array, each integer field in its smallest type."""
    small = {n: compact_int(np.asarray(columns[n])) for n in SUSPECT_INDEX_COLUMNS}
    out = np.empty(len(small["ids"]), dtype=[(n, c.dtype) for n, c in small.items()])
    for n, c in small.items():
        out[n] = c
    return out


def _wide(part: np.ndarray) -> np.ndarray:
    """A slice's rows (integers in their smallest types) with every field in its own type."""
    out = np.empty(len(part), dtype=[(n, d) for n, d in _DTYPES.items()])
    for n in _DTYPES:
        out[n] = part[n]
    return out


def _directory_row(columns: dict[str, np.ndarray]) -> list[int]:
    kinds = np.bincount(columns["kind"].astype(np.int64), minlength=len(KINDS))
    return [
        int(columns["image_id"].min()),
        int(columns["image_id"].max()),
        len(columns["ids"]),
        int(columns["ids"].max()),
        int(columns["group"].max()),
        *kinds.tolist(),
    ]


def _key_parts(keys: Iterable[str]) -> set[tuple[int, int, int]]:
    """Suspect keys as (kind code, label id, second id) with -1 for none (keys that no
    suspect can have are left out)."""
    out = set()
    for key in keys:
        parts = key.split(":")
        if len(parts) != 3 or parts[0] not in KIND_CODE:
            continue
        try:
            ann, second = (int(p) if p else -1 for p in parts[1:])
        except ValueError:
            continue
        out.add((KIND_CODE[parts[0]], ann, second))
    return out


def _second(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The key's second id: the other label of a duplicate, else the prediction."""
    dup = columns["kind"] == KIND_CODE["duplicate_label"]
    return np.where(dup, columns["other_annotation_id"], columns["prediction_id"])


def keys_of(columns: dict[str, np.ndarray]) -> list[str]:
    """The keys of suspects given as columns (-1: no id)."""

    def opt(name: str) -> list[int | None]:
        return [None if v < 0 else v for v in columns[name].tolist()]

    kinds = np.array(KINDS, dtype=object)[columns["kind"].astype(np.int64)].tolist()
    return list(
        map(
            suspect_key,
            kinds,
            opt("annotation_id"),
            opt("prediction_id"),
            opt("other_annotation_id"),
        )
    )


def row_tuples(columns: dict[str, np.ndarray], analysis_id: int | None) -> list[tuple]:
    """Suspects given as columns as rows of the ``suspects`` table (``analyses.SUSPECT_FIELDS``:
    with the analysis id; without it when None), as a read of those rows gives them."""

    def opt(name: str) -> list[int | None]:
        return [None if v < 0 else v for v in columns[name].tolist()]

    def num(name: str) -> list[float | None]:
        return [None if v != v else v for v in columns[name].tolist()]

    n = len(columns["ids"])
    kinds = np.array(KINDS, dtype=object)[columns["kind"].astype(np.int64)].tolist()
    fields = [
        columns["ids"].tolist(),
        keys_of(columns),
        kinds,
        columns["score"].tolist(),
        columns["image_id"].tolist(),
        opt("annotation_id"),
        opt("other_annotation_id"),
        opt("prediction_id"),
        opt("category_id"),
        opt("predicted_category_id"),
        num("iou"),
        num("confidence"),
        num("probability"),
        columns["group"].tolist(),
        columns["group_rank"].tolist(),
        opt("prediction_set_id"),
    ]
    if analysis_id is not None:
        fields.insert(1, [analysis_id] * n)
    return list(zip(*fields, strict=True))


def best_open(
    count: int, kinds: Iterable[str], min_confidence: float
) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """For :meth:`SuspectBlobRepository.suspect_rows_view`'s ``pick``: the first ``count``
    suspects of these kinds (all if none) with a confidence of at least ``min_confidence``
    (or none), by score, best first, then by id: the order a claim takes them in. A top of
    one total order: the view picks it slice by slice, then among the slices' picks."""
    codes = [KIND_CODE[k] for k in kinds if k in KIND_CODE]
    any_kind = not list(kinds)

    def pick(columns: dict[str, np.ndarray]) -> np.ndarray:
        ok = (
            np.ones(len(columns["ids"]), dtype=bool)
            if any_kind
            else np.isin(columns["kind"], codes)
        )
        if min_confidence > 0:
            conf = columns["confidence"]
            ok &= np.isnan(conf) | (conf >= min_confidence)
        at = np.flatnonzero(ok)
        score = columns["score"][at]
        if len(at) > count > 0:  # only those scoring at least the count-th best can be in
            at = at[score >= -np.partition(-score, count - 1)[count - 1]]
            score = columns["score"][at]
        order = np.lexsort((columns["ids"][at], -score))
        return at[order[:count]]

    return pick


class SuspectBlobRepository(Repository):
    """Suspects of an analysis stored as column blobs in ``arrays`` (see the module)."""

    # ------------------------------------------------------------------ which analyses
    def suspect_ids_end(self, analysis_id: int) -> int | None:
        """The end of the suspect ids of an analysis stored as columns (None: as rows)."""
        value = self._db.scalar("SELECT suspect_ids_end FROM analyses WHERE id = ?", [analysis_id])
        return None if value is None else int(value)

    def suspects_as_columns(self, analysis_id: int) -> bool:
        """True if the analysis's full run stored its suspects as column blobs."""
        return self.suspect_ids_end(analysis_id) is not None

    # ------------------------------------------------------------------ writing
    def write_suspect_slices(
        self, analysis_id: int, columns: dict[str, np.ndarray], first_slice: int
    ) -> list[list[int]]:
        """Store suspects (:data:`SUSPECT_INDEX_COLUMNS`) as slices numbered from
        ``first_slice`` on, by image; returns their directory rows."""
        n = len(columns["ids"])
        image = columns["image_id"]
        order = None
        if n > 1 and bool(np.any(image[1:] < image[:-1])):
            order = np.argsort(image, kind="stable")
        out = []
        owner = rows_owner(analysis_id)
        for k, start in enumerate(range(0, n, SLICE_ROWS)):
            end = min(n, start + SLICE_ROWS)
            if order is None:
                part = {name: col[start:end] for name, col in columns.items()}
            else:
                pos = np.sort(order[start:end])
                part = {name: col[pos] for name, col in columns.items()}
            self.add_arrays(owner, {f"slice:{first_slice + k}": _packed(part)})
            out.append(_directory_row(part))
        return out

    def finish_suspect_slices(
        self, analysis_id: int, directory: list[list[int]], ids_end: int
    ) -> None:
        """Store the slices' directory and mark the analysis as stored in columns."""
        table = np.asarray(directory, dtype=np.int64).reshape(-1, len(_DIRECTORY) + len(KINDS))
        self.add_arrays(rows_owner(analysis_id), {"slices": table})
        self._db.execute(
            "UPDATE analyses SET suspect_ids_end = ? WHERE id = ?", [int(ids_end), analysis_id]
        )

    def drop_suspect_images(self, analysis_id: int, image_ids: Iterable[int]) -> None:
        """The blob suspects of these images no longer count (they were re-analysed)."""
        owner = rows_owner(analysis_id)
        ids = np.union1d(self._dropped(analysis_id), np.asarray(list(image_ids), np.int64))
        self._db.execute(
            f"DELETE FROM arrays WHERE {self._db.unindexed('owner')} = ? "
            f"AND {self._db.unindexed('name')} = 'dropped'",
            [owner],
        )
        self.add_arrays(owner, {"dropped": ids.astype(np.int64)})

    # ------------------------------------------------------------------ reading
    def _blob(self, analysis_id: int, name: str) -> np.ndarray | None:
        return self.get_arrays(rows_owner(analysis_id), name, writable=False).get(name)

    def _directory(self, analysis_id: int) -> np.ndarray:
        table = self._blob(analysis_id, "slices")
        width = len(_DIRECTORY) + len(KINDS)
        return np.zeros((0, width), np.int64) if table is None else table.reshape(-1, width)

    def _dropped(self, analysis_id: int) -> np.ndarray:
        ids = self._blob(analysis_id, "dropped")
        return np.zeros(0, np.int64) if ids is None else ids.astype(np.int64)

    def _read_slices(self, analysis_id: int, slices: list[int]) -> dict[str, np.ndarray]:
        """These slices' suspects as columns (in the order of the slices)."""
        if not slices:
            return empty_columns()
        names = [f"slice:{k}" for k in slices]
        got: dict[str, np.ndarray] = {}
        for s in range(0, len(names), 500):
            some = names[s : s + 500]
            for name, data in self._db.rows(
                f"SELECT name, data FROM arrays WHERE {self._db.unindexed('owner')} = ? "
                f"AND {self._db.unindexed('name')} IN ({self._db.marks(len(some))})",
                [rows_owner(analysis_id), *some],
            ):
                got[name] = npy_array(data, writable=False)
        missing = [n for n in names if n not in got]
        if missing:
            raise RuntimeError(f"analysis {analysis_id}: suspect columns {missing} missing")
        parts = [got.pop(n) for n in names]
        return {
            name: np.concatenate([p[name] for p in parts]).astype(dtype, copy=False)
            for name, dtype in _DTYPES.items()
        }

    def _picked_columns(
        self, analysis_id: int, pick: Callable[[dict[str, np.ndarray]], np.ndarray]
    ) -> dict[str, np.ndarray]:
        """The suspects stored as columns that still count and ``pick`` (a top of one total
        order, as :func:`best_open`'s) keeps: picked in each slice, then among those, so that
        one slice's fields are in memory at a time and only the picked rows are converted."""
        dropped = self._dropped(analysis_id)
        kept = []
        for k in range(len(self._directory(analysis_id))):
            part = self._slice(analysis_id, k)
            if len(dropped):
                part = part[~np.isin(part["image_id"], dropped)]
            fields = {n: part[n] for n in _DTYPES}  # views
            kept.append(_wide(part[pick(fields)]))
        if not kept:
            return empty_columns()
        rows = np.concatenate(kept)
        rows = rows[pick({n: rows[n] for n in _DTYPES})]
        return {n: np.array(rows[n]) for n in _DTYPES}

    def _slice(self, analysis_id: int, k: int) -> np.ndarray:
        """Slice ``k`` of an analysis's suspect columns, as stored (one structured array)."""
        data = self._db.scalar(
            f"SELECT data FROM arrays WHERE {self._db.unindexed('owner')} = ? "
            f"AND {self._db.unindexed('name')} = ?",
            [rows_owner(analysis_id), f"slice:{k}"],
        )
        if data is None:
            raise RuntimeError(f"analysis {analysis_id}: suspect columns slice:{k} missing")
        return npy_array(data, writable=False)

    def blob_suspect_columns(
        self, analysis_id: int, image_ids: Iterable[int] | None = None
    ) -> dict[str, np.ndarray]:
        """The suspects an analysis stored as columns (on these images; all by default) that
        still count, as :data:`SUSPECT_INDEX_COLUMNS` in id order."""
        directory = self._directory(analysis_id)
        dropped = self._dropped(analysis_id)
        wanted = None
        slices = list(range(len(directory)))
        if image_ids is not None:
            wanted = np.unique(np.asarray(list(image_ids), dtype=np.int64))
            lo = np.searchsorted(wanted, directory[:, 0], "left")
            hi = np.searchsorted(wanted, directory[:, 1], "right")
            slices = np.flatnonzero(hi > lo).tolist()
        columns = self._read_slices(analysis_id, slices)
        keep = None
        if wanted is not None:
            keep = np.isin(columns["image_id"], wanted)
        if len(dropped):
            out = ~np.isin(columns["image_id"], dropped)
            keep = out if keep is None else keep & out
        if keep is not None and not keep.all():
            columns = {n: c[keep] for n, c in columns.items()}
        ids = columns["ids"]
        if len(ids) > 1 and bool(np.any(ids[1:] < ids[:-1])):
            order = np.argsort(ids, kind="stable")
            columns = {n: c[order] for n, c in columns.items()}
        return {n: np.array(c, dtype=_DTYPES[n]) for n, c in columns.items()}  # writable

    def blob_suspect_stats(self, analysis_id: int) -> tuple[int, int, int, np.ndarray]:
        """The suspects an analysis stored as columns that still count: their number, largest
        id and group (-1: none) and number per kind; only slices with re-analysed images
        are read."""
        directory = self._directory(analysis_id)
        dropped = self._dropped(analysis_id)
        touched = np.zeros(len(directory), dtype=bool)
        if len(dropped):
            lo = np.searchsorted(dropped, directory[:, 0], "left")
            hi = np.searchsorted(dropped, directory[:, 1], "right")
            touched = hi > lo
        whole = directory[~touched]
        count = int(whole[:, 2].sum())
        top_id = int(whole[:, 3].max()) if len(whole) else -1
        top_group = int(whole[:, 4].max()) if len(whole) else -1
        kinds = whole[:, len(_DIRECTORY) :].sum(axis=0).astype(np.int64)
        if touched.any():
            part = self._read_slices(analysis_id, np.flatnonzero(touched).tolist())
            keep = ~np.isin(part["image_id"], dropped)
            if keep.any():
                count += int(keep.sum())
                top_id = max(top_id, int(part["ids"][keep].max()))
                top_group = max(top_group, int(part["group"][keep].max()))
                kinds += np.bincount(part["kind"][keep].astype(np.int64), minlength=len(KINDS))
        return count, top_id, top_group, kinds

    def blob_decided_rows(
        self, analysis_id: int, set_id: int, image_ids: Iterable[int] | None = None
    ) -> list[tuple]:
        """The suspects an analysis stored as columns (on these images; all by default) that
        have a decision in the set, as rows of the table (id first, no analysis id)."""
        wanted = _key_parts(self.decisions(set_id))
        if not wanted:
            return []
        columns = self.blob_suspect_columns(analysis_id, image_ids)
        second = _second(columns)
        kinds, anns, seconds = (np.array(sorted({w[i] for w in wanted})) for i in range(3))
        maybe = np.flatnonzero(
            np.isin(columns["kind"], kinds)
            & np.isin(columns["annotation_id"], anns)
            & np.isin(second, seconds)
        )
        triples = zip(
            columns["kind"][maybe].tolist(),
            columns["annotation_id"][maybe].tolist(),
            second[maybe].tolist(),
            strict=True,
        )
        hit = maybe[[t in wanted for t in triples]] if len(maybe) else maybe
        return row_tuples({n: c[hit] for n, c in columns.items()}, None)

    def blob_statuses(
        self, analysis_id: int, columns: dict[str, np.ndarray], status_codes: dict[str, int]
    ) -> np.ndarray:
        """The status codes (0: no decision) of suspects given as columns."""
        set_id = self._db.scalar(
            "SELECT prediction_set_id FROM analyses WHERE id = ?", [analysis_id]
        )
        decisions = self.decisions(int(set_id))
        return np.array(
            [status_codes.get(decisions.get(k, ""), 0) for k in keys_of(columns)],
            dtype=np.int8,
        ).reshape(-1)

    # ------------------------------------------------------------------ as a table
    @contextmanager
    def suspect_rows_view(
        self,
        analysis_id: int | None = None,
        pick: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None,
    ) -> Iterator[None]:
        """For the time of the block, ``suspects`` in SQL on this connection is a temporary
        table with every analysis's suspects (only ``analysis_id``'s if given) as rows, those
        stored as columns included, for reads that need the table (nothing is written to it
        meanwhile). Without analyses stored as columns it is the table itself. ``pick``: of
        the suspects stored as columns, the positions the table shows (a claim needs only
        the best few, not hundreds of thousands of rows)."""
        if self._db.dialect != "sqlite":
            yield
            return
        where, params = "suspect_ids_end IS NOT NULL", []
        if analysis_id is not None:
            where, params = where + " AND id = ?", [analysis_id]
        blob = [int(r[0]) for r in self._db.rows(f"SELECT id FROM analyses WHERE {where}", params)]
        if not blob:
            yield
            return
        rows_where = "" if analysis_id is None else f" WHERE analysis_id = {int(analysis_id)}"
        self._db.execute("DROP TABLE IF EXISTS temp.suspects")
        self._db.execute(f"CREATE TEMP TABLE suspects AS SELECT * FROM main.suspects{rows_where}")
        try:
            cursor = self._db.execute("SELECT * FROM temp.suspects LIMIT 0")
            names = [d[0] for d in cursor.description]
            at = [ROW_FIELDS.index(n) for n in names]
            for aid in blob:
                columns = (
                    self.blob_suspect_columns(aid)
                    if pick is None
                    else self._picked_columns(aid, pick)
                )
                rows = row_tuples(columns, aid)
                table: list[Any] = [[r[i] for r in rows] for i in at]
                if rows:
                    self._db.insert_columns("temp.suspects", names, table)
            yield
        finally:
            self._db.execute("DROP TABLE IF EXISTS temp.suspects")
