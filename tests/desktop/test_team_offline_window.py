"""Two reviewers' hour, the window's side of a server that goes away: a row clicked while it
is away is not left highlighted under another suspect's inspector (the next key would decide
the suspect the inspector shows, not the one the table highlights), and the status bar's edit
count keeps following others' exports after the server was away once."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from labelfix.core.store import ConnectionLost, Store
from tests.desktop.team_helpers import pg_server, wait_for


def test_a_row_clicked_while_the_server_is_away_is_not_left_highlighted(
    open_window: object, team_project: str, qtbot: object
) -> None:
    win = open_window(team_project)
    s, table = win.session, win.table
    key = s.current_key()
    row = s.current_row()
    pg_server("pause")
    try:
        wait_for(qtbot, lambda: not s.team.connected, 30)
        rect = table.visualRect(table.model().index(row + 1, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.wait(50)
        assert s.current_key() == key  # refused: the inspector still shows it ...
        selected = [i.row() for i in table.selectionModel().selectedRows()]
        assert selected == [row] and table.currentIndex().row() == row  # ... and so does the table
    finally:
        pg_server("resume")
    wait_for(qtbot, lambda: s.team.connected, 30)


def test_the_edit_count_follows_an_export_after_the_server_was_away(
    open_window: object,
    team_project: str,
    other: Store,
    qtbot: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    win = open_window(team_project)
    counts, s = win.counts, win.session
    real = type(s).edits_since_export
    lost: list[int] = []

    def away_once(session: object) -> int:
        if not lost:
            lost.append(1)
            raise ConnectionLost("server closed the connection unexpectedly")
        return real(session)

    monkeypatch.setattr(type(s), "edits_since_export", away_once)
    wait_for(qtbot, lambda: bool(lost), 10)  # one poll met the missing server
    other.bump_edits_since_export(3)  # another reviewer's edits (or an export) since
    wait_for(qtbot, lambda: "3 edit(s) since export" in counts.text(), 10)
