"""Typing into the filter bar's boxes: each keystroke filters, and the box keeps what is being
typed (select-all then 0.30 gives 0.30, not 0.00)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from labelfix.desktop.session import Session
from labelfix.desktop.widgets import FilterBar


@pytest.fixture
def bar(qtbot: object, demo_project: Path) -> FilterBar:
    session = Session.open(demo_project)
    widget = FilterBar(session)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    session.close()


@pytest.mark.parametrize("typed", ["0.30", "0.5", "0.05", "1"])
def test_typing_a_confidence_after_select_all(qtbot: object, bar: FilterBar, typed: str) -> None:
    box = bar.min_conf
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), typed)
    assert box.value() == pytest.approx(float(typed))
    assert bar.session.filter.min_confidence == pytest.approx(float(typed))
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert box.text() == f"conf ≥ {float(typed):.2f}"
    assert bar.session.filter.min_confidence == pytest.approx(float(typed))


def test_an_outside_filter_change_still_shows(qtbot: object, bar: FilterBar) -> None:
    bar.session.set_filter(bar.session.filter.with_(min_confidence=0.45))
    assert bar.min_conf.value() == pytest.approx(0.45)
