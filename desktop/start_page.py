"""The start page: recent projects, new project from COCO, open, open the demo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

RECENT_KEY = "recent"
MAX_RECENT = 10


def recent_projects(settings: QSettings | None = None) -> list[Path]:
    """Recently opened projects that still exist, newest first."""
    value = (settings or QSettings()).value(RECENT_KEY) or []
    if isinstance(value, str):
        value = [value]
    return [Path(p) for p in value if Path(p).exists()]


def remember_project(path: Path, settings: QSettings | None = None) -> None:
    """Put a project at the top of the recent list."""
    settings = settings or QSettings()
    paths = [str(path.resolve())] + [
        str(p) for p in recent_projects(settings) if p.resolve() != path.resolve()
    ]
    settings.setValue(RECENT_KEY, paths[:MAX_RECENT])


class StartPage(QWidget):
    """What the window shows with no project open."""

    newProject = Signal()
    openProject = Signal()
    openDemo = Signal()
    openRecent = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h1>LabelFix</h1><p>Find and fix label errors in COCO datasets.</p>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        for text, signal in (
            ("New project from COCO…", self.newProject),
            ("Open project…", self.openProject),
            ("Open demo", self.openDemo),
        ):
            b = QPushButton(text)
            b.setMinimumHeight(36)
            b.clicked.connect(signal)
            buttons.addWidget(b)
        self.recent = QListWidget()
        self.recent.itemActivated.connect(
            lambda item: self.openRecent.emit(Path(item.data(Qt.ItemDataRole.UserRole)))
        )
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(title)
        column.addLayout(buttons)
        column.addWidget(QLabel("<b>Recent projects</b>"))
        column.addWidget(self.recent)
        column.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 2)
        outer.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        """Reload the recent list from QSettings."""
        self.recent.clear()
        for path in recent_projects():
            item = QListWidgetItem(f"{path.name}    —    {path.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.recent.addItem(item)
