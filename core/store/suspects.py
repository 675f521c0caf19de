"""The suspects of an analysis read as numpy columns (for :class:`labelfix.core.suspects.
SuspectIndex`), and the cache of those columns that lets a large analysis open in < 1 s.

A project file's caches live in column files (:mod:`.column_file`) in a folder next to it
(``<project>-cache``), memory-mapped at open; each names the project (a random token kept in
its meta table) and what it was made from, and is used only while those still hold. A team
project, or a file whose folder cannot be written, keeps them as blobs in ``arrays``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import KIND_CODE
from ..result_rows import RCOL
from .cache_files import CacheFileRepository
from .column_file import read_column_file

if TYPE_CHECKING:
    from .analysis_writer import WrittenSuspects

ROWS_PER_READ = 1 << 20  # suspect ids per read of a whole analysis (see _fetch_all)
_IDS_PER_QUERY = 500  # image ids per ``IN (...)`` (SQLite's smallest parameter limit is 999)
_KIND_CASE = " ".join(f"WHEN '{k}' THEN {i}" for k, i in KIND_CODE.items())
# the numeric columns read from the suspects table: name, SQL expression, dtype
_SQL_COLUMNS = (
    ("ids", "id", np.int64),
    ("kind", f"CASE kind {_KIND_CASE} END", np.int8),
    ("score", "score", np.float64),
    ("image_id", "image_id", np.int64),
    ("annotation_id", "COALESCE(annotation_id, -1)", np.int64),
    ("other_annotation_id", "COALESCE(other_annotation_id, -1)", np.int64),
    ("prediction_id", "COALESCE(prediction_id, -1)", np.int64),
    ("category_id", "COALESCE(category_id, -1)", np.int64),
    ("predicted_category_id", "COALESCE(predicted_category_id, -1)", np.int64),
    ("iou", "COALESCE(iou, 'nan')", np.float64),
    ("confidence", "COALESCE(confidence, 'nan')", np.float64),
    ("probability", "COALESCE(probability, 'nan')", np.float64),
    # analyses from before groups: every suspect a group of its own
    ("group", "COALESCE(group_id, -id)", np.int64),
    ("group_rank", "COALESCE(group_rank, 0)", np.int32),
    ("prediction_set_id", "COALESCE(set_id, -1)", np.int64),
)
SUSPECT_INDEX_COLUMNS = tuple(name for name, _, _ in _SQL_COLUMNS)
"""The columns of a suspect index: suspect id, kind code, score, ids (-1: none), iou, confidence,
calibrated probability (NaN: none), group and rank in it, the prediction's set (-1: the
analysis's only set)."""
SUPPORT_COLUMNS = ("suspect_id", "set_id", "prediction_id", "score", "confidence", "probability")
"""The columns of a multi-set analysis's support table, as read (sorted by suspect, then set)."""
CACHED_ORDERS = ("order:score", "order:group")
"""Sort orders cached with the columns (positions, int64 once read): by score, descending, ties
by suspect id (the default listing), and by group, then rank (the one-row-per-object view;
absent when every group has one row). At 5M suspects they took ~3 s to sort at every open."""
_DTYPES = {name: np.dtype(dtype) for name, _, dtype in _SQL_COLUMNS}


def index_columns(rows: np.ndarray, first_id: int, multi: bool) -> dict[str, np.ndarray]:
    """The :data:`SUSPECT_INDEX_COLUMNS` of suspect rows (``result_rows.RESULT_COLUMNS``) as
    the analysis writer stores them with ids from ``first_id`` on: what reading them back
    gives (:data:`_SQL_COLUMNS`), value for value. The writer binds ids and ranks as int64
    with NaN as -1 and stores a negative id as NULL (read back as -1), a NaN number as NULL
    (read back as NaN), a -0.0 as 0 (SQLite keeps an integral REAL as an integer); one set's
    rows name no set (-1)."""

    def ints(name: str, optional: bool = True) -> np.ndarray:
        col = np.nan_to_num(rows[:, RCOL[name]], nan=-1).astype(np.int64)
        if optional:
            col[col < 0] = -1
        return col

    def number(name: str) -> np.ndarray:
        return rows[:, RCOL[name]].astype(np.float64) + 0.0  # -0.0 + 0.0 is 0.0

    n = len(rows)
    return {
        "ids": np.arange(first_id, first_id + n, dtype=np.int64),
        "kind": rows[:, RCOL["kind"]].astype(np.int64).astype(np.int8),
        "score": number("score"),
        "image_id": ints("image_id", optional=False),
        "annotation_id": ints("annotation_id"),
        "other_annotation_id": ints("other_annotation_id"),
        "prediction_id": ints("prediction_id"),
        "category_id": ints("category_id"),
        "predicted_category_id": ints("predicted_category_id"),
        "iou": number("iou"),
        "confidence": number("confidence"),
        "probability": number("probability"),
        "group": ints("group", optional=False),
        "group_rank": ints("group_rank", optional=False).astype(np.int32),
        "prediction_set_id": ints("set_id") if multi else np.full(n, -1, np.int64),
    }


def compact_int(column: np.ndarray) -> np.ndarray:
    """An integer column in the smallest signed type that holds its values (ids, classes and
    ranks fit 32 bits or less: the cache reads ~40% fewer bytes); other columns as they are."""
    if column.dtype.kind not in "iu" or not len(column):
        return column
    lo, hi = int(column.min()), int(column.max())
    for small in (np.int8, np.int16, np.int32):
        info = np.iinfo(small)
        if info.min <= lo and hi <= info.max:
            return column.astype(small) if column.dtype.itemsize > info.bits // 8 else column
    return column


FILE_NAMES_OWNER = "file_names"
"""The ``arrays`` owner of the images' file names cached as columns (see
:meth:`SuspectRepository.cached_file_names`)."""


def cache_owner(analysis_id: int) -> str:
    """The ``arrays`` owner under which an analysis's suspect columns are cached."""
    return f"suspect_index:{analysis_id}"


FILE_NAMES_FILE = "file_names.columns"


def suspects_file(analysis_id: int) -> str:
    """The name of the cache file of an analysis's suspect columns (in the cache folder)."""
    return f"suspects-{analysis_id}.columns"


class FileNameColumns(NamedTuple):
    """Every image's file name as columns: image ids ascending, the end of each name in
    ``utf8`` (names one after the other, UTF-8 with surrogates passed through)."""

    image_id: np.ndarray
    end: np.ndarray
    utf8: bytes | memoryview


class SuspectRepository(CacheFileRepository):
    """Reads of the ``suspects`` table as columns, and their cache in ``arrays``."""

    def suspect_index_columns(
        self,
        analysis_id: int,
        image_ids: Iterable[int] | None = None,
        status_codes: Mapping[str, int] | None = None,
    ) -> dict[str, np.ndarray]:
        """An analysis's suspects (on these images; all by default) as
        :data:`SUSPECT_INDEX_COLUMNS` in suspect-id order. With ``status_codes`` (decision ->
        code; 0 for no decision) a ``status`` column too."""
        rows = self._rows_suspect_index_columns(analysis_id, image_ids, status_codes)
        if not self.suspects_as_columns(analysis_id):
            return rows
        blob = self.blob_suspect_columns(analysis_id, image_ids)
        if status_codes is not None:
            blob["status"] = self.blob_statuses(analysis_id, blob, dict(status_codes))
        if not len(rows["ids"]):
            return blob
        both = {name: np.concatenate([blob[name], rows[name]]) for name in rows}
        order = np.argsort(both["ids"], kind="stable")
        return {name: col[order] for name, col in both.items()}

    def _rows_suspect_index_columns(
        self,
        analysis_id: int,
        image_ids: Iterable[int] | None,
        status_codes: Mapping[str, int] | None,
    ) -> dict[str, np.ndarray]:
        """:meth:`suspect_index_columns` of the analysis's rows of the ``suspects`` table."""
        if image_ids is None:
            return self._fetch_all(analysis_id, status_codes)
        ids = sorted({int(i) for i in image_ids})
        parts = [
            self._fetch(
                "suspects",
                f"analysis_id = ? AND image_id IN ({self._db.marks(len(some))})",
                [analysis_id, *some],
                status_codes,
            )
            for some in (ids[s : s + _IDS_PER_QUERY] for s in range(0, len(ids), _IDS_PER_QUERY))
        ]
        if not parts:
            return self._fetch("suspects", "analysis_id = ? AND 1 = 0", [analysis_id], status_codes)
        fresh = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        order = np.argsort(fresh["ids"], kind="stable")
        return {name: col[order] for name, col in fresh.items()}

    def _fetch_all(
        self, analysis_id: int, status_codes: Mapping[str, int] | None
    ) -> dict[str, np.ndarray]:
        """All the suspects of an analysis as columns, read in id ranges of
        :data:`ROWS_PER_READ` (the rows of one range as float64 at a time: at 8M suspects the
        whole table's were 1 GB, twice while they were gathered)."""
        # the table in id order (a rowid range, no index) saves sorting its rows; its ends
        # from the table's ends (the index on analysis_id would walk all its entries)
        table = self._db.scan("suspects")
        lo, hi = (
            self._db.scalar(
                f"SELECT id FROM {table} WHERE analysis_id = ? ORDER BY id {way} LIMIT 1",
                [analysis_id],
            )
            for way in ("ASC", "DESC")
        )
        if lo is None:
            return self._fetch(table, "analysis_id = ? AND 1 = 0", [analysis_id], status_codes)
        parts = [
            self._fetch(
                table,
                "analysis_id = ? AND id >= ? AND id < ?",
                [analysis_id, start, start + ROWS_PER_READ],
                status_codes,
            )
            for start in range(int(lo), int(hi) + 1, ROWS_PER_READ)
        ]
        # column by column, each one's parts let go as it is joined
        return {name: np.concatenate([p.pop(name) for p in parts]) for name in list(parts[0])}

    def written_suspect_columns(
        self, written: WrittenSuspects, analysis_id: int
    ) -> dict[str, np.ndarray] | None:
        """The current analysis's suspects as :meth:`suspect_index_columns` reads them, from
        the index columns its writer kept of the rows it wrote (and the few rows written after
        them, read); None unless they are that analysis's rows at its current generation."""
        if (
            written.analysis_id != analysis_id
            or self.suspects_generation(analysis_id) != written.generation
        ):
            return None
        columns = {
            name: written.columns.column(name, np.zeros(0, _DTYPES[name])).astype(
                _DTYPES[name], copy=False
            )
            for name in SUSPECT_INDEX_COLUMNS
        }
        later = self._fetch(
            self._db.scan("suspects"),
            "analysis_id = ? AND id >= ?",
            [analysis_id, written.later_from],
            None,
        )
        if len(later["ids"]):
            columns = {n: np.concatenate([columns[n], later[n]]) for n in SUSPECT_INDEX_COLUMNS}
        return columns

    def _fetch(
        self, table: str, where: str, params: list, status_codes: Mapping[str, int] | None
    ) -> dict[str, np.ndarray]:
        specs = list(_SQL_COLUMNS)
        status_params: list = []
        if status_codes is not None:
            case = " ".join(f"WHEN '{s}' THEN {int(c)}" for s, c in status_codes.items())
            specs.append(
                (
                    "status",
                    f"COALESCE((SELECT CASE decision {case} END FROM decisions "
                    "WHERE prediction_set_id = ? AND suspect_key = suspects.key), 0)",
                    np.int8,
                )
            )
            status_params = [
                self._db.scalar("SELECT prediction_set_id FROM analyses WHERE id = ?", [params[0]])
            ]
        data = self._db.number_columns(
            [sql for _, sql, _ in specs],
            f"FROM {table} WHERE {where}",
            [*status_params, *params],
        )
        return {name: data[:, i].astype(dtype) for i, (name, _, dtype) in enumerate(specs)}

    def suspect_support(
        self, analysis_id: int, image_ids: Iterable[int] | None = None
    ) -> dict[str, np.ndarray]:
        """The sets behind each suspect of a multi-set analysis (on these images; all by
        default) as :data:`SUPPORT_COLUMNS` (ids -1 and numbers NaN where none), sorted by
        suspect id, then set id. Empty for an analysis of one set."""
        specs = [
            ("sp.suspect_id", np.int64),
            ("sp.set_id", np.int64),
            ("COALESCE(sp.prediction_id, -1)", np.int64),
            ("sp.score", np.float64),
            ("COALESCE(sp.confidence, 'nan')", np.float64),
            ("COALESCE(sp.probability, 'nan')", np.float64),
        ]
        sql = f"SELECT {', '.join(e for e, _ in specs)} FROM suspect_support sp"
        parts = []
        if image_ids is None:
            parts.append(self._db.rows(sql + " WHERE sp.analysis_id = ?", [analysis_id]))
        else:
            ids = sorted({int(i) for i in image_ids})
            for s in range(0, len(ids), _IDS_PER_QUERY):
                some = ids[s : s + _IDS_PER_QUERY]
                parts.append(
                    self._db.rows(
                        sql + " JOIN suspects s ON s.id = sp.suspect_id WHERE sp.analysis_id = ? "
                        f"AND s.image_id IN ({self._db.marks(len(some))})",
                        [analysis_id, *some],
                    )
                )
        rows = [r for part in parts for r in part]
        data = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(specs))
        if len(data):
            data = data[np.lexsort((data[:, 1], data[:, 0]))]
        return {
            name: data[:, i].astype(dtype)
            for i, (name, (_, dtype)) in enumerate(zip(SUPPORT_COLUMNS, specs, strict=True))
        }

    def suspect_statuses(
        self, analysis_id: int, status_codes: Mapping[str, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The decided suspects of a multi-set analysis: their ids and status codes. A suspect
        takes the latest decision recorded under any of its sets' keys."""
        rows = self._db.rows(
            "SELECT sp.suspect_id, d.decision FROM suspect_support sp JOIN decisions d "
            "ON d.prediction_set_id = sp.set_id AND d.suspect_key = sp.key "
            "WHERE sp.analysis_id = ? ORDER BY sp.suspect_id, d.time",
            [analysis_id],
        )
        latest = {sid: status_codes[decision] for sid, decision in rows}  # the last one wins
        ids = np.fromiter(latest.keys(), dtype=np.int64, count=len(latest))
        codes = np.fromiter(latest.values(), dtype=np.int8, count=len(latest))
        return ids, codes

    def cached_suspect_columns(self, analysis_id: int) -> dict[str, np.ndarray] | None:
        """The cached columns of an analysis's suspects (:data:`SUSPECT_INDEX_COLUMNS`, in their
        dtypes; integer columns writable, float columns maybe read-only) and the
        :data:`CACHED_ORDERS` saved with them, or None when absent or stale. From the cache
        file they are mappings of it (nothing read until touched)."""
        from_file = self._suspects_file_columns(analysis_id)
        if from_file is not None:
            return from_file
        columns = self.get_arrays(cache_owner(analysis_id), writable=False)
        generation = columns.pop("generation", None)
        orders = {k: columns.pop(k) for k in CACHED_ORDERS if k in columns}
        current = self.suspects_generation(analysis_id)
        if (
            set(columns) != set(SUSPECT_INDEX_COLUMNS)
            or generation is None
            or int(generation[0]) != current
        ):
            return None
        out = {
            name: col if col.dtype == _DTYPES[name] else col.astype(_DTYPES[name])
            for name, col in columns.items()
        }
        out.update({name: order.astype(np.int64) for name, order in orders.items()})
        if not self.readonly and "order:score" in out:  # an older LabelFix's: move to a file
            check = self._suspects_check(analysis_id, create=True)
            if (
                check is not None
                and check["generation"] == current
                and self._write_cache_file(suspects_file(analysis_id), check, out)
            ):
                self._drop_blobs(cache_owner(analysis_id))
        return out

    def suspect_cache_is_current(self, analysis_id: int) -> bool:
        """True if the project holds the analysis's columns at their current generation."""
        if self._suspects_file_columns(analysis_id) is not None:
            return True
        saved = self.get_arrays(cache_owner(analysis_id), "generation")
        if not saved:
            return False
        return int(saved["generation"][0]) == self.suspects_generation(analysis_id)

    def has_suspect_cache(self, analysis_id: int) -> bool:
        """True if the project holds a cache of the analysis's columns, current or not."""
        folder = self.cache_folder()
        return self.has_arrays(cache_owner(analysis_id)) or (
            folder is not None and (folder / suspects_file(analysis_id)).exists()
        )

    def forget_suspect_cache(self, analysis_id: int) -> None:
        """Delete the cache of an analysis's columns (its file and its blobs)."""
        folder = self.cache_folder()
        if folder is not None:
            (folder / suspects_file(analysis_id)).unlink(missing_ok=True)
        if not self.readonly:
            self._drop_blobs(cache_owner(analysis_id))

    def save_suspect_cache(
        self,
        analysis_id: int,
        columns: dict[str, np.ndarray],
        generation: int | None = None,
    ) -> bool:
        """Cache an analysis's suspect columns (:data:`SUSPECT_INDEX_COLUMNS`, and those of
        :data:`CACHED_ORDERS` given), if they are still its current suspects (another process
        may have re-analysed images meanwhile; with ``generation``: the generation they were
        made at, still current); returns whether they were saved. A project file keeps them
        in its cache folder (the blobs of an older LabelFix are dropped) and drops the files
        of analyses that are no longer current."""
        ids = columns["ids"]
        with self._db.atomic():
            current = self._db.one(
                "SELECT 1 FROM analyses WHERE id = ? AND current = 1", [analysis_id]
            )
            count, top = self._db.one(
                "SELECT COUNT(*), COALESCE(MAX(id), -1) FROM suspects WHERE analysis_id = ?",
                [analysis_id],
            )
            if self.suspects_as_columns(analysis_id):
                in_blobs, blob_top, _, _ = self.blob_suspect_stats(analysis_id)
                count, top = count + in_blobs, max(top, blob_top)
            same = count == len(ids) and top == (int(ids[-1]) if len(ids) else -1)
            now_at = self.suspects_generation(analysis_id)
            if not (current and same) or generation not in (None, now_at):
                return False
            generation = now_at
            check = self._suspects_check(analysis_id, create=True)
        orders = {n: np.asarray(columns[n], np.int64) for n in CACHED_ORDERS if n in columns}
        typed = {n: np.asarray(columns[n], _DTYPES[n]) for n in SUSPECT_INDEX_COLUMNS}
        if check is not None and self._write_cache_file(
            suspects_file(analysis_id), check, {**typed, **orders}
        ):
            self._drop_blobs(cache_owner(analysis_id))
            self._drop_stale_files()
            return True
        with self._db.atomic():
            self.put_arrays(
                cache_owner(analysis_id),
                {
                    **{n: compact_int(columns[n]) for n in SUSPECT_INDEX_COLUMNS},
                    **{n: compact_int(columns[n]) for n in CACHED_ORDERS if n in columns},
                    "generation": np.array([generation], dtype=np.int64),
                },
            )
        return True

    # ------------------------------------------------------------------ cache files
    def _suspects_check(self, analysis_id: int, create: bool = False) -> dict[str, Any] | None:
        """What an analysis's cache file must name to be used: the project's token, the
        analysis and when it was made, and its suspects' generation (None: no token yet)."""
        if self.cache_folder() is None:
            return None
        token = self._cache_token(create)
        made = self._db.scalar("SELECT created_at FROM analyses WHERE id = ?", [analysis_id])
        if token is None or made is None:
            return None
        return {
            "token": token,
            "analysis_id": int(analysis_id),
            "created_at": str(made),
            "generation": self.suspects_generation(analysis_id),
        }

    def _suspects_file_columns(self, analysis_id: int) -> dict[str, np.ndarray] | None:
        """The columns of an analysis's cache file, if it is whole and current."""
        folder, check = self.cache_folder(), self._suspects_check(analysis_id)
        if folder is None or check is None:
            return None
        found = read_column_file(folder / suspects_file(analysis_id))
        if found is None or found[0] != check:
            return None
        columns = found[1]
        orders = set(columns) - set(SUSPECT_INDEX_COLUMNS)
        if not set(SUSPECT_INDEX_COLUMNS) <= set(columns) or not orders <= set(CACHED_ORDERS):
            return None
        if any(columns[n].dtype != _DTYPES[n] for n in SUSPECT_INDEX_COLUMNS):
            return None
        return columns

    def _drop_blobs(self, owner: str) -> None:
        """Delete the blobs of a cache now kept in a file, if there are any (looked for by a
        scan first: a delete seeks through the arrays key, 0.1-2 s at 10M labels)."""
        if self.has_arrays(owner):
            with self._db.atomic():
                self.delete_arrays(owner)

    def _drop_stale_files(self) -> None:
        """Delete the cache files of analyses that are no longer current."""
        folder = self.cache_folder()
        if folder is None:
            return
        keep = {
            suspects_file(i) for (i,) in self._db.rows("SELECT id FROM analyses WHERE current = 1")
        }
        for stale in folder.glob("suspects-*.columns"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)

    # ------------------------------------------------------------------ file names
    def _images_check(self) -> np.ndarray:
        """What the file-name cache is checked against: the images' count and largest id (the
        images of a project do not change after its import)."""
        count, top = self._db.one("SELECT COUNT(*), COALESCE(MAX(id), -1) FROM images")
        return np.array([int(count), int(top)], dtype=np.int64)

    def cached_file_names(self) -> FileNameColumns | None:
        """The images' file names cached as columns (~30 MB read at 1M images, where
        ``file_names``' 1M row tuples took 0.7-1.4 s), or None when absent or stale."""
        folder, token = self.cache_folder(), self._cache_token()
        if folder is not None and token is not None:
            found = read_column_file(folder / FILE_NAMES_FILE)
            want = {"token": token, "images": self._images_check().tolist()}
            if found is not None and found[0] == want:
                cols = found[1]
                if {"image_id", "end", "utf8"} <= set(cols):
                    return FileNameColumns(cols["image_id"], cols["end"], cols["utf8"].data)
        cols = self.get_arrays(FILE_NAMES_OWNER, writable=False)
        if set(cols) != {"image_id", "end", "utf8", "check"}:
            return None
        check = self._images_check()
        if cols["check"].tolist() != check.tolist():
            return None
        names = FileNameColumns(
            cols["image_id"].astype(np.int64), cols["end"].astype(np.int64), cols["utf8"].data
        )
        if not self.readonly and self.cache_folder() is not None:  # an older LabelFix's
            self._file_names_to_file(names.image_id, names.end, cols["utf8"], check)
        return names

    def save_file_names_cache(self, names: Mapping[int, str]) -> FileNameColumns:
        """Cache the images' file names (image id -> name, all of them) as columns; returns
        them."""
        ids = np.fromiter(names.keys(), dtype=np.int64, count=len(names))
        order = np.argsort(ids, kind="stable")
        encoded = [names[i].encode("utf-8", "surrogatepass") for i in ids[order].tolist()]
        end = np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))
        utf8 = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        check = self._images_check()
        if self._file_names_to_file(ids[order], end, utf8, check):
            return FileNameColumns(ids[order], end, utf8.data)
        with self._db.atomic():
            self.put_arrays(
                FILE_NAMES_OWNER,
                {
                    "image_id": compact_int(ids[order]),
                    "end": compact_int(end),
                    "utf8": utf8,
                    "check": check,
                },
            )
        return FileNameColumns(ids[order], end, utf8.data)

    def _file_names_to_file(
        self, image_id: np.ndarray, end: np.ndarray, utf8: np.ndarray, check: np.ndarray
    ) -> bool:
        """Write the file names' cache file (and drop their blobs); False when it cannot."""
        if self.cache_folder() is None:
            return False
        with self._db.atomic():
            token = self._cache_token(create=True)
        columns = {"image_id": image_id, "end": end, "utf8": utf8}
        if token is None or not self._write_cache_file(
            FILE_NAMES_FILE, {"token": token, "images": check.tolist()}, columns
        ):
            return False
        self._drop_blobs(FILE_NAMES_OWNER)
        return True
