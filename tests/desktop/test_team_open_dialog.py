"""File ▸ Open team project…: the dialog lists the server's projects once the URL is entered,
remembers this machine's image folder per project (never a password), and the window opens
the chosen project."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from labelfix.core import project, settings
from labelfix.desktop.main_window import MainWindow
from labelfix.desktop.team.open_dialog import OpenTeamDialog, server_of, team_location


def test_locations_are_split_and_joined() -> None:
    url = "postgresql://alice@db:5433/labels?sslmode=require"
    joined = team_location(url, "coco")
    assert joined == "postgresql://alice@db:5433/labels?sslmode=require&project=coco"
    assert server_of(joined) == (url, "coco")


def test_the_dialog_lists_the_servers_projects_and_remembers_the_images(
    qtbot: object, team_project: str, tmp_path: Path
) -> None:
    server, name = server_of(team_project)
    dialog = OpenTeamDialog()
    qtbot.addWidget(dialog)
    dialog.url.setText(server)
    names = lambda: [dialog.project.itemText(i) for i in range(dialog.project.count())]  # noqa: E731
    qtbot.waitUntil(lambda: name in names(), timeout=10_000)
    dialog.project.setEditText(name)
    dialog.folder.setText(str(tmp_path))
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.location == team_location(server, name)
    assert project.team_images(team_project) == tmp_path.resolve()
    assert "password" not in settings.settings_path().read_text().lower()
    again = OpenTeamDialog(url=team_project)  # the remembered folder comes back
    qtbot.addWidget(again)
    assert again.folder.text() == str(tmp_path.resolve())


def test_a_missing_folder_or_name_keeps_the_dialog_open(qtbot: object, team_project: str) -> None:
    dialog = OpenTeamDialog(url=team_project)
    qtbot.addWidget(dialog)
    dialog.folder.setText("/no/such/folder")
    dialog.accept()
    assert dialog.location is None and "no such folder" in dialog.status.text()
    dialog.project.setEditText("")
    dialog.accept()
    assert dialog.location is None and "project's name" in dialog.status.text()


def test_open_team_project_opens_the_chosen_one(
    qtbot: object, team_project: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def chosen(dialog: OpenTeamDialog) -> int:
        dialog.location = team_project
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(OpenTeamDialog, "exec", chosen)
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.open_team_project()
    assert win.session is not None and win.session.is_team
    assert "password" not in str(win.settings.value("team/last")).lower()
    assert win.settings.value("team/last").endswith(team_project.rsplit("?", 1)[1])
    win.close_project()


def test_an_unknown_or_vanished_image_folder_is_asked_for(
    open_window: object, team_project: str, qtbot: object, tmp_path: Path
) -> None:
    """Offscreen nobody can answer a folder dialog: the status bar says how to set it."""
    win = open_window(team_project)
    qtbot.waitUntil(lambda: "is not known on this machine" in win.statusBar().currentMessage())
    win.close_project()
    gone = tmp_path / "images"
    gone.mkdir()
    project.remember_team_images(team_project, gone)
    gone.rmdir()
    assert win.open_path(team_project)
    qtbot.waitUntil(lambda: "is gone" in win.statusBar().currentMessage())


def test_a_team_project_is_listed_on_the_start_page_and_reopens(
    qtbot: object, team_project: str
) -> None:
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.open_path(team_project)
    win.close_project()
    page = win.start_page
    name = team_project.rsplit("project=", 1)[1]
    texts = [page.recent.item(i).text() for i in range(page.recent.count())]
    assert any(t.startswith(f"{name} (team)") for t in texts)
    item = next(
        page.recent.item(i)
        for i in range(page.recent.count())
        if page.recent.item(i).text().startswith(name)
    )
    page.recent.itemActivated.emit(item)
    assert win.session is not None and win.session.is_team
    win.close_project()


def test_a_closed_dialog_asks_the_server_nothing_more(
    qtbot: object, team_project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing the dialog before the typing pause ends stops the pending listing (a listing
    started after the close would outlive the dialog)."""
    from labelfix.desktop.team import open_dialog

    asked: list[str] = []
    monkeypatch.setattr(project, "team_projects", lambda url: asked.append(url) or [])
    dialog = OpenTeamDialog(url=team_project)
    qtbot.addWidget(dialog)
    dialog.url.setText(server_of(team_project)[0])  # typing: the listing waits for a pause
    dialog.reject()
    qtbot.wait(open_dialog.LIST_DELAY_MS + 300)
    assert asked == []


def test_closing_a_dialog_never_shown_stops_the_pending_listing(
    qtbot: object, team_project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dialog closed without being shown (so no hide, no done) lists nothing afterwards: a
    listing started then would run with no dialog to show it (and did, in the tests'
    teardown, when the body took longer than the typing pause)."""
    from labelfix.desktop.team import open_dialog

    asked: list[str] = []
    monkeypatch.setattr(project, "team_projects", lambda url: asked.append(url) or [])
    dialog = OpenTeamDialog(url=team_project)  # a server given: its listing is pending
    qtbot.addWidget(dialog)
    dialog.close()
    qtbot.wait(open_dialog.LIST_DELAY_MS + 300)
    assert asked == []


def test_open_team_project_leaves_no_dialog_behind(
    qtbot: object, team_project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """File > Open team project cancelled: the dialog is gone, and with it its pending
    listing (it used to live, a hidden child of the window, until the window died)."""
    from labelfix.desktop.team import open_dialog

    asked: list[str] = []
    monkeypatch.setattr(project, "team_projects", lambda url: asked.append(url) or [])
    monkeypatch.setattr(OpenTeamDialog, "exec", lambda dialog: 0)  # as if at once cancelled
    win = MainWindow()
    qtbot.addWidget(win)
    win.settings.setValue("team/last", team_project)
    assert not win.open_team_project()
    qtbot.wait(open_dialog.LIST_DELAY_MS + 300)
    assert asked == []
    assert not win.findChildren(OpenTeamDialog)
