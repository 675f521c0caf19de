"""The triage grid: the listed suspects as a grid of crops, in table order.

A second view of the session's list (G toggles it with the canvas): it follows the session's
signals like the table (rows, order, the current suspect, labels edited) and reports clicks and
keys to it. It paints only the cells on screen, so its cost does not grow with the list (a
QAbstractScrollArea, not an item view laying out 500,000 items); crops come from a
:class:`.crop_cache.CropCache` that makes them in the background.

Keys: arrows move (Home/End, Page Up/Down too), with Shift they extend the selection, with Ctrl
they move without selecting; Ctrl+Space toggles the current crop, Ctrl+A selects every listed
suspect. Clicks: select, Ctrl+click toggles, Shift+click extends, double-click opens the suspect
in the canvas (as Enter does). A/R/F act on the selection (the window asks
:meth:`selected_rows`).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from labelfix.core.errors import KINDS
from labelfix.core.suspects import STATUSES

from ..models import KIND_TITLES, STATUS_COLOURS
from ..session import Session
from .crop_cache import CropCache
from .render import CROP_SIZE, CropJob

PAD = 6  # px around a crop inside its cell
PREFETCH_PAGES = 1  # pages below the visible one whose crops are made ahead


class TriageGrid(QAbstractScrollArea):
    """Crops of the listed suspects; the current one framed, the selected ones highlighted."""

    openRequested = Signal()  # Enter or a double-click: show the current suspect in the canvas

    def __init__(self, parent: QWidget | None = None, *, disk_cache: bool = True) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.cache: CropCache | None = None
        self.disk_cache = disk_cache
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().valueChanged.connect(self.viewport().update)
        self._mask = np.zeros(0, dtype=bool)  # selected, by index position
        self._anchor: int | None = None  # the row a Shift selection extends from
        self._own = False  # the grid is moving the session's selection, keeping its own
        self._moving = False  # the grid is moving the session's selection
        self._wanted: tuple[str, ...] = ()
        self.title_font = QFont(self.font())
        self.title_font.setBold(True)
        metrics = QFontMetrics(self.font())
        self.line = metrics.height()
        self.cell = QSize(CROP_SIZE[0] + 2 * PAD, CROP_SIZE[1] + 2 * PAD + 2 * self.line + 2)

    # ------------------------------------------------------------------ session
    def attach(self, session: Session | None) -> None:
        """Follow a session (None: none); starts or stops the crop threads."""
        if self.session is not None:
            for signal, slot in self._links():
                signal.disconnect(slot)
        if self.cache is not None:
            self.cache.close()
            self.cache.deleteLater()
            self.cache = None
        self.session = session
        self._wanted = ()
        if session is None:
            self.viewport().update()
            return
        self.cache = CropCache(session.target, disk=self.disk_cache, parent=self)
        self.cache.ready.connect(self._crop_ready)
        for signal, slot in self._links():
            signal.connect(slot)
        self._rows_changed()
        self._follow()

    def _links(self) -> list[tuple]:
        s = self.session
        return [
            (s.suspectsChanged, self._rows_changed),
            (s.orderChanged, self._rows_changed),
            (s.selectionChanged, self._follow),
            (s.selectionKept, self._follow),
            (s.labelsChanged, self._labels_changed),
            (s.rowsReselected, self._reselect),
        ]

    def _rows_changed(self) -> None:
        if len(self._mask) != len(self.session.index):
            self._mask = np.zeros(len(self.session.index), dtype=bool)  # another analysis
            self.cache.clear()
        self._update_range()
        self.viewport().update()

    def _labels_changed(self, image_ids: object) -> None:
        self.cache.forget_images(image_ids)
        self.viewport().update()

    def _follow(self) -> None:
        """The session's current suspect changed: select it (unless the grid moved it while
        extending a selection) and scroll it into view."""
        if self.session is None:
            return
        pos = self.session.current_pos
        if not self._own:
            self._mask[:] = False
            if pos is not None and pos < len(self._mask):
                self._mask[pos] = True
            self._anchor = self.session.current_row()
        # moved by a decision or another view: a suspect off screen starts a fresh page
        self.ensure_visible(self.session.current_row(), at_top=not self._moving)
        self.viewport().update()

    def _reselect(self, rows: list[int]) -> None:
        """Select these rows again (an undone bulk decision's), the current one among them."""
        if self.session is None or not rows:
            return
        self._mask[:] = False
        self._mask[self.session.positions[rows]] = True
        self._anchor = rows[0]
        self.viewport().update()

    # ------------------------------------------------------------------ geometry
    def columns(self) -> int:
        """Crops per row at the current width."""
        return max(1, self.viewport().width() // self.cell.width())

    def _update_range(self) -> None:
        n = 0 if self.session is None else self.session.row_count()
        height = math.ceil(n / self.columns()) * self.cell.height()
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, height - self.viewport().height()))
        bar.setPageStep(self.viewport().height())
        bar.setSingleStep(max(1, self.cell.height() // 3))

    def _left(self) -> int:
        """The x of the first column (the columns are centred)."""
        return max(0, (self.viewport().width() - self.columns() * self.cell.width()) // 2)

    def cell_rect(self, row: int) -> QRect:
        """Where a listed row's cell is in the viewport (may be off screen)."""
        cols = self.columns()
        x = self._left() + (row % cols) * self.cell.width()
        y = (row // cols) * self.cell.height() - self.verticalScrollBar().value()
        return QRect(x, y, self.cell.width(), self.cell.height())

    def row_at(self, x: int, y: int) -> int | None:
        """The listed row under a viewport point, or None."""
        cols = self.columns()
        if x < self._left() or self.session is None:
            return None
        col = (x - self._left()) // self.cell.width()
        if col >= cols:
            return None
        row = ((y + self.verticalScrollBar().value()) // self.cell.height()) * cols + col
        return row if 0 <= row < self.session.row_count() else None

    def visible_rows(self) -> range:
        """The listed rows with a cell at least partly on screen."""
        if self.session is None:
            return range(0)
        cols, top = self.columns(), self.verticalScrollBar().value()
        first = (top // self.cell.height()) * cols
        last = ((top + self.viewport().height()) // self.cell.height() + 1) * cols
        return range(first, min(last, self.session.row_count()))

    def page_rows(self) -> int:
        """Whole rows of crops that fit on screen (at least one)."""
        return max(1, self.viewport().height() // self.cell.height())

    def ensure_visible(self, row: int | None, *, at_top: bool = False) -> None:
        """Scroll so that a row's cell is whole on screen: as little as needed, or (``at_top``)
        with its row of crops at the top, a fresh page, when it is not on screen yet."""
        if row is None:
            return
        rect = self.cell_rect(row)
        bar = self.verticalScrollBar()
        below = rect.bottom() > self.viewport().height()
        if rect.top() < 0 or (at_top and below):  # its row at the top
            bar.setValue(bar.value() + rect.top())
        elif below:
            bar.setValue(bar.value() + rect.bottom() - self.viewport().height() + 1)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._update_range()
        if self.session is not None:
            self.ensure_visible(self.session.current_row())

    # ------------------------------------------------------------------ selection
    def selected_rows(self) -> list[int]:
        """The selected listed rows in order (the current one when none is)."""
        if self.session is None:
            return []
        positions = self.session.positions
        if len(self._mask) and len(positions):
            rows = np.flatnonzero(self._mask[positions])
            if len(rows):
                return [int(r) for r in rows]
        row = self.session.current_row()
        return [] if row is None else [row]

    def _move(self, row: int, *, extend: bool = False, keep: bool = False) -> None:
        """Make a row current: alone selected, or extending the selection from the anchor
        (Shift), or leaving the selection as it is (Ctrl)."""
        s = self.session
        n = s.row_count()
        if n == 0:
            return
        row = min(max(row, 0), n - 1)
        if extend:
            anchor = self._anchor if self._anchor is not None else row
            lo, hi = sorted((anchor, row))
            self._mask[:] = False
            self._mask[s.positions[lo : hi + 1]] = True
        elif not keep:
            self._mask[:] = False
            self._mask[int(s.positions[row])] = True
            self._anchor = row
        self._own = extend or keep
        self._moving = True
        try:
            s.select_row(row)
        finally:
            self._own = self._moving = False
        self.ensure_visible(row)
        self.viewport().update()

    def toggle(self, row: int) -> None:
        """Add a row to the selection, or take it out."""
        pos = int(self.session.positions[row])
        self._mask[pos] = not self._mask[pos]
        self._anchor = row
        self._move(row, keep=True)

    def select_all(self) -> None:
        """Select every listed suspect."""
        if self.session is not None:
            self._mask[self.session.positions] = True
            self.viewport().update()

    # ------------------------------------------------------------------ input
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if self.session is None or self.session.row_count() == 0:
            super().keyPressEvent(event)
            return
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        current = self.session.current_row()
        row = 0 if current is None else current
        cols, page = self.columns(), self.page_rows() * self.columns()
        steps = {
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Up: -cols,
            Qt.Key.Key_Down: cols,
            Qt.Key.Key_PageUp: -page,
            Qt.Key.Key_PageDown: page,
        }
        if key in steps:
            if key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):  # the view turns a page too
                bar = self.verticalScrollBar()
                sign = 1 if key == Qt.Key.Key_PageDown else -1
                bar.setValue(bar.value() + sign * self.page_rows() * self.cell.height())
            self._move(row + steps[key], extend=shift, keep=ctrl and not shift)
        elif key == Qt.Key.Key_Home:
            self._move(0, extend=shift, keep=ctrl and not shift)
        elif key == Qt.Key.Key_End:
            self._move(self.session.row_count() - 1, extend=shift, keep=ctrl and not shift)
        elif key == Qt.Key.Key_Space and ctrl:
            self.toggle(row)
        elif key == Qt.Key.Key_A and ctrl:
            self.select_all()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        row = self.row_at(int(event.position().x()), int(event.position().y()))
        if row is None or event.button() != Qt.MouseButton.LeftButton:
            return
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ShiftModifier:
            self._move(row, extend=True)
        elif mods & Qt.KeyboardModifier.ControlModifier:
            self.toggle(row)
        else:
            self._move(row)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        row = self.row_at(int(event.position().x()), int(event.position().y()))
        if row is not None:
            self._move(row)
            self.openRequested.emit()

    # ------------------------------------------------------------------ painting
    def _crop_ready(self, key: str) -> None:
        if key in self._wanted:
            self.viewport().update()

    def _job(self, pos: int) -> CropJob:
        sx = self.session.index

        def opt(value: int) -> int | None:
            return None if value < 0 else int(value)

        return CropJob(
            sx.key(pos),
            0,
            KINDS[int(sx.kind[pos])],
            int(sx.image_id[pos]),
            opt(sx.annotation_id[pos]),
            opt(sx.other_annotation_id[pos]),
            opt(sx.prediction_id[pos]),
            sx.set_id,
        )

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self.viewport())
        palette = self.palette()
        painter.fillRect(self.viewport().rect(), palette.color(QPalette.ColorRole.Base))
        if self.session is None:
            return
        rows = self.visible_rows()
        positions = self.session.positions
        current = self.session.current_pos
        missing: list[CropJob] = []
        shown: list[str] = []
        for row in rows:
            pos = int(positions[row])
            key = self.session.index.key(pos)
            shown.append(key)
            crop = self.cache.get(key)
            if crop is None:
                missing.append(self._job(pos))
            self._paint_cell(painter, self.cell_rect(row), pos, crop, palette, pos == current)
        painter.end()
        self._want(rows, missing, shown)

    def _want(self, rows: range, missing: list[CropJob], shown: list[str]) -> None:
        """Ask for the crops on screen, then those of the next page(s)."""
        ahead_end = min(rows.stop + PREFETCH_PAGES * len(rows), self.session.row_count())
        ahead = [
            self._job(int(p))
            for p in self.session.positions[rows.stop : ahead_end]
            if self.cache.get(self.session.index.key(int(p))) is None
        ]
        wanted = tuple(shown)
        if wanted != self._wanted or missing:
            self._wanted = wanted
            self.cache.want(missing + ahead)

    def _paint_cell(
        self,
        painter: QPainter,
        rect: QRect,
        pos: int,
        crop: object,
        palette: QPalette,
        is_current: bool,
    ) -> None:
        sx = self.session.index
        highlight = palette.color(QPalette.ColorRole.Highlight)
        if pos < len(self._mask) and self._mask[pos]:
            fill = QColor(highlight)
            fill.setAlpha(90)
            painter.fillRect(rect.adjusted(1, 1, -1, -1), fill)
        crop_rect = QRect(rect.x() + PAD, rect.y() + PAD, *CROP_SIZE)
        if crop is not None:
            painter.drawImage(crop_rect, crop)
        else:
            painter.fillRect(crop_rect, palette.color(QPalette.ColorRole.Mid))
        status = int(sx.status[pos])
        if status:
            name = STATUSES[status]
            badge = QRect(
                crop_rect.x(),
                crop_rect.y(),
                painter.fontMetrics().horizontalAdvance(name) + 8,
                self.line,
            )
            painter.fillRect(badge, QColor(STATUS_COLOURS[name]))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, name)
        if is_current:
            pen = painter.pen()
            pen.setColor(highlight)
            pen.setWidth(3)
            painter.setPen(pen)
            painter.drawRect(rect.adjusted(2, 2, -3, -3))
        text = palette.color(QPalette.ColorRole.Text)
        kind = KINDS[int(sx.kind[pos])]
        y = crop_rect.bottom() + 3
        painter.setPen(text)
        painter.setFont(self.title_font)
        line1 = QRect(crop_rect.x(), y, CROP_SIZE[0], self.line)
        painter.drawText(line1, Qt.AlignmentFlag.AlignLeft, KIND_TITLES.get(kind, kind))
        painter.drawText(line1, Qt.AlignmentFlag.AlignRight, f"{sx.score[pos]:.3f}")
        painter.setFont(self.font())
        names = self.session.category_names
        label = names.get(int(sx.category_id[pos]), "")
        predicted = names.get(int(sx.predicted_category_id[pos]), "")
        classes = (
            f"{label} → {predicted}"
            if label and predicted and label != predicted
            else label or predicted
        )
        line2 = QRect(crop_rect.x(), y + self.line, CROP_SIZE[0], self.line)
        elided = painter.fontMetrics().elidedText(
            classes, Qt.TextElideMode.ElideRight, CROP_SIZE[0]
        )
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(line2, Qt.AlignmentFlag.AlignLeft, elided)

    def close_cache(self) -> None:
        """Stop the crop threads (the window is closing)."""
        self.attach(None)
