"""Helpers of the window's team tests."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backends import pg_required
from helpers import ROOT

SERVER = ROOT / "tools" / "pg_server.sh"


def wait_for(qtbot: object, condition: Callable[[], bool], timeout_s: float = 10.0) -> float:
    """Process events until ``condition()`` holds; the seconds it took."""
    t0 = time.monotonic()
    qtbot.waitUntil(condition, timeout=int(timeout_s * 1000))
    return time.monotonic() - t0


def pg_server(action: str) -> None:
    """Pause, resume, stop or start the test server (``tools/pg_server.sh``) under the tests."""
    folder = os.environ.get("LABELFIX_TEST_PG_DIR")
    if not folder or not Path(folder, "data").is_dir():
        message = "the server stop test needs LABELFIX_TEST_PG_DIR (tools/pg_server.sh)"
        if pg_required():
            pytest.fail(message)
        pytest.skip(message)
    subprocess.run(["bash", str(SERVER), action, folder], check=True, timeout=120)
