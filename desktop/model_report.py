"""The summary's "Model" tab: how good the model is per class, from the current analysis's
report (core.analysis_report), so a reviewer knows which classes' suspects to trust.

- per class: labels, AP at the analysis's IoU, precision and recall at the calibrated cut
  (probability >= 0.5); a click lists that class's suspects;
- the confusion table: label class, the class the detector predicts on it instead, how many
  labels and the detector's habit rate; sortable; a click lists the suspects of that pair;
- a reliability plot per class: the fitted calibration curve (probability against the raw
  score) and the observed true-positive rate of the class's predictions in bins of score;
- below it, one sentence: whether the set's scores look comparable across classes
  (core.score_scale), i.e. whether the analysis option "Scores: comparable across classes"
  may find more missing labels.

With several prediction sets a chooser picks the set, and a sentence under the set's summary
says how dependent the sets are and how many independent sets a missing label's evidence counts
them as (score version 14, ``labelfix report``'s). It reads the session only.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from labelfix.core import score_scale
from labelfix.core.analysis_report import (
    confusion_rows,
    report_dependence_sentence,
    set_weights,
    weight_sentence,
)

from .session import Session

ModelIndex = QModelIndex | QPersistentModelIndex
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
DOT_MAX = 6.0  # the radius of the reliability plot's busiest bin


class RowsModel(QAbstractTableModel):
    """A small sortable table: rows of values (None shown as —), one ``key`` per row."""

    def __init__(
        self,
        headers: tuple[str, ...],
        formats: tuple[str, ...],
        parent: Any,
        tips: tuple[str, ...] = (),
    ) -> None:
        super().__init__(parent)
        self.headers, self.formats, self.tips = headers, formats, tips
        self.rows: list[tuple] = []
        self.keys: list[Any] = []

    def set_rows(self, rows: list[tuple], keys: list[Any]) -> None:
        """Show these rows (each with the key a click hands on)."""
        self.beginResetModel()
        self.rows, self.keys = rows, keys
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self.tips):
            return self.tips[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        value = self.rows[index.row()][index.column()]
        fmt = self.formats[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return "—"
            return format(value, fmt) if fmt else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and fmt:
            return RIGHT
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column (rows without a value last, either way)."""
        if not 0 <= column < len(self.headers):
            return

        def missing(i: int) -> bool:
            value = self.rows[i][column]
            return value is None or (isinstance(value, float) and math.isnan(value))

        def value(i: int) -> Any:
            v = self.rows[i][column]
            return v.lower() if isinstance(v, str) else v

        known = [i for i in range(len(self.rows)) if not missing(i)]
        known.sort(key=value, reverse=order == Qt.SortOrder.DescendingOrder)
        ordered = known + [i for i in range(len(self.rows)) if missing(i)]
        self.beginResetModel()
        self.rows = [self.rows[i] for i in ordered]
        self.keys = [self.keys[i] for i in ordered]
        self.endResetModel()


def rows_height(view: QTableView, rows: int) -> int:
    """The height that shows the header and ``rows`` whole rows (no horizontal scroll bar)."""
    header = view.horizontalHeader().sizeHint().height()
    return header + rows * view.verticalHeader().defaultSectionSize() + 2 * view.frameWidth()


def _table(model: RowsModel, rows: int) -> QTableView:
    """A sortable table at least ``rows`` rows tall; its text columns share the width and its
    numbers take what they need, so a narrow panel elides class names instead of scrolling
    them out of sight."""
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().hide()
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)  # Tab leaves the table; the arrows walk its rows
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setWordWrap(False)
    view.setMinimumHeight(rows_height(view, rows))
    header = view.horizontalHeader()
    header.setMinimumSectionSize(24)
    for c in range(model.columnCount()):
        mode = (
            QHeaderView.ResizeMode.Stretch if not model.formats[c] else QHeaderView.ResizeMode.Fixed
        )
        header.setSectionResizeMode(c, mode)
    fit_numbers(view)
    return view


def fit_numbers(view: QTableView) -> None:
    """Size the number columns to their header and widest value (a small margin each)."""
    model: RowsModel = view.model()
    fm = view.fontMetrics()
    header_fm = view.horizontalHeader().fontMetrics()
    for c, fmt in enumerate(model.formats):
        if not fmt:
            continue
        texts = [model.data(model.index(r, c)) or "" for r in range(model.rowCount())]
        widest = max((fm.horizontalAdvance(t) for t in texts), default=0)
        view.setColumnWidth(c, max(widest, header_fm.horizontalAdvance(model.headers[c])) + 12)


class ReliabilityPlot(QWidget):
    """One class's calibration: the fitted curve (line) against the raw score, the observed
    true-positive rate in bins of score (dots, area by count) and the diagonal (dashed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.curve: list[tuple[float, float]] = []  # (raw score, probability)
        self.bins: list[list[float]] = []  # [mean score, tp rate, mean probability, count]
        self.title = ""
        self.setMinimumHeight(140)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(240, 170)

    def show_class(self, title: str, curve: dict | None, bins: list[list[float]]) -> None:
        """Plot a class (``curve``: the fit's curve JSON with knot scores and probabilities)."""
        self.title = title
        points = []
        if curve is not None and curve.get("score"):
            points = sorted(zip(curve["score"], curve["p"], strict=False))
        self.curve = [(float(s), float(p)) for s, p in points]
        self.bins = bins
        self.update()

    def layout_rects(self) -> tuple[QRectF, QRectF]:
        """(the title's strip, the plot's area): a dot at rate 1 (radius up to 6 px) stays
        below the title."""
        title = QRectF(30, 2, max(self.width() - 40, 0), 14)
        area = QRectF(self.rect()).adjusted(30, 16 + 2 + DOT_MAX, -10, -20)
        return title, area

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        title, area = self.layout_rects()

        def at(x: float, y: float) -> QPointF:
            return QPointF(area.left() + x * area.width(), area.bottom() - y * area.height())

        p.setPen(QPen(pal.mid().color(), 1, Qt.PenStyle.DashLine))
        p.drawLine(at(0, 0), at(1, 1))
        p.setPen(QPen(pal.mid().color(), 1))
        p.drawRect(area)
        if self.curve:
            path = QPainterPath(at(0.0, self.curve[0][1]))
            for x, y in self.curve:
                path.lineTo(at(min(max(x, 0.0), 1.0), y))
            path.lineTo(at(1.0, self.curve[-1][1]))
            p.setPen(QPen(QColor("#4c8bf5"), 2))
            p.drawPath(path)
        top = max((b[3] for b in self.bins), default=1)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#e8453c"))
        for score, rate, _prob, count in self.bins:
            r = 2.0 + (DOT_MAX - 2.0) * math.sqrt(count / top)
            p.drawEllipse(at(min(max(score, 0.0), 1.0), rate), r, r)
        p.setPen(pal.text().color())
        font = p.font()
        font.setPointSizeF(8)
        p.setFont(font)
        for tick in (0.0, 0.5, 1.0):
            p.drawText(
                QRectF(at(tick, 0).x() - 15, area.bottom() + 2, 30, 14),
                Qt.AlignmentFlag.AlignCenter,
                f"{tick:g}",
            )
            p.drawText(
                QRectF(area.left() - 28, at(0, tick).y() - 7, 24, 14),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{tick:g}",
            )
        p.drawText(
            title,
            Qt.AlignmentFlag.AlignLeft,
            QFontMetricsF(p.font()).elidedText(
                self.title or "no calibration (too few matches)",
                Qt.TextElideMode.ElideRight,
                title.width(),
            ),
        )
        p.end()


class ModelReport(QWidget):
    """Per-class metrics, the confusion table and a reliability plot of the current analysis
    (of one of its sets); clicks filter the suspect list."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.report: dict | None = None
        self.fits: dict[int, dict] = {}
        self.set_choice = QComboBox()
        self.set_choice.setToolTip("The prediction set whose model is shown")
        # which set the numbers are for: named here when there is one, else the box says it
        self.set_heading = QLabel("Prediction set")
        self.set_heading.setTextFormat(Qt.TextFormat.PlainText)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.dependence_note = QLabel()  # the analysis's, whichever set is chosen
        self.dependence_note.setWordWrap(True)
        self.dependence_note.setTextFormat(Qt.TextFormat.PlainText)
        self.dependence_note.setToolTip(
            "Sets that find the same missing labels (copies of one detector, say) are not "
            "independent witnesses: the missing-label score counts them as fewer sets"
        )
        self.metrics = RowsModel(
            ("Class", "#", "AP", "Prec", "Rec"),  # short: a narrow panel keeps the names
            ("", "d", ".2f", ".2f", ".2f"),
            self,
            (
                "The label class (click: list its suspects)",
                "How many labels of the class",
                "Average precision at the analysis's match IoU",
                "Precision of the predictions with probability ≥ 0.5",
                "Recall of the predictions with probability ≥ 0.5",
            ),
        )
        self.confusions = RowsModel(
            ("Label class", "Predicted", "Labels", "Habit"), ("", "", "d", ".2f"), self
        )
        self.metrics_view = _table(self.metrics, 6)
        self.confusions_view = _table(self.confusions, 4)
        self.metrics_view.setToolTip("Click a class to list its suspects")
        self.confusions_view.setToolTip(
            "Labels of a class whose most probable prediction is another class; habit: how "
            "often the detector does this (discounted from wrong-class scores). Click a row to "
            "list the suspects of that pair"
        )
        self.class_choice = QComboBox()
        self.class_choice.setToolTip("The class whose calibration is plotted")
        for box in (self.set_choice, self.class_choice):
            # a long name elides: the tab scrolls only up and down, and a box as wide as its
            # longest name ran the page under a narrow panel's edge, cutting every line
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(8)
        self.plot_tip = (
            "Line: the probability this analysis fitted for the class's predictions against "
            "their raw score; dots: the share of its predictions in a score bin that matched a "
            "label (area: how many); dashed: probability = score"
        )
        self.plot = ReliabilityPlot()
        self.plot.setToolTip(self.plot_tip)
        self.scale_note = QLabel()
        self.scale_note.setWordWrap(True)
        self.scale_note.setTextFormat(Qt.TextFormat.PlainText)
        self.scale_note.setToolTip(
            "Held-out log loss of one calibration curve over all classes' raw scores against "
            "the per-class curves: when the pooled one is not higher, the scores mean the same "
            "on every class"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(self.set_heading)  # a long set name wraps (a narrow panel)
        top.addWidget(self.set_choice, 1)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.dependence_note)
        per_class = QLabel("<b>Per class</b> (AP; precision / recall at probability ≥ 0.5)")
        per_class.setWordWrap(True)  # a narrow panel wraps it (the window fits a small screen)
        layout.addWidget(per_class)
        layout.addWidget(self.metrics_view, 2)
        layout.addWidget(QLabel("<b>Confusions</b>"))
        layout.addWidget(self.confusions_view, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Calibration</b>"))
        row.addWidget(self.class_choice, 1)
        layout.addLayout(row)
        layout.addWidget(self.plot)
        layout.addWidget(self.scale_note)
        self.set_choice.currentIndexChanged.connect(self._show_set)
        self.class_choice.currentIndexChanged.connect(self._show_plot)
        for view, listed in (
            (self.metrics_view, self._class_clicked),
            (self.confusions_view, self._pair_clicked),
        ):
            view.clicked.connect(listed)
            view.activated.connect(listed)  # Enter on the current row: the keyboard's click
        session.suspectsChanged.connect(self._maybe_reload)
        self._analysis_id: int | None = None
        self.reload()

    def _maybe_reload(self) -> None:
        if self.session.index.analysis_id != self._analysis_id:
            self.reload()

    def reload(self) -> None:
        """Read the current analysis's report again."""
        self._analysis_id = self.session.index.analysis_id
        self.report, self.fits = self.session.analysis_report()
        names = {s["id"]: s["name"] for s in self.session.prediction_sets()}
        self.set_choice.blockSignals(True)
        self.set_choice.clear()
        for set_id in self.session.index.set_ids:
            if self.report and str(set_id) in self.report.get("sets", {}):
                self.set_choice.addItem(names.get(set_id, str(set_id)), set_id)
        self.set_choice.blockSignals(False)
        several = self.set_choice.count() > 1
        self.set_choice.setVisible(several)
        self.set_heading.setText(
            "Prediction set"
            if several or self.set_choice.count() == 0
            else f"Prediction set: {self.set_choice.itemText(0)}"
        )
        self.set_heading.setWordWrap(not several)  # a long name wraps in a narrow panel
        self.set_heading.setToolTip("" if several else "The prediction set whose model is shown")
        dependence = report_dependence_sentence(self.report) if self.report else None
        self.dependence_note.setText(dependence or "")
        self.dependence_note.setVisible(dependence is not None)
        self._show_set()

    def _part(self) -> dict | None:
        set_id = self.set_choice.currentData()
        if self.report is None or set_id is None:
            return None
        return self.report["sets"].get(str(set_id))

    def _show_set(self) -> None:
        part = self._part()
        names = self.session.category_names
        if part is None:
            self.summary.setText(
                "No model report: analyse the project again (Analyse ▸ Analyse with thresholds…)."
            )
            self.metrics.set_rows([], [])
            self.confusions.set_rows([], [])
            self.class_choice.clear()
            self.plot.show_class("", None, [])
            self.scale_note.hide()
            return
        self._show_scale(part.get("score_scale"))
        classes = part["classes"]
        aps = [c["ap"] for c in classes.values() if c["ap"] is not None]
        mean = sum(aps) / len(aps) if aps else float("nan")
        self.summary.setText(
            f"AP@{part['iou']:g} {mean:.3f} over {len(classes)} classes with labels"
            + (
                f"; default review cut: score ≥ {self.report['review_cut']:.2f}"
                if self.report and self.report.get("review_cut") is not None
                else ""
            )
            + self._weight_text(part)
        )
        rows = sorted(
            (
                (names.get(int(c), c), m["labels"], m["ap"], m["precision"], m["recall"])
                for c, m in classes.items()
            ),
            key=lambda r: str(r[0]).lower(),
        )
        ids = {names.get(int(c), c): int(c) for c in classes}
        self.metrics.set_rows(rows, [ids[r[0]] for r in rows])
        pairs = [r for r in confusion_rows(part) if r["confusion"]]
        self.confusions.set_rows(
            [
                (
                    names.get(r["label_class"], str(r["label_class"])),
                    names.get(r["predicted_class"], str(r["predicted_class"])),
                    r["count"],
                    r["habit"],
                )
                for r in pairs
            ],
            [(r["label_class"], r["predicted_class"]) for r in pairs],
        )
        fit_numbers(self.metrics_view)
        fit_numbers(self.confusions_view)
        self.class_choice.blockSignals(True)
        self.class_choice.clear()
        plotted = sorted(part["reliability"], key=lambda c: names.get(int(c), c).lower())
        for c in plotted:
            self.class_choice.addItem(names.get(int(c), c), int(c))
        busiest = max(
            plotted, key=lambda c: sum(b[3] for b in part["reliability"][c]), default=None
        )
        if busiest is not None:
            self.class_choice.setCurrentIndex(self.class_choice.findData(int(busiest)))
        self.class_choice.blockSignals(False)
        self._show_plot()

    def _weight_text(self, part: dict) -> str:
        """The set's recall and, analysed with others, its suspects' weight (score version 13),
        on a line of its own; nothing for reports stored before the recall was."""
        if part.get("recall") is None or self.report is None:
            return ""
        params = self.session.analysis_params()
        weights = set_weights(self.report, params.score_version) if params else {}
        return "\n" + weight_sentence(
            part["recall"], weights.get(str(self.set_choice.currentData()))
        )

    def _show_scale(self, scale: dict | None) -> None:
        """The score-scale sentence (hidden for analyses without the diagnostic)."""
        self.scale_note.setVisible(scale is not None)
        if scale is not None:
            self.scale_note.setText(
                score_scale.sentence(
                    float(scale["pooled_loss"]),
                    float(scale["class_loss"]),
                    scale.get("scores") == "comparable",
                    '"Scores: comparable across classes" (Analyse with thresholds…)',
                )
            )

    def _show_plot(self) -> None:
        part = self._part()
        cat = self.class_choice.currentData()
        if part is None or cat is None:
            self.plot.show_class("", None, [])
            return
        fit = self.fits.get(int(self.set_choice.currentData()), {}) or {}
        curves = (fit.get("calibration") or {}).get("classes", {})
        name = self.session.category_names.get(int(cat), str(cat))
        bins = part["reliability"].get(str(cat), [])
        n = sum(int(b[3]) for b in bins)
        self.plot.show_class(f"{name} ({n} predictions)", curves.get(str(cat)), bins)

    def _class_clicked(self, index: QModelIndex) -> None:
        cat = self.metrics.keys[index.row()]
        flt = self.session.filter.with_(category_ids=frozenset({cat}), class_pair=None)
        self.session.set_filter(flt)
        found = self.class_choice.findData(cat)
        if found >= 0:
            self.class_choice.setCurrentIndex(found)

    def _pair_clicked(self, index: QModelIndex) -> None:
        pair = self.confusions.keys[index.row()]
        self.session.set_filter(self.session.filter.with_(class_pair=pair, category_ids=None))
