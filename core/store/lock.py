"""Who has a project file open in the desktop app: a lock file beside it (``X.labelfix.lock``,
JSON: pid, host, reviewer, since). SQLite keeps two writers' rows whole, but two windows each
hold their own view and undo of the project, so one's edits can undo or hide the other's; a
second window is told, and a command that writes says so.

A lock whose process is gone (same host, no such pid: a crash) is stale and never blocks;
another host's lock cannot be checked and is shown with its time. A folder where no lock file
can be written (read-only, shared data) has no lock: nothing is written there either.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project's lock."""

    pid: int
    host: str
    reviewer: str
    since: float  # seconds since the epoch

    def is_this_process(self) -> bool:
        """True for this very process (a project opened again in the same app)."""
        return self.pid == os.getpid() and self.host == socket.gethostname()

    def is_stale(self) -> bool:
        """True when the process that wrote the lock is gone (checked on this host only)."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # another user's live process
            return False
        return False

    def short(self) -> str:
        """``ann has it open (pid N, since HH:MM)``, ``(on HOST, pid N, ...)`` from another
        computer: the status bar's words."""
        when = time.strftime("%H:%M", time.localtime(self.since))
        where = "" if self.host == socket.gethostname() else f"on {self.host}, "
        return f"{self.reviewer} has it open ({where}pid {self.pid}, since {when})"

    def sentence(self, path: Path | str) -> str:
        """``X is open in LabelFix on HOST (pid N, reviewer R) since HH:MM``."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.since))
        where = "on this computer" if self.host == socket.gethostname() else f"on {self.host}"
        return (
            f"{Path(path).name} is open in LabelFix {where} (pid {self.pid}, reviewer "
            f"{self.reviewer}) since {when}"
        )


def lock_path(project: Path | str) -> Path:
    """The lock file of a project file."""
    project = Path(project)
    return project.with_name(project.name + LOCK_SUFFIX)


def holder(project: Path | str) -> LockHolder | None:
    """Who else has ``project`` open: None when nobody, this process, or a stale lock."""
    try:
        data = json.loads(lock_path(project).read_text(encoding="utf-8"))
        found = LockHolder(
            int(data["pid"]), str(data["host"]), str(data["reviewer"]), float(data["since"])
        )
    except (OSError, ValueError, KeyError, TypeError):  # none, or unreadable: nothing holds it
        return None
    if found.is_this_process() or found.is_stale():
        return None
    return found


def acquire(project: Path | str, reviewer: str) -> bool:
    """Write this process's lock on ``project`` (replacing any); False where none can be
    written (a read-only folder)."""
    data = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "reviewer": reviewer or _user(),
        "since": time.time(),
    }
    path = lock_path(project)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return False
    return True


def release(project: Path | str) -> None:
    """Remove ``project``'s lock if this process holds it (another's that took over stays)."""
    path = lock_path(project)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("pid") == os.getpid() and data.get("host") == socket.gethostname():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
