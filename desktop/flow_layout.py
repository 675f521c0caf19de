"""A layout that places its widgets left to right and wraps them onto the next row when the
width runs out (Qt's flow layout example, in short): the filter bar's controls fit a narrow
suspects panel in three rows instead of forcing the whole window wider than a laptop screen."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    """Rows of widgets, wrapped to the available width; ``breaks`` are item indices that
    always start a new row (the filter bar's cuts and its choices stay apart)."""

    def __init__(
        self, parent: QWidget | None = None, spacing: int = 4, breaks: tuple[int, ...] = ()
    ) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.breaks = set(breaks)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt API
        """Take an item (addWidget ends here)."""
        self._items.append(item)

    def count(self) -> int:
        """How many items the layout holds."""
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        """The item at ``index``, or None."""
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        """Remove and return the item at ``index``."""
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt API
        """Grows in neither direction by itself (its rows follow the width)."""
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        """Its height depends on its width (the rows it needs)."""
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        """The height of the rows at this width."""
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt API
        """Place the items in rows inside ``rect``."""
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """As wide as its widest row of fixed breaks, as tall as those rows."""
        m = self.contentsMargins()
        rows: list[list[QSize]] = [[]]
        for i, item in enumerate(self._visible()):
            if i in self.breaks and rows[-1]:
                rows.append([])
            rows[-1].append(item.sizeHint())
        width = max(sum(s.width() for s in r) + self._spacing * (len(r) - 1) for r in rows)
        height = sum(max((s.height() for s in r), default=0) for r in rows)
        height += self._spacing * (len(rows) - 1)
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt API
        """As wide as its widest item (every other one can go to a row of its own)."""
        m = self.contentsMargins()
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _visible(self) -> list[QLayoutItem]:
        return [it for it in self._items if not it.isEmpty()]

    def _place(self, rect: QRect, *, move: bool) -> int:
        """Lay the items out in ``rect`` (only measure unless ``move``); the height used."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        rows: list[list[QLayoutItem]] = [[]]
        x = 0
        for i, item in enumerate(self._items):
            if item.isEmpty():
                continue
            w = item.sizeHint().width()
            if rows[-1] and (i in self.breaks or x + w > area.width()):
                rows.append([])
                x = 0
            rows[-1].append(item)
            x += w + self._spacing
        y = area.y()
        for row in rows:
            height = max((it.sizeHint().height() for it in row), default=0)
            x = area.x()
            for k, item in enumerate(row):
                hint = item.sizeHint()
                w = min(hint.width(), area.right() + 1 - x)
                if k == len(row) - 1 and item.expandingDirections() & Qt.Orientation.Horizontal:
                    w = area.right() + 1 - x  # an expanding last item takes the rest of its row
                if move:
                    item.setGeometry(
                        QRect(
                            QPoint(x, y + (height - hint.height()) // 2),
                            QSize(max(w, item.minimumSize().width()), hint.height()),
                        )
                    )
                x += w + self._spacing
            y += height + self._spacing
        return y - self._spacing - rect.y() + m.bottom() if rows[0] else m.top() + m.bottom()
