"""Copy a whole project from one store to another, table by table (``labelfix push`` publishes
a project file as a team project, ``labelfix pull`` makes a local file of a team project).

Both stores have the same schema version (every table and column matches). Rows are streamed
from the source and bulk-loaded into the target (``COPY`` on PostgreSQL) in one transaction of
the target. What belongs to one machine stays behind: the image folder (a team project keeps
it in each reviewer's settings) and claims (they belong to one reviewer's session).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .base import ProjectError
from .project import Store
from .suspect_blobs import is_rows_owner

# parents before children (foreign keys); claims and _migrations are not copied
TABLES = (
    "meta",
    "images",
    "categories",
    "annotations",
    "prediction_sets",
    "prediction_shapes",
    "analyses",
    "arrays",
    "match_updates",
    "suspects",
    "suspect_support",
    "decisions",
    "mask_cache",
    "change_log",
)
LOCAL_META = ("images_root",)  # meta keys that describe one machine, not the project
Progress = Callable[[int, int], None]


def copy_project(source: Store, target: Store, progress: Progress | None = None) -> dict[str, int]:
    """Copy every table of ``source`` into the empty ``target``; returns rows per table."""
    if source.schema_version() != target.schema_version():
        raise ProjectError(
            f"{source.location} (schema {source.schema_version()}) and {target.location} "
            f"(schema {target.schema_version()}) differ; open both with this LabelFix first"
        )
    counts: dict[str, int] = {}
    # a team project keeps suspects as rows: those a file stores as columns are copied as rows
    as_columns = source._db.dialect == "sqlite" and target._db.dialect != "sqlite"
    # a team project's tables are read in one snapshot: an edit committed during the copy is
    # in none of them, not in its decisions and change log without the labels they name
    moment = source.snapshot() if source._db.dialect != "sqlite" else _nothing()
    with target.atomic(), moment, source.suspect_rows_view() if as_columns else _nothing():
        target._db.execute("DELETE FROM meta")  # the new project's own stamp: the source's wins
        for done, table in enumerate(TABLES):
            columns = _columns(source, table)
            rows = source._db.execute(f"SELECT {', '.join(columns)} FROM {table}")
            if table == "meta":
                rows = (r for r in rows if r[0] not in LOCAL_META)
            elif table == "arrays" and as_columns:
                rows = (r for r in rows if not is_rows_owner(r[columns.index("owner")]))
            elif table == "analyses" and as_columns:
                end = columns.index("suspect_ids_end")
                rows = (tuple(None if i == end else v for i, v in enumerate(r)) for r in rows)
            counts[table] = target._db.copy_rows(table, columns, _stream(rows))
            target._db.reset_ids(table)
            if progress is not None:
                progress(done + 1, len(TABLES))
    return counts


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _columns(store: Store, table: str) -> list[str]:
    cursor = store._db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in cursor.description]


def _stream(rows: object) -> Iterator[tuple]:
    yield from rows  # type: ignore[misc]
