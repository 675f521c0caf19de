"""The summary panel: a histogram of suspect scores with the score cut drawn on it, the
suspects per kind and per class (tab "Suspects"), and how good the model is per class (tab
"Model", :mod:`.model_report`)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from labelfix.core.suspects import KINDS

from .model_report import ModelReport, rows_height
from .models import CountsModel
from .session import Session

BINS = 20
LAZY_MS = 40  # the summary follows the session a moment later, so one frame never paints everything


class ScoreHistogram(QWidget):
    """Bars of suspect scores (0-1 in 20 bins) and a line at the score cut (the filter's, or
    the analysis's default cut)."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.counts = np.zeros(BINS, dtype=np.int64)
        self.threshold = 0.0
        self._counted: np.ndarray | None = None  # the confidence column counted last
        self.setMinimumHeight(120)
        timer = QTimer(
            self, singleShot=True, interval=LAZY_MS
        )  # repaint in a later frame than the table
        timer.timeout.connect(self.refresh)
        session.suspectsChanged.connect(timer.start)
        session.filterChanged.connect(self._move_threshold)
        self.refresh()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(240, 140)

    def refresh(self) -> None:
        """Recount from the whole index (the threshold is the session's score cut).

        Only a new index or reloaded rows (new column arrays) change the counts; a filter
        change keeps them.
        """
        score = self.session.index.score
        if score is not self._counted:
            self._counted = score
            self.counts = (
                np.histogram(score, bins=BINS, range=(0.0, 1.0))[0]
                if len(score)
                else np.zeros(BINS, np.int64)
            )
        self.threshold = self._cut()
        self.update()

    def _cut(self) -> float:
        flt = self.session.filter
        return self.session.index.review_cut if flt.min_score is None else flt.min_score

    def _move_threshold(self) -> None:
        """Follow the filter's score cut; the counts stay (a sort changes nothing here)."""
        if self._cut() != self.threshold:
            self.threshold = self._cut()
            self.update()

    def label_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(8)
        return font

    def layout_rects(self) -> tuple[QRectF, QRectF]:
        """(the caption's strip, the bars' area): the caption sits above the bars, so the cut
        line never crosses it (in a narrow panel it ran through the text)."""
        strip = QFontMetricsF(self.label_font()).height() + 2
        caption = QRectF(self.rect()).adjusted(8, 2, -8, 0)
        caption.setHeight(strip)
        area = QRectF(self.rect()).adjusted(8, 4 + strip, -8, -18)
        return caption, area

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        caption, area = self.layout_rects()
        p.fillRect(self.rect(), pal.base())
        top = max(int(self.counts.max()), 1)
        scale = np.log1p(self.counts) / np.log1p(top)  # log: a few confident suspects stay visible
        width = area.width() / BINS
        for i, h in enumerate(scale):
            left = i / BINS
            colour = QColor("#4c8bf5") if left + 1e-9 >= self.threshold else QColor("#9aa0a6")
            bar = QRectF(
                area.left() + i * width + 1,
                area.bottom() - h * area.height(),
                width - 2,
                h * area.height(),
            )
            p.fillRect(bar, colour)
        x = area.left() + self.threshold * area.width()
        pen = QPen(QColor("#e8453c"), 2)
        p.setPen(pen)
        p.drawLine(int(x), int(area.top()), int(x), int(area.bottom()))
        p.setPen(pal.text().color())
        p.setFont(self.label_font())
        for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
            tx = area.left() + tick * area.width()
            p.drawText(
                QRectF(tx - 15, area.bottom() + 2, 30, 14),
                Qt.AlignmentFlag.AlignCenter,
                f"{tick:g}",
            )
        text = QFontMetricsF(p.font()).elidedText(
            f"tallest bar {top} (log scale)", Qt.TextElideMode.ElideRight, caption.width()
        )
        p.drawText(caption, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight, text)
        p.end()


class SummaryPanel(QTabWidget):
    """Tab "Suspects": the score histogram and the counts per kind and per class of the listed
    suspects; tab "Model": per-class metrics, confusions and calibration (:mod:`.model_report`)."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.by_kind = CountsModel(session, "kind", lazy_ms=LAZY_MS)
        self.by_class = CountsModel(session, "class", lazy_ms=LAZY_MS)
        suspects = QWidget()
        layout = QVBoxLayout(suspects)
        title = QLabel("<b>Suspect score</b> (red line: the score cut)")
        title.setWordWrap(True)  # a narrow panel wraps it (the window fits a small screen)
        layout.addWidget(title)
        self.histogram = ScoreHistogram(session)
        layout.addWidget(self.histogram)
        views = []
        for title, model, stretch in (
            ("Listed, per kind", self.by_kind, 0),
            ("Listed, per class", self.by_class, 1),
        ):
            layout.addWidget(QLabel(f"<b>{title}</b>"))
            view = QTableView()
            view.setModel(model)
            view.verticalHeader().hide()
            view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
            view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
            view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            if stretch == 0:  # every kind, whole (it showed two of five in a short panel)
                view.setFixedHeight(rows_height(view, len(KINDS)))
            else:
                view.setMinimumHeight(rows_height(view, 4))
            layout.addWidget(view, stretch)
            views.append(view)
        self.kind_view, self.class_view = views
        self.addTab(_scrolled(suspects), "Suspects")
        self.model_report = ModelReport(session)
        self.addTab(_scrolled(self.model_report), "Model")

    def focus_model_classes(self) -> None:
        """Show the Model tab with its per-class table taking the keys (Enter on a class lists
        its suspects), on the current class row or the first."""
        self.setCurrentIndex(1)
        view = self.model_report.metrics_view
        if not view.currentIndex().isValid() and view.model().rowCount():
            view.setCurrentIndex(view.model().index(0, 0))
        view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        view.scrollTo(view.currentIndex())


def _scrolled(page: QWidget) -> QScrollArea:
    """A tab page that scrolls when the panel is shorter than its tables' whole rows, rather
    than squeezing them below one row."""
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area
