"""File ▸ Open team project…: the server's URL, the project (listed from the server once the
URL is entered), and where this machine keeps the project's images.

Credentials come from libpq's usual places (``PGPASSWORD``, ``~/.pgpass``, a service file);
the dialog never asks for or stores a password. A password typed into the URL is used for the
connection only: settings remember the project by server, database and name
(:meth:`TeamLocation.key`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QHideEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from labelfix.core import project

from .. import workers

LIST_DELAY_MS = 600  # after the URL stops changing, the projects are listed


def team_location(url: str, name: str) -> str:
    """``url`` (``postgresql://HOST/DB``, maybe with other parameters) naming project ``name``."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "project"]
    return parts._replace(query=urlencode([*query, ("project", name.strip())])).geturl()


def server_of(location: str) -> tuple[str, str]:
    """A location split into the server URL and the project named in it ("" if none)."""
    parts = urlsplit(location.strip())
    query = parse_qsl(parts.query, keep_blank_values=True)
    named = [v for k, v in query if k == "project"]
    rest = [(k, v) for k, v in query if k != "project"]
    return parts._replace(query=urlencode(rest)).geturl(), (named[-1] if named else "")


class OpenTeamDialog(QDialog):
    """Asks for a team project's URL, name and image folder; ``location`` once accepted."""

    def __init__(self, parent: QWidget | None = None, url: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Open team project")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)
        self.location: str | None = None
        self.images: Path | None = None
        self._worker: workers.Worker | None = None
        self._listed_for = ""
        server, name = server_of(url) if url else ("", "")
        self.url = QLineEdit(server)
        self.url.setPlaceholderText("postgresql://HOST[:PORT]/DATABASE")
        self.project = QComboBox()
        self.project.setEditable(True)
        self.project.setEditText(name)
        self.project.lineEdit().setPlaceholderText("the project's name")
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("where this machine keeps the project's images")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.status = QLabel()
        self.status.setWordWrap(True)
        note = QLabel(
            "The password comes from PGPASSWORD, ~/.pgpass or a service file "
            "(postgresql:///?service=NAME); LabelFix never stores one."
        )
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Server", self.url)
        form.addRow("Project", self.project)
        form.addRow("Images", row)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.status)
        column.addWidget(note)
        column.addWidget(self.buttons)
        self._list_timer = QTimer(self, singleShot=True, interval=LIST_DELAY_MS)
        self._list_timer.timeout.connect(self.list_projects)
        self.url.textChanged.connect(lambda _t: self._list_timer.start())
        self.project.currentTextChanged.connect(self._project_changed)
        if server:
            self._list_timer.start()
        self._project_changed(name)

    # ------------------------------------------------------------------ the server's projects
    def list_projects(self) -> workers.Worker | None:
        """List the projects of the server named in the URL field, in the background."""
        url = self.url.text().strip()
        if not project.is_team_location(url) or url == self._listed_for:
            if url and not project.is_team_location(url):
                self.status.setText("The server is a postgresql://HOST/DATABASE URL.")
            return None
        if self._worker is not None:
            return None  # one at a time; the URL is looked at again when it ends
        self._listed_for = url
        self.status.setText("Asking the server for its projects…")
        worker = workers.Worker(project.team_projects, url, takes_progress=False)
        worker.signals.finished.connect(self._listed)
        worker.signals.failed.connect(self._list_failed)
        worker.signals.done.connect(self._list_done)
        self._worker = worker
        return workers.start(worker)

    def _listed(self, names: list[str]) -> None:
        typed = self.project.currentText()
        self.project.blockSignals(True)
        self.project.clear()
        self.project.addItems(names)
        self.project.setEditText(typed or (names[0] if len(names) == 1 else ""))
        self.project.blockSignals(False)
        self._project_changed(self.project.currentText())
        self.status.setText(
            f"{len(names)} team project(s) on this server."
            if names
            else "No team project on this server yet (publish one with `labelfix push`)."
        )

    def _list_failed(self, exc: object) -> None:
        self.status.setText(f"Cannot list the server's projects: {project.redact_text(str(exc))}")

    def _list_done(self, _worker: object) -> None:
        self._worker = None
        if self.url.text().strip() != self._listed_for:
            self._list_timer.start()  # the URL changed while the server was asked

    # ------------------------------------------------------------------ images
    def _project_changed(self, name: str) -> None:
        """Show the image folder this machine remembers for the project (if any)."""
        location = self._location(name)
        if location is None:
            return
        try:
            known = project.team_images(location)
        except project.ProjectError:
            return
        if known is not None:
            self.folder.setText(str(known))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The project's images", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _location(self, name: str | None = None) -> str | None:
        url = self.url.text().strip()
        name = (self.project.currentText() if name is None else name).strip()
        if not project.is_team_location(url) or not name:
            return None
        return team_location(url, name)

    def done(self, result: int) -> None:  # noqa: D102 - Qt API
        self._list_timer.stop()  # a pending listing would outlive the dialog
        super().done(result)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: D102, N802 - Qt API
        self._list_timer.stop()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: D102, N802 - Qt API
        self._list_timer.stop()  # closed without being shown: no hide, no done
        super().closeEvent(event)

    # ------------------------------------------------------------------ accepting
    def accept(self) -> None:  # noqa: D102 - Qt API
        location = self._location()
        if location is None:
            self.status.setText("Enter the server's postgresql:// URL and the project's name.")
            return
        try:
            project.parse_location(location)
        except project.ProjectError as exc:
            self.status.setText(str(exc))
            return
        folder = self.folder.text().strip()
        if folder:
            if not Path(folder).is_dir():
                self.status.setText(f"{folder}: no such folder.")
                return
            project.remember_team_images(location, folder)
            self.images = Path(folder)
        self.location = location
        super().accept()
