"""What the window adds for a team project: the change follower thread (others' changes and
claims, the connection), the claims' renewal, the Team dock and the status bar's connection
line; and the image folder, asked for when this machine does not know it yet.

The window makes one :class:`TeamWindowPart` per open team project and closes it before the
session (the thread stops, then the session gives its claims back)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QLabel

from labelfix.core import project
from labelfix.core.suspects import SuspectIndex

from .. import workers
from ..session.change_follower import ChangeFollower
from ..session.team import RENEW_EVERY_S
from .panel import TeamPanel

if TYPE_CHECKING:
    from ..main_window import MainWindow
    from ..session import Session


class TeamWindowPart(QObject):
    """The team parts of one window showing one team project."""

    def __init__(self, window: MainWindow, session: Session) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        team = session.team
        assert team is not None
        self.team = team
        self.panel = TeamPanel(session)
        self.dock = window.team_dock
        self.dock.setWidget(self.panel)
        self.dock.show()
        summary = window.docks["summary"]
        if window.dockWidgetArea(self.dock) == window.dockWidgetArea(summary):
            window.tabifyDockWidget(summary, self.dock)  # a tab beside the summary: same room
        self.dock.raise_()
        self.banner = QLabel()
        self.banner.setObjectName("teamBanner")
        self.banner.setStyleSheet("color: #c0392b; font-weight: bold;")
        self.banner.hide()
        window.statusBar().addPermanentWidget(self.banner)
        team.changed.connect(self._connection_changed)
        team.refresh_claims()  # others' claims marked from the first paint on
        self.follower = ChangeFollower(session.store, team.start_seq, team.set_id)
        self.follower.changes.connect(team.apply_remote)
        self.follower.claims.connect(team.set_claims)
        self.follower.analysis.connect(self._analysis_seen)
        self._loading: workers.Worker | None = None
        self.follower.lost.connect(lambda text: team.set_connected(False, text))
        self.follower.back.connect(lambda: team.set_connected(True))
        self.follower.start()
        self.renewal = QTimer(self, interval=int(RENEW_EVERY_S * 1000))
        self.renewal.timeout.connect(team.renew)
        self.renewal.start()

    def _analysis_seen(self, analysis_id: int | None) -> None:
        """Someone re-analysed the project: load the new suspects in the background and show
        them (as after an analysis of one's own: the undo list starts afresh)."""
        if analysis_id is None or analysis_id == self.session.index.analysis_id:
            return
        if self._loading is not None or self.window.analysis_worker is not None:
            return  # one at a time; an analysis of this window's own is about to show
        worker = workers.Worker(load_index, self.session.target, takes_progress=False)
        self._loading = worker

        def loaded(index: SuspectIndex) -> None:
            if self.window.session is self.session and index.analysis_id != (
                self.session.index.analysis_id
            ):
                self.session.set_index(index)
                self.window.statusBar().showMessage(
                    "The project was analysed again by another reviewer: the list shows the "
                    "new analysis.",
                    10000,
                )

        worker.signals.finished.connect(loaded)
        worker.signals.done.connect(lambda _w: setattr(self, "_loading", None))
        workers.start(worker)

    def _connection_changed(self) -> None:
        team = self.team
        if team.connected:
            self.banner.hide()
            return
        waiting = len(team.unsaved)
        self.banner.setText(
            "Not connected to the team server — reconnecting"
            + (f"; {waiting} edit(s) NOT saved yet" if waiting else "")
        )
        self.banner.setToolTip(team.connection_note)
        self.banner.show()

    def close(self) -> None:
        """Stop following (before the session closes and gives its claims back)."""
        self.renewal.stop()
        self.follower.stop()
        self.window.statusBar().removeWidget(self.banner)
        self.banner.deleteLater()
        self.dock.setWidget(QLabel())
        self.dock.hide()
        self.panel.deleteLater()
        self.follower.deleteLater()


def load_index(target: object) -> SuspectIndex:
    """The reviewed analysis's suspect index, read on a connection of its own."""
    with project.open_project(target, readonly=True) as store:
        return SuspectIndex.load(store)


def ask_for_images(window: MainWindow, session: Session) -> bool:
    """A team project whose image folder this machine does not know (or that is gone): ask
    for it (where someone can answer), remember it, and show the images. True when known."""
    known = project.team_images(session.target)
    if known is not None and known.is_dir():
        return True
    missing = "is gone" if known is not None else "is not known on this machine yet"
    if QApplication.platformName() in ("offscreen", "minimal") or not window.isVisible():
        window.statusBar().showMessage(
            f"The image folder of {session.title} {missing}: File ▸ Open team project… "
            "(or `labelfix open URL --images DIR`) sets it.",
            15000,
        )
        return False
    folder = QFileDialog.getExistingDirectory(
        window, f"Where are the images of {session.title} on this machine?", str(known or "")
    )
    if not folder:
        return False
    project.remember_team_images(session.target, folder)
    window.canvas.attach(session)  # the images load from the new folder
    return True


def make_team_dock(window: MainWindow) -> QDockWidget:
    """The window's Team dock (empty and hidden until a team project opens)."""
    dock = QDockWidget("Team", window)
    dock.setObjectName("dock_team")
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    )
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()
    return dock
