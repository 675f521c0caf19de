"""The SQLite side of the store: the connection, its pragmas and every dialect difference.

The repositories (``dataset``, ``predictions``, ``review``, ``analyses``, ``masks``) write plain
SQL with ``?`` placeholders and ask this class for everything a second backend (PostgreSQL with
psycopg 3, issue 17) would do differently: upserts, inserted ids, bulk inserts of many rows,
blobs, scan hints. Pragmas (WAL, ``synchronous=FULL``, foreign keys) live here too; the SQLite
schema (``AUTOINCREMENT``, ``WITHOUT ROWID``, triggers) lives in :mod:`.migrations`.
A PostgreSQL backend provides a class with these methods and its own migrations; no caller
of the store changes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

# The smallest SQLite parameter limit (999): bulk statements stay below it.
MAX_PARAMS = 999
_CHUNK = 20_000  # rows per fetch: no single call holds the GIL for long (UI threads)

MMAP_BYTES = 256 << 20
"""How much of a project file reads map instead of copying page by page (``PRAGMA
mmap_size``): the analysis's inputs (labels, prediction columns) are read through it, 0.14 ->
~0.08 s at 500k predictions. Bounded, so a 10M-label file's reads add at most this much to the
resident memory (mapped pages of the file, shared and dropped first)."""

DatabaseError = sqlite3.DatabaseError
"""What the database raises for a file that is not a database, is damaged, or is locked."""


class Database:
    """One connection to a project file, with LabelFix's pragmas (autocommit between
    :meth:`atomic` blocks)."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # no plugins: none is LabelFix's, and finding them (entry points) took 10-35 ms of
        # every process's first connection
        self._db = sqlite_utils.Database(conn, execute_plugins=False)
        self._checkpoint: threading.Thread | None = None

    @classmethod
    def connect(cls, path: str | Path, *, readonly: bool = False, new: bool = False) -> Database:
        """Open a connection: WAL, FULL sync and a 64 MiB cache when writable; reads through
        a map of the file's first :data:`MMAP_BYTES` (but for ``new``); foreign keys on.

        ``new``: a project being built under a temporary name (renamed when complete, deleted
        on failure): its rollback journal is kept in memory and nothing is synced until the
        caller syncs the finished file once; the WAL starts when the project is next opened.
        (Building it through the WAL wrote every byte twice and synced at each commit.)"""
        if readonly:
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30
            )
        else:
            conn = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA journal_mode=MEMORY" if new else "PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF" if new else "PRAGMA synchronous=FULL")
            conn.execute(
                "PRAGMA cache_size=-65536"
            )  # 64 MiB: bulk inserts of suspects stay in cache
        # a project being built holds what the import checked (every label's image and
        # category known, with messages naming the record): SQLite's check of each row's
        # references (two lookups per label) would only repeat it; on when the project opens
        conn.execute("PRAGMA foreign_keys=OFF" if new else "PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        if not new:  # a project being built only writes
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        return cls(conn)

    # ------------------------------------------------------------------ connection
    def close(self) -> None:
        """Close the connection (after a checkpoint :meth:`checkpoint_after` started)."""
        self.wait_for_checkpoint()
        self._conn.close()

    @contextlib.contextmanager
    def checkpoint_after(self) -> Iterator[None]:
        """Commits inside the block leave their pages in the WAL (no automatic checkpoint at
        the commit); afterwards a thread copies them into the file with a PASSIVE checkpoint
        on a connection of its own, while this one goes on (SQLite works without the GIL);
        :meth:`close` waits for it. A full analysis's commit of ~40 MB spent about half its
        ~0.2 s in that checkpoint, which now overlaps the suspect cache's building."""
        path = self._conn.execute("PRAGMA database_list").fetchone()[2]
        if not path or self._conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            yield
            return
        self.wait_for_checkpoint()
        every = self._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        try:
            yield
        finally:
            self._conn.execute(f"PRAGMA wal_autocheckpoint={int(every)}")
        self._checkpoint = threading.Thread(
            target=_checkpoint, args=(path,), name="labelfix-checkpoint", daemon=True
        )
        self._checkpoint.start()

    def wait_for_checkpoint(self) -> None:
        """Wait for the checkpoint :meth:`checkpoint_after` started (if any)."""
        thread, self._checkpoint = self._checkpoint, None
        if thread is not None:
            thread.join()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction (a savepoint when nested); committed durably on exit."""
        with self._db.atomic():
            yield

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A transaction whose reads see one moment (SQLite: any transaction does)."""
        with self._db.atomic():
            yield

    def integrity_ok(self) -> bool:
        """True if the file passes SQLite's integrity check."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def table_names(self) -> list[str]:
        """The tables of the file."""
        return self._db.table_names()

    # ------------------------------------------------------------------ statements
    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Cursor:
        """Run one statement (``?`` placeholders)."""
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        self._conn.executemany(sql, rows)

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        """The first row of a query, or None."""
        return self._conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row of a query (None without rows)."""
        row = self._conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Every row of a query as tuples."""
        return self._conn.execute(sql, params).fetchall()

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        """Every row of a query as dicts keyed by column name."""
        return list(self._db.query(sql, params))

    def insert_id(self, sql: str, params: Sequence[Any], key: str = "id") -> int:
        """Run an INSERT and return the new row's ``key`` (its rowid; PostgreSQL:
        ``RETURNING key``)."""
        return int(self._conn.execute(sql, params).lastrowid)

    @property
    def in_transaction(self) -> bool:
        """True inside an :meth:`atomic` block."""
        return self._conn.in_transaction

    def lock_changes(self) -> None:
        """Nothing to do: SQLite serialises writers of the file itself (PostgreSQL takes a lock
        so that change-log order is commit order)."""

    @property
    def connected(self) -> bool:
        """A file is always there while open."""
        return True

    def listen(self) -> None:
        """No notifications from a file: change feeds poll (see :mod:`.team`)."""
        return None

    def number_columns(self, columns: Sequence[str], rest: str, params: Sequence[Any]) -> np.ndarray:
        """``SELECT columns rest`` as a float64 array (rows x columns, sorted by the first
        column; every value a non-null number), fetched in chunks."""
        cursor = self._conn.execute(
            f"SELECT {', '.join(columns)} {rest} ORDER BY {columns[0]}", params
        )
        parts = [np.zeros((0, len(columns)))]
        while chunk := cursor.fetchmany(_CHUNK):
            parts.append(np.asarray(chunk, dtype=np.float64))
        return np.concatenate(parts)

    # ------------------------------------------------------------------ dialect
    @staticmethod
    def marks(n: int) -> str:
        """``n`` comma-separated placeholders, for ``IN (...)`` lists."""
        return ",".join("?" * n)

    @staticmethod
    def scan(table: str) -> str:
        """A table read in rowid order rather than through an index (a SQLite hint)."""
        return f"{table} NOT INDEXED"

    @staticmethod
    def unindexed(column: str) -> str:
        """A column compared without its index (SQLite's ``+column``): the rows are scanned.
        The ``arrays`` table is read this way: it is WITHOUT ROWID, so its blobs (up to
        hundreds of MB) sit in its primary key's b-tree, and a seek through that key reads
        the whole blob of every row it compares against (0.5-2.5 s for one lookup at 10M
        labels); a scan of its few dozen rows reads only the blobs asked for."""
        return f"+{column}"

    @staticmethod
    def real(column: str) -> str:
        """A number column read as a float (SQLite's untyped columns need nothing)."""
        return column

    @staticmethod
    def epoch_now() -> str:
        """The current time in seconds since the epoch."""
        return "((julianday('now') - 2440587.5) * 86400.0)"

    @staticmethod
    def skip_locked(table: str) -> str:
        """Row locks for claims: SQLite has one writer at a time, so none are needed."""
        return ""

    def reset_ids(self, table: str) -> None:
        """Nothing to do: SQLite continues rowids (and AUTOINCREMENT) above loaded ids."""

    def copy_rows(self, table: str, names: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Bulk-load rows, in order, many rows per INSERT (up to :data:`MAX_PARAMS` values:
        fewer statement steps than one row each, 37k label rows ~25% faster); returns how
        many. Every row must have one value per name (ValueError otherwise)."""
        width = len(names)
        head = f"INSERT INTO {table} ({', '.join(names)}) VALUES "
        one = f"({self.marks(width)})"
        per = max(1, MAX_PARAMS // width)
        it = iter(rows)
        count, rest = 0, []

        def batches() -> Iterator[list]:
            nonlocal count
            while True:
                chunk = list(islice(it, per))
                count += len(chunk)
                if set(map(len, chunk)) - {width}:
                    raise ValueError(f"a row of {table} without one value per column {names}")
                if len(chunk) < per:
                    rest.extend(chunk)
                    return
                yield list(chain.from_iterable(chunk))

        self._conn.executemany(head + ",".join([one] * per), batches())
        if rest:
            self._conn.executemany(head + one, rest)
        return count

    def insert_select_values(
        self, table: str, names: Sequence[str], select: str, columns: Sequence[list]
    ) -> None:
        """Insert rows computed in SQL from equally long columns of values: ``INSERT INTO table
        (names) SELECT select FROM (VALUES ...)``, where ``select`` names the values
        ``column1``, ``column2``, ... (SQLite's names for a VALUES list's columns), many rows
        per statement. Values derived from others (a key, a kind's name, NULL for -1) are made
        by SQLite rather than bound as Python objects: binding was most of the cost of writing
        360k suspect rows. (SQLite only; it stores a bound NaN as NULL.)"""
        width, n = len(columns), len(columns[0]) if columns else 0
        if not n:
            return
        per_insert = MAX_PARAMS // width
        one = f"({self.marks(width)})"

        def statement(rows: int) -> str:
            return (
                f"INSERT INTO {table} ({', '.join(names)}) SELECT {select} "
                f"FROM (VALUES {','.join([one] * rows)})"
            )

        flat: list = [None] * (width * n)  # row-major parameters, interleaved in C
        for k, col in enumerate(columns):
            flat[k::width] = col
        step = per_insert * width
        full = (n - n % per_insert) * width
        if full:
            many = statement(per_insert)
            self._conn.executemany(many, (flat[s : s + step] for s in range(0, full, step)))
        if full < len(flat):
            self._conn.execute(statement(n % per_insert), flat[full:])

    def upsert(
        self, table: str, columns: Sequence[str], key: Sequence[str], rows: Iterable[Sequence]
    ) -> None:
        """Insert rows, replacing the values of rows that exist under the same ``key``."""
        names = ", ".join(columns)
        update = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key) or None
        action = f"DO UPDATE SET {update}" if update else "DO NOTHING"
        self._conn.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({self.marks(len(columns))}) "
            f"ON CONFLICT({', '.join(key)}) {action}",
            rows,
        )

    def insert_columns(self, table: str, names: Sequence[str], columns: Sequence[list]) -> None:
        """Insert rows given as equally long columns, in order, many rows per statement.

        Measured: 360k suspect rows insert in about half the time of one statement per row.
        """
        width, n = len(columns), len(columns[0]) if columns else 0
        if not n:
            return
        per_insert = MAX_PARAMS // width
        one = f"({self.marks(width)})"
        head = f"INSERT INTO {table} ({', '.join(names)}) VALUES "
        flat: list = [None] * (width * n)  # row-major parameters, interleaved in C
        for k, col in enumerate(columns):
            flat[k::width] = col
        step = per_insert * width
        full = (n - n % per_insert) * width
        many = head + ",".join([one] * per_insert)
        self._conn.executemany(many, (flat[s : s + step] for s in range(0, full, step)))
        rest = flat[full:]
        self._conn.executemany(
            head + one, (rest[s : s + width] for s in range(0, len(rest), width))
        )


def _checkpoint(path: str) -> None:
    """Copy the WAL's committed pages into the database file (best effort: a checkpoint that
    cannot run now is done by a later commit or the last close)."""
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()
