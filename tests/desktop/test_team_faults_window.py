"""The window when the team server goes away (the PostgreSQL test server stopped with
``pg_ctl stop -m fast`` mid-session, then started again): it says so, keeps the decision that
was not acknowledged visible as unsaved, refuses new edits without freezing, never says the
edit is saved, and once the server is back sends it (exactly once). An edit whose commit did
land (only the answer was lost) is found with ``edit_logged`` and not sent twice."""

from __future__ import annotations

import time

import pytest

from labelfix.core import edits
from labelfix.core.store import ConnectionLost, Store
from labelfix.desktop.session import decisions as decisions_module
from tests.desktop.team_helpers import pg_server, wait_for


def _status_cell(win: object, key: str) -> str:
    s = win.session
    row = s.review.row_of(s.review.position_of_key(key))
    model = win.table.suspect_model
    return "" if row is None else model.data(model.index(row, model.column_of("status")))


def test_the_server_stopping_mid_decision_keeps_it_unsaved_then_sends_it_once(
    open_window: object, team_project: str, qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = open_window(team_project)
    s = win.session
    suspect = s.current()
    key, set_id = suspect["key"], suspect["set_id"]
    real_decide = decisions_module.decide
    made: list[edits.Edit] = []

    def decide_then_stop(*args: object, **kwargs: object) -> edits.Edit:
        edit = real_decide(*args, **kwargs)  # read while the server was there ...
        made.append(edit)
        pg_server("pause")  # ... and it goes away before the write
        return edit

    monkeypatch.setattr(decisions_module, "decide", decide_then_stop)
    messages: list[str] = []
    s.errorOccurred.connect(messages.append)
    try:
        assert not s.decide("rejected")
        monkeypatch.setattr(decisions_module, "decide", real_decide)
        assert "NOT saved" in messages[-1] and not any("saved." in m for m in messages)
        assert s.team.unsaved and not s.team.connected
        assert win.team_part.banner.isVisible() and "NOT saved" in win.team_part.banner.text()
        assert _status_cell(win, key) == "rejected · unsaved"
        assert s.current_key() == key  # still shown, marked unsaved
        assert s.undo_stack.count() == 0  # nothing on the undo list claims it is done
        t0 = time.monotonic()
        assert not s.decide("flagged", rows=[s.current_row()])  # refused at once, no waiting
        assert time.monotonic() - t0 < 1.0
        assert "Not connected" in messages[-1]
        t0 = time.monotonic()
        s.select_row(s.current_row() + 1)  # another suspect would read the missing server
        assert s.current_key() == key and time.monotonic() - t0 < 1.0
        assert "the selection stays" in messages[-1]
    finally:
        pg_server("resume")
    wait_for(qtbot, lambda: s.team.connected and not s.team.unsaved, 30)
    assert not win.team_part.banner.isVisible()
    assert s.team.note_for(key) == ""  # saved now: no longer marked
    assert s.index.status[s.review.position_of_key(key)] == 2  # rejected
    assert s.undo_stack.count() == 1
    with Store.open(team_project, reviewer="check") as check:
        assert check.decision(set_id, key)["decision"] == "rejected"
        log = check.change_log()
    assert sum(e["edit_id"] == made[0].edit_id for e in log) == 1
    assert "sent again" in win.statusBar().currentMessage() or any(
        "sent again" in m for m in messages
    )


def test_an_edit_that_landed_before_the_answer_was_lost_is_not_sent_again(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    suspect = s.current()
    edit = edits.SetDecision(suspect["set_id"], suspect["key"], "flagged")
    edit.apply(other)  # its commit landed; this window only lost the answer
    s.team.keep_unsaved(
        edit,
        {suspect["image_id"]},
        suspect["key"],
        None,
        ConnectionLost("lost during commit", in_doubt=True),
    )
    assert _status_cell(win, suspect["key"]).endswith("unsaved")
    messages: list[str] = []
    s.team.message.connect(messages.append)
    s.team.set_connected(True)
    assert not s.team.unsaved
    assert messages and "had reached the server" in messages[-1]
    log = other.change_log()
    assert sum(e["edit_id"] == edit.edit_id for e in log) == 1
    assert s.team.note_for(suspect["key"]) == ""
    assert s.index.status[s.review.position_of_key(suspect["key"])] == 3  # flagged
