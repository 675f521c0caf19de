"""The window's File and Analyse handlers and the jobs they start in the background (the demo
build, an analysis, a model run), with the status bar's job indicator (mixed into
:class:`.main_window.MainWindow`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog

from labelfix.core.errors import AnalysisParams

from . import jobs, relabel_dialogs, workers
from .demo import ensure_demo_project
from .dialogs import NewProjectDialog, ThresholdsDialog, choose_project_file
from .run_model import RunModelDialog
from .warnings_badge import import_summary


class JobHandlers:
    """New / open / demo / relabel, analyse and run a model (a mixin of the main window)."""

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
