"""The window on a team project (PostgreSQL test server): opening it, others' decisions and
edits arriving live, edits refused when someone changed the label since it was read, undo of
one's own edits only, claims, and the lead's view."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from labelfix.core import edits
from labelfix.core.store import Store
from labelfix.desktop.team.panel import DECIDED_BY, MY_CLAIMS
from tests.desktop.team_helpers import wait_for

pytest.importorskip("psycopg")


def _status_text(win: object, key: str) -> str:
    """The Status cell of a suspect's row (or '' when it is not listed)."""
    s = win.session
    pos = s.review.position_of_key(key)
    row = s.review.row_of(pos)
    if row is None:
        return ""
    model = win.table.suspect_model
    return model.data(model.index(row, model.column_of("status")))


def _shown_class(win: object, label_id: int) -> int | None:
    """The class the canvas draws a label with (None: not drawn)."""
    overlay = win.canvas.review_scene.overlay
    found = [a for a in overlay.labels if a["id"] == label_id] if overlay else []
    return found[0]["category_id"] if found else None


def _open_key_not_current(s: object) -> str:
    """A listed open suspect other than the current one."""
    current = s.current_key()
    for row in range(s.row_count()):
        suspect = s.suspect_at(row)
        if suspect["key"] != current and suspect["status"] == "open":
            return suspect["key"]
    raise AssertionError("no second open suspect listed")


def test_a_team_project_opens_in_the_window(open_window: object, team_project: str) -> None:
    win = open_window(team_project)
    s = win.session
    name = team_project.rsplit("project=", 1)[1]
    assert s.is_team and s.path is None
    # two reviewers' windows on one project had the same title: it names who reviews too
    assert win.windowTitle() == f"{name} (team) — {s.store.reviewer} — LabelFix"
    assert s.location.endswith(f"project={name}") and "postgresql://" in s.location
    assert win.team_dock.isVisible() and win.team_part is not None
    assert s.row_count() > 0 and s.current() is not None
    assert not win.team_part.banner.isVisible()


def test_others_decisions_appear_in_the_table_without_moving_the_selection(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    win.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.table)
    current = s.current_key()
    key = _open_key_not_current(s)
    suspect = s.suspect_at(s.review.row_of(s.review.position_of_key(key)))
    edits.SetDecision(suspect["set_id"], key, "rejected", image_id=suspect["image_id"]).apply(other)
    took = wait_for(
        qtbot,
        lambda: (
            _status_text(win, key).startswith("rejected")
            or s.review.row_of(s.review.position_of_key(key)) is None
        ),
        5,
    )
    assert took < 3.0
    assert s.index.status[s.review.position_of_key(key)] == 2  # rejected
    assert s.current_key() == current
    assert QApplication.focusWidget() is win.table
    assert s.team.remote_changes >= 1
    assert s.undo_stack.count() == 0  # others' decisions are not this window's to undo


def test_others_label_edits_reload_that_images_suspects_and_labels(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    image = s.shown_image_id()
    label = s.image_labels(image)[0]
    new_class = 1 if label["category_id"] != 1 else 2
    edits.SetCategory(label["id"], new_class).apply(other)
    wait_for(qtbot, lambda: s.team.remote_changes >= 1, 5)
    shown = {a["id"] for a in win.canvas.review_scene.overlay.labels}
    wait_for(
        qtbot,
        lambda: _shown_class(win, label["id"]) == new_class,
        5,
    )
    assert label["id"] in shown
    assert s.read_revisions[label["id"]] > label["revision"]


def test_an_edit_of_a_label_someone_changed_since_it_was_shown_is_refused(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    win.team_part.follower.stop()  # the other's change has not arrived yet when we edit
    label = s.image_labels(s.shown_image_id())[0]
    s.select_label(label["id"])
    theirs = 3 if label["category_id"] != 3 else 4
    mine = 5 if label["category_id"] != 5 else 6
    edits.SetCategory(label["id"], theirs).apply(other)
    messages: list[str] = []
    s.errorOccurred.connect(messages.append)
    assert not s.labels.set_category(mine)
    assert s.undo_stack.count() == 0  # the refused command was not pushed
    assert s.store.annotation(label["id"])["category_id"] == theirs
    assert messages and "bob" in messages[-1] and "Not changed" in messages[-1]
    shown = {a["id"] for a in win.canvas.review_scene.overlay.labels}
    wait_for(qtbot, lambda: _shown_class(win, label["id"]) == theirs, 5)
    assert shown  # the fresh state is on the canvas
    assert s.labels.set_category(mine)  # now based on the fresh state: it goes through
    assert s.store.annotation(label["id"])["category_id"] == mine


def test_undo_of_a_label_someone_changed_since_is_refused_and_the_stack_stays(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    label = s.image_labels(s.shown_image_id())[0]
    s.select_label(label["id"])
    mine = 5 if label["category_id"] != 5 else 6
    assert s.labels.set_category(mine)
    assert s.undo_stack.index() == 1
    theirs = 7 if mine != 7 else 8
    edits.SetCategory(label["id"], theirs).apply(other)
    messages: list[str] = []
    s.errorOccurred.connect(messages.append)
    s.undo()
    assert s.undo_stack.index() == 1  # nothing undone: the stack agrees with the project
    assert s.store.annotation(label["id"])["category_id"] == theirs
    assert messages and messages[-1].startswith("Undo refused") and "bob" in messages[-1]
    assert "so nothing was changed. Nothing was undone of" in messages[-1]  # two sentences
    wait_for(qtbot, lambda: _shown_class(win, label["id"]) == theirs, 5)


def test_claims_split_the_work_and_are_given_back(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    panel = win.team_part.panel
    set_id = s.index.set_id
    theirs = other.claim_suspects(set_id, 3)
    assert len(theirs) == 3
    wait_for(qtbot, lambda: set(s.team.others) == set(theirs), 6)
    panel.batch.setValue(4)
    mine = panel.claim_next()
    assert len(mine) == 4 and not set(mine) & set(theirs)  # never the same suspect
    assert panel.view.currentText() == MY_CLAIMS
    listed = {s.suspect_at(r)["key"] for r in range(s.row_count())}
    assert listed <= set(mine) and listed
    assert all("mine" in _status_text(win, k) for k in listed)
    # another reviewer's claim is marked in the table and cannot be decided here
    panel.set_view("All suspects")
    s.set_filter(s.filter.with_(min_score=0.0, per_object=False, statuses=None))
    key = theirs[0]
    assert _status_text(win, key).endswith("claimed: bob")
    s.select_key(key)
    messages: list[str] = []
    s.errorOccurred.connect(messages.append)
    assert not s.decide("rejected")
    assert "bob has claimed" in messages[-1] and other.decision(set_id, key) is None
    own = s.store.session
    win.close_project()
    assert not [k for k, c in other.claims(set_id).items() if c["session"] == own]


def test_the_leads_view_lists_one_reviewers_decisions_and_counts(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    set_id = s.index.set_id
    keys = [s.suspect_at(r)["key"] for r in range(min(3, s.row_count()))]
    for key in keys:
        edits.SetDecision(set_id, key, "flagged").apply(other)
    wait_for(qtbot, lambda: s.team.remote_changes >= len(keys), 5)
    panel = win.team_part.panel
    panel.refresh_counts()
    rows = {panel.counts.item(r, 0).text(): r for r in range(panel.counts.rowCount())}
    assert "bob" in rows
    assert panel.counts.item(rows["bob"], 3).text() == str(len(keys))  # flagged
    panel.set_view(DECIDED_BY + "bob")
    listed = {s.suspect_at(r)["key"] for r in range(s.row_count())}
    assert listed == set(keys)
    panel.set_view("All suspects")
    assert s.row_count() > len(keys) or s.review.only_keys is None


def test_analysing_a_team_project_from_the_window_runs_on_the_server(
    open_window: object, team_project: str, qtbot: object
) -> None:
    """The analysis job (a child process) opens the team project by its location."""
    win = open_window(team_project)
    s = win.session
    before = s.index.analysis_id
    done: list[object] = []
    win.analysisFinished.connect(done.append)
    assert win.run_analysis() is not None
    wait_for(qtbot, lambda: bool(done), 120)
    assert s.index.analysis_id != before and s.row_count() > 0


def test_the_windows_own_changes_are_not_applied_twice(
    open_window: object, team_project: str, qtbot: object
) -> None:
    win = open_window(team_project)
    s = win.session
    assert s.decide("flagged")
    qtbot.wait(1500)  # the feed hands the entry over, and the session skips it
    assert s.team.remote_changes == 0
    assert win.team_part.follower.seq > s.team.start_seq  # it did arrive


def test_another_reviewers_analysis_replaces_the_list(
    open_window: object, team_project: str, other: Store, qtbot: object
) -> None:
    from labelfix.core import analyze as az

    win = open_window(team_project)
    s = win.session
    before = s.index.analysis_id
    az.analyze(other)
    wait_for(qtbot, lambda: s.index.analysis_id != before, 15)
    assert s.row_count() > 0


@pytest.mark.parametrize("team", [True, False])
def test_closing_caches_the_suspect_columns_only_for_a_file(
    team: bool, team_project: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team window's index may lag behind others' changes: closing never caches it on the
    server (a fresh load does); a file's index is the project's, and is cached on close."""
    from labelfix.core.project import pull_project
    from labelfix.core.suspects import SuspectIndex
    from labelfix.desktop.session import Session
    from labelfix.desktop.session import session as session_module

    where = team_project if team else str(tmp_path / "copy.labelfix")
    if not team:
        pull_project(team_project, where)
    saved: list[int] = []
    monkeypatch.setattr(session_module, "CACHE_MIN_ROWS", 1)
    monkeypatch.setattr(SuspectIndex, "save_cache", lambda self, store: saved.append(len(self)))
    s = Session.open(where)
    s.close()
    assert bool(saved) is not team


def test_a_flag_whose_suspect_someone_decided_while_the_note_was_typed_is_refused(
    open_window: object, team_project: str, other: Store, qtbot: object, monkeypatch: object
) -> None:
    """Alice presses F on an open suspect; while she types the note, bob accepts it and the
    window shows his accept. Her OK must not turn into a re-decision that reverts bob's fix
    (she never saw it accepted): refused, naming bob; his fix and accept stay."""

    from labelfix.core.review import decide

    win = open_window(team_project)
    s = win.session
    suspect = s.current()
    assert suspect is not None and suspect["status"] == "open"
    key = suspect["key"]

    def bob_accepts_meanwhile(*_args: object) -> tuple[str, bool]:
        decide(other, [suspect], "accepted").apply(other)
        wait_for(qtbot, lambda: s.index.status[s.review.position_of_key(key)] != 0, 5)
        labels.update({a["id"]: a for a in other.annotations_for_image(suspect["image_id"])})
        return "check it", True

    monkeypatch.setattr("labelfix.desktop.window_review.ask_flag_note", bob_accepts_meanwhile)
    labels: dict[int, dict] = {}
    messages: list[str] = []
    s.errorOccurred.connect(messages.append)
    win.flag()
    assert other.decision(suspect["set_id"], key)["decision"] == "accepted"
    assert {a["id"]: a for a in other.annotations_for_image(suspect["image_id"])} == labels
    assert [e["reviewer"] for e in other.change_log()] == ["bob"] * len(other.change_log())
    assert messages and "bob" in messages[-1] and "accepted" in messages[-1]
    assert s.undo_stack.count() == 0
