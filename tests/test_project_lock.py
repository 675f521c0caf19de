"""A project file open in the app has a lock file beside it: a second app is told who has it
open, a command that writes says so, and a lock left by a crash (its process gone) never
blocks. Two windows each hold their own view and undo of one project: edits can be lost."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labelfix.core.cli import run
from labelfix.core.store import lock

from helpers import tiny_dataset, tiny_predictions, write_json


@pytest.fixture
def project(tmp_path: Path) -> Path:
    gt = write_json(tmp_path / "gt.json", tiny_dataset())
    pred = write_json(tmp_path / "pred.json", tiny_predictions())
    out = tmp_path / "t.labelfix"
    assert run(["import", "--gt", str(gt), "--predictions", str(pred), "-o", str(out), "-q"]) == 0
    return out


@pytest.fixture
def other_process() -> Iterator[int]:
    """The pid of another live process on this host (as another app would be)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child.pid
    child.kill()
    child.wait()


def write_lock(project: Path, pid: int, host: str | None = None) -> None:
    data = {"pid": pid, "host": host or socket.gethostname(), "reviewer": "ann", "since": 0.0}
    lock.lock_path(project).write_text(json.dumps(data))


def gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_holder_is_named_and_a_stale_one_is_not(project: Path, other_process: int) -> None:
    assert lock.holder(project) is None
    write_lock(project, other_process)
    held = lock.holder(project)
    assert held is not None and held.pid == other_process and held.reviewer == "ann"
    assert f"pid {other_process}" in held.sentence(project) and "t.labelfix" in held.sentence(
        project
    )
    write_lock(project, gone_pid())  # the app crashed: its lock must not block
    assert lock.holder(project) is None
    write_lock(project, other_process, host="elsewhere")  # cannot be checked: shown
    assert "on elsewhere" in lock.holder(project).sentence(project)


def test_this_process_takes_and_gives_back_its_lock(project: Path, other_process: int) -> None:
    assert lock.acquire(project, "bob")
    assert lock.holder(project) is None  # our own lock is no other's
    lock.release(project)
    assert not lock.lock_path(project).exists()
    write_lock(project, other_process)
    lock.release(project)  # another's lock (it took over) stays
    assert lock.lock_path(project).exists()


def test_a_read_only_folder_has_no_lock(project: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    project.parent.chmod(0o555)
    try:
        assert not lock.acquire(project, "bob")
        assert lock.holder(project) is None
    finally:
        project.parent.chmod(0o755)


def test_commands_that_write_say_the_project_is_open(
    project: Path, other_process: int, capsys: pytest.CaptureFixture[str]
) -> None:
    write_lock(project, other_process)
    assert run(["analyze", str(project), "-q"]) == 0
    err = capsys.readouterr().err
    assert f"t.labelfix is open in LabelFix on this computer (pid {other_process}" in err
    assert run(["info", str(project)]) == 0  # reading only: nothing to say
    assert "is open in LabelFix" not in capsys.readouterr().err
    write_lock(project, gone_pid())
    time.sleep(0.01)
    assert run(["analyze", str(project), "-q"]) == 0
    assert "is open in LabelFix" not in capsys.readouterr().err
