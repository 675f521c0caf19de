"""The LabelFix project: one SQLite file (``.labelfix``), or a team project on a PostgreSQL
server, holding a COCO dataset, prediction sets, the analysis results, review decisions and an
append-only change log.

One :class:`Store` is the one writer connection of a process. A file runs in WAL mode with
``synchronous=FULL``, so a committed edit survives a crash or power cut; readers in worker
threads open their own connections with :meth:`Store.reader`. A team project is a schema of
its own on the server (:mod:`.postgres`); every operation below works the same on both.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from .. import settings
from . import migrations
from .analyses import AnalysisRepository
from .base import ProjectError, made_of, now
from .dataset import DatasetRepository
from .location import TeamLocation, parse_location
from .masks import MaskRepository
from .meta import MetaRepository
from .predictions import PredictionRepository
from .read_only import ReadOnlyDatabase
from .review import ReviewRepository
from .runs import PredictionRunRepository
from .sqlite import Database, DatabaseError
from .suspect_blobs import SuspectBlobRepository
from .suspects import SuspectRepository
from .team import TeamRepository

APP_ID = "labelfix"
PROJECT_SUFFIX = ".labelfix"
BUILT_PAGE_SIZE = 65_536
"""SQLite's page size of a project file built by an import (SQLite's largest): most of such a
file is large blobs (the prediction columns, the RLE counts: 170 MB at 500,000 masks), which
SQLite copies page by page; 64 KiB pages write them in half the time of 4 KiB ones (0.3 s less
at 500,000 masks). Only an import that holds its files whole uses them: built chunk by
chunk (``core.coco_stream``), a file with large pages made the import's peak memory grow with
the dataset (1M labels: 0.71 -> 0.96 GB; 10M: 1.9 -> 3.1 GB), so it keeps 4 KiB. A file keeps
the page size it was made with: older projects stay at 4 KiB and read and write as before."""


class Store(
    DatasetRepository,
    PredictionRepository,
    PredictionRunRepository,
    AnalysisRepository,
    SuspectRepository,
    SuspectBlobRepository,
    ReviewRepository,
    TeamRepository,
    MaskRepository,
    MetaRepository,
):
    """An open LabelFix project: the operations of every repository on one connection.

    ``path`` is the project file (None for a team project); ``location`` says where the
    project is in words a person can read (a team project's URL without any password);
    ``reviewer`` is who the change log names for this connection's decisions and edits."""

    def __init__(
        self,
        db: Database,
        readonly: bool,
        *,
        path: Path | None = None,
        team: TeamLocation | None = None,
        reviewer: str | None = None,
        session: str | None = None,
    ) -> None:
        self.path = path
        self.team = team
        self.location = str(path) if team is None else team.display()
        self._db = db
        self.readonly = readonly
        self.readonly_reason: str | None = None  # why it is read-only, for ReadOnlyError
        self.reviewer = settings.reviewer_name(reviewer)
        # who "this store" is for claims and undo: one open window, or one CLI user on a machine
        self.session = session or uuid.uuid4().hex

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(
        cls,
        location: str | Path | TeamLocation,
        *,
        overwrite: bool = False,
        building: bool = False,
        page_size: int | None = None,
    ) -> Store:
        """Create a new, empty project (refuses to replace one unless ``overwrite``): a file,
        or a team project (a schema on the server) for a ``postgresql://`` location.
        ``building``: a file built under a temporary name and renamed when complete (see
        ``Database.connect(new=True)``; the caller syncs the file before the rename).
        ``page_size``: a file's SQLite page size (None: SQLite's 4 KiB; see
        :data:`BUILT_PAGE_SIZE`)."""
        where = parse_location(location)
        if isinstance(where, TeamLocation):
            return cls._create_team(where, overwrite)
        path = where
        if path.exists():
            if not overwrite:
                raise ProjectError(
                    f"{path} already exists; choose another name or pass --overwrite"
                )
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = Database.connect(path, new=building)
        if page_size is not None:  # before the first table (a file keeps the size it has)
            db.execute(f"PRAGMA page_size={int(page_size)}")
        migrations.migrate(db)
        store = cls(db, False, path=path)
        store._stamp()
        return store

    def _stamp(self) -> None:
        with self.atomic():
            self.set_meta("app", APP_ID)
            self.set_meta("created_at", now())
            self.set_meta("edits_since_export", 0)

    @classmethod
    def _create_team(cls, team: TeamLocation, overwrite: bool) -> Store:
        from .postgres import PgDatabase

        db = PgDatabase.connect(team)
        try:
            db.create_project(overwrite=overwrite)
            migrations.migrate(db)
        except BaseException:
            db.close()
            raise
        store = cls(db, False, team=team)
        store._stamp()
        return store

    @classmethod
    def open(
        cls,
        location: str | Path | TeamLocation,
        *,
        readonly: bool = False,
        reviewer: str | None = None,
        session: str | None = None,
    ) -> Store:
        """Open an existing project (a file, or a team project by its ``postgresql://``
        location), migrating it to the current schema when writable. ``reviewer`` names who
        the change log credits (default: :func:`settings.reviewer_name`); ``session`` who owns
        this store's claims and undo (default: a new one)."""
        where = parse_location(location)
        if isinstance(where, TeamLocation):
            return cls._open_team(where, readonly, reviewer, session)
        path = where
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
            if Path(path).suffix.lower() == ".json":
                raise ProjectError(f"{path} is not a LabelFix project; {made_of(path)}") from exc
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
        store = cls(db, readonly, path=path, reviewer=reviewer, session=session)
        if readonly:  # a refused write says which project and why, never SQLite's words
            store._db = ReadOnlyDatabase(db, store.readonly_sentence)
        if store.get_meta("app") != APP_ID:
            db.close()
            raise ProjectError(f"{path} is not a LabelFix project")
        return store

    @classmethod
    def _open_team(
        cls, team: TeamLocation, readonly: bool, reviewer: str | None, session: str | None
    ) -> Store:
        from .postgres import PgDatabase

        db = PgDatabase.connect(team, readonly=readonly)
        try:
            if not db.project_exists():
                raise ProjectError(
                    f"{team.display()}: there is no team project {team.project!r} on this "
                    "server; publish one with `labelfix push X.labelfix URL --project NAME`"
                )
            if readonly:
                migrations.check_readable(db)
            else:
                migrations.migrate(db)
            store = cls(db, readonly, team=team, reviewer=reviewer, session=session)
            if store.get_meta("app") != APP_ID:
                raise ProjectError(f"{team.display()} is not a LabelFix project")
        except migrations.SchemaTooNewError as exc:
            db.close()
            raise ProjectError(f"{team.display()}: {exc}") from exc
        except BaseException:
            db.close()
            raise
        return store

    # ------------------------------------------------------------------ team projects
    @staticmethod
    def team_project_exists(team: TeamLocation) -> bool:
        """True if the server has the team project."""
        from .postgres import PgDatabase

        with contextlib.closing(PgDatabase.connect(team, readonly=True)) as db:
            return db.project_exists()

    @staticmethod
    def drop_team_project(team: TeamLocation) -> None:
        """Delete a team project and everything in it from the server."""
        from .postgres import PgDatabase

        with contextlib.closing(PgDatabase.connect(team)) as db:
            db.drop_project()

    @staticmethod
    def team_projects(server: TeamLocation) -> list[str]:
        """The names of the team projects in the server's database."""
        from .postgres import PgDatabase

        with contextlib.closing(PgDatabase.connect(server, readonly=True)) as db:
            return db.list_projects()

    def publish_as(self, project: str, *, overwrite: bool = False) -> None:
        """Rename this (new) team project to ``project`` in one transaction, replacing one of
        that name only with ``overwrite``; the store is closed afterwards."""
        assert self.team is not None, "only a team project is published by renaming"
        self._db.rename_project(project, overwrite=overwrite)

    def reader(self) -> Store:
        """A separate read-only connection to the same project, for a worker thread."""
        target = self.team if self.team is not None else self.path
        assert target is not None
        return Store.open(target, readonly=True, reviewer=self.reviewer)

    @property
    def is_team(self) -> bool:
        """True for a team project (PostgreSQL), False for a project file."""
        return self.team is not None

    @property
    def connected(self) -> bool:
        """False once a team project's connection is known to be broken (the next call
        reconnects); always True for a file."""
        return self._db.connected

    def close(self) -> None:
        """Close the connection, and let go of what the last analysis's writer kept."""
        self.take_written_suspects_close()
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def readonly_sentence(self) -> str:
        """What a write to this read-only project is told: ``X is open read-only (why):
        nothing was changed.``"""
        name = self.path.name if self.path is not None else self.location
        why = f" ({self.readonly_reason})" if self.readonly_reason else ""
        return f"{name} is open read-only{why}: nothing was changed."

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
        """True if the file passes SQLite's integrity check (a server: if it answers)."""
        return self._db.integrity_ok()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Store]:
        """A transaction whose reads all see one moment of the project (PostgreSQL:
        repeatable read; nested in another transaction: that one's view)."""
        with self._db.snapshot():
            yield self

    def lock_changes(self) -> None:
        """Serialise this transaction's label, decision and analysis writes with every other
        writer of the project until it ends (a no-op on a file, whose writers SQLite already
        serialises). Edits take it first, so a read-then-write cannot interleave and the
        change log is numbered in commit order."""
        self._db.lock_changes()
