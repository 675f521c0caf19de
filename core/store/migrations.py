"""Ordered schema migrations of a LabelFix project (the SQLite schema; a team project's
PostgreSQL scripts, under the same version numbers, are in :mod:`.pg_migrations`).

Each migration runs in its own transaction together with the row that records it in
``_migrations``; a project is never left between two versions. Numeric columns declared
without a type (``x``, ``y``, ``w``, ``h``, ``area``) keep whatever JSON gave them, so an
integer stays an integer and a float stays a float on export.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Callable

from . import pg_migrations
from .sqlite import Database

Migration = Callable[[Database], None]
MIGRATIONS: list[tuple[int, str, Migration]] = []


class SchemaTooNewError(RuntimeError):
    """The project was written by a newer LabelFix than this one."""


def migration(version: int) -> Callable[[Migration], Migration]:
    """Register a migration under its version number (must be ascending)."""

    def register(fn: Migration) -> Migration:
        assert not MIGRATIONS or MIGRATIONS[-1][0] < version, "migrations must be ordered"
        MIGRATIONS.append((version, fn.__name__, fn))
        return fn

    return register


@migration(1)
def m001_initial(db: Database) -> None:
    """Images, categories, labels, prediction sets, change log, analyses, suspects, decisions.

    Predictions are columnar: a set's id, image_id, category_id, score and box live as numpy
    blobs in ``arrays`` (owner ``predictions:<set id>``), its segmentations and unknown keys, where
    there are any, in ``prediction_shapes``. ``arrays`` also holds and an analysis's per-prediction matches (``analysis:<id>``);
    ``match_updates`` overrides those matches for images re-analysed after an edit.
    """
    _run_script(
        db,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE images (
            id INTEGER PRIMARY KEY, position INTEGER NOT NULL, file_name TEXT NOT NULL,
            width INTEGER NOT NULL, height INTEGER NOT NULL, extra TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'ok'
        );
        CREATE TABLE categories (
            id INTEGER PRIMARY KEY, position INTEGER NOT NULL, name TEXT NOT NULL,
            supercategory TEXT, extra TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE annotations (
            id INTEGER PRIMARY KEY, position INTEGER NOT NULL,
            image_id INTEGER NOT NULL REFERENCES images(id),
            category_id INTEGER NOT NULL REFERENCES categories(id),
            x, y, w, h, area, segmentation TEXT, iscrowd INTEGER NOT NULL DEFAULT 0,
            has_iscrowd INTEGER NOT NULL DEFAULT 1,
            extra TEXT NOT NULL DEFAULT '{}', revision INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX annotations_image ON annotations(image_id);
        CREATE TABLE prediction_sets (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, source_path TEXT,
            imported_at TEXT NOT NULL, has_segmentation INTEGER NOT NULL DEFAULT 0,
            count INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE prediction_shapes (
            set_id INTEGER NOT NULL REFERENCES prediction_sets(id) ON DELETE CASCADE,
            id INTEGER NOT NULL, image_id INTEGER NOT NULL, segmentation TEXT, extra TEXT,
            PRIMARY KEY (set_id, id)
        ) WITHOUT ROWID;
        CREATE TABLE change_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, edit_id TEXT NOT NULL,
            action TEXT NOT NULL, annotation_id INTEGER, image_id INTEGER,
            before TEXT, after TEXT, reason TEXT, suspect_key TEXT, note TEXT,
            reverts INTEGER
        );
        CREATE INDEX change_log_annotation ON change_log(annotation_id);
        CREATE TRIGGER change_log_no_update BEFORE UPDATE ON change_log
            BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
        CREATE TRIGGER change_log_no_delete BEFORE DELETE ON change_log
            BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
        CREATE TABLE analyses (
            id INTEGER PRIMARY KEY,
            prediction_set_id INTEGER NOT NULL REFERENCES prediction_sets(id) ON DELETE CASCADE,
            params TEXT NOT NULL, created_at TEXT NOT NULL, geometry TEXT NOT NULL,
            current INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE arrays (
            owner TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
            PRIMARY KEY (owner, name)
        ) WITHOUT ROWID;
        CREATE TABLE match_updates (
            analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
            prediction_id INTEGER NOT NULL, image_id INTEGER NOT NULL, outcome INTEGER NOT NULL,
            annotation_id INTEGER, iou REAL,
            PRIMARY KEY (analysis_id, prediction_id)
        ) WITHOUT ROWID;
        CREATE TABLE suspects (
            id INTEGER PRIMARY KEY,
            analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
            key TEXT NOT NULL, kind TEXT NOT NULL, score REAL NOT NULL, image_id INTEGER NOT NULL,
            annotation_id INTEGER, other_annotation_id INTEGER, prediction_id INTEGER,
            category_id INTEGER, predicted_category_id INTEGER, iou REAL, confidence REAL
        );
        CREATE INDEX suspects_image ON suspects(analysis_id, image_id);
        CREATE TABLE decisions (
            prediction_set_id INTEGER NOT NULL REFERENCES prediction_sets(id) ON DELETE CASCADE,
            suspect_key TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('accepted', 'rejected', 'flagged')),
            note TEXT, time TEXT NOT NULL,
            PRIMARY KEY (prediction_set_id, suspect_key)
        ) WITHOUT ROWID;
        CREATE TABLE mask_cache (
            owner TEXT NOT NULL, id INTEGER NOT NULL, revision INTEGER NOT NULL,
            height INTEGER NOT NULL, width INTEGER NOT NULL, counts BLOB NOT NULL,
            PRIMARY KEY (owner, id)
        ) WITHOUT ROWID;
        """,
    )


@migration(2)
def m002_values_as_read(db: Database) -> None:
    """``as_read`` on images, categories and labels: where the lenient reader assumed something
    (a whole-number float id, a boolean iscrowd, a null or empty-part segmentation, a size read
    from the image file, a supercategory that is not a string), the values as they were in the
    file, so an export writes them back (see :mod:`labelfix.core.as_read`)."""
    for table in ("images", "categories", "annotations"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN as_read TEXT")


@migration(3)
def m003_team_review(db: Database) -> None:
    """Reviewers and claims: every change-log entry and decision names its reviewer (and an
    entry the session, i.e. the open store, that wrote it, so a window can skip its own entries
    in the change feed); claims
    hand suspects to one reviewer at a time (until they expire, in seconds since the epoch);
    an edit's entries can be found by its id."""
    _run_script(
        db,
        """
        ALTER TABLE change_log ADD COLUMN reviewer TEXT;
        ALTER TABLE change_log ADD COLUMN session TEXT;
        ALTER TABLE decisions ADD COLUMN reviewer TEXT;
        CREATE INDEX change_log_edit ON change_log(edit_id);
        CREATE TABLE claims (
            prediction_set_id INTEGER NOT NULL REFERENCES prediction_sets(id) ON DELETE CASCADE,
            suspect_key TEXT NOT NULL, reviewer TEXT NOT NULL, session TEXT NOT NULL,
            expires REAL NOT NULL,
            PRIMARY KEY (prediction_set_id, suspect_key)
        ) WITHOUT ROWID;
        """,
    )


@migration(4)
def m004_prediction_runs(db: Database) -> None:
    """Model runs in progress (``labelfix predict``, "Run a model…"): a run is named after the
    prediction set it will become, with a fingerprint of the model file and options; each
    finished image's COCO result records are staged (as JSON) under the run until the whole
    set is published in one transaction, so a killed run leaves no half set and a rerun goes on
    where it stopped."""
    _run_script(
        db,
        """
        CREATE TABLE prediction_runs (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL,
            settings TEXT NOT NULL, started_at TEXT NOT NULL, images INTEGER NOT NULL
        );
        CREATE TABLE prediction_run_images (
            run_id INTEGER NOT NULL REFERENCES prediction_runs(id) ON DELETE CASCADE,
            image_id INTEGER NOT NULL, records TEXT NOT NULL,
            PRIMARY KEY (run_id, image_id)
        ) WITHOUT ROWID;
        """,
    )


@migration(5)
def m005_calibrated_groups_and_sets(db: Database) -> None:
    """Issue 14's results: every suspect's calibrated ``probability``, its group (``group_id``,
    ``group_rank``: one object's alternatives, 0 = the most likely fix) and the prediction set
    its prediction belongs to (``set_id``; NULL: the analysis's own set); an analysis's sets
    (``set_ids``: "1" or "1,2", sorted ids) with what it learnt about each detector (``fits``,
    JSON by set id, moved here from the meta keys ``detector_fit:<id>``) and its ``report``
    (JSON: per-class metrics, confusion table, default review cut); ``suspect_support``: the
    sets behind each suspect of a multi-set analysis (their prediction, key and numbers);
    ``match_updates`` gains the set (a multi-set analysis keeps every set's matches)."""
    _run_script(
        db,
        """
        ALTER TABLE suspects ADD COLUMN probability REAL;
        ALTER TABLE suspects ADD COLUMN group_id INTEGER;
        ALTER TABLE suspects ADD COLUMN group_rank INTEGER;
        ALTER TABLE suspects ADD COLUMN set_id INTEGER;
        ALTER TABLE analyses ADD COLUMN set_ids TEXT;
        ALTER TABLE analyses ADD COLUMN fits TEXT;
        ALTER TABLE analyses ADD COLUMN report TEXT;
        UPDATE analyses SET set_ids = CAST(prediction_set_id AS TEXT);
        CREATE TABLE suspect_support (
            analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
            suspect_id INTEGER NOT NULL, set_id INTEGER NOT NULL, prediction_id INTEGER,
            key TEXT NOT NULL, score REAL NOT NULL, confidence REAL, probability REAL,
            PRIMARY KEY (analysis_id, suspect_id, set_id)
        ) WITHOUT ROWID;
        CREATE INDEX suspect_support_key ON suspect_support(set_id, key);
        CREATE TABLE match_updates_by_set (
            analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
            set_id INTEGER NOT NULL,
            prediction_id INTEGER NOT NULL, image_id INTEGER NOT NULL, outcome INTEGER NOT NULL,
            annotation_id INTEGER, iou REAL,
            PRIMARY KEY (analysis_id, set_id, prediction_id)
        ) WITHOUT ROWID;
        INSERT INTO match_updates_by_set
            SELECT u.analysis_id, a.prediction_set_id, u.prediction_id, u.image_id, u.outcome,
                   u.annotation_id, u.iou
            FROM match_updates u JOIN analyses a ON a.id = u.analysis_id;
        DROP TABLE match_updates;
        ALTER TABLE match_updates_by_set RENAME TO match_updates;
        """,
    )
    for key, value in db.rows("SELECT key, value FROM meta WHERE key LIKE 'detector_fit:%'"):
        analysis_id = int(key.split(":", 1)[1])
        set_id = db.scalar("SELECT prediction_set_id FROM analyses WHERE id = ?", [analysis_id])
        if set_id is not None:
            db.execute(
                "UPDATE analyses SET fits = ? WHERE id = ?",
                [json.dumps({str(set_id): json.loads(value)}), analysis_id],
            )
    db.execute("DELETE FROM meta WHERE key LIKE 'detector_fit:%'")


@migration(6)
def m006_prediction_rle_columns(db: Database) -> None:
    """A prediction set read whole keeps its compressed RLEs as they came, in one blob of
    counts strings (``arrays`` owner ``masks:<set id>``, see
    :func:`labelfix.core.store.predictions.rle_columns`) instead of a ``prediction_shapes`` row
    each. No table changes and nothing to convert: this LabelFix reads both (the sets of
    existing projects keep their rows); the version stops an older LabelFix, which reads only
    the rows, from opening a project with such a set and finding its masks missing."""


@migration(7)
def m007_suspects_as_columns(db: Database) -> None:
    """An analysis may store its suspects as column blobs (``arrays`` owner
    ``suspect_rows:<id>``, see :mod:`.suspect_blobs`) instead of rows of ``suspects``: its row
    then names the end of its suspect ids (``suspect_ids_end``; NULL: its suspects are rows).
    Nothing to convert: existing analyses keep their rows and are read as before; the version
    stops an older LabelFix, which reads only the rows, from finding no suspects."""
    db.execute("ALTER TABLE analyses ADD COLUMN suspect_ids_end INTEGER")


def _run_script(db: Database, script: str) -> None:
    """Run a multi-statement script inside the current transaction.

    ``sqlite3.executescript`` would COMMIT first and break the migration's atomicity, so the
    script is split into complete statements (triggers included) and run one by one.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement!r}")


def schema_version(db: Database) -> int:
    """The highest applied migration version (0 for an empty file)."""
    if "_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM _migrations").fetchone()
    return int(row[0] or 0)


def _applied(db: Database) -> set[int]:
    """The versions recorded as applied (a missing one is applied even below the highest)."""
    return {int(r[0]) for r in db.rows("SELECT version FROM _migrations")}


def latest_version() -> int:
    """The schema version this LabelFix writes."""
    return MIGRATIONS[-1][0]


def _steps(db: Database) -> list[tuple[int, str, Migration]]:
    """The migrations of the database's dialect (the same versions on both)."""
    if db.dialect == "sqlite":
        return MIGRATIONS
    return [
        (v, name, lambda db, s=script: db.execute(s))
        for v, name, script in pg_migrations.MIGRATIONS
    ]


def check_readable(db: Database) -> None:
    """Raise :class:`SchemaTooNewError` if this LabelFix cannot read the project's schema."""
    version = schema_version(db)
    if version > latest_version():
        raise SchemaTooNewError(
            f"this project has schema version {version}, but this LabelFix reads up to "
            f"{latest_version()}; update LabelFix to open it"
        )


def migrate(db: Database) -> int:
    """Apply every pending migration, each in its own transaction; return the new version.

    On a team project the change lock is held while migrating, so two clients opening it at
    once after an upgrade migrate it once."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    check_readable(db)
    for version, name, fn in _steps(db):
        if version in _applied(db):
            continue
        with db.atomic():
            db.lock_changes()
            if version in _applied(db):
                continue  # another client migrated meanwhile
            fn(db)
            db.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, name, _dt.datetime.now(_dt.UTC).isoformat()],
            )
    return schema_version(db)
