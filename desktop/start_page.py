"""The start page: recent projects, new project from COCO, open, open the demo.

"Open project…" and the recent list check a project before asking the window to open it: a
problem (not a LabelFix project, from a newer LabelFix, read-only) is one sentence in a message
box; a recent project that no longer exists is dropped from the list with a note."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from . import errors
from .dialogs import choose_project_file

RECENT_KEY = "recent"
RECENT_TEAM_KEY = "recent_team"  # team projects' URLs as shown: never a password
MAX_RECENT = 10


def stored_recent(settings: QSettings | None = None) -> list[Path]:
    """Every remembered project, newest first, whether or not it still exists."""
    value = (settings or QSettings()).value(RECENT_KEY) or []
    if isinstance(value, str):
        value = [value]
    return [Path(p) for p in value]


def recent_projects(settings: QSettings | None = None) -> list[Path]:
    """Recently opened projects that still exist, newest first."""
    return [p for p in stored_recent(settings) if p.exists()]


def remember_project(path: Path, settings: QSettings | None = None) -> None:
    """Put a project at the top of the recent list."""
    settings = settings or QSettings()
    paths = [str(path.resolve())] + [
        str(p) for p in recent_projects(settings) if p.resolve() != path.resolve()
    ]
    settings.setValue(RECENT_KEY, paths[:MAX_RECENT])


def recent_team_projects(settings: QSettings | None = None) -> list[str]:
    """Recently opened team projects' locations (no password), newest first."""
    value = (settings or QSettings()).value(RECENT_TEAM_KEY) or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def remember_team_project(location: str, settings: QSettings | None = None) -> None:
    """Put a team project (its location as shown, without password) at the top of the list."""
    settings = settings or QSettings()
    shown = errors.team_display(location)
    rest = [v for v in recent_team_projects(settings) if v != shown]
    settings.setValue(RECENT_TEAM_KEY, [shown, *rest][:MAX_RECENT])


def forget_projects(paths: list[Path], settings: QSettings | None = None) -> None:
    """Take projects off the recent list."""
    settings = settings or QSettings()
    drop = {str(p) for p in paths}
    settings.setValue(RECENT_KEY, [str(p) for p in stored_recent(settings) if str(p) not in drop])


class StartPage(QWidget):
    """What the window shows with no project open.

    ``openRecent(path)`` asks the window to open a project file that was checked to open: a
    recent one, or one picked with "Open project…". ``openProject`` is kept for callers that
    pick the file themselves; the page's own button no longer emits it."""

    newProject = Signal()
    openProject = Signal()
    openDemo = Signal()
    openTeam = Signal()  # "Open team project…" (a PostgreSQL server)
    openRecent = Signal(object)  # a project file's Path, or a team project's URL

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        logo = QLabel()
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        icon = QApplication.windowIcon()
        if not icon.isNull():
            logo.setPixmap(icon.pixmap(96, 96))
        title = QLabel("<h1>LabelFix</h1><p>Find and fix label errors in COCO datasets.</p>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        for text, slot in (
            ("New project from COCO…", self.newProject.emit),
            ("Open project…", self.choose_and_open),
            ("Open team project…", self.openTeam.emit),
            ("Open demo", self.openDemo.emit),
        ):
            b = QPushButton(text)
            b.setMinimumHeight(int(b.fontMetrics().height() * 2.4))
            b.clicked.connect(lambda _checked=False, slot=slot: slot())
            buttons.addWidget(b)
        self.recent = QListWidget()
        self.recent.itemActivated.connect(self._open_item)
        self.recent_title = QLabel("<b>Recent projects</b>")
        self.empty_hint = QLabel(
            "Projects you open will be listed here. New to LabelFix? <b>Open demo</b> shows 20 "
            "images with their labels and a detector's predictions: review the suspects with "
            "A (accept the fix), R (reject) and Space (skip)."
        )
        self.empty_hint.setObjectName("startHint")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note = QLabel()
        self.note.setObjectName("startNote")
        self.note.setWordWrap(True)
        self.note.hide()
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(logo)
        column.addWidget(title)
        column.addLayout(buttons)
        column.addSpacing(8)
        column.addWidget(self.recent_title)
        column.addWidget(self.recent)
        column.addWidget(self.empty_hint)
        column.addWidget(self.note)
        column.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 2)
        outer.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        """Reload the recent list from QSettings, dropping (with a note) projects that are gone."""
        stored = stored_recent(self.settings)
        missing = [p for p in stored if not p.exists()]
        if missing:
            forget_projects(missing, self.settings)
            self.show_note(errors.removed_from_recent(missing))
        self.recent.clear()
        for path in stored:
            if path in missing:
                continue
            item = QListWidgetItem(f"{path.name}    —    {path.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(str(path))
            self.recent.addItem(item)
        for location in recent_team_projects(self.settings):
            server, _, name = location.rpartition("project=")
            item = QListWidgetItem(f"{name} (team)    —    {server.rstrip('?&')}")
            item.setData(Qt.ItemDataRole.UserRole, location)
            item.setToolTip(location)
            self.recent.addItem(item)
        has_recent = self.recent.count() > 0
        self.recent_title.setVisible(has_recent)
        self.recent.setVisible(has_recent)
        self.empty_hint.setVisible(not has_recent)

    def _open_item(self, item: QListWidgetItem) -> None:
        where = str(item.data(Qt.ItemDataRole.UserRole))
        if where.startswith(("postgresql://", "postgres://")):
            self.openRecent.emit(where)  # the window says why, should it not open
        else:
            self.open_checked(Path(where), recent=True)

    def show_note(self, text: str) -> None:
        """A quiet line under the recent list (empty hides it)."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def choose_and_open(self) -> None:
        """ "Open project…": pick a file (starting in the last folder), check it, open it."""
        path = choose_project_file(self.window(), self.settings)
        if path is not None:
            self.open_checked(path)

    def open_checked(self, path: Path, *, recent: bool = False) -> bool:
        """Ask the window to open ``path`` if it opens; else say why in one sentence."""
        problem = errors.check_project(path)
        if problem is None:
            self.show_note("")
            self.openRecent.emit(path)
            return True
        if recent and problem.kind == "missing":
            forget_projects([path], self.settings)
            self.refresh()
            self.show_note(errors.removed_from_recent([path]))
        QMessageBox.warning(self.window(), "LabelFix", problem.sentence)
        return False
