"""A failed undo or redo (the project cannot be written: disk full, database locked) is said in
the window and logged, and leaves the undo stack and the project agreeing: the stack does not
move, nothing is dropped, and the same step succeeds once the project can be written again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labelfix.core.project import DatabaseError
from labelfix.desktop.main_window import MainWindow
from labelfix.desktop.session import Session

LOCKED = "database is locked"


@pytest.fixture
def session(demo_project: Path) -> Iterator[Session]:
    """A session on a private copy of the demo project."""
    s = Session.open(demo_project)
    yield s
    s.close()


class Locked:
    """Makes the store's label writes fail as a locked database does, until ``release()``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, store: object) -> None:
        self.monkeypatch = monkeypatch
        self.store = store
        for name in ("insert_annotation", "delete_annotation", "update_annotation"):
            monkeypatch.setattr(store, name, self._fail)

    @staticmethod
    def _fail(*_args: object, **_kw: object) -> None:
        raise DatabaseError(LOCKED)

    def release(self) -> None:
        """The project can be written again."""
        for name in ("insert_annotation", "delete_annotation", "update_annotation"):
            self.monkeypatch.delattr(self.store, name)


def some_labels(s: Session, n: int) -> list[dict]:
    """``n`` editable labels of the project."""
    labels = [a for a in s.store.iter_annotations() if not isinstance(a["segmentation"], dict)]
    return labels[:n]


def errors_of(s: Session) -> list[str]:
    """Collects the sentences the session reports."""
    said: list[str] = []
    s.errorOccurred.connect(said.append)
    return said


def test_a_failing_undo_leaves_the_stack_where_it_was(
    session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    s = session
    (ann,) = some_labels(s, 1)
    assert s.labels.delete(ann["id"])
    said = errors_of(s)
    locked = Locked(monkeypatch, s.store)
    with caplog.at_level(logging.ERROR):
        s.undo()
    assert s.store.annotation(ann["id"]) is None  # the project still has the deletion
    assert (s.undo_stack.index(), s.undo_stack.count()) == (1, 1)  # and so does the stack
    assert len(said) == 1 and said[0].startswith("Undo failed") and LOCKED in said[0]
    assert any(LOCKED in r.getMessage() or r.exc_info for r in caplog.records)
    locked.release()
    s.undo()  # the same step again, now that the project can be written
    assert s.store.annotation(ann["id"]) is not None
    assert s.undo_stack.index() == 0
    s.redo()
    assert s.store.annotation(ann["id"]) is None and s.undo_stack.index() == 1
    assert len(said) == 1


def test_a_failing_redo_keeps_the_command(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = session
    (ann,) = some_labels(s, 1)
    copy_id = s.labels.duplicate(ann["id"])
    assert copy_id is not None
    s.undo()
    assert s.store.annotation(copy_id) is None
    said = errors_of(s)
    locked = Locked(monkeypatch, s.store)
    s.redo()
    assert s.store.annotation(copy_id) is None
    assert (s.undo_stack.index(), s.undo_stack.count()) == (0, 1)  # not dropped, not moved
    assert len(said) == 1 and said[0].startswith("Redo failed")
    locked.release()
    s.redo()
    assert s.store.annotation(copy_id) is not None and s.undo_stack.index() == 1


def test_a_failing_step_in_a_history_jump_stops_the_jump_there(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clicking an early History line undoes several commands; the one that fails stops there:
    the commands after it are undone, it and the ones before it stay applied."""
    s = session
    a, b, c = some_labels(s, 3)
    for ann in (a, b, c):
        assert s.labels.delete(ann["id"])
    said = errors_of(s)
    real_insert = s.store.insert_annotation

    def insert(annotation: dict, *args: object) -> None:
        if annotation["id"] == b["id"]:
            raise DatabaseError(LOCKED)
        real_insert(annotation, *args)

    monkeypatch.setattr(s.store, "insert_annotation", insert)
    s.undo_stack.setIndex(0)
    assert s.store.annotation(c["id"]) is not None  # undone
    assert s.store.annotation(b["id"]) is None  # its undo failed
    assert s.store.annotation(a["id"]) is None  # never reached
    assert s.undo_stack.index() == 2 and s.undo_stack.count() == 3
    assert len(said) == 1
    monkeypatch.undo()
    s.undo_stack.setIndex(0)
    assert all(s.store.annotation(x["id"]) is not None for x in (a, b, c))
    s.undo_stack.setIndex(3)  # and forward again, failing in the middle
    monkeypatch.setattr(s.store, "delete_annotation", _fail_for(s, b["id"]))
    s.undo_stack.setIndex(0)
    s.undo_stack.setIndex(3)
    assert s.store.annotation(a["id"]) is None
    assert s.store.annotation(b["id"]) is not None and s.store.annotation(c["id"]) is not None
    assert s.undo_stack.index() == 1 and len(said) == 2 and said[1].startswith("Redo failed")


def _fail_for(s: Session, annotation_id: int) -> Callable[..., None]:
    real = s.store.delete_annotation

    def delete(target: int, *args: object, **kw: object) -> None:
        if target == annotation_id:
            raise DatabaseError(LOCKED)
        real(target, *args, **kw)

    return delete


def test_the_window_says_an_undo_failed(
    qtbot: object,
    open_window: Callable[..., MainWindow],
    demo_project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    win = open_window(demo_project)
    s = win.session
    (ann,) = some_labels(s, 1)
    assert s.labels.delete(ann["id"])
    Locked(monkeypatch, s.store)
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    message = win.statusBar().currentMessage()
    assert message.startswith("Undo failed") and LOCKED in message, message
    assert s.undo_stack.canUndo() and not s.undo_stack.canRedo()
