"""The LabelFix project: one SQLite file (``.labelfix``) holding a COCO dataset, prediction
sets, the analysis results, review decisions and an append-only change log.

One :class:`Store` is the one writer connection of a process. It runs in WAL mode with
``synchronous=FULL``, so a committed edit survives a crash or power cut; readers in worker
threads open their own connections with :func:`Store.open` (``readonly=True``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from . import migrations
from .analyses import AnalysisRepository
from .base import ProjectError, now
from .dataset import DatasetRepository
from .masks import MaskRepository
from .meta import MetaRepository
from .predictions import PredictionRepository
from .review import ReviewRepository
from .sqlite import Database, DatabaseError
from .suspects import SuspectRepository

APP_ID = "labelfix"
PROJECT_SUFFIX = ".labelfix"


class Store(
    DatasetRepository,
    PredictionRepository,
    AnalysisRepository,
    SuspectRepository,
    ReviewRepository,
    MaskRepository,
    MetaRepository,
):
    """An open LabelFix project: the operations of every repository on one connection."""

    def __init__(self, path: Path, db: Database, readonly: bool) -> None:
        self.path = path
        self._db = db
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
        db = Database.connect(path)
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
            probe = Database.connect(path, readonly=True)
            tables = set(probe.table_names())
            probe.close()
        except DatabaseError as exc:
            raise ProjectError(f"{path} is not a LabelFix project ({exc})") from exc
        if "_migrations" not in tables or "meta" not in tables:
            raise ProjectError(f"{path} is not a LabelFix project (no LabelFix tables in it)")
        db = Database.connect(path, readonly=readonly)
        try:
            if readonly:
                migrations.check_readable(db)
            else:
                migrations.migrate(db)
        except migrations.SchemaTooNewError as exc:
            db.close()
            raise ProjectError(f"{path}: {exc}") from exc
        store = cls(path, db, readonly=readonly)
        if store.get_meta("app") != APP_ID:
            db.close()
            raise ProjectError(f"{path} is not a LabelFix project")
        return store

    def reader(self) -> Store:
        """A separate read-only connection to the same project, for a worker thread."""
        return Store.open(self.path, readonly=True)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Store]:
        """One transaction (a savepoint when nested); committed durably on exit."""
        with self._db.atomic():
            yield self

    # ------------------------------------------------------------------ whole project
    def counts(self) -> dict[str, int]:
        """Numbers of images, categories, labels, prediction sets, predictions and log entries."""
        q = self._db.scalar
        return {
            "images": q("SELECT COUNT(*) FROM images"),
            "categories": q("SELECT COUNT(*) FROM categories"),
            "labels": q("SELECT COUNT(*) FROM annotations"),
            "prediction_sets": q("SELECT COUNT(*) FROM prediction_sets"),
            "predictions": q("SELECT COALESCE(SUM(count), 0) FROM prediction_sets"),
            "changes": q("SELECT COUNT(*) FROM change_log"),
        }

    def schema_version(self) -> int:
        """The project file's schema version."""
        return migrations.schema_version(self._db)

    def integrity_ok(self) -> bool:
        """True if the file passes SQLite's integrity check."""
        return self._db.integrity_ok()
