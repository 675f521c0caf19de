"""The PostgreSQL side of the store (psycopg 3): a team project's connection, with the same
methods as :class:`.sqlite.Database`, so the repositories run unchanged on either.

Dialect differences handled here: ``?`` placeholders become ``%s``; inserted ids come back with
``RETURNING``; bulk inserts are ``COPY``; numbers keep the integer-or-float they were given
(the label geometry columns are ``numeric``: ``50`` stays ``50``, ``50.0`` stays ``50.0``);
blobs are ``bytea``; a scan hint is nothing. Each project is one schema (``labelfix_<name>``)
selected with ``search_path``.

Faults: no psycopg type leaves this module. A connection that breaks surfaces as
:class:`~.base.ConnectionLost` (a write is never reported done unless its commit returned); a
read outside a transaction is retried on a fresh connection for a few seconds first. Other
server errors are :class:`~.base.ServerError`.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg import sql as pgsql
from psycopg.adapt import Dumper, Loader
from psycopg.rows import dict_row

from .base import ConnectionLost, ServerError
from .location import TeamLocation, redact

T = TypeVar("T")
READ_RETRY_DELAYS = (0.25, 0.5, 1.0, 1.5)  # seconds between attempts of an idempotent read
_READ = re.compile(r"^\s*(SELECT|WITH)\b(?!.*\bFOR\s+UPDATE\b)(?!.*\b(INSERT|UPDATE|DELETE)\b)",
                   re.IGNORECASE | re.DOTALL)  # fmt: skip
# libpq parameters LabelFix sets unless the URL does: notice a vanished server within ~30 s
DEFAULT_PARAMS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "application_name": "labelfix",
}


class _FloatAsNumeric(Dumper):
    """Python floats as ``numeric`` text (``repr``), so ``50.0`` keeps its decimal point in a
    ``numeric`` column; float8 columns take the value through an implicit cast."""

    oid = psycopg.postgres.types["numeric"].oid

    def dump(self, obj: float) -> bytes:
        if math.isnan(obj):
            return b"NaN"
        if math.isinf(obj):
            return b"Infinity" if obj > 0 else b"-Infinity"
        return repr(obj).encode()


class _NumberLoader(Loader):
    """``numeric`` values as int (no decimal point) or float: what JSON gave the project."""

    def load(self, data: Any) -> int | float:
        text = bytes(data)
        if b"." in text or b"e" in text or b"N" in text or b"I" in text:
            return float(text)
        return int(text)


def _convert(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _is_read(sql: str) -> bool:
    return bool(_READ.match(sql))


class PgDatabase:
    """One connection to a team project (autocommit between :meth:`atomic` blocks)."""

    dialect = "postgresql"

    def __init__(self, location: TeamLocation, *, readonly: bool = False) -> None:
        self.location = location
        self.readonly = readonly
        self._conn: psycopg.Connection | None = None
        self._depth = 0  # open atomic() blocks
        self._locked = False  # the project's change lock is held by the open transaction
        self._converted: dict[str, str] = {}
        self._types: dict[str, dict[str, str]] = {}
        self._connect()

    @classmethod
    def connect(cls, location: TeamLocation, *, readonly: bool = False) -> PgDatabase:
        """Open a connection to the server of ``location`` with the project's schema selected."""
        return cls(location, readonly=readonly)

    # ------------------------------------------------------------------ connection
    def _connect(self) -> None:
        try:
            conn = psycopg.connect(self.location.url, autocommit=True, **_params(self.location))
        except psycopg.Error as exc:
            raise ConnectionLost(
                f"cannot reach the team project server {self.location.display()}: {_message(exc)}",
                in_doubt=False,
            ) from None
        conn.adapters.register_dumper(float, _FloatAsNumeric)
        conn.adapters.register_loader("numeric", _NumberLoader)
        try:
            conn.execute(
                pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.location.schema))
            )
            if self.readonly:
                conn.execute("SET default_transaction_read_only = on")
        except psycopg.Error as exc:
            conn.close()
            raise ConnectionLost(f"{self.location.display()}: {_message(exc)}") from None
        self._conn = conn

    def _live(self) -> psycopg.Connection:
        """The connection, reconnecting when it broke outside a transaction."""
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if self._depth:
            raise ConnectionLost(
                f"lost the connection to {self.location.display()} in a transaction; "
                "the change was not saved"
            )
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
        self._conn = None
        self._connect()
        assert self._conn is not None
        return self._conn

    @property
    def connected(self) -> bool:
        """True while the connection is open and not known to be broken."""
        return self._conn is not None and not self._conn.closed and not self._conn.broken

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()

    def _run(self, sql: str, call: Callable[[psycopg.Connection], T]) -> T:
        """Run ``call`` on the live connection with LabelFix's fault rules (see the module)."""
        retry = self._depth == 0 and _is_read(sql)
        delays = iter(READ_RETRY_DELAYS if retry else ())
        while True:
            try:
                return call(self._live())
            except ConnectionLost:
                if not retry:
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                time.sleep(delay)
            except psycopg.Error as exc:
                if not self._is_lost(exc):
                    raise ServerError(
                        f"{self.location.display()}: {_message(exc)}", sqlstate=exc.sqlstate
                    ) from None
                delay = next(delays, None)
                if delay is None:
                    write = self._depth == 0 and not _is_read(sql)
                    raise ConnectionLost(
                        f"lost the connection to {self.location.display()} "
                        f"({_message(exc)}); "
                        + ("the server did not come back" if retry else "the change was not saved"),
                        in_doubt=write,  # one statement outside a transaction may have landed
                    ) from None
                time.sleep(delay)

    def _is_lost(self, exc: psycopg.Error) -> bool:
        conn = self._conn
        lost = conn is None or conn.closed or conn.broken
        return lost or (exc.sqlstate or "").startswith(("08", "57P"))

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction (a savepoint when nested); committed on exit. If the connection
        breaks, even during the commit, :class:`ConnectionLost` is raised: the caller must
        treat the change as not saved (``in_doubt`` says the commit itself may have landed)."""
        outer = self._depth == 0
        conn = self._live() if outer else self._conn
        assert conn is not None
        committing = False
        try:
            with conn.transaction():
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                    if outer:
                        self._locked = False
                committing = outer
        except psycopg.Error as exc:
            if self._is_lost(exc):
                raise ConnectionLost(
                    f"lost the connection to {self.location.display()} "
                    f"({_message(exc)}); the change was not saved",
                    in_doubt=committing,
                ) from None
            raise ServerError(
                f"{self.location.display()}: {_message(exc)}", sqlstate=exc.sqlstate
            ) from None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A transaction whose reads see one moment (repeatable read); nested: a savepoint."""
        outer = self._depth == 0
        with self.atomic():
            if outer:
                self.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield

    # ------------------------------------------------------------------ projects (schemas)
    def project_exists(self, schema: str | None = None) -> bool:
        """True if the project's schema (or ``schema``) exists on the server."""
        return bool(
            self.scalar(
                "SELECT 1 FROM pg_namespace WHERE nspname = ?", [schema or self.location.schema]
            )
        )

    def create_project(self, *, overwrite: bool = False) -> None:
        """Create the project's (empty) schema; an existing one is an error unless
        ``overwrite``, which drops it first (in the same transaction)."""
        from .base import ProjectError

        schema = pgsql.Identifier(self.location.schema)
        with self.atomic():
            self.lock_changes()
            if self.project_exists():
                if not overwrite:
                    raise ProjectError(
                        f"{self.location.display()}: team project {self.location.project!r} "
                        "already exists; choose another name or pass --overwrite"
                    )
                self.execute(pgsql.SQL("DROP SCHEMA {} CASCADE").format(schema).as_string())
            self.execute(pgsql.SQL("CREATE SCHEMA {}").format(schema).as_string())
        self._types.clear()

    def drop_project(self) -> None:
        """Delete the project's schema and everything in it."""
        schema = pgsql.Identifier(self.location.schema)
        self.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema).as_string())

    def rename_project(self, project: str, *, overwrite: bool = False) -> None:
        """Give the project another name (one transaction; an existing project of that name
        is replaced only with ``overwrite``). This connection is closed afterwards."""
        from .base import ProjectError

        target = self.location.with_project(project)
        with self.atomic():
            if self.project_exists(target.schema):
                if not overwrite:
                    raise ProjectError(
                        f"{target.display()}: team project {project!r} already exists; "
                        "choose another name or pass --overwrite"
                    )
                self.execute(
                    pgsql.SQL("DROP SCHEMA {} CASCADE")
                    .format(pgsql.Identifier(target.schema))
                    .as_string()
                )
            self.execute(
                pgsql.SQL("ALTER SCHEMA {} RENAME TO {}")
                .format(pgsql.Identifier(self.location.schema), pgsql.Identifier(target.schema))
                .as_string()
            )
        self.close()

    def list_projects(self) -> list[str]:
        """The names of the team projects on this server's database."""
        from .location import SCHEMA_PREFIX

        names = self.rows(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'labelfix\\_%' ORDER BY nspname"
        )
        return [n[0][len(SCHEMA_PREFIX) :] for n in names if not n[0].endswith("__partial")]

    @property
    def in_transaction(self) -> bool:
        """True inside an :meth:`atomic` block."""
        return self._depth > 0

    def lock_changes(self) -> None:
        """Take the project's change lock until the transaction ends: change-log entries are
        then numbered in commit order (a poller of ``seq`` never skips one) and a
        read-then-write of labels, decisions or meta counters cannot interleave with another's."""
        if self._depth and not self._locked:
            self.execute(
                "SELECT pg_advisory_xact_lock(hashtext('labelfix'), hashtext(current_schema()))"
            )
            self._locked = True

    def integrity_ok(self) -> bool:
        """True if the server answers (PostgreSQL checks its own pages)."""
        return self.scalar("SELECT 1") == 1

    def table_names(self) -> list[str]:
        """The tables of the project's schema."""
        return [
            r[0]
            for r in self.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                [self.location.schema],
            )
        ]

    # ------------------------------------------------------------------ statements
    def _sql(self, sql: str) -> str:
        out = self._converted.get(sql)
        if out is None:
            out = self._converted[sql] = _convert(sql)
        return out

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> psycopg.Cursor:
        """Run one statement (``?`` placeholders); the rows are fetched into memory."""
        if not params:  # no placeholders: the text goes as written (scripts, literal '%')
            return self._run(sql, lambda c: c.execute(sql))
        converted = self._sql(sql)
        return self._run(sql, lambda c: c.execute(converted, params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row (pipelined)."""
        batch = list(rows)
        if not batch:
            return
        converted = self._sql(sql)
        self._run(sql, lambda c: c.cursor().executemany(converted, batch))

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        """The first row of a query, or None."""
        return self.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row of a query (None without rows)."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Every row of a query as tuples."""
        return self.execute(sql, params).fetchall()

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        """Every row of a query as dicts keyed by column name."""
        converted = self._sql(sql) if params else sql

        def call(c: psycopg.Connection) -> list[dict]:
            with c.cursor(row_factory=dict_row) as cur:
                return cur.execute(converted, params or None).fetchall()

        return self._run(sql, call)

    def insert_id(self, sql: str, params: Sequence[Any], key: str = "id") -> int:
        """Run an INSERT and return the new row's ``key`` column."""
        return int(self.execute(f"{sql} RETURNING {key}", params).fetchone()[0])

    def number_columns(self, columns: Sequence[str], rest: str, params: Sequence[Any]) -> np.ndarray:
        """``SELECT columns rest`` as a float64 array (rows x columns, sorted by the first
        column; every value a non-null number). The server packs each column into one bytea
        of big-endian doubles, so no Python object is made per value (500k suspects x 11
        columns: ~0.9 s instead of ~2.5 s)."""
        packed = ", ".join(f"string_agg(float8send(({c})::float8), ''::bytea)" for c in columns)
        query = self._sql(f"SELECT {packed} {rest}")

        def call(c: psycopg.Connection) -> tuple:
            return c.execute(query, params or None, binary=True).fetchone()

        row = self._run("SELECT", call)  # a read: retried like the others
        if row is None or row[0] is None:
            return np.zeros((0, len(columns)))
        data = np.column_stack([np.frombuffer(b, dtype=">f8") for b in row]).astype(np.float64)
        return data[np.argsort(data[:, 0], kind="stable")]  # aggregated in any order

    # ------------------------------------------------------------------ dialect
    @staticmethod
    def marks(n: int) -> str:
        """``n`` comma-separated placeholders, for ``IN (...)`` lists."""
        return ",".join("?" * n)

    @staticmethod
    def scan(table: str) -> str:
        """A table read in its physical order (no hint needed on PostgreSQL)."""
        return table

    @staticmethod
    def unindexed(column: str) -> str:
        """A column compared as it is (the SQLite hint against its index is not needed)."""
        return column

    @staticmethod
    def real(column: str) -> str:
        """A numeric column read as a float (numeric -> float8: no Python-level conversion)."""
        return f"{column}::float8"

    @staticmethod
    def epoch_now() -> str:
        """The server's current time in seconds since the epoch (one clock for every client)."""
        return "EXTRACT(EPOCH FROM clock_timestamp())::float8"

    @staticmethod
    def skip_locked(table: str) -> str:
        """Lock the rows a claim picks, skipping those another claim holds right now."""
        return f" FOR UPDATE OF {table} SKIP LOCKED"

    def upsert(
        self, table: str, columns: Sequence[str], key: Sequence[str], rows: Iterable[Sequence]
    ) -> None:
        """Insert rows, replacing the values of rows that exist under the same ``key``."""
        names = ", ".join(columns)
        update = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key) or None
        action = f"DO UPDATE SET {update}" if update else "DO NOTHING"
        self.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({self.marks(len(columns))}) "
            f"ON CONFLICT({', '.join(key)}) {action}",
            rows,
        )

    def insert_columns(self, table: str, names: Sequence[str], columns: Sequence[list]) -> None:
        """Insert rows given as equally long columns, with one COPY."""
        if not columns or not len(columns[0]):
            return
        self.copy_rows(table, names, zip(*columns, strict=True))

    def copy_rows(self, table: str, names: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Bulk-load rows with COPY (binary where every column's type is a plain one);
        returns how many."""
        types = self._column_types(table)
        wanted = [types[n] for n in names]
        binary = "numeric" not in wanted
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN{}").format(
            pgsql.Identifier(table),
            pgsql.SQL(", ").join(pgsql.Identifier(n) for n in names),
            pgsql.SQL(" (FORMAT BINARY)" if binary else ""),
        )

        def call(c: psycopg.Connection) -> int:
            n = 0
            with c.cursor() as cur, cur.copy(statement) as copy:
                if binary:
                    copy.set_types(wanted)
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n

        return self._run("COPY", call)

    def reset_ids(self, table: str) -> None:
        """After rows were loaded with their ids: the table's identity columns continue
        above the largest id."""
        qualified = f'"{self.location.schema}"."{table}"'
        for (column,) in self.rows(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) "
            "AND attnum > 0 AND attidentity <> ''",
            [qualified],
        ):
            self.execute(
                f"SELECT setval(pg_get_serial_sequence(?, ?), "
                f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)",
                [qualified, column],
            )

    def _column_types(self, table: str) -> dict[str, str]:
        if table not in self._types:
            self._types[table] = dict(
                self.rows(
                    "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                    "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped",
                    [f'"{self.location.schema}"."{table}"'],
                )
            )
            self._types[table] = {
                k: {"double precision": "float8", "bigint": "int8", "integer": "int4"}.get(v, v)
                for k, v in self._types[table].items()
            }
        return self._types[table]

    # ------------------------------------------------------------------ notifications
    def listen(self) -> Listener:
        """A connection of its own that waits for the project's change notifications."""
        return Listener(self.location)


class Listener:
    """LISTEN on a team project's channel (its schema name) on a dedicated connection; the
    change log's trigger notifies it at every commit that adds entries."""

    def __init__(self, location: TeamLocation) -> None:
        self.location = location
        self._conn: psycopg.Connection | None = None
        self._start()

    def _start(self) -> None:
        try:
            conn = psycopg.connect(self.location.url, autocommit=True, **_params(self.location))
            conn.execute(pgsql.SQL("LISTEN {}").format(pgsql.Identifier(self.location.schema)))
        except psycopg.Error as exc:
            raise ConnectionLost(f"{self.location.display()}: {_message(exc)}") from None
        self._conn = conn

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notification; True if one came. A broken
        connection is reopened (raising :class:`ConnectionLost` while the server is away)."""
        try:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._start()
                return True  # changes may have been missed meanwhile: look
            assert self._conn is not None
            got = False
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                got = True
            return got
        except psycopg.Error as exc:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
            self._conn = None
            raise ConnectionLost(
                f"lost the change feed of {self.location.display()} ({_message(exc)})"
            ) from None

    def close(self) -> None:
        """Stop listening."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()


def _params(location: TeamLocation) -> dict[str, str]:
    """LabelFix's default libpq parameters that the URL does not set itself."""
    return {k: v for k, v in DEFAULT_PARAMS.items() if f"{k}=" not in location.url}


def _message(exc: BaseException) -> str:
    """A psycopg error as one line, without any password a URL in it may carry."""
    text = str(exc).strip().splitlines()
    return redact(text[0] if text else type(exc).__name__)
