"""The keyboard reviewer's friction the first drive by xdotool found: sorting, where the focus
is, the way back to the table, what the Kinds button lists, the flag note's place, the arrows
with no label selected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from labelfix.desktop.main_window import MainWindow


@pytest.fixture
def window(open_window: Callable[..., MainWindow], demo_project: Path) -> MainWindow:
    """The main window with the demo project open, the table focused."""
    win = open_window(demo_project)
    win.table.setFocus()
    return win


def test_kinds_button_names_one_or_two_chosen_kinds(window: MainWindow) -> None:
    """ "Kinds: 1" did not say which kind was listed."""
    s = window.session
    kinds = window.filter_bar.kinds
    assert kinds.text() == "Kinds: all"
    s.set_filter(s.filter.with_(kinds=frozenset({"missing_label"})))
    assert kinds.text() == "Kinds: missing label"
    s.set_filter(s.filter.with_(kinds=frozenset({"missing_label", "wrong_class"})))
    assert kinds.text() == "Kinds: missing label, wrong class"
    s.set_filter(
        s.filter.with_(kinds=frozenset({"missing_label", "wrong_class", "spurious_label"}))
    )
    assert kinds.text() == "Kinds: 3"
