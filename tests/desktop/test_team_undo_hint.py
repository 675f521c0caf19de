"""The inspector says Ctrl+Z undoes an accepted suspect only when this window's undo holds
that decision: another reviewer's accept (arriving live) is not this window's to undo."""

from __future__ import annotations

import pytest

from labelfix.core import edits
from labelfix.core.store import Store
from tests.desktop.team_helpers import wait_for

pytest.importorskip("psycopg")


def test_ctrl_z_is_offered_for_ones_own_accept_only(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    hint = win.docks["inspector"].widget().hint
    mine = s.current_key()
    theirs = next(
        s.suspect_at(r)["key"]
        for r in range(s.row_count())
        if s.suspect_at(r)["key"] != mine and s.suspect_at(r)["kind"] != s.current()["kind"]
    )
    assert s.decide("accepted")
    s.select_key(mine)
    assert "Ctrl+Z undoes it" in hint.text()
    suspect = s.suspect_at(s.review.row_of(s.review.position_of_key(theirs)))
    edits.SetDecision(suspect["set_id"], theirs, "accepted", image_id=suspect["image_id"]).apply(
        other
    )
    pos = s.review.position_of_key(theirs)
    wait_for(qtbot, lambda: s.index.status[pos] != 0, 10)
    s.select_key(theirs)
    assert s.current_key() == theirs and s.current()["status"] == "accepted"
    assert "Ctrl+Z" not in hint.text() and "bob" in hint.text(), hint.text()
    s.undo()  # Ctrl+Z undoes this window's own accept, not bob's
    s.select_key(mine)
    assert s.current()["status"] == "open"
