"""Desktop test setup: isolated QSettings and app data, a demo project, and a guard that no
worker is left running after a test."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths, QThreadPool

from labelfix.core import analyze as az
from labelfix.core.project import push_project
from labelfix.core.store import Store, lock
from labelfix.desktop import jobs, workers
from labelfix.desktop.demo import DEMO_UI_STATE, demo_source
from tests.desktop.demo_copies import private_copy, with_shifted_set
from tests.desktop.synthetic import write_project

from backends import drop, team_url


@pytest.fixture(autouse=True)
def _isolated_app(
    qapp: object, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Keep QSettings, the app's data and cache folders out of the user's home; fail on
    leftover work."""
    QCoreApplication.setOrganizationName("LabelFixTest")
    QCoreApplication.setApplicationName("labelfix-test")
    QStandardPaths.setTestModeEnabled(True)
    root = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(root))
    monkeypatch.setenv("LABELFIX_DATA_DIR", str(tmp_path_factory.mktemp("appdata")))
    monkeypatch.setenv("LABELFIX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    workers.cancel_all()
    pool = QThreadPool.globalInstance()
    assert pool.waitForDone(30_000), "a worker was still running 30 s after the test"
    QCoreApplication.processEvents()
    QCoreApplication.processEvents()
    assert pool.activeThreadCount() == 0, (
        f"work started while the test was torn down: {workers.running_names()}"
    )
    assert workers.running() == 0, (
        f"a worker was started but its result was never delivered: {workers.running_names()}"
    )


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project built once per test run (import + analyse, demo filter stored)."""
    src = demo_source()
    out = tmp_path_factory.mktemp("demo") / "demo.labelfix"
    jobs.import_and_analyze(src / "labels.json", src / "images", src / "predictions.json", out)
    with Store.open(out) as store, store.atomic():
        store.set_meta("ui_state", DEMO_UI_STATE)
    return out


@pytest.fixture
def demo_project(built_demo: Path, tmp_path: Path) -> Path:
    """A private copy of the demo project that a test may change."""
    return private_copy(built_demo, tmp_path / "demo.labelfix")


@pytest.fixture(scope="session")
def built_two_sets(built_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project with a second prediction set "shifted" (the demo detector's boxes
    shifted by 5% of their width, scores squared: another detector's habits), analysed with
    both sets."""
    folder = tmp_path_factory.mktemp("two_sets")
    return with_shifted_set(built_demo, folder, "shifted", square_scores=True)


@pytest.fixture
def two_sets_project(built_two_sets: Path, tmp_path: Path) -> Path:
    """A private copy of the demo analysed with two prediction sets."""
    return private_copy(built_two_sets, tmp_path / "two_sets.labelfix")


@pytest.fixture
def open_window(qtbot: object) -> Callable[..., object]:
    """Open a project in a shown, active MainWindow: ``open_window(project, size=(w, h))``."""
    from PySide6.QtWidgets import QApplication

    from labelfix.desktop.main_window import MainWindow

    def _open(project: Path, size: tuple[int, int] = (1200, 800)) -> MainWindow:
        win = MainWindow()
        qtbot.addWidget(win)
        win.resize(*size)
        assert win.open_path(project)
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
        return win

    return _open


@pytest.fixture
def team_project(tmp_path: Path) -> Iterator[str]:
    """An analysed team project (10 images of random boxes) on the PostgreSQL test server."""
    location = team_url()
    push_project(write_project(tmp_path, n_images=10, preds_per_image=6, seed=3), location)
    with Store.open(location) as store:
        az.analyze(store)
    yield location
    drop(location)


@pytest.fixture
def other(team_project: str) -> Iterator[Store]:
    """Another reviewer, ``bob``, on the same team project (a store in this process)."""
    store = Store.open(team_project, reviewer="bob")
    yield store
    store.close()


@pytest.fixture
def window(open_window: Callable[..., object], demo_project: Path) -> object:
    """The main window with the demo project open, the table focused (a test file may define
    its own ``window``)."""
    win = open_window(demo_project)
    win.table.setFocus()
    return win


@pytest.fixture
def other_app(demo_project: Path) -> Iterator[int]:
    """Another live process on this host holding the demo project's lock."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    data = {"pid": child.pid, "host": socket.gethostname(), "reviewer": "ann", "since": 0.0}
    lock.lock_path(demo_project).write_text(json.dumps(data))
    yield child.pid
    child.kill()
    child.wait()
