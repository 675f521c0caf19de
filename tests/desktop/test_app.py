"""The command line: --screenshot writes a PNG of the window's size; demo --smoke; the demo
project; a clear sentence instead of Qt's abort when there is no display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from labelfix.core import settings
from labelfix.core.settings import REVIEWER_ENV
from labelfix.core.store import Store
from labelfix.desktop.app import build_parser, platform_problem, use_reviewer
from labelfix.desktop.demo import ensure_demo_project


def run_labelfix(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the `labelfix` command (through python -m) headless."""
    full = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "labelfix", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


def test_screenshot_command_writes_a_png_of_the_window(demo_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    result = run_labelfix("open", str(demo_project), "--screenshot", str(out), "--select", "1")
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 900)
    assert "did not load" not in result.stderr
    bad = run_labelfix(
        "open", str(tmp_path / "missing.labelfix"), "--screenshot", str(tmp_path / "x.png")
    )
    assert (
        bad.returncode == 2
        and "no such project file" in bad.stderr
        and "Traceback" not in bad.stderr
    )


def test_demo_smoke_builds_and_opens_the_demo(tmp_path: Path) -> None:
    result = run_labelfix("demo", "--smoke", env={"LABELFIX_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo.labelfix").exists()


def test_ensure_demo_project_stores_the_demo_filter() -> None:
    path = ensure_demo_project()
    assert path.name == "demo.labelfix" and path.exists()
    with Store.open(path, readonly=True) as store:
        # the default view: calibrated scores down to the analysis's default cut
        assert store.get_meta("ui_state")["filter"]["min_score"] is None
        assert "min_confidence" not in store.get_meta("ui_state")["filter"]
        assert store.analysis_report(store.current_analysis()["id"])["review_cut"] > 0
        assert store.counts()["images"] == 20
    assert ensure_demo_project() == path  # built once


def test_no_display_gives_one_sentence(monkeypatch: object) -> None:
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    message = platform_problem(headless=False)
    if sys.platform == "linux":
        assert message is not None and "xvfb-run" in message
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert platform_problem(headless=False) is None


def test_first_start_takes_most_of_the_screen_and_shows_every_column(
    qtbot: object, demo_project: Path
) -> None:
    """No saved geometry: the window is centred on 85% of the screen; the suspects dock is as
    wide as the table's columns (none cut off behind a scroll bar) and leaves the rest to the
    canvas."""
    from labelfix.desktop.main_window import FIRST_SIZE, MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    screen = window.screen().availableGeometry()
    window.restore_geometry()
    assert window.width() == int(screen.width() * FIRST_SIZE)
    assert window.height() == int(screen.height() * FIRST_SIZE)
    offset = window.geometry().center() - screen.center()
    assert abs(offset.x()) <= 1 and abs(offset.y()) <= 1
    window.resize(1632, 918)  # the offscreen screen is small; 85% of a 1920x1080 one
    assert window.open_path(demo_project)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.table.viewport().width() > 0)
    natural = window.table.natural_width()
    assert natural < 1632 * 0.40
    assert natural <= window.docks["suspects"].width() <= natural + 20
    assert window.table.horizontalScrollBar().maximum() == 0


def test_the_desktop_commands_take_reviewer(demo_project: Path) -> None:
    """`--reviewer NAME` as the README lists it for every command: the bare command, a project
    file given alone and `open` all start (argparse refused it before)."""
    for args in (
        (str(demo_project), "--reviewer", "bob"),
        ("open", str(demo_project), "--reviewer", "bob"),
        ("--reviewer", "bob"),
        ("--reviewer", "bob", str(demo_project)),
    ):
        result = run_labelfix(*args, "--smoke")
        assert result.returncode == 0, (args, result.stderr)


def test_reviewer_names_who_the_desktop_works_as(monkeypatch: object) -> None:
    monkeypatch.setenv(REVIEWER_ENV, "alice")  # the option outranks the variable
    url = "postgresql://db/labelfix?project=p"
    args = build_parser().parse_args(["open", url, "--reviewer", "bob"])
    use_reviewer(args.reviewer)
    assert settings.reviewer_name() == "bob"
    use_reviewer(build_parser().parse_args(["open", url]).reviewer)  # none given: unchanged
    assert settings.reviewer_name() == "bob"
