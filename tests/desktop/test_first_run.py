"""First run: projects that cannot be opened give one sentence (stderr on the command line, a
message box in the window, never a traceback); --version everywhere; the About dialog; the
light/dark palettes; pickers that remember the last folder; a missing display or library."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, qVersion
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton

from labelfix import __version__
from labelfix.core.store import Store, migrations
from labelfix.desktop import about, app, errors, theme
from labelfix.desktop.dialogs import LAST_FOLDER_KEY, NewProjectDialog
from labelfix.desktop.main_window import MainWindow
from labelfix.desktop.start_page import StartPage, remember_project, stored_recent
from labelfix.desktop.widgets import TipBar

KINDS = ("missing", "not_project", "too_new", "read_only")
EXPECTED = {  # a phrase each sentence must hold
    "missing": "no such project file",
    "not_project": "is not a LabelFix project",
    "too_new": "update LabelFix",
    "read_only": "is read-only",
}
# root may write to a file without write permission, so when the tests run as root the
# child process (and the in-process tests) answer os.access as an ordinary user would.
AS_A_USER = """
import os, sys
_access = os.access
def _user_access(path, mode, *args, **kwargs):
    try:
        if mode & os.W_OK and not os.stat(path).st_mode & 0o222:
            return False
    except OSError:
        pass
    return _access(path, mode, *args, **kwargs)
os.access = _user_access
from labelfix.cli import main
main(sys.argv[1:])
"""


def make_bad_project(kind: str, folder: Path) -> Path:
    """A project file with one problem."""
    path = folder / f"{kind}.labelfix"
    if kind == "not_project":
        path.write_text("this is a text file, not a project\n")
    elif kind == "too_new":
        Store.create(path).close()
        with sqlite3.connect(path) as conn:
            conn.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, 'future', 'x')",
                [migrations.latest_version() + 1],
            )
        conn.close()
    elif kind == "read_only":
        Store.create(path).close()
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        path.chmod(0o444)
    return path


@pytest.fixture
def user_access(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process, os.access answers for a read-only file as it would for a non-root user."""
    real = os.access

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        try:
            if mode & os.W_OK and not os.stat(path).st_mode & 0o222:
                return False
        except OSError:
            pass
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every QMessageBox.warning text, instead of a modal box."""
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _parent, _title, text, *a: shown.append(text))
    )
    return shown


def run_labelfix(
    *args: str, env: dict | None = None, as_user: bool = False
) -> subprocess.CompletedProcess:
    """Run the `labelfix` command in a child process, offscreen unless ``env`` says otherwise."""
    full = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    full.update(env or {})
    for key in [k for k, v in full.items() if v is None]:
        del full[key]
    command = ["-c", AS_A_USER] if as_user else ["-m", "labelfix"]
    return subprocess.run(
        [sys.executable, *command, *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


def one_sentence(stderr: str) -> str:
    """The single line a failure prints (and assert it is one line, not a traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("labelfix: "), stderr
    return lines[0]


# ---------------------------------------------------------------------- command line
@pytest.mark.parametrize("kind", KINDS)
def test_open_a_bad_project_prints_one_sentence(kind: str, tmp_path: Path) -> None:
    path = make_bad_project(kind, tmp_path)
    result = run_labelfix("open", str(path), as_user=kind == "read_only")
    assert result.returncode != 0
    assert EXPECTED[kind] in one_sentence(result.stderr)
    if kind == "not_project":
        assert path.read_text() == "this is a text file, not a project\n"  # never written to


def test_a_sqlite_file_of_another_app_is_not_changed(tmp_path: Path) -> None:
    path = tmp_path / "other.labelfix"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = path.read_bytes()
    result = run_labelfix("open", str(path))
    assert result.returncode != 0 and "not a LabelFix project" in one_sentence(result.stderr)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "command", [["--version"], ["open", "x.labelfix", "--version"], ["demo", "--version"]]
)
def test_version_everywhere(command: list[str]) -> None:
    result = run_labelfix(*command)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"labelfix {__version__}"


def test_xcb_without_a_display_is_one_sentence(demo_project: Path) -> None:
    result = run_labelfix(
        "open",
        str(demo_project),
        env={"QT_QPA_PLATFORM": "xcb", "DISPLAY": None, "WAYLAND_DISPLAY": None},
    )
    assert result.returncode == 2
    assert "xvfb-run" in one_sentence(result.stderr)


def test_a_platform_plugin_qt_cannot_load_is_one_sentence(demo_project: Path) -> None:
    result = run_labelfix("open", str(demo_project), env={"QT_QPA_PLATFORM": "nosuchplugin"})
    assert result.returncode == 2
    line = one_sentence(result.stderr)
    assert "nosuchplugin" in line and "display plugin" in line


@pytest.mark.skipif(sys.platform != "linux", reason="Qt's xcb plugin is Linux only")
def test_missing_xcb_libraries_name_the_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    real = app.ctypes.CDLL

    def cdll(name: str, *args: object, **kwargs: object) -> object:
        if name in ("libxcb-cursor.so.0", "libxkbcommon-x11.so.0"):
            raise OSError(f"{name}: cannot open shared object file")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(app.ctypes, "CDLL", cdll)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":0")
    message = app.platform_problem(headless=False)
    assert message is not None
    assert "apt-get install libxcb-cursor0 libxkbcommon-x11-0`" in message
    assert app.platform_problem(headless=True) is None  # a screenshot falls back to offscreen
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"


@pytest.mark.skipif(sys.platform != "linux", reason="X11 only")
def test_an_unreachable_display_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":873")  # no X server there
    if app.missing_xcb_packages():
        pytest.skip("this machine lacks the xcb libraries")
    message = app.platform_problem(headless=False)
    assert message is not None and "cannot connect to the X display ':873'" in message


# ---------------------------------------------------------------------- the window
@pytest.mark.parametrize("kind", KINDS)
def test_start_page_open_shows_the_sentence(
    kind: str,
    tmp_path: Path,
    qtbot: object,
    monkeypatch: pytest.MonkeyPatch,
    warnings: list[str],
    user_access: None,
) -> None:
    path = make_bad_project(kind, tmp_path)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), ""))
    )
    window = MainWindow()
    qtbot.addWidget(window)
    opened: list[Path] = []
    window.start_page.openRecent.connect(opened.append)
    button = next(
        b for b in window.start_page.findChildren(QPushButton) if b.text() == "Open project…"
    )
    button.click()
    assert len(warnings) == 1 and EXPECTED[kind] in warnings[0]
    assert warnings[0] == errors.check_project(path).sentence
    assert "\n" not in warnings[0]
    assert opened == [] and window.session is None


def test_start_page_open_opens_a_good_project(
    demo_project: Path, qtbot: object, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(demo_project), ""))
    )
    window = MainWindow()
    qtbot.addWidget(window)
    window.start_page.choose_and_open()
    assert warnings == []
    assert window.session is not None and window.session.path == demo_project
    window.close()


def test_a_missing_recent_project_is_dropped_with_a_note(
    demo_project: Path, tmp_path: Path, qtbot: object, warnings: list[str]
) -> None:
    gone = make_bad_project("missing", tmp_path)
    settings = QSettings()
    Store.create(gone).close()
    remember_project(gone, settings)
    remember_project(demo_project, settings)
    page = StartPage()
    qtbot.addWidget(page)
    assert page.recent.count() == 2 and page.note.isHidden()
    # deleted while the page shows it: activating it says so and drops it
    gone.unlink()
    item = next(
        page.recent.item(i)
        for i in range(page.recent.count())
        if page.recent.item(i).data(Qt.ItemDataRole.UserRole) == str(gone.resolve())
    )
    page.recent.itemActivated.emit(item)
    assert len(warnings) == 1 and "no such project file" in warnings[0]
    assert page.recent.count() == 1 and not page.note.isHidden()
    assert "removed from the recent projects" in page.note.text()
    assert [p.name for p in stored_recent(settings)] == [demo_project.name]
    # deleted while the app was closed: the next refresh drops it with a note
    QSettings().setValue("recent", [str(tmp_path / "also-gone.labelfix"), str(demo_project)])
    page2 = StartPage()
    qtbot.addWidget(page2)
    assert page2.recent.count() == 1 and "also-gone.labelfix" in page2.note.text()
    assert len(warnings) == 1  # a quiet note, no box


# ---------------------------------------------------------------------- about, theme, folders
def test_about_shows_version_and_facts(qtbot: object, monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = about.AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.text.text()
    for fact in (__version__, qVersion(), sys.version.split()[0], "MIT", "CC BY 4.0"):
        assert fact in text
    assert str(about.data_dir()) in text
    shown: list[about.AboutDialog] = []
    monkeypatch.setattr(about.AboutDialog, "exec", lambda self: shown.append(self) or 0)
    about.show_about(None)
    assert len(shown) == 1 and shown[0].windowTitle() == "About LabelFix"


@pytest.fixture
def restore_look(qapp: QApplication) -> Iterator[QApplication]:
    """Put the application's palette and style sheet back after a theme test."""
    palette, sheet = QPalette(qapp.palette()), qapp.styleSheet()
    yield qapp
    theme.install(qapp, "light")
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)
    qapp.setProperty("labelfixScheme", None)


def test_dark_theme_gives_a_dark_palette(restore_look: QApplication, qtbot: object) -> None:
    qapp = restore_look
    theme.load_style_sheet(qapp)
    assert "#fff" not in qapp.styleSheet().lower()  # colours come from palette roles
    tip = TipBar("a tip")
    qtbot.addWidget(tip)
    tip.resize(200, 30)
    assert theme.apply(qapp, Qt.ColorScheme.Dark) == Qt.ColorScheme.Dark
    palette = qapp.palette()
    assert palette.color(QPalette.ColorRole.Window).lightness() < 80
    assert palette.color(QPalette.ColorRole.WindowText).lightness() > 200
    assert palette.color(QPalette.ColorRole.Base).lightness() < 80
    assert qapp.property("labelfixFusion")
    assert theme.current(qapp) == Qt.ColorScheme.Dark
    assert tip.grab().toImage().pixelColor(100, 15).lightness() < 100  # the style sheet followed
    theme.apply(qapp, "light")
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 180
    assert theme.current(qapp) == Qt.ColorScheme.Light
    assert tip.grab().toImage().pixelColor(100, 15).lightness() > 180


def test_auto_theme_follows_the_system(restore_look: QApplication) -> None:
    qapp = restore_look
    theme.install(qapp, "auto")
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 180
    theme.install(qapp, "light")  # pinned: the system's changes no longer apply
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 180


def test_pickers_remember_the_last_folder(
    tmp_path: Path, qtbot: object, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
) -> None:
    starts: list[str] = []
    answers = iter(
        [
            str(tmp_path / "a" / "labels.json"),  # New Project: labels
            str(tmp_path / "b" / "images"),  # New Project: image folder (its parent is kept)
            str(tmp_path / "c" / "x.labelfix"),  # start page: Open project…
            "",  # New Project again: cancelled
        ]
    )
    for name in ("a", "b/images", "c"):
        (tmp_path / name).mkdir(parents=True)

    def pick(_parent: object, _caption: str, start: str, *args: object) -> object:
        starts.append(start)
        answer = next(answers)
        return answer if not args else (answer, "")

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda p, c, s: pick(p, c, s))
    )
    first = NewProjectDialog()
    qtbot.addWidget(first)
    first.labels._browse()
    first.images._browse()
    assert first.labels.path() == tmp_path / "a" / "labels.json"
    page = StartPage()
    qtbot.addWidget(page)
    page.choose_and_open()  # the picked file does not exist: one sentence, nothing opened
    assert len(warnings) == 1
    second = NewProjectDialog()
    qtbot.addWidget(second)
    second.predictions._browse()
    assert starts == [
        str(Path.home()),
        str(tmp_path / "a"),
        str(tmp_path / "b"),
        str(tmp_path / "c"),
    ]
    assert QSettings().value(LAST_FOLDER_KEY) == str(tmp_path / "c")


def test_the_start_page_without_recent_projects_points_to_the_demo(
    qtbot: object, tmp_path: Path, demo_project: Path
) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    page = StartPage(settings=settings)
    qtbot.addWidget(page)
    page.show()
    assert page.recent.isHidden() and page.recent_title.isHidden()
    assert not page.empty_hint.isHidden() and "Open demo" in page.empty_hint.text()
    remember_project(demo_project, settings)
    page.refresh()
    assert not page.recent.isHidden() and page.empty_hint.isHidden()
    assert page.recent.count() == 1


def test_the_thresholds_dialog_keeps_every_parameter(qtbot: object) -> None:
    """What the dialog shows comes back as entered; what it does not show stays as it was."""
    from dataclasses import fields

    from labelfix.core.errors import AnalysisParams
    from labelfix.desktop.dialogs import ThresholdsDialog

    stored = AnalysisParams(
        iou_threshold=0.55, low_iou=0.15, duplicate_iou=0.8, min_score=0.1, max_dets=50,
        geometry="masks", nms_iou=0.45, wrong_class_iou=0.35, missing_same_iou=0.25,
        loose_iou=0.7, on_label_score_ratio=1.0, calibrate=False, score_version=1,
        scores="comparable",
        extra={"note": "kept"},
    )  # fmt: skip
    dialog = ThresholdsDialog(stored)
    qtbot.addWidget(dialog)
    assert dialog.params() == stored
    defaults = AnalysisParams()
    assert all(
        getattr(stored, f.name) != getattr(defaults, f.name) for f in fields(AnalysisParams)
    )  # so each field's round trip above was really tested
    dialog.loose_iou.setValue(0.5)
    dialog.wrong_class_iou.setValue(0.45)
    got = dialog.params()
    assert (got.loose_iou, got.wrong_class_iou, got.nms_iou) == (0.5, 0.45, 0.45)
