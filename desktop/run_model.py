"""Run a model…: run an ONNX detector or segmenter on the project's images and analyse its
predictions. The dialog shows what LabelFix recognised (family, input size, classes) and the
class mapping, which the user can change; the run happens in a child process with progress
and cancel (``jobs.predict_and_analyze``), and a cancelled run leaves the project as it was
(the same run started again goes on where it stopped)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from labelfix.core import project
from labelfix.core.errors import AnalysisParams
from labelfix.core.predict import DEFAULT_CONF, DEFAULT_MAX_DETS, FAMILIES, set_name_for
from labelfix.core.predict.classes import NOT_A_CLASS, normalize
from labelfix.core.progress import Throughput

from . import jobs, workers
from .dialogs import PathField

MODEL_FILTER = "ONNX model (*.onnx);;All files (*)"
CLASSES_FILTER = "Class names (*.txt *.json *.names *.yaml);;All files (*)"
AUTO = "Detect from the model"
IGNORE = "— ignore —"
HINT = (
    "LabelFix runs your detector or instance-segmentation model (an ONNX file) on this "
    "project's images, on the CPU, and analyses its predictions. <b>Use a model that was not "
    "trained on these labels</b>: a model that saw an annotation during training learns it, "
    "errors included, and then confirms it."
)


class RunModelDialog(QDialog):
    """Choose a model and its settings, check the class mapping, run it with progress and
    Cancel, then analyse; ``completed`` carries the :class:`jobs.PredictResult`."""

    completed = Signal(object)

    def __init__(
        self,
        project_path: Path | project.TeamLocation,
        parent: QWidget | None = None,
        *,
        model: Path | None = None,
        params: AnalysisParams | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run a model")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 96)
        self.project_path = Path(project_path) if isinstance(project_path, str) else project_path
        self.params = params
        self.inspection: project.ModelInspection | None = None
        self.worker: workers.Worker | None = None
        self.result: jobs.PredictResult | None = None
        self._name_follows = True  # the set name follows the model until the user types one
        self._rate = Throughput()
        self.inspect_worker: workers.Worker | None = None
        self._inspected_key: tuple | None = None  # what the latest inspection read
        self._cancelled_run = False  # the next inspection follows a cancelled run

        self.hint = QLabel(HINT, wordWrap=True)
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.missing = QLabel(wordWrap=True)
        self.missing.setObjectName("runnerMissing")
        self.missing.hide()
        self.model = PathField("ONNX model", filt=MODEL_FILTER, settings=settings)
        self.family = QComboBox()
        self.family.addItem(AUTO, None)
        for key, title in FAMILIES.items():
            self.family.addItem(title, key)
        self.classes = PathField("Class names file", filt=CLASSES_FILTER, settings=settings)
        self.classes.edit.setPlaceholderText("optional: the model's class names, one per line")
        self.name = QLineEdit()
        self.conf = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=1.0, singleStep=0.001)
        self.conf.setValue(DEFAULT_CONF)
        self.conf.setToolTip("Low, so weak predictions reach the analysis (COCO evaluation: 0.001)")
        self.iou = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.iou.setSpecialValueText("the family's own")
        self.iou.setValue(0.0)
        self.max_dets = QSpinBox(minimum=1, maximum=10000, value=DEFAULT_MAX_DETS)
        self.imgsz = QSpinBox(minimum=0, maximum=4096, singleStep=32)
        self.imgsz.setSpecialValueText("the model's own (640 if free)")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Model (ONNX)", self.model)
        form.addRow("Family", self.family)
        form.addRow("Class names", self.classes)
        form.addRow("Prediction set name", self.name)
        form.addRow("Score threshold", self.conf)
        form.addRow("NMS IoU", self.iou)
        form.addRow("Predictions per image", self.max_dets)
        form.addRow("Input size", self.imgsz)

        self.info = QLabel("Choose the model file.", wordWrap=True)
        self.info.setObjectName("modelInfo")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Model class", "Dataset category"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(self.fontMetrics().height() * 12)
        self.mapping_status = QLabel(wordWrap=True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel(wordWrap=True)
        self.problems = QPlainTextEdit(readOnly=True)
        self.problems.setObjectName("problems")
        self.problems.setMaximumHeight(self.fontMetrics().height() * 7)
        self.problems.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.run_button = self.buttons.addButton(
            "Run and analyse", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.run_button.setEnabled(False)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.cancel)

        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.missing)
        layout.addLayout(form)
        layout.addWidget(self.info)
        self.mapping_caption = QLabel(
            "Class mapping: each model class's predictions get the dataset category chosen "
            "here; the predictions of an ignored class are dropped.",
            wordWrap=True,
        )
        layout.addWidget(self.mapping_caption)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.mapping_status)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.problems)
        layout.addStretch(0)  # takes the table's room while it is hidden (no mapping to show)
        layout.addWidget(self.buttons)

        self.model.edit.editingFinished.connect(self.inspect)
        self.model.chosen.connect(lambda _path: self.inspect())
        self.classes.edit.editingFinished.connect(self.inspect)
        self.classes.chosen.connect(lambda _path: self.inspect())
        self.family.currentIndexChanged.connect(lambda _i: self.inspect())
        self.imgsz.editingFinished.connect(self.inspect)
        self.name.textEdited.connect(self._name_typed)
        self.name.textChanged.connect(lambda _t: self._update_run_button())

        self.runner_problem = project.runner_missing()
        if self.runner_problem:
            self.missing.setText(self.runner_problem)
            self.missing.show()
            self.info.setText("")
        if model is not None:
            self.model.set_path(model)
            self.inspect()

    # ------------------------------------------------------------------ the model
    def options(self) -> project.PredictOptions:
        """The settings as entered, with the class mapping of the table."""
        classes = self.classes.path()
        return project.PredictOptions(
            family=self.family.currentData(),
            classes=classes,
            class_map=self.class_map() if self.inspection is not None else None,
            conf=self.conf.value(),
            iou=self.iou.value() or None,
            max_dets=self.max_dets.value(),
            imgsz=self.imgsz.value() or None,
        )

    def inspect(self) -> None:
        """Read the model (in a worker thread) and show its family, input and classes."""
        if self.runner_problem or self.worker is not None:
            return
        model = self.model.path()
        if model is None:
            return
        if not model.is_file():
            self._show_inspection_problem(f"{model}: no such file.")
            return
        options = project.PredictOptions(
            family=self.family.currentData(),
            classes=self.classes.path(),
            imgsz=self.imgsz.value() or None,
        )
        key = (model.resolve(), model.stat().st_mtime_ns, repr(options), _stamp(options.classes))
        if key == self._inspected_key:
            return  # a field left unchanged: reading it again would disable Run under a click
        self._inspected_key = key
        self.info.setText(f"Reading {model.name}…")
        self.run_button.setEnabled(False)
        worker = workers.Worker(
            jobs.inspect_model, self.project_path, model, options, takes_progress=False
        )
        # bound methods: Qt drops the connections if the dialog is deleted first
        worker.signals.finished.connect(self._inspected)
        worker.signals.failed.connect(self._inspect_failed)
        self.inspect_worker = workers.start(worker)

    def _latest(self) -> bool:
        """True in a slot called by the latest inspection (older answers are dropped)."""
        return self.inspect_worker is not None and self.sender() is self.inspect_worker.signals

    @Slot(object)
    def _inspected(self, seen: project.ModelInspection) -> None:
        if not self._latest():
            return
        model = seen.info.path
        self.inspection = seen
        info = seen.info
        size = info.size_text
        how = "as chosen" if info.detected_by == "chosen" else f"recognised by {info.detected_by}"
        self.info.setText(
            f"<b>{info.family_title}</b>, {how} · images fitted to {size} · "
            f"{'masks and boxes' if info.masks else 'boxes'} · {len(info.class_names)} classes "
            f"({info.class_names_from})"
        )
        self.problems.hide()
        self._show_mapping(True)
        self._fill_table(seen)
        self._suggest_name(model, seen)
        self._update_mapping_status()

    @Slot(object)
    def _inspect_failed(self, exc: object) -> None:
        if self._latest():
            self._show_inspection_problem(str(exc))

    def _show_inspection_problem(self, text: str) -> None:
        self.inspection = None
        self._inspected_key = None  # the same input is read again (a file put in place since)
        self.table.setRowCount(0)
        self.info.setText("This model cannot be used:")
        self.mapping_status.setText("")
        self.status.setText("")  # a note about the model read before is not about this one
        self._show_mapping(False)  # no mapping: the reason follows its heading directly
        self.problems.setPlainText(text)
        self.problems.show()
        self._update_run_button()
        self._grow_to_fit()

    def _show_mapping(self, shown: bool) -> None:
        for widget in (self.mapping_caption, self.table, self.mapping_status):
            widget.setVisible(shown)

    def _grow_to_fit(self) -> None:
        """Taller when what is shown needs it (a message box appeared): a dialog keeps its
        size, and its rows would be squeezed over each other."""
        layout = self.layout()
        layout.activate()
        need = layout.minimumSize().height()
        if self.height() < need:
            self.resize(self.width(), need)

    def _fill_table(self, seen: project.ModelInspection) -> None:
        chosen = seen.mapping.to_category if seen.mapping is not None else {}
        rows = [
            (index, name)
            for index, name in sorted(seen.info.class_names.items())
            if normalize(name) not in NOT_A_CLASS
        ]
        self.table.setRowCount(len(rows))
        categories = sorted(seen.categories.items(), key=lambda kv: kv[1].lower())
        for row, (index, name) in enumerate(rows):
            item = QTableWidgetItem(f"{index}: {name}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 0, item)
            box = QComboBox()
            box.addItem(IGNORE, None)
            for category_id, category_name in categories:
                box.addItem(category_name, category_id)
            target = chosen.get(index)
            box.setCurrentIndex(0 if target is None else box.findData(target))
            box.currentIndexChanged.connect(lambda _i: self._update_mapping_status())
            self.table.setCellWidget(row, 1, box)

    def class_map(self) -> dict[int, int | None]:
        """Model class index -> the category chosen in the table (None: ignored)."""
        out: dict[int, int | None] = {}
        for row in range(self.table.rowCount()):
            index = int(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))
            out[index] = self.table.cellWidget(row, 1).currentData()
        return out

    def set_category(self, model_index: int, category_id: int | None) -> None:
        """Map a model class to a category (None: ignore it), as the table's combo box does."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == model_index:
                box = self.table.cellWidget(row, 1)
                box.setCurrentIndex(box.findData(category_id) if category_id is not None else 0)
                return
        raise KeyError(model_index)

    def _update_mapping_status(self) -> None:
        mapping = self.class_map()
        mapped = sum(v is not None for v in mapping.values())
        ignored = [
            self.table.item(row, 0).text().split(": ", 1)[1]
            for row in range(self.table.rowCount())
            if self.table.cellWidget(row, 1).currentData() is None
        ]
        text = f"{mapped} of {len(mapping)} model classes map to dataset categories"
        if ignored:
            shown = ", ".join(ignored[:8]) + (" …" if len(ignored) > 8 else "")
            text += f"; ignored: {shown}"
        if not mapped:
            text = "No model class maps to a dataset category: choose the categories above."
        self.mapping_status.setText(text)
        self._update_run_button()

    # ------------------------------------------------------------------ the set's name
    def _name_typed(self, _text: str) -> None:
        self._name_follows = False

    def _suggest_name(self, model: Path, seen: project.ModelInspection) -> None:
        """The model's name (made unique), or the name of this model's unfinished run."""
        resumable = [
            r for r in seen.unfinished if Path(r["settings"].get("model", "")) == model.resolve()
        ]
        cancelled = "Cancelled; the project is as it was. " if self._cancelled_run else ""
        self._cancelled_run = False
        same = [n for n, source in seen.set_sources.items() if source == str(model.resolve())]
        if resumable:
            run = resumable[-1]
            self.status.setText(
                f"{cancelled}An unfinished run of {model.name} ({run['name']!r}) predicted "
                f"{run['done']} of {run['images']} images: running it again with the same "
                "settings goes on where it stopped."
            )
        elif same:
            self.status.setText(
                f"{cancelled}The project already has the prediction set {same[-1]!r} from "
                f"{model.name}; running it again adds another set (with other settings, or to "
                "replace it)."
            )
        else:
            self.status.setText(cancelled)
        if not self._name_follows:
            return
        if resumable:
            self.name.setText(resumable[-1]["name"])
            return
        base = set_name_for(model)
        name, n = base, 2
        while name in seen.set_names:
            name, n = f"{base}-{n}", n + 1
        self.name.setText(name)

    def _name_problem(self) -> str | None:
        name = self.name.text().strip()
        if not name:
            return "Give the prediction set a name."
        if self.inspection is not None and name in self.inspection.set_names:
            return f"The project already has a prediction set named {name!r}."
        return None

    def _update_run_button(self) -> None:
        ready = (
            self.inspection is not None
            and self.worker is None
            and not self.runner_problem
            and any(v is not None for v in self.class_map().values())
            and self._name_problem() is None
        )
        self.run_button.setEnabled(ready)
        self.run_button.setToolTip(self._name_problem() or "")

    # ------------------------------------------------------------------ run
    def start(self) -> bool:
        """Run the model and analyse its predictions in a child process."""
        model = self.model.path()
        if not self.run_button.isEnabled() or model is None:
            return False
        self._set_inputs_enabled(False)
        self.problems.hide()
        self.progress.show()
        self.progress.setRange(0, 0)
        self.status.setText(f"Starting {model.name}…")
        self._rate = Throughput()
        self.worker = workers.Worker(
            jobs.in_subprocess, jobs.predict_and_analyze, self.project_path, model,
            self.name.text().strip(), self.options(), self.params,
        )  # fmt: skip
        self.worker.signals.progress.connect(self._progress)
        self.worker.signals.finished.connect(self._finished)
        self.worker.signals.failed.connect(self._failed)
        self.worker.signals.cancelled.connect(self._cancelled)
        self.run_button.setEnabled(False)
        workers.start(self.worker)
        return True

    def cancel(self) -> None:
        """Stop a running model (the project stays as it was), or close the dialog."""
        if self.worker is not None:
            self.status.setText("Cancelling after the image being predicted…")
            self.worker.cancel()
        else:
            self.reject()

    def _progress(self, done: int, total: int) -> None:
        rate = self._rate.update(done, total)
        if done >= total:
            self.progress.setRange(0, 0)
            self.status.setText("Adding the prediction set and analysing it…")
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(False)
            return
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        if self.worker is not None and not self.worker.should_stop():
            self.status.setText(f"Predicting: {rate.text()}")

    def _finished(self, result: jobs.PredictResult) -> None:
        self.worker = None
        self.result = result
        report = result.report
        self.status.setText(
            f"Added {report.predictions} predictions as {report.name!r} and analysed them."
        )
        self.completed.emit(result)
        self.accept()

    def _failed(self, exc: object) -> None:
        self._stopped()
        self.status.setText("The model could not be run:")
        self.problems.setPlainText(str(exc))
        self.problems.show()
        self._grow_to_fit()

    def _cancelled(self) -> None:
        self._stopped()
        self.status.setText(
            "Cancelled; the project is as it was. The images predicted so far are kept aside: "
            "run again with the same model and settings to go on where it stopped."
        )
        # read the project again: how many images the unfinished run has (the last progress
        # report can be behind the child's last image)
        self._cancelled_run, self._inspected_key = True, None
        self.inspect()

    def _stopped(self) -> None:
        self.worker = None
        self.progress.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(True)
        self._set_inputs_enabled(True)
        self._update_run_button()

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (
            self.model, self.family, self.classes, self.name, self.conf, self.iou,
            self.max_dets, self.imgsz, self.table,
        ):  # fmt: skip
            widget.setEnabled(enabled)

    def reject(self) -> None:
        """Closing the window while a model runs cancels it first."""
        if self.worker is not None:
            self.cancel()
            return
        super().reject()


def _stamp(path: Path | None) -> int | None:
    """A file's modification time (None: no file), so a file changed on disk is read again."""
    try:
        return None if path is None else path.stat().st_mtime_ns
    except OSError:
        return None
