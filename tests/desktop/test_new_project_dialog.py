"""New Project from COCO, typed by hand: the project file follows the labels path as it is
typed (until the user sets the project file), no keystroke prints a traceback, every problem
names its field, and the path fields are wide enough to read a path."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from labelfix.desktop import dialogs
from labelfix.desktop.dialogs import NewProjectDialog, PathField, suggested_project


@pytest.fixture
def dialog(qtbot: object) -> NewProjectDialog:
    dlg = NewProjectDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def type_into(qtbot: object, field: PathField, text: str) -> None:
    field.edit.setFocus()
    qtbot.keyClicks(field.edit, text)


def test_the_project_file_follows_the_labels_path_as_it_is_typed(
    qtbot: object, dialog: NewProjectDialog
) -> None:
    type_into(qtbot, dialog.labels, "/")  # printed a traceback: Path("/") has no name
    assert dialog.output.edit.text() == ""
    type_into(qtbot, dialog.labels, "work/data/labels.json")
    assert dialog.output.path() == Path("/work/data/labels.labelfix")
    dialog.labels.edit.selectAll()
    type_into(qtbot, dialog.labels, "/elsewhere/gt.json")
    assert dialog.output.path() == Path("/elsewhere/gt.labelfix")


def test_a_project_file_the_user_typed_stays(qtbot: object, dialog: NewProjectDialog) -> None:
    type_into(qtbot, dialog.labels, "/data/labels.json")
    dialog.output.edit.selectAll()
    type_into(qtbot, dialog.output, "/projects/mine.labelfix")
    dialog.labels.edit.selectAll()
    type_into(qtbot, dialog.labels, "/data/other.json")
    assert dialog.output.path() == Path("/projects/mine.labelfix")


def test_a_project_file_picked_with_browse_stays(
    qtbot: object, dialog: NewProjectDialog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    picked = tmp_path / "picked.labelfix"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(picked), ""))
    dialog.output._browse()
    type_into(qtbot, dialog.labels, "/data/labels.json")
    assert dialog.output.path() == picked


@pytest.mark.parametrize(
    ("typed", "want"),
    [
        ("", None),
        ("/", None),
        ("~", Path.home().with_name(Path.home().name + ".labelfix")),
        ("/data/", None),
        ("/data/..", None),
        ("labels.json", Path("labels.labelfix")),
        ("/d/a.b.json", Path("/d/a.b.labelfix")),
        ("/d/noext", Path("/d/noext.labelfix")),
        (" /d/x.json ", Path("/d/x.labelfix")),
    ],
)
def test_suggested_project(typed: str, want: Path | None) -> None:
    assert suggested_project(typed) == want


def test_every_problem_names_its_field(dialog: NewProjectDialog, tmp_path: Path) -> None:
    assert not dialog.start()
    text = dialog.problems.toPlainText()
    assert text.splitlines() == [
        "Labels (COCO JSON): choose the COCO labels JSON file.",
        "Project file: choose where to save the project (a .labelfix file).",
    ]
    existing = tmp_path / "p.labelfix"
    existing.write_text("x")
    dialog.set_paths(tmp_path / "nope.json", tmp_path / "no-dir", tmp_path / "no.json", existing)
    assert not dialog.start()
    assert dialog.problems.toPlainText().splitlines() == [
        f"Labels (COCO JSON): {tmp_path / 'nope.json'}: no such file.",
        f"Image folder: {tmp_path / 'no-dir'}: no such folder.",
        f"Predictions (COCO results): {tmp_path / 'no.json'}: no such file.",
        f"Project file: {existing} already exists; choose another name.",
    ]


def test_path_fields_show_a_whole_path(dialog: NewProjectDialog) -> None:
    chars = dialog.fontMetrics().averageCharWidth()
    for field in (dialog.labels, dialog.images, dialog.predictions, dialog.output):
        assert field.edit.width() >= PathField.MIN_CHARS * chars >= 72 * chars
    assert dialog.labels.edit.alignment() & Qt.AlignmentFlag.AlignLeft


def test_a_read_only_labels_folder_puts_the_project_elsewhere(
    qtbot: object, dialog: NewProjectDialog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The shared data folder is read-only for its users: the project proposed beside the labels
    could not be created ('The project could not be created: unable to open database file'
    after Create). It goes to a writable folder, and the dialog says so."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "labels.json").write_text("{}")
    # as for a user without write access there (the tests run as root, who writes anywhere)
    monkeypatch.setattr(
        dialogs, "writable_folder", lambda folder: Path(folder).is_dir() and Path(folder) != shared
    )
    type_into(qtbot, dialog.labels, str(shared / "labels.json"))
    out = dialog.output.path()
    assert out.name == "labels.labelfix" and out.parent != shared
    assert dialogs.writable_folder(out.parent) and out.parent.is_dir()
    assert f"{shared} is read-only" in dialog.hint.text() and str(out.parent) in dialog.hint.text()
    dialog.output.set_path(shared / "mine.labelfix")  # chosen there anyway: said before import
    assert not dialog.start()
    assert f"{shared} is read-only" in dialog.problems.toPlainText()
    assert dialog.worker is None
