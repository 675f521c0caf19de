"""Dialogs: new project from COCO (import + analyse in a worker), analysis thresholds, the
class picker and the keyboard shortcut sheet; the file pickers, which start in the folder the
user last picked from (QSettings ``paths/last_folder``)."""

from __future__ import annotations

import html
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QRect, QSettings, QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from labelfix.core.coco import CocoError
from labelfix.core.errors import AnalysisParams

from . import jobs, workers
from .actions import shortcut_rows

if TYPE_CHECKING:
    from labelfix.core.store.lock import LockHolder

LAST_FOLDER_KEY = "paths/last_folder"
JSON_FILTER = "JSON (*.json);;All files (*)"
PROJECT_FILTER = "LabelFix project (*.labelfix);;All files (*)"


def last_folder(settings: QSettings | None = None) -> str:
    """The folder the last file or folder was picked from (the home folder at first)."""
    value = (settings or QSettings()).value(LAST_FOLDER_KEY)
    if value and Path(str(value)).is_dir():
        return str(value)
    return str(Path.home())


def remember_folder(chosen: Path | str, settings: QSettings | None = None) -> None:
    """Remember the folder holding a picked file or folder, for the next picker.

    A picked folder's parent is kept, not the folder: the next pick (a labels or predictions
    JSON) usually sits beside the image folder, and opening a picker inside a folder of
    thousands of images is slow."""
    parent = Path(chosen).expanduser().parent
    if str(chosen) and parent.is_dir():
        (settings or QSettings()).setValue(LAST_FOLDER_KEY, str(parent))


def choose_project_file(parent: QWidget | None, settings: QSettings | None = None) -> Path | None:
    """Ask for a .labelfix file, starting in the last folder; None when cancelled."""
    chosen, _ = QFileDialog.getOpenFileName(
        parent, "Open project", last_folder(settings), PROJECT_FILTER
    )
    if not chosen:
        return None
    remember_folder(chosen, settings)
    return Path(chosen)


def guess_json_role(path: Path) -> str:
    """ "labels" for a COCO dataset (a JSON object), "predictions" for a results list."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096).lstrip()
    except OSError:
        return "labels"
    return "predictions" if head.startswith("[") else "labels"


class PathField(QWidget):
    """A line edit with a Browse… button (file or folder); ``chosen`` fires when the user picks
    a path with the button."""

    chosen = Signal(Path)
    MIN_CHARS = 72  # a path field shows this many characters at least

    def __init__(
        self,
        caption: str,
        *,
        folder: bool = False,
        save: bool = False,
        filt: str = "",
        settings: QSettings | None = None,
    ) -> None:
        super().__init__()
        self.caption, self.folder, self.save, self.filt = caption, folder, save, filt
        self.settings = settings
        self.edit = QLineEdit()
        self.edit.setMinimumWidth(self.edit.fontMetrics().averageCharWidth() * self.MIN_CHARS)
        button = QPushButton("Browse…")
        button.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(button)

    def path(self) -> Path | None:
        """The chosen path, or None when empty."""
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_path(self, path: Path | str | None) -> None:
        """Show a path."""
        self.edit.setText("" if path is None else str(path))

    def _browse(self) -> None:
        start = self.edit.text().strip() or last_folder(self.settings)
        if self.folder:
            chosen = QFileDialog.getExistingDirectory(self, self.caption, start)
        elif self.save:
            chosen = QFileDialog.getSaveFileName(self, self.caption, start, self.filt)[0]
        else:
            chosen = QFileDialog.getOpenFileName(self, self.caption, start, self.filt)[0]
        if chosen:
            remember_folder(chosen, self.settings)
            self.set_path(chosen)
            self.chosen.emit(Path(chosen))


LABELS_FIELD = "Labels (COCO JSON)"
IMAGES_FIELD = "Image folder"
PREDICTIONS_FIELD = "Predictions (COCO results)"
MODEL_FIELD = "…or run a model (ONNX)"
OUTPUT_FIELD = "Project file"
CREATE = "Create and analyse"
DROP_TIP = "Tip: drop the files and the image folder here."


def suggested_project(labels_text: str) -> Path | None:
    """The project file for a labels path as typed: beside it, named after it
    (``/data/labels.json`` -> ``/data/labels.labelfix``); None while the text names no file
    (empty, ``/``, ``~``, a path ending in a separator)."""
    text = labels_text.strip()
    if not text or text.endswith(("/", os.sep)):
        return None
    path = Path(text).expanduser()
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    if not stem or stem in (".", ".."):
        return None
    return path.with_name(stem + ".labelfix")


def writable_folder(folder: Path | str) -> bool:
    """Whether a project file can be created in ``folder`` (it exists and may be written)."""
    return Path(folder).is_dir() and os.access(folder, os.W_OK)


def fallback_folder() -> Path:
    """Where a project goes when the labels' folder is read-only: Documents, else home."""
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs) if docs and writable_folder(docs) else Path.home()


class NewProjectDialog(QDialog):
    """Create a project from COCO labels, an image folder and predictions; import and analyse
    in a worker with progress and Cancel; validation problems are listed, never a traceback."""

    projectCreated = Signal(Path)

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project from COCO")
        self.setAcceptDrops(True)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 90)
        self.labels = PathField("COCO labels JSON", filt=JSON_FILTER, settings=settings)
        self.images = PathField("Image folder", folder=True, settings=settings)
        self.predictions = PathField("Predictions JSON", filt=JSON_FILTER, settings=settings)
        self.model = PathField(
            "ONNX model", filt="ONNX model (*.onnx);;All files (*)", settings=settings
        )
        self.model.edit.setPlaceholderText("instead of a results file: LabelFix runs the model")
        self.model.edit.textChanged.connect(self._model_changed)
        self.output = PathField(
            "Project file", save=True, filt="LabelFix project (*.labelfix)", settings=settings
        )
        self.output_follows = True  # derived from the labels path until the user sets it
        self.labels.edit.textChanged.connect(self._suggest_output)
        self.output.edit.textEdited.connect(self._output_chosen)
        self.output.chosen.connect(self._output_chosen)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(LABELS_FIELD, self.labels)
        form.addRow(IMAGES_FIELD, self.images)
        form.addRow(PREDICTIONS_FIELD, self.predictions)
        form.addRow(MODEL_FIELD, self.model)
        form.addRow(OUTPUT_FIELD, self.output)
        self.hint = QLabel(DROP_TIP)
        self.hint.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel()
        self.problems = QPlainTextEdit(readOnly=True)
        self.problems.setObjectName("problems")
        self.problems.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton(CREATE, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.buttons)
        self.worker: workers.Worker | None = None
        self.result_path: Path | None = None
        self.model_dialog: QDialog | None = None  # Run a model…, once the labels are imported
        self.settings = settings

    def set_paths(
        self, labels: Path, images: Path | None, predictions: Path | None, output: Path
    ) -> None:
        """Fill every field (for drag and drop, the command line and tests)."""
        self.labels.set_path(labels)
        self.images.set_path(images)
        self.predictions.set_path(predictions)
        self.output.set_path(output)

    def _suggest_output(self, text: str) -> None:
        """Keep the project file beside the labels file, named after it (labels.json ->
        labels.labelfix), until the user sets the project file."""
        if not self.output_follows:
            return
        path, note = suggested_project(text), DROP_TIP
        if path is not None and path.parent.is_dir() and not writable_folder(path.parent):
            fallback = fallback_folder()  # the shared data folder is read-only for its users
            note = f"{path.parent} is read-only: the project file goes in {fallback}."
            path = fallback / path.name
        self.output.set_path(path)
        self.hint.setText(note)

    def _output_chosen(self, *_args: object) -> None:
        self.output_follows = False

    def _model_changed(self, text: str) -> None:
        self.create_button.setText("Create, then run the model…" if text.strip() else CREATE)

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        for url in event.mimeData().urls():
            self.assign_dropped(Path(url.toLocalFile()))
        event.acceptProposedAction()

    def assign_dropped(self, path: Path) -> None:
        """Put a dropped file or folder into the field it belongs to."""
        if path.is_dir():
            self.images.set_path(path)
        elif path.suffix == ".onnx":
            self.model.set_path(path)
        elif path.suffix == ".labelfix":
            self.output.set_path(path)
            self.output_follows = False
        elif guess_json_role(path) == "predictions":
            self.predictions.set_path(path)
        else:
            self.labels.set_path(path)

    # ------------------------------------------------------------------ run
    def start(self) -> bool:
        """Check the fields and start the import + analysis worker."""
        labels, images, preds, out = (
            self.labels.path(),
            self.images.path(),
            self.predictions.path(),
            self.output.path(),
        )
        problems = []
        if labels is None:
            problems.append(f"{LABELS_FIELD}: choose the COCO labels JSON file.")
        elif not labels.is_file():
            problems.append(f"{LABELS_FIELD}: {labels}: no such file.")
        if images is not None and not images.is_dir():
            problems.append(f"{IMAGES_FIELD}: {images}: no such folder.")
        if preds is not None and not preds.is_file():
            problems.append(f"{PREDICTIONS_FIELD}: {preds}: no such file.")
        model = self.model.path()
        if model is not None and preds is not None:
            problems.append(f"{MODEL_FIELD}: give predictions or a model, not both.")
        elif model is not None and not model.is_file():
            problems.append(f"{MODEL_FIELD}: {model}: no such file.")
        elif model is not None and images is None:
            problems.append(f"{IMAGES_FIELD}: a model needs the images; choose their folder.")
        if out is None or not out.name:
            problems.append(f"{OUTPUT_FIELD}: choose where to save the project (a .labelfix file).")
            out = None
        elif out.suffix != ".labelfix":
            out = (
                out.with_name(out.name + ".labelfix")
                if out.suffix == ""
                else out.with_suffix(".labelfix")
            )
            self.output.set_path(out)
        if out is not None and out.exists():
            problems.append(f"{OUTPUT_FIELD}: {out} already exists; choose another name.")
        elif out is not None and out.parent.is_dir() and not writable_folder(out.parent):
            problems.append(
                f"{OUTPUT_FIELD}: {out.parent} is read-only; choose a folder you can write to."
            )
        if problems:
            self._show_problems("\n".join(problems))
            return False
        self.problems.hide()
        self.progress.show()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status.setText("Reading and checking the files…")
        self.create_button.setEnabled(False)
        self.worker = workers.Worker(
            jobs.in_subprocess, jobs.import_and_analyze, labels, images, preds, out
        )
        self.worker.signals.progress.connect(self._progress)
        self.worker.signals.finished.connect(self._finished)
        self.worker.signals.failed.connect(self._failed)
        self.worker.signals.cancelled.connect(self._cancelled)
        workers.start(self.worker)
        return True

    def cancel(self) -> None:
        """Stop a running import, or close the dialog."""
        if self.worker is not None:
            self.status.setText("Cancelling…")
            self.worker.cancel()
        else:
            self.reject()

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText("Importing…" if done < 30 else "Analysing…")

    def _finished(self, path: Path) -> None:
        self.worker = None
        self.result_path = Path(path)
        model = self.model.path()
        if model is not None:
            self._run_model(model)
            return
        self.status.setText("Done.")
        self.projectCreated.emit(self.result_path)
        self.accept()

    def _run_model(self, model: Path) -> None:
        """The labels are in the project: Run a model… on it (mapping, progress, cancel). The
        project is opened whether the run completes or not (a cancelled run goes on from
        Analyse ▸ Run a model…)."""
        from .run_model import RunModelDialog  # it uses this module's PathField

        self.progress.hide()
        self.status.setText(f"Created {self.result_path.name}; now running {model.name}…")
        dialog = RunModelDialog(self.result_path, self, model=model, settings=self.settings)
        self.model_dialog = dialog
        dialog.finished.connect(self._model_dialog_closed)
        dialog.open()

    def _model_dialog_closed(self, _code: int) -> None:
        self.projectCreated.emit(self.result_path)
        self.accept()

    def _failed(self, exc: object) -> None:
        self.worker = None
        self.progress.hide()
        self.create_button.setEnabled(True)
        if isinstance(exc, CocoError):
            self._show_problems(str(exc))
        else:
            self._show_problems(f"The project could not be created: {exc}")

    def _cancelled(self) -> None:
        self.worker = None
        self.progress.hide()
        self.create_button.setEnabled(True)
        self.status.setText("Cancelled; no project was written.")

    def _show_problems(self, text: str) -> None:
        self.status.setText("Please fix these problems:")
        self.problems.setPlainText(text)
        self.problems.show()


class ThresholdsDialog(QDialog):
    """Edit the analysis thresholds (AnalysisParams) and, for a project with several prediction
    sets, choose the sets analysed together (each set's suspects merged: a suspect several
    models support scores higher)."""

    def __init__(
        self,
        params: AnalysisParams | None,
        parent: QWidget | None = None,
        *,
        sets: list[dict] | None = None,
        chosen: list[int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Analyse")
        p = params or AnalysisParams()

        def spin(value: float, tip: str) -> QDoubleSpinBox:
            box = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05, value=value)
            box.setToolTip(tip)
            return box

        self.iou = spin(p.iou_threshold, "COCO match threshold")
        self.low_iou = spin(p.low_iou, "Below this a prediction and a label do not overlap")
        self.wrong_class_iou = spin(
            p.wrong_class_iou, "An other-class prediction overlapping a label this much is on it"
        )
        self.missing_same_iou = spin(
            p.missing_same_iou,
            "A prediction overlapping same-class labels less than this may be a missing label",
        )
        self.loose_iou = spin(
            p.loose_iou,
            "A label matched below this IoU is an inaccurate-label suspect "
            "(at or below the match IoU: off)",
        )
        self.duplicate_iou = spin(
            p.duplicate_iou, "Two same-class labels overlapping this much are duplicates"
        )
        self.min_score = spin(
            p.min_score,
            "Less probable predictions raise no missing-label suspect (wrong class and "
            "inaccurate label, by default: below a tenth of it)",
        )
        self.max_dets = QSpinBox(minimum=1, maximum=10000, value=p.max_dets)
        self.geometry = QComboBox()
        self.geometry.addItems(["boxes", "masks"])
        self.geometry.setCurrentText(p.geometry)
        self.comparable = QCheckBox("comparable across classes")
        self.comparable.setChecked(p.scores == "comparable")
        self.comparable.setToolTip(
            "For a detector whose scores mean the same on every class (the Model tab says "
            "whether they look so): missing labels ranked by one curve over all classes "
            "instead of each class's own. Off by default"
        )
        form = QFormLayout(self)
        form.addRow("Match IoU", self.iou)
        form.addRow("No-overlap IoU", self.low_iou)
        form.addRow("Wrong-class IoU", self.wrong_class_iou)
        form.addRow("Missing-label IoU", self.missing_same_iou)
        form.addRow("Loose-match IoU", self.loose_iou)
        form.addRow("Duplicate IoU", self.duplicate_iou)
        form.addRow("Min probability (missing label)", self.min_score)
        form.addRow("Max detections", self.max_dets)
        form.addRow("Compare", self.geometry)
        form.addRow("Scores", self.comparable)
        self.sets = QListWidget()
        self.sets.setToolTip(
            "The prediction sets analysed together: each is calibrated on its own, their "
            "suspects are merged, and a suspect several sets find scores higher"
        )
        for info in sets or []:
            item = QListWidgetItem(f"{info['name']}  ({info['count']} predictions)")
            item.setData(Qt.ItemDataRole.UserRole, int(info["id"]))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = chosen is None or int(info["id"]) in chosen
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.sets.addItem(item)
        self.sets.setMaximumHeight(22 * min(max(len(sets or []), 1), 5) + 8)
        if sets and len(sets) > 1:
            form.addRow("Prediction sets", self.sets)
        else:
            self.sets.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Analyse")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sets.itemChanged.connect(self._check_sets)
        form.addRow(buttons)
        self._base = p

    def chosen_sets(self) -> list[int] | None:
        """The ids of the checked prediction sets (None when the project has one set)."""
        if self.sets.count() < 2:
            return None
        return [
            int(self.sets.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.sets.count())
            if self.sets.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _check_sets(self) -> None:
        """At least one set must be checked."""
        chosen = self.chosen_sets()
        self.ok.setEnabled(chosen is None or bool(chosen))

    def params(self) -> AnalysisParams:
        """The thresholds as entered (any the dialog does not show stay as they were)."""
        return replace(
            self._base,
            iou_threshold=self.iou.value(),
            low_iou=self.low_iou.value(),
            wrong_class_iou=self.wrong_class_iou.value(),
            missing_same_iou=self.missing_same_iou.value(),
            loose_iou=self.loose_iou.value(),
            duplicate_iou=self.duplicate_iou.value(),
            min_score=self.min_score.value(),
            max_dets=self.max_dets.value(),
            geometry=self.geometry.currentText(),
            scores="comparable" if self.comparable.isChecked() else "per-class",
        )


class ClassPicker(QDialog):
    """Type-ahead class chooser: type to filter, Enter picks the first match."""

    def __init__(
        self, names: dict[int, str], current: int | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change the label's class")
        self.search = QLineEdit(placeholderText="type a class name…")
        self.list = QListWidget()
        for cid, name in sorted(names.items(), key=lambda kv: kv[1].lower()):
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, cid)
            self.list.addItem(item)
            if cid == current:
                self.list.setCurrentItem(item)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self.accept)
        self.list.itemActivated.connect(lambda _item: self.accept())
        self.search.installEventFilter(self)
        self.search.setFocus()

    def eventFilter(self, obj: object, event: object) -> bool:  # noqa: N802 - Qt API
        if (
            obj is self.search
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up)
        ):
            self.list.keyPressEvent(event)
            return True
        return False

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            hidden = needle not in item.text().lower()
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        if first is not None:
            self.list.setCurrentItem(first)

    def chosen(self) -> int | None:
        """The picked category id."""
        item = self.list.currentItem()
        return None if item is None or item.isHidden() else int(item.data(Qt.ItemDataRole.UserRole))


class ShortcutSheet(QDialog):
    """Every action and its keys, from the one actions table: one heading per group, every
    description whole (the sheet is as wide as its widest row, up to 90% of the screen)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows, group = [], None
        for g, title, keys in shortcut_rows():
            if g != group:
                rows.append(
                    f"<tr><td colspan=2 style='padding-top:8px'><b>{html.escape(g)}</b></td></tr>"
                )
                group = g
            rows.append(
                f"<tr><td nowrap style='padding-right:24px'><code>{html.escape(keys)}</code></td>"
                f"<td nowrap>{html.escape(title)}</td></tr>"
            )
        self.table = QLabel("<table>" + "".join(rows) + "</table>")
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.area = QScrollArea()
        self.area.setWidget(self.table)
        self.area.setWidgetResizable(True)
        note = QLabel("Override any key in the settings file: shortcuts/&lt;id&gt; = key[;key…]")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.area)
        layout.addWidget(note)
        layout.addWidget(buttons)
        margins = layout.contentsMargins()
        frame = 2 * self.area.frameWidth() + self.area.verticalScrollBar().sizeHint().width()
        want_w = self.table.sizeHint().width() + frame + margins.left() + margins.right() + 8
        want_h = (
            self.table.sizeHint().height()
            + 2 * self.area.frameWidth()
            + note.sizeHint().height()
            + buttons.sizeHint().height()
            + 2 * layout.spacing()
            + margins.top()
            + margins.bottom()
            + 8
        )
        screen = (parent.screen() if parent is not None else self.screen()).availableGeometry()
        self.resize(
            min(want_w, int(screen.width() * 0.9)), min(want_h, int(screen.height() * 0.85))
        )


READ_ONLY = "read-only"  # ask_open_locked's answer: open the project read-only


def ask_open_locked(parent: QWidget, held: LockHolder, path: Path | str) -> bool | str:
    """A project file another app has open: open it read-only (:data:`READ_ONLY`, the
    default), anyway (True) or not (False)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Project already open")
    box.setText(f"{held.sentence(path)}.")
    box.setInformativeText(
        "Two windows on one project each keep their own view and undo: an edit or decision "
        "made in one can be undone or hidden by the other. Open it read-only here (browse the "
        "suspects, look, export; no edits or decisions), or close it there first, or open it "
        "here anyway (if that app is gone, e.g. on another computer that crashed)."
    )
    read_only = box.addButton("Open read-only", QMessageBox.ButtonRole.AcceptRole)
    anyway = box.addButton("Open anyway", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(read_only)
    box.exec()
    clicked = box.clickedButton()
    return READ_ONLY if clicked is read_only else clicked is anyway


CLEARANCE = 28  # px between the flag note dialog and the suspect (its tags hang below its box)


def clear_of(avoid: QRect, size: QSize, area: QRect) -> QPoint:
    """Where a dialog of ``size`` stands inside ``area`` without covering ``avoid`` (the
    suspect on screen): below it, else above, right, left; else the corner farthest from it."""
    w, h, gap = size.width(), size.height(), CLEARANCE
    x_mid, y_mid = avoid.center().x() - w // 2, avoid.center().y() - h // 2
    candidates = (
        (x_mid, avoid.bottom() + gap),
        (x_mid, avoid.top() - gap - h),
        (avoid.right() + gap, y_mid),
        (avoid.left() - gap - w, y_mid),
    )
    for x, y in candidates:
        x = min(max(x, area.left()), area.right() - w)
        y = min(max(y, area.top()), area.bottom() - h)
        if not QRect(x, y, w, h).intersects(avoid):
            return QPoint(x, y)
    centre = avoid.center()
    corners = [
        QPoint(x, y)
        for x in (area.left(), area.right() - w)
        for y in (area.top(), area.bottom() - h)
    ]
    return max(
        corners, key=lambda p: (p.x() + w / 2 - centre.x()) ** 2 + (p.y() + h / 2 - centre.y()) ** 2
    )


def ask_flag_note(parent: QWidget, avoid: QRect | None) -> tuple[str, bool]:
    """Ask for a flag's optional note (text, ok); the dialog stands clear of ``avoid`` (the
    suspect on screen; centred over the window it hid the suspect being flagged)."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle("Flag")
    dialog.setLabelText("Note (optional):")
    dialog.setInputMode(QInputDialog.InputMode.TextInput)
    if avoid is not None:
        dialog.adjustSize()  # its frame: its size and the window manager's decorations
        window = parent.window()
        frame = dialog.size() + window.frameGeometry().size() - window.geometry().size()
        dialog.move(clear_of(avoid, frame, window.frameGeometry()))
    ok = dialog.exec() == QDialog.DialogCode.Accepted
    return dialog.textValue(), ok
