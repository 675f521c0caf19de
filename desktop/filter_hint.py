"""A bar above the suspects table when a confidence cut hides almost every suspect (or a whole
kind): it says so and offers, in one click each, the confidence cut that lists every kind's
best suspects (see :mod:`labelfix.core.filter_advice`) or the default view (every kind ranked by
calibrated score down to the analysis's default cut, which never needs the hint). It follows
the session; ✕ hides it until the filter or the suspects change."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from labelfix.core.filter_advice import FilterAdvice, advise, sentence

from .session import Session


class FilterHint(QFrame):
    """'conf ≥ 0.75 hides 94% of the 758 suspects (all missing labels, ...)' [List conf ≥ 0.35]."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tipBar")
        self.session = session
        self.advice: FilterAdvice | None = None
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.button = QPushButton()
        self.button.clicked.connect(self.apply)
        self.default_button = QPushButton("Default view")
        self.default_button.setToolTip(
            "Every kind ranked by calibrated score, down to this analysis's default cut"
        )
        self.default_button.clicked.connect(self.default_view)
        close = QToolButton(text="✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.text, 1)
        row.addWidget(self.button)
        row.addWidget(self.default_button)
        row.addWidget(close)
        session.filterChanged.connect(self.refresh)
        session.suspectsChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show the advice for the session's filter, or hide."""
        self.advice = advise(self.session.index, self.session.filter)
        if self.advice is None:
            self.hide()
            return
        self.text.setText(sentence(self.advice))
        self.button.setText(f"List conf ≥ {self.advice.suggested:.2f}")
        self.show()

    def apply(self) -> None:
        """Lower the confidence cut to the suggested one."""
        if self.advice is not None:
            self.session.set_filter(self.session.filter.with_(min_confidence=self.advice.suggested))

    def default_view(self) -> None:
        """No confidence cut; the analysis's default score cut."""
        self.session.set_filter(self.session.filter.with_(min_confidence=0.0, min_score=None))
