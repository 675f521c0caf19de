"""A team project on the PostgreSQL test server for the window's team tests, and helpers to
act as another reviewer on it (a Store of their own, in this process)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labelfix.core import analyze as az
from labelfix.core.project import push_project
from labelfix.core.store import Store
from tests.desktop.synthetic import write_project

from backends import drop, team_url


@pytest.fixture
def team_project(tmp_path: Path) -> Iterator[str]:
    """An analysed team project (10 images of random boxes) and its location."""
    location = team_url()
    push_project(write_project(tmp_path, n_images=10, preds_per_image=6, seed=3), location)
    with Store.open(location) as store:
        az.analyze(store)
    yield location
    drop(location)


@pytest.fixture
def other(team_project: str) -> Iterator[Store]:
    """Another reviewer, ``bob``, on the same team project."""
    store = Store.open(team_project, reviewer="bob")
    yield store
    store.close()


def wait_for(qtbot: object, condition: Callable[[], bool], timeout_s: float = 10.0) -> float:
    """Process events until ``condition()`` holds; the seconds it took."""
    t0 = time.monotonic()
    qtbot.waitUntil(condition, timeout=int(timeout_s * 1000))
    return time.monotonic() - t0
