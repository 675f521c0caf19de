"""Shared test setup: headless Qt, paths to the shared real data and the demo data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from helpers import DEMO, ROOT, SHARED_DATA, shared_path  # noqa: E402

__all__ = ["DEMO", "ROOT", "SHARED_DATA", "shared_path"]


@pytest.fixture
def demo_dir() -> Path:
    """The bundled demo dataset folder."""
    return DEMO
