"""Shared test setup: headless Qt, paths to the shared real data and the demo data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from helpers import DEMO, ROOT, SHARED_DATA, shared_path  # noqa: E402

__all__ = ["DEMO", "ROOT", "SHARED_DATA", "shared_path"]


@pytest.fixture(autouse=True)
def _own_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own LabelFix settings folder (never the user's ~/.config)."""
    monkeypatch.setenv("LABELFIX_CONFIG_DIR", str(tmp_path_factory.mktemp("settings")))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each store backend in turn (PostgreSQL: the test server, see tests/backends.py)."""
    if request.param == "postgresql":
        from backends import pg_url

        pg_url()
    return request.param


@pytest.fixture
def demo_dir() -> Path:
    """The bundled demo dataset folder."""
    return DEMO
