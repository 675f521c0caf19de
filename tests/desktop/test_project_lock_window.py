"""A second app opening a project file another app has open is told who has it (two windows
each keep their own view and undo: edits can be lost) and may open it anyway or not; the
window holds the lock while the project is open, and a crashed app's lock never blocks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from labelfix.core.store import lock
from labelfix.core.store.lock import LockHolder
from labelfix.desktop.main_window import MainWindow


def window_asking(qtbot: object, answer: bool, asked: list[LockHolder]) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)

    def ask(held: LockHolder, path: Path | str) -> bool:
        asked.append(held)
        return answer

    window.open_locked = ask
    return window


def test_a_project_open_in_another_app_is_said_before_it_opens(
    qtbot: object, demo_project: Path, other_app: int
) -> None:
    asked: list[LockHolder] = []
    window = window_asking(qtbot, False, asked)
    assert not window.open_path(demo_project)  # cancelled: not opened, their lock kept
    assert [h.pid for h in asked] == [other_app] and window.session is None
    assert lock.holder(demo_project).pid == other_app
    window = window_asking(qtbot, True, asked)
    assert window.open_path(demo_project)  # open anyway: this window holds it now
    assert lock.holder(demo_project) is None
    assert json.loads(lock.lock_path(demo_project).read_text())["pid"] != other_app
    window.close_project()
    assert not lock.lock_path(demo_project).exists()


def test_a_window_holds_the_lock_and_a_crashed_apps_lock_does_not_block(
    qtbot: object, demo_project: Path
) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # an app that crashed: its pid is gone
    data = {"pid": child.pid, "host": socket.gethostname(), "reviewer": "ann", "since": 0.0}
    lock.lock_path(demo_project).write_text(json.dumps(data))
    asked: list[LockHolder] = []
    window = window_asking(qtbot, False, asked)
    assert window.open_path(demo_project) and not asked
    held = json.loads(lock.lock_path(demo_project).read_text())
    assert held["host"] == socket.gethostname() and held["pid"] != child.pid
    window.close_project()
    assert not lock.lock_path(demo_project).exists()
