"""The LabelFix project: one SQLite file (``.labelfix``) holding a COCO dataset, prediction
sets, the analysis results, review decisions and an append-only change log.

One :class:`Store` is the one writer connection of a process. It runs in WAL mode with
``synchronous=FULL``, so a committed edit survives a crash or power cut; readers in worker
threads open their own connections with :func:`Store.open` (``readonly=True``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from . import migrations
from .coco import GroundTruth, PredictionFile

APP_ID = "labelfix"
PROJECT_SUFFIX = ".labelfix"
Progress = Callable[[int, int], None]

IMAGE_KEYS = ("id", "file_name", "width", "height")
CATEGORY_KEYS = ("id", "name", "supercategory")
ANNOTATION_KEYS = ("id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd")
PREDICTION_KEYS = ("image_id", "category_id", "bbox", "segmentation", "score")


class ProjectError(RuntimeError):
    """A project file that cannot be opened or written, with a sentence a user can act on."""


def now() -> str:
    """The current UTC time as ISO 8601, as stored in the project."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _extra(record: dict, known: Sequence[str]) -> str:
    return _dumps({k: v for k, v in record.items() if k not in known})


def connect(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open a connection with LabelFix's pragmas (WAL, FULL sync, foreign keys, autocommit)."""
    if readonly:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30
        )
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: bulk inserts of suspects stay in cache
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return sqlite_utils.Database(conn)


class Store:
    """An open LabelFix project."""

    def __init__(self, path: Path, db: sqlite_utils.Database, readonly: bool) -> None:
        self.path = path
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.readonly = readonly

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, path: str | Path, *, overwrite: bool = False) -> Store:
        """Create a new, empty project file (refuses to replace one unless ``overwrite``)."""
        path = Path(path)
        if path.exists():
            if not overwrite:
                raise ProjectError(
                    f"{path} already exists; choose another name or pass --overwrite"
                )
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = connect(path)
        migrations.migrate(db)
        store = cls(path, db, readonly=False)
        with store.atomic():
            store.set_meta("app", APP_ID)
            store.set_meta("created_at", now())
            store.set_meta("edits_since_export", 0)
        return store

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False) -> Store:
        """Open an existing project, migrating it to the current schema when writable."""
        path = Path(path)
        if not path.exists():
            raise ProjectError(f"{path}: no such project file")
        if not readonly and not os.access(path, os.W_OK):
            raise ProjectError(f"{path} is read-only; copy it somewhere writable to edit it")
        try:
            # look before writing: a writable open switches the file to WAL, which must not
            # happen to somebody else's SQLite file
            probe = connect(path, readonly=True)
            tables = set(probe.table_names())
            probe.conn.close()
        except sqlite3.DatabaseError as exc:
            raise ProjectError(f"{path} is not a LabelFix project ({exc})") from exc
        if "_migrations" not in tables or "meta" not in tables:
            raise ProjectError(f"{path} is not a LabelFix project (no LabelFix tables in it)")
        db = connect(path, readonly=readonly)
        try:
            if readonly:
                version = migrations.schema_version(db)
                if version > migrations.latest_version():
                    raise migrations.SchemaTooNewError(
                        f"this project has schema version {version}, but this LabelFix reads up to "
                        f"{migrations.latest_version()}; update LabelFix to open it"
                    )
            else:
                migrations.migrate(db)
        except migrations.SchemaTooNewError as exc:
            db.conn.close()
            raise ProjectError(f"{path}: {exc}") from exc
        store = cls(path, db, readonly=readonly)
        if store.get_meta("app") != APP_ID:
            db.conn.close()
            raise ProjectError(f"{path} is not a LabelFix project")
        return store

    def reader(self) -> Store:
        """A separate read-only connection to the same project, for a worker thread."""
        return Store.open(self.path, readonly=True)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Store]:
        """One transaction (a savepoint when nested); committed durably on exit."""
        with self.db.atomic():
            yield self

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Cursor:
        """Run one SQL statement on this connection."""
        return self.conn.execute(sql, params)

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored under ``key`` in the project's meta table."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, _dumps(value)],
        )

    @property
    def images_root(self) -> Path | None:
        """The folder image file names are relative to (stored relative to the project file)."""
        root = self.get_meta("images_root")
        if root is None:
            return None
        root_path = Path(root)
        return root_path if root_path.is_absolute() else (self.path.parent / root_path).resolve()

    def set_images_root(self, root: str | Path) -> None:
        """Remember the image folder, relative to the project file where possible."""
        root = Path(root).resolve()
        try:
            value = os.path.relpath(root, self.path.resolve().parent)
        except ValueError:  # another drive on Windows
            value = str(root)
        self.set_meta("images_root", value)

    def image_path(self, image: dict) -> Path | None:
        """Absolute path of an image's file, or None without an image folder."""
        root = self.images_root
        return None if root is None else root / image["file_name"]

    # ------------------------------------------------------------------ import
    def import_ground_truth(
        self, gt: GroundTruth, images_root: str | Path | None, progress: Progress | None = None
    ) -> None:
        """Load a validated COCO dataset into an empty project, in one transaction."""
        if self.conn.execute("SELECT 1 FROM images LIMIT 1").fetchone():
            raise ProjectError(f"{self.path} already holds a dataset")
        total = len(gt.images) + len(gt.annotations)
        with self.atomic():
            self.set_meta("dataset_top", gt.top)
            self.set_meta("ground_truth_path", str(Path(gt.path).resolve()))
            self.set_meta("warnings", [str(w) for w in gt.warnings])
            if images_root is not None:
                self.set_images_root(images_root)
            self.conn.executemany(
                "INSERT INTO images (id, position, file_name, width, height, extra) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (
                        im["id"],
                        i,
                        im["file_name"],
                        im["width"],
                        im["height"],
                        _extra(im, IMAGE_KEYS),
                    )
                    for i, im in enumerate(gt.images)
                ),
            )
            self.conn.executemany(
                "INSERT INTO categories (id, position, name, supercategory, extra) VALUES (?, ?, ?, ?, ?)",
                (
                    (c["id"], i, c["name"], c.get("supercategory"), _extra(c, CATEGORY_KEYS))
                    for i, c in enumerate(gt.categories)
                ),
            )
            if progress:
                progress(len(gt.images), total)
            self.conn.executemany(
                "INSERT INTO annotations (id, position, image_id, category_id, x, y, w, h, area, "
                "segmentation, iscrowd, has_iscrowd, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (_annotation_row(a, i) for i, a in enumerate(gt.annotations)),
            )
            if progress:
                progress(total, total)

    def add_predictions(self, pf: PredictionFile, name: str, *, activate: bool = True) -> int:
        """Store a validated prediction file as a new named set; returns its id.

        Prediction ids are 1-based positions in the file, as pycocotools ``loadRes`` numbers them.
        """
        if self.conn.execute("SELECT 1 FROM prediction_sets WHERE name = ?", [name]).fetchone():
            raise ProjectError(f"{self.path} already has a prediction set named {name!r}")
        records = pf.records
        n = len(records)
        ids = np.arange(1, n + 1, dtype=np.int64)
        image_id = np.fromiter((r["image_id"] for r in records), dtype=np.int64, count=n)
        category_id = np.fromiter((r["category_id"] for r in records), dtype=np.int64, count=n)
        score = np.fromiter((r["score"] for r in records), dtype=np.float64, count=n)
        box = np.array([r["bbox"] for r in records], dtype=np.float64).reshape(n, 4)
        order = np.lexsort((ids, image_id))  # by image, then file order
        arrays = {
            "id": ids[order],
            "image_id": image_id[order],
            "category_id": category_id[order],
            "score": score[order],
            "box": np.ascontiguousarray(box[order]),
        }
        with self.atomic():
            cur = self.conn.execute(
                "INSERT INTO prediction_sets (name, source_path, imported_at, has_segmentation, count) "
                "VALUES (?, ?, ?, ?, ?)",
                [name, str(Path(pf.path).resolve()), now(), int(pf.has_segmentation), n],
            )
            set_id = int(cur.lastrowid)
            self.put_arrays(f"predictions:{set_id}", arrays)
            self.conn.executemany(
                "INSERT INTO prediction_shapes (set_id, id, image_id, segmentation, extra) VALUES (?,?,?,?,?)",
                _shape_rows(set_id, records),
            )
            if activate or self.active_set_id() is None:
                self.set_meta("active_prediction_set", set_id)
        return set_id

    # ------------------------------------------------------------------ reads
    def images(self) -> list[dict]:
        """All images in file order, as rows (``extra`` decoded)."""
        rows = self.db.query("SELECT * FROM images ORDER BY position")
        return [_decode_extra(r) for r in rows]

    def image(self, image_id: int) -> dict | None:
        """One image row, or None."""
        rows = list(self.db.query("SELECT * FROM images WHERE id = ?", [image_id]))
        return _decode_extra(rows[0]) if rows else None

    def image_sizes(self) -> dict[int, tuple[int, int]]:
        """Image id -> (height, width)."""
        return {
            r[0]: (r[2], r[1]) for r in self.conn.execute("SELECT id, width, height FROM images")
        }

    def categories(self) -> list[dict]:
        """All categories in file order."""
        rows = self.db.query("SELECT * FROM categories ORDER BY position")
        return [_decode_extra(r) for r in rows]

    def category_names(self) -> dict[int, str]:
        """Category id -> name."""
        return {
            r[0]: r[1]
            for r in self.conn.execute("SELECT id, name FROM categories ORDER BY position")
        }

    def annotation(self, annotation_id: int) -> dict | None:
        """One label in its current state as a COCO-like dict (see :func:`annotation_from_row`)."""
        row = self.conn.execute(_ANNOTATION_SELECT + " WHERE id = ?", [annotation_id]).fetchone()
        return None if row is None else annotation_from_row(row)

    def annotations_for_image(self, image_id: int) -> list[dict]:
        """The current labels of one image, in file order."""
        rows = self.conn.execute(
            _ANNOTATION_SELECT + " WHERE image_id = ? ORDER BY position", [image_id]
        )
        return [annotation_from_row(r) for r in rows]

    def iter_annotations(self) -> Iterator[dict]:
        """Every current label in file order (new labels last)."""
        for row in self.conn.execute(_ANNOTATION_SELECT + " ORDER BY position"):
            yield annotation_from_row(row)

    def next_annotation_id(self) -> int:
        """An id above every label id ever used in this project (deleted ones included)."""
        row = self.conn.execute("SELECT MAX(id) FROM annotations").fetchone()
        used = self.get_meta("max_annotation_id", 0)
        return max(int(row[0] or 0), int(used)) + 1

    def next_position(self) -> int:
        """The file-order position for a new label (after all others)."""
        row = self.conn.execute("SELECT MAX(position) FROM annotations").fetchone()
        return int(row[0] if row[0] is not None else -1) + 1

    def prediction_sets(self) -> list[dict]:
        """All prediction sets."""
        return list(self.db.query("SELECT * FROM prediction_sets ORDER BY id"))

    def active_set_id(self) -> int | None:
        """The id of the active prediction set, or None."""
        value = self.get_meta("active_prediction_set")
        return None if value is None else int(value)

    def resolve_set(self, name: str | None) -> int:
        """The id of the named prediction set (the active one for None)."""
        if name is None:
            set_id = self.active_set_id()
            if set_id is None:
                raise ProjectError(f"{self.path} has no predictions; add some with add-predictions")
            return set_id
        row = self.conn.execute("SELECT id FROM prediction_sets WHERE name = ?", [name]).fetchone()
        if row is None:
            names = ", ".join(s["name"] for s in self.prediction_sets()) or "none"
            raise ProjectError(
                f"{self.path} has no prediction set named {name!r} (it has: {names})"
            )
        return int(row[0])

    def set_active(self, name: str) -> None:
        """Make the named prediction set the active one."""
        set_id = self.resolve_set(name)
        with self.atomic():
            self.set_meta("active_prediction_set", set_id)

    def predictions_for_image(self, set_id: int, image_id: int) -> list[dict]:
        """The predictions of one set on one image, in file order."""
        arr = self.prediction_arrays(set_id)
        lo, hi = np.searchsorted(arr["image_id"], [image_id, image_id + 1])
        return self._prediction_dicts(set_id, arr, np.arange(lo, hi))

    def prediction(self, set_id: int, prediction_id: int) -> dict | None:
        """One prediction by its 1-based id in its results file."""
        arr = self.prediction_arrays(set_id)
        pos = np.flatnonzero(arr["id"] == prediction_id)
        found = self._prediction_dicts(set_id, arr, pos)
        return found[0] if found else None

    def _prediction_dicts(
        self, set_id: int, arr: dict[str, np.ndarray], positions: np.ndarray
    ) -> list[dict]:
        ids = [int(arr["id"][p]) for p in positions]
        shapes: dict[int, tuple] = {}
        if ids:
            marks = ",".join("?" * len(ids))
            for pid, seg, extra in self.conn.execute(
                f"SELECT id, segmentation, extra FROM prediction_shapes WHERE set_id = ? AND id IN ({marks})",
                [set_id, *ids],
            ):
                shapes[pid] = (seg, extra)
        out = []
        for p, pid in zip(positions, ids, strict=True):
            seg, extra = shapes.get(pid, (None, None))
            rec = {
                "set_id": set_id,
                "id": pid,
                "image_id": int(arr["image_id"][p]),
                "category_id": int(arr["category_id"][p]),
                "score": float(arr["score"][p]),
                "bbox": [float(v) for v in arr["box"][p]],
                "segmentation": None if seg is None else json.loads(seg),
            }
            if extra:
                rec["extra"] = json.loads(extra)
            out.append(rec)
        return out

    def counts(self) -> dict[str, int]:
        """Numbers of images, categories, labels, prediction sets, predictions and log entries."""
        q = self.conn.execute
        return {
            "images": q("SELECT COUNT(*) FROM images").fetchone()[0],
            "categories": q("SELECT COUNT(*) FROM categories").fetchone()[0],
            "labels": q("SELECT COUNT(*) FROM annotations").fetchone()[0],
            "prediction_sets": q("SELECT COUNT(*) FROM prediction_sets").fetchone()[0],
            "predictions": q("SELECT COALESCE(SUM(count), 0) FROM prediction_sets").fetchone()[0],
            "changes": q("SELECT COUNT(*) FROM change_log").fetchone()[0],
        }

    def change_log(self) -> list[dict]:
        """Every change-log entry in order, with before/after decoded."""
        out = []
        for row in self.db.query("SELECT * FROM change_log ORDER BY seq"):
            for key in ("before", "after"):
                row[key] = json.loads(row[key]) if row[key] is not None else None
            out.append(row)
        return out

    def decision(self, set_id: int, suspect_key: str) -> dict | None:
        """The review decision on a suspect, or None."""
        rows = list(
            self.db.query(
                "SELECT decision, note, time FROM decisions WHERE prediction_set_id = ? AND suspect_key = ?",
                [set_id, suspect_key],
            )
        )
        return rows[0] if rows else None

    # ------------------------------------------------------------------ writes (used by edits)
    def insert_annotation(self, ann: dict, position: int | None = None) -> None:
        """Insert a label given as a COCO-like dict (see :func:`annotation_from_row`)."""
        pos = self.next_position() if position is None else position
        self.conn.execute(
            "INSERT INTO annotations (id, position, image_id, category_id, x, y, w, h, area, "
            "segmentation, iscrowd, has_iscrowd, extra, revision) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [*_annotation_row(ann_to_record(ann), pos), ann.get("revision", 0)],
        )
        if ann["id"] > self.get_meta("max_annotation_id", 0):
            self.set_meta("max_annotation_id", ann["id"])

    def delete_annotation(self, annotation_id: int) -> None:
        """Delete a label (its full state lives on in the change log)."""
        self.conn.execute("DELETE FROM annotations WHERE id = ?", [annotation_id])
        self.conn.execute("DELETE FROM mask_cache WHERE owner = 'gt' AND id = ?", [annotation_id])

    def update_annotation(self, annotation_id: int, **fields: Any) -> None:
        """Set category_id, bbox, segmentation and/or area of a label; bumps its revision."""
        sets: list[str] = []
        params: list[Any] = []
        for key, value in fields.items():
            if key == "bbox":
                sets += ["x = ?", "y = ?", "w = ?", "h = ?"]
                params += list(value)
            elif key == "segmentation":
                sets.append("segmentation = ?")
                params.append(None if value is None else _dumps(value))
            elif key in ("category_id", "area", "iscrowd"):
                sets.append(f"{key} = ?")
                params.append(value)
            else:
                raise KeyError(f"cannot update label field {key!r}")
        sets.append("revision = revision + 1")
        self.conn.execute(
            f"UPDATE annotations SET {', '.join(sets)} WHERE id = ?", [*params, annotation_id]
        )
        if "bbox" in fields or "segmentation" in fields:
            self.conn.execute(
                "DELETE FROM mask_cache WHERE owner = 'gt' AND id = ?", [annotation_id]
            )

    def set_decision(
        self, set_id: int, suspect_key: str, decision: str | None, note: str | None
    ) -> None:
        """Record (or with None, clear) the review decision on a suspect."""
        if decision is None:
            self.conn.execute(
                "DELETE FROM decisions WHERE prediction_set_id = ? AND suspect_key = ?",
                [set_id, suspect_key],
            )
        else:
            self.conn.execute(
                "INSERT INTO decisions (prediction_set_id, suspect_key, decision, note, time) VALUES (?,?,?,?,?) "
                "ON CONFLICT(prediction_set_id, suspect_key) DO UPDATE SET decision = excluded.decision, "
                "note = excluded.note, time = excluded.time",
                [set_id, suspect_key, decision, note, now()],
            )

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
        cur = self.conn.execute(
            "INSERT INTO change_log (time, edit_id, action, annotation_id, image_id, before, after, "
            "reason, suspect_key, note, reverts) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                now(),
                edit_id,
                action,
                annotation_id,
                image_id,
                None if before is None else _dumps(before),
                None if after is None else _dumps(after),
                reason,
                suspect_key,
                note,
                reverts,
            ],
        )
        return int(cur.lastrowid)

    def put_arrays(self, owner: str, arrays: dict[str, np.ndarray]) -> None:
        """Store named numpy columns under ``owner`` (replacing what was there)."""
        self.conn.execute("DELETE FROM arrays WHERE owner = ?", [owner])
        rows = []
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
            rows.append((owner, name, buf.getvalue()))
        self.conn.executemany("INSERT INTO arrays (owner, name, data) VALUES (?, ?, ?)", rows)

    def has_arrays(self, owner: str) -> bool:
        """True if numpy columns are stored under ``owner``."""
        return (
            self.conn.execute("SELECT 1 FROM arrays WHERE owner = ? LIMIT 1", [owner]).fetchone()
            is not None
        )

    def get_arrays(self, owner: str) -> dict[str, np.ndarray]:
        """The numpy columns stored under ``owner`` (empty dict if none)."""
        rows = self.conn.execute("SELECT name, data FROM arrays WHERE owner = ?", [owner])
        return {name: np.load(io.BytesIO(data), allow_pickle=False) for name, data in rows}

    def prediction_arrays(self, set_id: int) -> dict[str, np.ndarray]:
        """A prediction set as columns (id, image_id, category_id, score, box), sorted by image
        then id. Prediction sets never change, so the columns are kept in memory once read."""
        cache = self.__dict__.setdefault("_prediction_cache", {})
        if set_id not in cache:
            arrays = self.get_arrays(f"predictions:{set_id}")
            if not arrays:
                raise ProjectError(f"{self.path} has no prediction set {set_id}")
            cache.clear()  # keep one set in memory
            cache[set_id] = arrays
        return cache[set_id]

    def bump_edits_since_export(self, delta: int) -> None:
        """Count label edits made since the last export (for the status bar and close prompt)."""
        self.set_meta(
            "edits_since_export", max(0, int(self.get_meta("edits_since_export", 0)) + delta)
        )


# ---------------------------------------------------------------------- row <-> dict
_ANNOTATION_SELECT = (
    "SELECT id, image_id, category_id, x, y, w, h, area, segmentation, iscrowd, has_iscrowd, "
    "extra, revision, position FROM annotations"
)


def _annotation_row(a: dict, position: int) -> tuple:
    x, y, w, h = a["bbox"]
    seg = a.get("segmentation", _ABSENT)
    return (
        a["id"],
        position,
        a["image_id"],
        a["category_id"],
        x,
        y,
        w,
        h,
        a.get("area"),
        None if seg is _ABSENT else _dumps(seg),
        int(a.get("iscrowd", 0) or 0),
        int("iscrowd" in a),
        _extra(a, ANNOTATION_KEYS),
    )


def _shape_rows(set_id: int, records: list[dict]) -> Iterator[tuple]:
    """prediction_shapes rows for the records that have a segmentation or unknown keys."""
    for i, r in enumerate(records):
        if len(r) <= 4 and "segmentation" not in r:
            continue  # image_id, category_id, bbox, score: all in the arrays
        extra = {k: v for k, v in r.items() if k not in PREDICTION_KEYS}
        seg = r.get("segmentation")
        if seg is None and not extra:
            continue
        yield (
            set_id,
            i + 1,
            r["image_id"],
            None if seg is None else _dumps(seg),
            _dumps(extra) if extra else None,
        )


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def annotation_from_row(row: Sequence[Any]) -> dict:
    """A label as a dict: id, image_id, category_id, bbox, segmentation (None if absent), area,
    iscrowd, plus ``extra`` (unknown keys), ``revision`` and ``position``."""
    (
        ann_id,
        image_id,
        category_id,
        x,
        y,
        w,
        h,
        area,
        seg,
        iscrowd,
        has_iscrowd,
        extra,
        revision,
        position,
    ) = row
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": [x, y, w, h],
        "segmentation": None if seg is None else json.loads(seg),
        "area": area,
        "iscrowd": iscrowd,
        "has_iscrowd": bool(has_iscrowd),
        "extra": json.loads(extra),
        "revision": revision,
        "position": position,
    }


def ann_to_record(ann: dict) -> dict:
    """The COCO JSON record of a label dict (inverse of :func:`annotation_from_row`)."""
    rec: dict[str, Any] = {
        "id": ann["id"],
        "image_id": ann["image_id"],
        "category_id": ann["category_id"],
    }
    if ann.get("segmentation") is not None:
        rec["segmentation"] = ann["segmentation"]
    if ann.get("area") is not None:
        rec["area"] = ann["area"]
    rec["bbox"] = list(ann["bbox"])
    if ann.get("has_iscrowd", True):
        rec["iscrowd"] = ann.get("iscrowd", 0)
    rec.update(ann.get("extra") or {})
    return rec


def _decode_extra(row: dict) -> dict:
    row["extra"] = json.loads(row["extra"])
    return row
