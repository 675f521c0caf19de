"""Small review widgets: the filter bar, the status-bar pieces and the tip bar (the inspector is
in inspector.py). Each follows the session's signals and calls the session; none talks to
another widget."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from labelfix.core.errors import KINDS
from labelfix.core.project import ConnectionLost
from labelfix.core.suspects import SEED_REVIEW_FILTER

from .flow_layout import FlowLayout
from .models import KIND_TITLES
from .session import Session

STATUS_CHOICES = (
    ("Open", frozenset({"open"})),
    ("All", None),
    ("Decided", frozenset({"accepted", "rejected", "flagged"})),
    ("Accepted", frozenset({"accepted"})),
    ("Rejected", frozenset({"rejected"})),
    ("Flagged", frozenset({"flagged"})),
    ("Open + flagged", frozenset({"open", "flagged"})),
)
NAMED_ITEMS = 2  # a filter button names up to this many chosen items, else counts them


class CheckMenuButton(QToolButton):
    """A button with a menu of checkable items; ``changed`` carries the checked values (None = all)."""

    changed = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setMenu(QMenu(self))
        self._items: list[tuple[object, object]] = []

    def set_items(self, items: list[tuple[object, str]], checked: frozenset | None) -> None:
        """Fill the menu; ``checked`` None means every item."""
        menu = self.menu()
        menu.clear()
        self._items = []
        everything = menu.addAction("All")
        everything.triggered.connect(lambda: self._set_all(True))
        nothing = menu.addAction("None")
        nothing.triggered.connect(lambda: self._set_all(False))
        menu.addSeparator()
        for value, text in items:
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(checked is None or value in checked)
            action.toggled.connect(self._emit)
            self._items.append((value, action))
        self._update_text()

    def values(self) -> frozenset | None:
        """The checked values, or None when all are checked."""
        chosen = frozenset(v for v, a in self._items if a.isChecked())
        return None if len(chosen) == len(self._items) else chosen

    def _set_all(self, on: bool) -> None:
        for _v, action in self._items:
            action.blockSignals(True)
            action.setChecked(on)
            action.blockSignals(False)
        self._emit()

    def _emit(self) -> None:
        self._update_text()
        self.changed.emit(self.values())

    def _update_text(self) -> None:
        """ "Kinds: all", the chosen items' names when one or two ("Kinds: missing label"),
        else their number ("Kinds: 3"): a bare count did not say which kind was listed."""
        values = self.values()
        chosen = [a.text() for _v, a in self._items if a.isChecked()]
        if values is None:
            shown = "all"
        elif 0 < len(chosen) <= NAMED_ITEMS:
            shown = ", ".join(chosen)
        else:
            shown = str(len(chosen))
        self.setText(f"{self.title}: {shown}")


class IouRangeButton(QToolButton):
    """A button with a menu holding an IoU range (from, to); ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolTip("List only suspects whose IoU lies in this range")
        self.low = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.high = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.high.setValue(1.0)
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(8, 4, 8, 4)
        for widget in (QLabel("IoU from"), self.low, QLabel("to"), self.high):
            row.addWidget(widget)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(box)
        menu.addAction(action)
        menu.addAction("Any IoU", lambda: self.set_range(0.0, 1.0, notify=True))
        self.setMenu(menu)
        self.low.valueChanged.connect(self._edited)
        self.high.valueChanged.connect(self._edited)
        self._update_text()

    def range(self) -> tuple[float, float]:
        """(from, to), with from <= to."""
        low, high = round(self.low.value(), 4), round(self.high.value(), 4)
        return (low, high) if low <= high else (high, low)

    def set_range(self, low: float, high: float, *, notify: bool = False) -> None:
        """Show a range; ``notify`` emits ``changed`` as an edit would."""
        for box, value in ((self.low, low), (self.high, high)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._update_text()
        if notify:
            self.changed.emit()

    def _edited(self) -> None:
        self._update_text()
        self.changed.emit()

    def _update_text(self) -> None:
        low, high = self.range()
        self.setText("IoU: any" if (low, high) == (0.0, 1.0) else f"IoU {low:.2f}–{high:.2f}")


class FilterBar(QWidget):
    """Score cut (the analysis's default cut unless set), min confidence and the earlier
    confidence view in one click, one row per object, kinds, classes, IoU range, review status
    and file-name search."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.min_score = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.min_score.setPrefix("score ≥ ")
        self.min_score.setToolTip(
            "Hide suspects less likely to be label errors than this. By default the cut this "
            "analysis's scores suggest (at least an hour of review, never below 0.2)"
        )
        self.min_conf = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.min_conf.setPrefix("conf ≥ ")
        self.min_conf.setToolTip("Hide suspects whose prediction is less confident than this")
        self.seed = QToolButton(text="conf ≥ 0.75", checkable=True)
        self.seed.setToolTip(
            "The earlier default view: the detector's raw confidence ≥ 0.75, no score cut "
            "(click again for the default view)"
        )
        self.per_object = QCheckBox("per object")
        self.per_object.setToolTip(
            "One row per object: its most likely fix; the others are in the inspector"
        )
        self.kinds = CheckMenuButton("Kinds")
        self.classes = CheckMenuButton("Classes")
        self.iou = IouRangeButton()
        self.status = QComboBox()
        for text, _value in STATUS_CHOICES:
            self.status.addItem(text)
        # a confusion pair clicked in the Model tab (label class → predicted class): shown
        # while it narrows the list, a click clears it
        self.pair = QToolButton()
        self.pair.setToolTip(
            "Only the suspects of this confusion (from the Model tab): click "
            "to list every class again"
        )
        self.pair.hide()
        self.pair.clicked.connect(self._clear_pair)
        self.search = QLineEdit(placeholderText="file name…", clearButtonEnabled=True)
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        # the cuts on one row, the choices on the next; a narrow panel wraps them further
        rows = FlowLayout(self, spacing=4, breaks=(4,))
        rows.setContentsMargins(4, 4, 4, 4)
        for w in (self.min_score, self.min_conf, self.seed, self.per_object):
            rows.addWidget(w)
        for w in (self.kinds, self.classes, self.pair, self.iou, self.status, self.search):
            rows.addWidget(w)
        self._synced = (
            self.min_score,
            self.min_conf,
            self.seed,
            self.per_object,
            self.kinds,
            self.classes,
            self.iou,
            self.status,
            self.search,
        )
        self._sync()
        self.min_score.valueChanged.connect(self._apply)
        self.min_conf.valueChanged.connect(self._apply)
        self.seed.toggled.connect(self._seed_view)
        self.per_object.toggled.connect(self._apply)
        self.kinds.changed.connect(self._apply)
        self.classes.changed.connect(self._apply)
        self.iou.changed.connect(self._apply)
        self.status.currentIndexChanged.connect(self._apply)
        self.search.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self._apply)
        session.filterChanged.connect(self._sync)
        session.suspectsChanged.connect(self._sync_cut)

    def _sync(self) -> None:
        """Show the session's filter (after resume or an outside change)."""
        flt = self.session.filter
        for w in self._synced:
            w.blockSignals(True)
        self._sync_cut()
        # the filter came from this box (a keystroke): leave the text being typed alone, or
        # "0" then "." would be reformatted to "0.00" and the rest of "0.30" lost
        if round(self.min_conf.value(), 4) != round(flt.min_confidence, 4):
            self.min_conf.setValue(flt.min_confidence)
        self.seed.setChecked(
            flt.min_confidence == SEED_REVIEW_FILTER.min_confidence and flt.min_score == 0.0
        )
        self.per_object.setChecked(flt.per_object)
        if self.iou.range() != (round(flt.min_iou, 4), round(flt.max_iou, 4)):
            self.iou.set_range(flt.min_iou, flt.max_iou)
        self.kinds.set_items([(k, KIND_TITLES[k]) for k in KINDS], flt.kinds)
        names = self.session.category_names
        self.classes.set_items(
            sorted(names.items(), key=lambda kv: kv[1].lower()), flt.category_ids
        )
        pair = flt.class_pair
        if pair is not None:
            self.pair.setText(f"{names.get(pair[0], pair[0])} → {names.get(pair[1], pair[1])}  ✕")
        self.pair.setVisible(pair is not None)
        choice = next((i for i, (_t, v) in enumerate(STATUS_CHOICES) if v == flt.statuses), 1)
        self.status.setCurrentIndex(choice)
        if self.search.text() != flt.file_name:
            self.search.setText(flt.file_name)
        for w in self._synced:
            w.blockSignals(False)

    def _sync_cut(self) -> None:
        """The score box: the filter's cut, or the analysis's default cut (marked)."""
        flt = self.session.filter
        cut = self.session.index.review_cut if flt.min_score is None else flt.min_score
        self.min_score.blockSignals(True)
        self.min_score.setSuffix(" (default)" if flt.min_score is None else "")
        if round(self.min_score.value(), 4) != round(cut, 4):
            self.min_score.setValue(cut)
        self.min_score.blockSignals(False)

    def _clear_pair(self) -> None:
        self.session.set_filter(self.session.filter.with_(class_pair=None))

    def _seed_view(self, on: bool) -> None:
        """The earlier confidence view, or back to the default cut."""
        if on:
            flt = self.session.filter.with_(
                min_confidence=SEED_REVIEW_FILTER.min_confidence, min_score=0.0
            )
        else:
            flt = self.session.filter.with_(min_confidence=0.0, min_score=None)
        self.session.set_filter(flt)

    def _apply(self) -> None:
        min_iou, max_iou = self.iou.range()
        flt = self.session.filter
        score = round(self.min_score.value(), 4)
        cut = self.session.index.review_cut if flt.min_score is None else flt.min_score
        # the box shows the cut to its decimals (0.2874 as 0.29): unchanged there, it is kept
        shown = round(cut, self.min_score.decimals())
        min_score = flt.min_score if score == shown else score  # edited: the user's cut
        self.session.set_filter(
            flt.with_(
                min_score=min_score,
                min_confidence=round(self.min_conf.value(), 4),
                per_object=self.per_object.isChecked(),
                min_iou=min_iou,
                max_iou=max_iou,
                kinds=self.kinds.values(),
                category_ids=self.classes.values(),
                statuses=STATUS_CHOICES[self.status.currentIndex()][1],
                file_name=self.search.text().strip(),
            )
        )


class StatusCounts(QLabel):
    """Open / accepted / rejected / flagged counts, the number listed and the edits since the
    last export. The edit count is read again every POLL_MS: an export from the command line
    (another process) while the app is open resets it."""

    POLL_MS = 1500

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.edits: int | None = None
        session.suspectsChanged.connect(self.refresh)
        self._poll = QTimer(self, interval=self.POLL_MS)
        self._poll.timeout.connect(self._check_edits)
        self._poll.start()
        self.refresh()

    def _check_edits(self) -> None:
        """Refresh when the project's edit count changed behind the window's back."""
        try:
            edits = self.session.edits_since_export()
        except ConnectionLost:  # a team server away for now: ask again at the next poll
            return
        except Exception:  # noqa: BLE001 - a closed project: the label is going away
            self._poll.stop()
            return
        if edits != self.edits:
            self.refresh()

    def refresh(self) -> None:
        """Recount."""
        c = self.session.status_counts()
        edits = self.edits = self.session.edits_since_export()
        self.setText(
            f"{self.session.row_count()} listed   ·   open {c['open']}   accepted {c['accepted']}   "
            f"rejected {c['rejected']}   flagged {c['flagged']}   ·   {edits} edit(s) since export"
        )


class JobIndicator(QWidget):
    """A background job in the status bar: what it is, a progress bar, Cancel."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setMaximumHeight(14)
        self.cancel = QPushButton("Cancel")
        self.cancel.setFlat(True)
        self.cancel.clicked.connect(self.cancelRequested)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel)
        self.hide()

    def start(self, text: str) -> None:
        """Show a job starting."""
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.show()

    def progress(self, done: int, total: int) -> None:
        """Update the bar."""
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)

    def stop(self) -> None:
        """Hide after the job ended."""
        self.hide()


class TipBar(QFrame):
    """A dismissable one-line tip above the canvas."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tipBar")
        label = QLabel(text)
        close = QToolButton(text="✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 4, 2)
        row.addWidget(label, 1)
        row.addWidget(close)


FOCUS_FRAME_PX = 2  # the accent frame around the pane with the keyboard focus
CONTROL_FRAME_PX = 2  # the outline just outside the control (button, box) with the focus


class _FocusOutline(QWidget):
    """A thin frame in the palette's highlight colour over its parent; clicks pass through."""

    def __init__(self, width: int = FOCUS_FRAME_PX) -> None:
        super().__init__()
        self.width_px = width
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        """The outline only; the pane shows through."""
        painter = QPainter(self)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), self.width_px)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        half = self.width_px / 2
        painter.drawRect(self.rect().toRectF().adjusted(half, half, -half, -half))


class FocusFrame(QObject):
    """Draws a thin accent frame around the pane (a dock, the canvas) holding the keyboard
    focus: the canvas, inspector and summary showed no sign of it, and after a Kinds choice the
    focus stayed on the button unseen. A control with the focus inside a pane (a filter button,
    the file-name box) wears its own outline just outside it: Tab moved between them unseen
    (Fusion tints a focused button by 1 px). The theme's look is otherwise unchanged."""

    def __init__(self, panes: list[QWidget]) -> None:
        super().__init__(panes[0])
        self.panes = panes
        self.frame = _FocusOutline()
        self.frame.hide()
        self.control_frame = _FocusOutline(CONTROL_FRAME_PX)
        self.control_frame.hide()
        self.control: QWidget | None = None  # the control the outline surrounds
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_moved)

    def pane_of(self, widget: QWidget | None) -> QWidget | None:
        """The pane holding ``widget`` (None: none of them, e.g. a menu or a dialog)."""
        while widget is not None:
            if widget in self.panes:
                return widget
            widget = widget.parentWidget()
        return None

    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        if not shiboken6.isValid(self.frame):  # its pane (a window) was destroyed with it
            return
        pane = self.pane_of(new)
        if new is None or new.window() is self.panes[0].window():  # None: no focus, no mark
            self._mark_control(None if new in self.panes else new)
        if pane is None:  # a menu, a dialog, another window: the frame waits; else it goes
            if new is not None and new.window() is self.panes[0].window():
                self.frame.hide()
            return
        if self.frame.parentWidget() is not pane:
            old = self.frame.parentWidget()
            if old is not None:
                old.removeEventFilter(self)
            self.frame.setParent(pane)
            pane.installEventFilter(self)
        self._cover(pane)

    def _cover(self, pane: QWidget) -> None:
        self.frame.setGeometry(pane.rect())
        self.frame.raise_()
        self.frame.show()

    def _mark_control(self, widget: QWidget | None) -> None:
        """Outline ``widget`` when it is a control (not a scrolling view: the table, canvas,
        grid and text views fill their pane, whose frame marks them); else hide the outline."""
        if self.control is not None and shiboken6.isValid(self.control):
            self.control.removeEventFilter(self)
        self.control = None
        if not shiboken6.isValid(self.control_frame):  # destroyed with its last control's parent
            self.control_frame = _FocusOutline(CONTROL_FRAME_PX)
        if widget is None or isinstance(widget, QAbstractScrollArea) or not widget.parentWidget():
            self.control_frame.hide()
            return
        self.control = widget
        widget.installEventFilter(self)
        self._outline_control()

    def _outline_control(self) -> None:
        control, outline = self.control, self.control_frame
        if control is None or not (shiboken6.isValid(control) and shiboken6.isValid(outline)):
            return
        parent = control.parentWidget()
        if outline.parentWidget() is not parent:
            outline.setParent(parent)
        m = CONTROL_FRAME_PX
        outline.setGeometry(control.geometry().adjusted(-m, -m, m, m))
        outline.raise_()
        outline.setVisible(control.isVisible())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Follow the pane's size; stay above children it adds. Follow the outlined control's
        place, size and visibility."""
        if watched is self.control and event.type() in (
            QEvent.Type.Move,
            QEvent.Type.Resize,
            QEvent.Type.Show,
            QEvent.Type.Hide,
        ):
            QTimer.singleShot(0, self._outline_control)
            return False
        if not shiboken6.isValid(self.frame):  # destroyed with its pane: nothing to follow
            return False
        if watched is self.frame.parentWidget() and event.type() in (
            QEvent.Type.Resize,
            QEvent.Type.ChildAdded,
        ):
            QTimer.singleShot(0, lambda: self._cover_if(watched))
        return False

    def _cover_if(self, pane: QObject) -> None:
        if not (shiboken6.isValid(self.frame) and shiboken6.isValid(pane)):
            return
        if pane is self.frame.parentWidget() and isinstance(pane, QWidget):
            self._cover(pane)
