"""The review window: wires the session to the table, canvas, inspector, summary and status
bar, and the actions table to handlers. The logic lives in session.py and the widgets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from labelfix.core.errors import AnalysisParams
from labelfix.core.project import AnalysisSummary, ProjectError, is_team_location

from . import export_dialogs, jobs, relabel_dialogs, workers
from .about import show_about
from .actions import build_actions, facts, update_enabled
from .canvas.view import CanvasView
from .demo import ensure_demo_project
from .dialogs import (
    ClassPicker,
    NewProjectDialog,
    ShortcutSheet,
    ThresholdsDialog,
    ask_flag_note,
    ask_open_locked,
    choose_project_file,
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
from .warnings_badge import WarningsBadge, import_summary
from .widgets import FilterBar, FocusFrame, JobIndicator, StatusCounts, TipBar

if TYPE_CHECKING:
    from labelfix.core.store.lock import LockHolder

DEMO_TIP = "A accepts the fix, R rejects, Space skips, ? shows all keys"
GRID_HIDES = ("inspector", "summary")  # docks the triage grid takes the room of
BULK_PROGRESS = 300  # bulk decisions on more suspects than this show a progress dialog
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


class MainWindow(QMainWindow):
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
        # a project file another app has open: open it anyway? (None: ask; offscreen: yes)
        self.open_locked: Callable[[LockHolder, Path | str], bool] | None = None
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
        if held is not None and not self._open_locked(held, path):
            return False
        try:
            session = Session.open(path, self)
        except ProjectError as exc:
            self._error(team_problem(exc, path) if team else open_problem(exc, path).sentence)
            return False
        self.set_session(session)
        self.tip.setVisible(tip)
        if session.is_team:
            QTimer.singleShot(0, lambda: self.session is session and ask_for_images(self, session))
        return True

    def _open_locked(self, held: LockHolder, path: Path | str) -> bool:
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
        self.setWindowTitle(f"{session.title}{reviewer} — LabelFix")
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

    # ------------------------------------------------------------------ file handlers
    def new_project(self) -> None:
        """Create a project from COCO files and open it."""
        dialog = NewProjectDialog(self, self.settings)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_path is not None:
            self.open_new_project(dialog.result_path)

    def open_new_project(self, path: Path) -> bool:
        """Open a project just imported; its warnings are in the status bar's badge (every
        project's are), and an image folder that holds none of the images in a message box."""
        if not self.open_path(path):
            return False
        warnings = [str(w) for w in self.session.store.get_meta("warnings", []) or []]
        if any(": (images folder): " in w for w in warnings):
            self.tell(import_summary(warnings))
        return True

    def open_project(self) -> None:
        """Pick a project file and open it."""
        path = choose_project_file(self, self.settings)
        if path is not None:
            self.start_page.open_checked(path)

    def open_demo(self) -> None:
        """Build the demo project in the background if needed, then open it with the tip bar."""
        worker = workers.Worker(ensure_demo_project)
        self.run_job(worker, "Preparing the demo…", lambda path: self.open_path(path, tip=True))

    def export_for_relabel(self) -> None:
        """Send the flagged (or the listed) suspects' images for re-labelling."""
        relabel_dialogs.export_for_relabel(self)

    def merge_relabelled(self) -> None:
        """Take a relabelled subset back (one undoable command)."""
        relabel_dialogs.merge_relabelled(self)

    # ------------------------------------------------------------------ analysis
    def analyze(self, *, every_set: bool = False) -> None:
        """Ask for thresholds (and, with several prediction sets, which to analyse together:
        the ones reviewed now, or every one with ``every_set``) and analyse in the background."""
        sets = self.session.prediction_sets()
        chosen = None if every_set else self.session.index.set_ids or None
        dialog = ThresholdsDialog(self.session.analysis_params(), self, sets=sets, chosen=chosen)
        if every_set:
            dialog.setWindowTitle("Analyse with several prediction sets")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.run_analysis(dialog.params(), dialog.chosen_sets())

    def run_analysis(
        self, params: AnalysisParams | None = None, set_ids: list[int] | None = None
    ) -> workers.Worker | None:
        """Analyse the project (with these prediction sets together; by default the ones
        reviewed now) in a worker with its own connection; the UI stays live."""
        if self.analysis_worker is not None:
            self.statusBar().showMessage("An analysis is already running.", 5000)
            return None
        self.session.write_pending()  # the analysis reads the project from another process
        worker = workers.Worker(
            jobs.in_subprocess, jobs.analyze_project, self.session.target, params, set_ids
        )
        self.analysis_worker = worker

        def finished(result: jobs.AnalysisResult) -> None:
            if self.session is not None:
                self.session.set_index(result.index)
            self.analysisFinished.emit(result.summary)

        worker.signals.done.connect(lambda _w: setattr(self, "analysis_worker", None))
        return self.run_job(worker, "Analysing…", finished)

    def run_model(self, model: Path | None = None) -> RunModelDialog:
        """Run an ONNX model on the project's images into a new prediction set, then analyse
        it (the dialog runs it in a child process)."""
        self.session.write_pending()  # the run's analysis reads the project from another process
        if self.model_dialog is not None and self.model_dialog.worker is None:
            self.model_dialog.deleteLater()  # the last one, closed
        dialog = RunModelDialog(
            self.session.target,
            self,
            model=model,
            params=self.session.analysis_params(),
            settings=self.settings,
        )
        dialog.completed.connect(self._model_run_finished)
        dialog.open()
        self.model_dialog = dialog
        return dialog

    def _model_run_finished(self, result: jobs.PredictResult) -> None:
        """Show the analysis of the model's new prediction set."""
        if self.session is not None:
            self.session.set_index(result.analysis.index)
        report = result.report
        self.statusBar().showMessage(
            f"Added {report.predictions} predictions of {report.info.path.name} as "
            f"{report.name!r} and analysed them.",
            10000,
        )
        self.analysisFinished.emit(result.analysis.summary)

    def run_job(
        self, worker: workers.Worker, text: str, on_finished: Callable[[Any], Any]
    ) -> workers.Worker:
        self.job.start(text)
        worker.signals.progress.connect(self.job.progress)
        worker.signals.finished.connect(on_finished)
        worker.signals.failed.connect(lambda exc: self._error(f"{text.rstrip('…')} failed: {exc}"))
        worker.signals.cancelled.connect(lambda: self.statusBar().showMessage("Cancelled.", 5000))
        worker.signals.done.connect(lambda _w: self.job.stop())
        return workers.start(worker)

    # ------------------------------------------------------------------ review handlers
    def accept(self) -> None:
        """Accept the selected suspect(s): apply the fix."""
        if self._suspect_in_view():
            self._decide("accepted")

    def accept_adjust(self) -> None:
        """Accept the current suspect and keep its resulting label selected on the canvas."""
        if not self._suspect_in_view():
            return
        if self.session.decide("accepted", adjust=True) and self.session.selected_label:
            self.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)  # arrows nudge it now

    def cycle_fix(self) -> None:
        """Choose the next form of the current suspect's fix (the ghost follows)."""
        if self.session.fix_choice.cycle() is None:
            self.canvas.say("This fix has only one form.")

    def reject(self) -> None:
        """Reject the selected suspect(s): not a label error."""
        if self._suspect_in_view():
            self._decide("rejected")

    def flag(self) -> None:
        """Flag the selected suspect(s) for later, with an optional note."""
        if not self._suspect_in_view():
            return
        rows = self.selected_rows()
        seen = self.session.statuses(rows if len(rows) > 1 else None)  # others may decide
        note, ok = ask_flag_note(self, self.canvas.suspect_on_screen())  # meanwhile
        if ok:
            self._decide("flagged", note.strip() or None, seen=seen)

    def _suspect_in_view(self) -> bool:
        """Whether a decision key may decide now. The canvas can show another image than the
        current suspect's (the label adjusted after Shift+A, an undone edit elsewhere): then
        the key first shows the suspect it would decide (as Space does), nothing is decided."""
        s = self.session
        if s is None or s.view_image_id is None or self.grid_shown():
            return True
        if len(self.selected_rows()) > 1 or not s.step(1):
            return True
        self.canvas.say(
            "Not decided yet: the canvas showed another image. This is the suspect the key "
            "decides; press it again."
        )
        return False

    def selected_rows(self) -> list[int]:
        """The rows selected in the view the reviewer works in: the grid when it is shown,
        else the table."""
        if self.grid_shown():
            return self.grid.selected_rows()
        return self.table.selected_rows() if self.table is not None else []

    def reopen(self) -> None:
        """Reopen the selected decided suspect(s): clear the decision, revert an accepted fix."""
        rows = self.selected_rows()
        self.session.reopen(rows if len(rows) > 1 else None)

    def grid_shown(self) -> bool:
        """Whether the triage grid is shown (else the canvas)."""
        return self.views.currentWidget() is self.grid

    def toggle_grid(self) -> None:
        """Show the triage grid instead of the canvas, or back."""
        self.show_grid(not self.grid_shown())

    def show_grid(self, on: bool) -> None:
        """Show the triage grid (True) or the canvas (False), with the keyboard focus; the
        grid takes the room of the inspector and summary (they come back with the canvas)."""
        if on == self.grid_shown():
            return
        view = self.grid if on else self.canvas
        self.views.setCurrentWidget(view)
        for name in GRID_HIDES:
            dock = self.docks[name]
            if on:
                self._hidden_by_grid[name] = dock.isVisible()
                dock.hide()
            elif self._hidden_by_grid.pop(name, False) and self.session is not None:
                dock.show()
        view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_from_grid(self) -> None:
        """Show the grid's current suspect in the canvas."""
        self.show_grid(False)

    def _decide(
        self, decision: str, note: str | None = None, seen: dict[str, str] | None = None
    ) -> None:
        rows = self.selected_rows()
        if len(rows) <= 1:
            self.session.decide(decision, note, seen=seen)
            return
        progress = None
        if len(rows) > BULK_PROGRESS:
            progress = QProgressDialog(
                f"Recording {decision} on {len(rows)} suspects…", "", 0, 0, self
            )
            progress.setCancelButton(None)
            progress.setWindowModality(Qt.WindowModality.WindowModal)
            progress.show()
            QApplication.processEvents()
        try:
            self.session.decide(decision, note, rows, seen=seen)
        finally:
            if progress is not None:
                progress.close()

    def select_all_listed(self) -> None:
        """Select every suspect the filter lists (for a bulk decision)."""
        if self.grid_shown():
            self.grid.select_all()
        elif self.table is not None:
            self.table.selectAll()

    def change_class(self) -> None:
        """Pick another class for the selected label, else the current suspect's label, else
        the class new labels take (type to search)."""
        s = self.session
        suspect = s.current()
        ann = s.selected_annotation()
        if ann is None and suspect and suspect["annotation_id"] and s.view_image_id is None:
            ann = s.store.annotation(suspect["annotation_id"])
        current = ann["category_id"] if ann is not None else s.labels.current_draw_category()
        picker = ClassPicker(s.category_names, current, self)
        if picker.exec() != QDialog.DialogCode.Accepted or picker.chosen() is None:
            return
        if ann is None:
            s.labels.draw_category = picker.chosen()
            name = s.category_names.get(picker.chosen(), "?")
            self.canvas.say(f"New labels will be {name}.")
            self.canvas.update_tool_hint()
        else:
            s.labels.set_category(picker.chosen())
            self.canvas.update_tool_hint()

    def quick_class(self, n: int) -> None:
        """Give the label the n-th most frequent class."""
        classes = self.session.labels.quick_classes()
        if 1 <= n <= len(classes):
            self.session.labels.set_category(classes[n - 1][0])
            self.canvas.update_tool_hint()

    def toggle_history(self) -> None:
        """Show or hide the History (the undo stack, one line per command)."""
        self.history_dock.setVisible(self.session is not None and not self.history_dock.isVisible())

    def show_shortcuts(self) -> None:
        """Show every key."""
        ShortcutSheet(self).exec()
