"""Shared test setup: headless Qt, paths to the shared real data and the demo data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DEMO = ROOT / "resources" / "demo"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test cleanly where it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.fixture
def demo_dir() -> Path:
    """The bundled demo dataset folder."""
    return DEMO
