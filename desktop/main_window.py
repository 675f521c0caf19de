"""The review window: wires the session to the table, canvas, inspector, summary and status
bar, and the actions table to handlers (the Review ones in window_review.py, File and Analyse
in window_jobs.py). The logic lives in the session and the widgets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from labelfix.core.project import AnalysisSummary, ProjectError, is_team_location

from . import export_dialogs, workers
from .about import show_about
from .actions import build_actions, facts, update_enabled
from .canvas.view import CanvasView
from .dialogs import (
    READ_ONLY,
    ask_open_locked,
)
from .errors import open_problem, team_display, team_problem
from .filter_hint import FilterHint
from .grid.view import TriageGrid
from .history import HistoryView
from .images import ImageLoader
from .inspector import Inspector
from .run_model import RunModelDialog
from .session import Session
from .start_page import StartPage, remember_project, remember_team_project
from .summary import SummaryPanel
from .table import SuspectTable
from .team.controller import TeamWindowPart, ask_for_images, make_team_dock
from .team.open_dialog import OpenTeamDialog
from .warnings_badge import WarningsBadge
from .widgets import FilterBar, FocusFrame, JobIndicator, StatusCounts, TipBar
from .window_jobs import JobHandlers
from .window_review import GRID_HIDES, ReviewHandlers

if TYPE_CHECKING:
    from labelfix.core.store.lock import LockHolder

DEMO_TIP = "A accepts the fix, R rejects, Space skips, ? shows all keys"
FIRST_SIZE = 0.85  # share of the screen the window takes the first time it opens
CANVAS_SHARE = 1 / 3  # a narrower window takes room from the side docks below this share
SIDES = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
MENUS = {
    "&File": [
        "new_project",
        "open_project",
        "open_team_project",
        "open_demo",
        None,
        "export",
        "export_changes",
        None,
        "export_relabel",
        "merge_relabelled",
        None,
        "close_project",
        "quit",
    ],
    "&Edit": [
        "undo",
        "redo",
        None,
        "box_tool",
        "polygon_tool",
        None,
        "change_class",
        "duplicate",
        "delete_label",
        "remove_vertex",
        "convert_polygon",
        None,
        "history",
    ],
    "&Review": [
        "accept",
        "accept_adjust",
        "cycle_fix",
        "reject",
        "flag",
        "reopen",
        None,
        "next",
        "previous",
        None,
        "change_class",
    ],
    "&View": [
        "toggle_grid",
        "grid_open",
        "focus_table",
        "sort_next",
        "sort_reverse",
        None,
        "zoom_in",
        "zoom_out",
        "fit",
        "zoom_suspect",
        None,
        "toggle_predictions",
        "toggle_other_predictions",
        "toggle_labels",
    ],
    "&Analyse": ["analyze", "analyze_sets", "run_model"],
    "&Help": ["shortcuts"],
}


class MainWindow(ReviewHandlers, JobHandlers, QMainWindow):
    """The LabelFix window: start page, or the review of one project."""

    analysisFinished = Signal(object)  # AnalysisSummary
    projectOpened = Signal(object)  # the project file, or a team location

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.session: Session | None = None
        self.export_folder: Path | None = None  # the folder of this project's last export
        self.analysis_worker: workers.Worker | None = None
        self.model_dialog: RunModelDialog | None = None
        self.setWindowTitle("LabelFix")
        self.loader = ImageLoader(parent=self)
        self.canvas = CanvasView(loader=self.loader)
        self.grid = TriageGrid()
        self.grid.openRequested.connect(self.open_from_grid)
        self._hidden_by_grid: dict[str, bool] = {}
        self.views = QStackedWidget()  # the canvas, or the triage grid (G)
        self.views.addWidget(self.canvas)
        self.views.addWidget(self.grid)
        self.tip = TipBar(DEMO_TIP)
        self.tip.hide()
        review = QWidget()
        column = QVBoxLayout(review)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.tip)
        column.addWidget(self.views, 1)
        self.start_page = StartPage(settings=self.settings)
        self.start_page.newProject.connect(self.new_project)
        self.start_page.openProject.connect(self.open_project)
        self.start_page.openDemo.connect(self.open_demo)
        self.start_page.openTeam.connect(self.open_team_project)
        self.start_page.openRecent.connect(self.open_path)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(review)
        self.stack.currentChanged.connect(self._only_shown_page_sized)
        self._only_shown_page_sized()
        self.setCentralWidget(self.stack)
        self.docks = {
            name: self._dock(name, title, area)
            for name, title, area in (
                ("suspects", "Suspects", Qt.DockWidgetArea.LeftDockWidgetArea),
                ("inspector", "Inspector", Qt.DockWidgetArea.RightDockWidgetArea),
                ("summary", "Summary", Qt.DockWidgetArea.RightDockWidgetArea),
            )
        }
        self.history_dock = self._dock("history", "History", Qt.DockWidgetArea.RightDockWidgetArea)
        self.history_dock.setFeatures(
            self.history_dock.features() | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.history_dock.hide()
        self.team_dock = make_team_dock(self)  # a team project's connection, claims, reviewers
        self.team_part: TeamWindowPart | None = None
        panes = [self.views, *self.docks.values(), self.history_dock, self.team_dock]
        self.focus_frame = FocusFrame(panes)  # an accent frame on the pane with the focus
        self.history: HistoryView | None = None
        self.ask_on_close: bool | None = None  # None: ask unless headless (offscreen)
        # a project file another app has open: open it read-only (READ_ONLY), anyway (True)
        # or not (False)? (None: ask; offscreen: anyway)
        self.open_locked: Callable[[LockHolder, Path | str], bool | str] | None = None
        self.actions = build_actions(
            self, self.settings, scopes={"canvas": self.canvas, "grid": self.grid}
        )
        # a message shown before the window was (the "no analysis yet" one) left the counts
        # visible under it: Qt hides only visible normal widgets; hide and show them here
        self.statusBar().messageChanged.connect(self._counts_under_message)
        self.analysisFinished.connect(self._show_analysis_warnings)
        self._build_menus()
        self.badge = WarningsBadge()  # the import's and the analysis's warnings, one click away
        self.statusBar().addPermanentWidget(self.badge)
        self.job = JobIndicator()
        self.job.cancelRequested.connect(workers.cancel_all)
        self.statusBar().addPermanentWidget(self.job)
        self.counts: StatusCounts | None = None
        self.read_only_note: QLabel | None = None  # a read-only project says why, always shown
        self.table: SuspectTable | None = None
        self.filter_hint: FilterHint | None = None
        self.filter_bar: FilterBar | None = None
        self._show_start()

    def _only_shown_page_sized(self) -> None:
        """Only the shown page (start page or review) sets how small the centre can get: a
        hidden start page's row of buttons kept the review window wider than a laptop screen."""
        for i in range(self.stack.count()):
            page = self.stack.widget(i)
            policy = (
                QSizePolicy.Policy.Preferred
                if i == self.stack.currentIndex()
                else QSizePolicy.Policy.Ignored
            )
            page.setSizePolicy(policy, policy)

    def _dock(self, name: str, title: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        for title, ids in MENUS.items():
            menu = self.menuBar().addMenu(title)
            for action_id in ids:
                if action_id is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self.actions[action_id])
            if title == "&Review":
                quick = menu.addMenu("Set class (1-9)")
                for n in range(1, 10):
                    quick.addAction(self.actions[f"quick_class_{n}"])
                menu.addAction("Select all listed suspects", self.select_all_listed)
            if title == "&Help":
                menu.addSeparator()
                menu.addAction("About LabelFix", lambda: show_about(self))

    # ------------------------------------------------------------------ project
    def open_path(self, path: Path | str, *, tip: bool = False) -> bool:
        """Open a project file or a team project's ``postgresql://`` URL; a problem is shown
        as a sentence. A team project whose images this machine does not know asks for them."""
        team = is_team_location(path)
        held = Session.opened_elsewhere(path)
        choice = True if held is None else self._open_locked(held, path)
        if not choice:
            return False
        try:
            session = Session.open(path, self, read_only=held if choice == READ_ONLY else None)
        except ProjectError as exc:
            self._error(team_problem(exc, path) if team else open_problem(exc, path).sentence)
            return False
        self.set_session(session)
        self.tip.setVisible(tip)
        if session.is_team:
            QTimer.singleShot(0, lambda: self.session is session and ask_for_images(self, session))
        return True

    def _open_locked(self, held: LockHolder, path: Path | str) -> bool | str:
        if self.open_locked is not None:
            return self.open_locked(held, path)
        return QApplication.platformName() == "offscreen" or ask_open_locked(self, held, path)

    def open_team_project(self) -> bool:
        """File ▸ Open team project…: the server, the project and this machine's image folder."""
        dialog = OpenTeamDialog(self, url=str(self.settings.value("team/last", "") or ""))
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            location = dialog.location
        finally:
            dialog.close()  # its pending listing stops with it
            dialog.deleteLater()
        if not accepted or location is None:
            return False
        self.settings.setValue("team/last", team_display(location))  # no password
        return self.open_path(location)

    def set_session(self, session: Session) -> None:
        """Show a project: build the views that follow its session."""
        self.close_project()
        self.session = session
        self.export_folder = None  # a new project: its exports start beside it
        self.table = SuspectTable(session)
        suspects = QWidget()
        column = QVBoxLayout(suspects)
        column.setContentsMargins(0, 0, 0, 0)
        self.filter_bar = FilterBar(session)
        column.addWidget(self.filter_bar)
        self.filter_hint = FilterHint(session)
        column.addWidget(self.filter_hint)
        column.addWidget(self.table, 1)
        self.docks["suspects"].setWidget(suspects)
        self.docks["inspector"].setWidget(Inspector(session))
        self.docks["summary"].setWidget(SummaryPanel(session))
        self.counts = StatusCounts(session)
        self.statusBar().addWidget(self.counts, 1)
        if session.read_only is not None:
            self.read_only_note = read_only_note(session)
            # first of the permanent widgets (index 1: after the counts), before the badge
            self.statusBar().insertPermanentWidget(1, self.read_only_note)
        self.badge.set_warnings("Import", session.store.get_meta("warnings", []) or [])
        # Qt shows an added status bar widget by a queued call, after a message shown before it
        # ("no analysis yet"): hide the counts again once that has run
        QTimer.singleShot(0, self._counts_under_message)
        session.errorOccurred.connect(lambda text: self.statusBar().showMessage(text, 8000))
        session.history.stepFailed.connect(self._error)  # a write failed: never only a status line
        for signal in (
            session.selectionChanged,
            session.labelSelectionChanged,
            session.suspectsChanged,
            session.undo_stack.indexChanged,
            session.undo_stack.canUndoChanged,
            session.undo_stack.canRedoChanged,
            session.labels.burstChanged,
        ):
            signal.connect(self.update_actions)
        self.history = HistoryView(session.undo_stack)
        self.history_dock.setWidget(self.history)
        self.canvas.attach(session)
        self.grid.attach(session)
        if session.is_team:
            self.team_part = TeamWindowPart(self, session)
        self.views.setCurrentWidget(self.canvas)
        self._hidden_by_grid.clear()
        for dock in self.docks.values():
            dock.show()
        self.stack.setCurrentIndex(1)
        state = self.settings.value("window/state")
        restored = state is not None and self.restoreState(state)
        for name in GRID_HIDES:  # a layout saved while the grid was shown hides them
            self.docks[name].show()
        if not restored:
            # as wide as the table needs (every column whole), at most 40% of the window
            width = min(self.table.natural_width(), int(self.width() * 0.40))
            self.resizeDocks([self.docks["suspects"]], [width], Qt.Orientation.Horizontal)
            # the inspector 20% wide, but room for the summary's titles on one line (about
            # 340 px) unless that takes more than 24% (a small screen: they wrap)
            right = min(max(int(self.width() * 0.20), 340), int(self.width() * 0.24))
            self.resizeDocks([self.docks["inspector"]], [right], Qt.Orientation.Horizontal)
            # the inspector as tall as its sections (it scrolls beyond 60%), the summary the rest
            tall = min(self.docks["inspector"].widget().sizeHint().height(), self.height() * 3 // 5)
            self.resizeDocks(
                [self.docks["inspector"], self.docks["summary"]],
                [tall, self.height() - tall],
                Qt.Orientation.Vertical,
            )
        # a team project's windows (one per reviewer) say whose each is
        reviewer = f" — {session.store.reviewer}" if session.is_team else ""
        read_only = " (read-only)" if session.read_only is not None else ""
        self.setWindowTitle(f"{session.title}{reviewer}{read_only} — LabelFix")
        self.setWindowFilePath(session.location)
        if session.path is not None:
            remember_project(session.path, self.settings)
        else:  # a team project: its URL as shown (never a password)
            remember_team_project(session.location, self.settings)
        if not session.analysed():
            self.statusBar().showMessage(
                "This project has no analysis yet: Analyse ▸ Analyse with thresholds…", 10000
            )
        self.table.setFocus()
        self.update_actions()
        self.projectOpened.emit(session.target)

    def close_project(self) -> None:
        """Save the review state and return to the start page."""
        if self.session is None:
            return
        self.show_grid(False)  # the layout is saved as the canvas has it (docks back)
        self.save_layout()
        if self.analysis_worker is not None:
            self.analysis_worker.cancel()
            QThreadPool.globalInstance().waitForDone()
        if self.team_part is not None:
            self.team_part.close()  # the follower stops before the session lets go
            self.team_part = None
        self.canvas.attach(None)
        self.grid.attach(None)
        for dock in [*self.docks.values(), self.history_dock]:
            old = dock.widget()
            dock.setWidget(QLabel())
            if old is not None:
                old.deleteLater()
        self.history = None
        self.badge.clear()
        if self.counts is not None:
            self.statusBar().removeWidget(self.counts)
            self.counts.deleteLater()
            self.counts = None
        if self.read_only_note is not None:
            self.statusBar().removeWidget(self.read_only_note)
            self.read_only_note.deleteLater()
            self.read_only_note = None
        self.table = None
        self.filter_hint = None
        self.filter_bar = None
        self.session.close()
        self.session.deleteLater()
        self.session = None
        self._show_start()

    def _counts_under_message(self, *args: object) -> None:
        """The counts hide while the status bar shows a message, and show again after it."""
        counts = getattr(self, "counts", None)  # connected before the first project
        if counts is not None:
            text = args[0] if args else self.statusBar().currentMessage()
            counts.setVisible(not text)

    def update_actions(self, *_args: object) -> None:
        """Enable the actions that are possible now (menus grey the others, keys skip them)."""
        update_enabled(self.actions, facts(self.session))

    def _show_start(self) -> None:
        self.update_actions()
        self.start_page.refresh()
        self.stack.setCurrentIndex(0)
        for dock in [*self.docks.values(), self.history_dock]:
            dock.hide()
        self.setWindowTitle("LabelFix")

    def save_layout(self) -> None:
        """Remember the window geometry and dock layout (QSettings) and the review state (project)."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        if self.session is not None:
            self.settings.setValue("window/state", self.saveState())
            self.session.save_ui_state()

    def restore_geometry(self) -> None:
        """Put the window where it was last time; the first time, centred on 85% of the screen."""
        geometry = self.settings.value("window/geometry")
        if geometry is not None and self.restoreGeometry(geometry):
            return
        screen = self.screen().availableGeometry()
        self.resize(int(screen.width() * FIRST_SIZE), int(screen.height() * FIRST_SIZE))
        self.move(screen.center() - self.rect().center())

    def request_close_project(self) -> None:
        """Close the project (after asking, if there are unexported edits)."""
        if self.confirm_unexported():
            self.close_project()

    def confirm_unexported(self) -> bool:
        """With unexported edits, ask: export them, discard (close anyway) or cancel; False to
        stay. The project itself is always saved; only the COCO export is missing."""
        if self.session is None:
            return True
        self.session.write_pending()  # a nudge burst in progress counts
        if self.session.edits_since_export() == 0:
            return True
        ask = self.ask_on_close
        if ask is None:
            ask = QApplication.platformName() != "offscreen"
        if not ask:
            return True
        n = self.session.edits_since_export()
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Unexported edits",
            f"{n} edit{'s' if n != 1 else ''} since the last export. The project keeps them, "
            "but the COCO file does not have them yet.\n\nExport the corrected COCO now?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        if answer == buttons.Save:
            return export_dialogs.export(self)
        return answer == buttons.Discard

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self.session is not None and event.size().width() < event.oldSize().width():
            QTimer.singleShot(0, self._canvas_room)

    def _canvas_room(self) -> None:
        """Narrow the side docks in proportion when the canvas got less than CANVAS_SHARE of
        the window (Qt squeezes the centre first, to a sliver, and keeps the docks' widths)."""
        docks = [d for d in self.docks.values() if d.isVisible() and not d.isFloating()]
        side = {self.dockWidgetArea(d): d for d in docks}  # one per side: the stack shares it
        shown = [d for a, d in side.items() if a in SIDES]
        room = int(self.width() * CANVAS_SHARE) - self.centralWidget().width()
        total = sum(d.width() for d in shown)
        if room <= 0 or not total:
            return
        scale = max(0.0, (total - room) / total)
        widths = [int(d.width() * scale) for d in shown]
        self.resizeDocks(shown, widths, Qt.Orientation.Horizontal)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self.confirm_unexported():
            event.ignore()
            return
        workers.cancel_all()
        self.close_project()
        QThreadPool.globalInstance().waitForDone()
        self.loader.pool.waitForDone()
        event.accept()

    def show_error(self, text: str) -> None:
        """Say a problem in the status bar, and in a message box where someone sees it."""
        self._error(text)

    def _show_analysis_warnings(self, summary: AnalysisSummary) -> None:
        """Say what the analysis could not use (e.g. image files its image evidence could not
        read) in the warnings badge, beside the counts (a message took their place)."""
        self.badge.set_warnings("Analysis", list(summary.warnings))

    def _error(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)
        self.tell(text)

    def tell(self, text: str) -> None:
        """A message box, where someone sees it (not offscreen)."""
        if self.isVisible() and QApplication.platformName() != "offscreen":
            QMessageBox.warning(self, "LabelFix", text)


def read_only_note(session: Session) -> QLabel:
    """The status bar's standing line for a project open read-only: who holds it, what is off
    (the whole sentence and what to do in its tool tip)."""
    held = session.lock_holder
    who = held.short() if held is not None else "open in another LabelFix"
    note = QLabel(f"Read-only: {who}")
    note.setObjectName("readOnlyNote")
    note.setToolTip(
        f"{session.read_only}. Edits and decisions are off here: browse the suspects, look "
        "and export; to edit, close it there, then open it here again."
    )
    return note
