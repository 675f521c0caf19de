"""The app's front doors, each started as a user starts it: a real `labelfix` process (the
installed console script), offscreen, with a fresh home folder. The bare command (the desktop
menu's entry without a file) opens the start page and stays up; `labelfix X.labelfix` (the
desktop entry with a file), `labelfix open X` and `labelfix demo` reach their project's window.
``--smoke`` runs the same start and exits once the window is painted, saying what it shows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "labelfix"


def command() -> list[str]:
    """The installed `labelfix` program (python -m labelfix where the script is absent)."""
    return [str(BIN)] if BIN.exists() else [sys.executable, "-m", "labelfix"]


def fresh_env(home: Path) -> dict[str, str]:
    """Offscreen, with an empty home, settings and data folder (as on a first start)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(home))
    for key, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share")):
        env[key] = str(home / sub)
    for key in ("LABELFIX_DATA_DIR", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(key, None)
    return env


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `labelfix ARGS` to completion."""
    return subprocess.run(
        [*command(), *args], capture_output=True, text=True, env=fresh_env(home), timeout=300
    )


def smoke_line(result: subprocess.CompletedProcess) -> str:
    """The line --smoke prints, after checking the run ended well and without a traceback."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("labelfix: smoke: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh home folder."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_the_bare_command_opens_the_start_page_and_stays_up(home: Path) -> None:
    """What the desktop menu runs (`Exec=labelfix %f` without a file): no crash, no output,
    still running until it is closed."""
    process = subprocess.Popen(
        command(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=fresh_env(home),
    )
    try:
        deadline = time.monotonic() + 6.0
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        alive = process.poll() is None
    finally:
        process.terminate()
        try:
            _out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, err = process.communicate()
    assert alive, f"labelfix exited with {process.returncode}: {err}"
    assert "Traceback" not in err and "Error" not in err, err


def test_the_bare_command_reaches_the_start_page(home: Path) -> None:
    line = smoke_line(run(home, "--smoke"))
    assert "the start page is shown" in line


def test_the_bare_command_takes_the_window_options(home: Path) -> None:
    line = smoke_line(run(home, "--theme", "dark", "--smoke"))
    assert "the start page is shown" in line


@pytest.mark.parametrize("form", ["file", "open"])
def test_a_project_file_opens_its_window(form: str, home: Path, demo_project: Path) -> None:
    """`labelfix X.labelfix` (the desktop entry and the file manager run this) and
    `labelfix open X.labelfix` reach the project's review window with its first image."""
    project = home / "my project.labelfix"
    shutil.copy(demo_project, project)
    args = [str(project)] if form == "file" else ["open", str(project)]
    line = smoke_line(run(home, *args, "--smoke"))
    assert "my project.labelfix is shown with" in line and "image " in line


def test_the_demo_opens_its_window(home: Path) -> None:
    line = smoke_line(run(home, "demo", "--smoke"))
    assert "demo.labelfix is shown with" in line and "image " in line
    assert list(home.rglob("demo.labelfix")), "the demo project was built in the data folder"


def test_help_lists_the_desktop_commands(home: Path) -> None:
    result = run(home, "--help")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ")}
    assert {"open", "demo", "import", "suspects"} <= listed, result.stdout
    assert "Without a command" in result.stdout


@pytest.mark.parametrize("form", ["url", "open"])
def test_a_team_project_url_opens_its_window(
    form: str, home: Path, team_project: str, tmp_path: Path
) -> None:
    """`labelfix postgresql://HOST/DB?project=NAME` and `labelfix open URL --images DIR` reach
    the team project's review window (the password from PGPASSWORD, never in the URL)."""
    name = team_project.rsplit("project=", 1)[1]
    images = tmp_path / "images"
    images.mkdir()
    args = [team_project] if form == "url" else ["open", team_project, "--images", str(images)]
    result = run(home, *args, "--smoke")
    line = smoke_line(result)
    assert f"{name} (team) is shown with" in line and "image " in line
    if form == "open":  # the image folder is remembered for this project on this machine
        folder = Path(fresh_env(home).get("LABELFIX_CONFIG_DIR") or home / ".config" / "labelfix")
        settings = (folder / "settings.json").read_text()
        assert str(images) in settings and "password" not in settings.lower()


def test_a_team_project_that_does_not_exist_is_one_sentence(home: Path, team_project: str) -> None:
    missing = team_project.rsplit("project=", 1)[0] + "project=nosuchproject"
    result = run(home, missing, "--smoke")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "there is no team project 'nosuchproject'" in result.stderr
