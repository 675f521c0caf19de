"""The two store backends for tests: a project file, and a team project on the PostgreSQL test
server that ``.ci/run`` (or ``tools/pg_server.sh``) starts.

``LABELFIX_TEST_PG_URL`` names the server (``postgresql://USER@HOST:PORT/DB``, the password in
``PGPASSWORD``). Without it, PostgreSQL tests skip; with ``LABELFIX_TEST_PG_REQUIRED=1`` (CI)
a missing or unreachable server fails them instead, so CI never passes by skipping.
"""

from __future__ import annotations

import functools
import os
import uuid
from pathlib import Path

import pytest

from labelfix.core.store import Store, TeamLocation

BACKENDS = ("sqlite", "postgresql")


def pg_required() -> bool:
    """True when the run promised a PostgreSQL server (CI)."""
    return os.environ.get("LABELFIX_TEST_PG_REQUIRED") == "1"


@functools.cache
def _server_problem() -> str | None:
    url = os.environ.get("LABELFIX_TEST_PG_URL")
    if not url:
        return "no PostgreSQL test server: set LABELFIX_TEST_PG_URL (tools/pg_server.sh)"
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - the reason is the message
        return f"PostgreSQL test server {url} unreachable: {exc}"
    return None


def pg_url() -> str:
    """The test server's URL; skips the test without one (fails it when one was promised)."""
    problem = _server_problem()
    if problem is not None:
        if pg_required():
            pytest.fail(problem)
        pytest.skip(problem)
    return os.environ["LABELFIX_TEST_PG_URL"]


def team_url(name: str | None = None) -> str:
    """A fresh team project's location on the test server (a unique name)."""
    return f"{pg_url()}?project={name or 't' + uuid.uuid4().hex[:12]}"


def drop(location: str) -> None:
    """Remove a team project from the test server (nothing for a file)."""
    if location.startswith("postgresql://"):
        Store.drop_team_project(TeamLocation.parse(location))


def location(backend: str, tmp_path: Path, name: str = "p") -> str:
    """Where a new project of this backend goes in a test."""
    return team_url() if backend == "postgresql" else str(tmp_path / f"{name}.labelfix")


def where(store: Store) -> str:
    """A store's location, to open it again."""
    return str(store.path) if store.team is None else store.team.url + (
        f"{'&' if '?' in store.team.url else '?'}project={store.team.project}"
    )
