"""The project store: the only part of LabelFix that knows the schema and speaks SQL.

Callers ask :class:`Store` for operations; nobody else writes SQL (``tests/test_layers.py``
checks it). The store is one class made of small repositories, each owning a few tables:

- ``dataset``: images, categories, labels;  ``predictions``: prediction sets and numpy columns;
- ``analyses``: analyses, matches, suspects (and the analysis's write steps);
- ``suspects``: suspects read as numpy columns, and their cache;
- ``review``: decisions and the change log;  ``masks``: the mask cache;  ``meta``: key/values.

``sqlite`` holds the connection and every SQLite-specific detail (pragmas, upserts, bulk
inserts, inserted ids, scan hints), ``migrations`` the SQLite schema, ``records`` the row <-> dict
codecs. The second backend, a team project on PostgreSQL, is ``postgres`` (the connection, with
the same methods) and ``pg_migrations`` (its schema); ``location`` tells the two apart,
``team`` adds claims, the change feed and the lead's queries, ``transfer`` copies a project
between backends (``labelfix push`` / ``pull``).
"""

from __future__ import annotations

from .base import (
    ConflictError,
    ConnectionLost,
    ProjectError,
    ReadOnlyError,
    ServerError,
    made_of,
    now,
    readable_time,
)
from .location import TeamLocation, is_team_location, parse_location
from .project import APP_ID, PROJECT_SUFFIX, Store
from .records import ann_to_record, annotation_from_row, label_from_record
from .sqlite import DatabaseError
from .team import ChangeFeed

__all__ = [
    "APP_ID",
    "ChangeFeed",
    "ConflictError",
    "ConnectionLost",
    "DatabaseError",
    "ServerError",
    "TeamLocation",
    "is_team_location",
    "parse_location",
    "PROJECT_SUFFIX",
    "ProjectError",
    "ReadOnlyError",
    "made_of",
    "Store",
    "ann_to_record",
    "annotation_from_row",
    "label_from_record",
    "now",
    "readable_time",
]
