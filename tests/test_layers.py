"""The seams hold: no SQL outside the store, and the import-linter contracts are kept."""

from __future__ import annotations

import re
import subprocess
import sys

from helpers import ROOT

# an SQL statement in a string: an upper-case keyword followed by what only SQL puts after it
SQL = re.compile(
    r"""["'f](?:[^"'\n]*\s)?(?:SELECT\s+[\w*(]|INSERT\s+(?:OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|"""
    r"""DELETE\s+FROM\s|PRAGMA\s+\w|CREATE\s+(?:TABLE|INDEX|TRIGGER)\s|DROP\s+TABLE\s)""",
)
STORE = ROOT / "core" / "store"
CODE = ("core", "desktop", "labelfix", "bench", "tools", "packaging")


def sql_outside_the_store() -> list[str]:
    """file:line of every string with an SQL statement in the code, outside core/store/."""
    found = []
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if STORE in path.parents:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if SQL.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    return found


def test_no_sql_outside_the_store() -> None:
    assert sql_outside_the_store() == []


def test_the_sql_check_finds_sql() -> None:
    """The pattern catches the statements the store writes (so the test above can fail)."""
    store_lines = [
        line for p in STORE.glob("*.py") for line in p.read_text().splitlines() if SQL.search(line)
    ]
    assert len(store_lines) > 40
    for statement in (
        '"SELECT id FROM images"',
        'f"UPDATE annotations SET {x} WHERE id = ?"',
        "'INSERT OR REPLACE INTO mask_cache (owner) VALUES (?)'",
        '"DELETE FROM arrays WHERE owner = ?"',
        '"PRAGMA integrity_check"',
    ):
        assert SQL.search(statement), statement
    assert not SQL.search('"select the label, then delete it"')


def test_import_contracts_are_kept() -> None:
    """Core never imports Qt or the desktop, nothing imports the CLI, the desktop reaches the
    store through the session and the project service (pyproject.toml)."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lint_imports.py")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout
