"""Seeing a fix before accepting it (the ghost outline, V for its other forms, A applies the one
shown as one undoable command) and the inspector (the label in question, the other suspects of
the same object, the label the last accept left)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest

from labelfix.core import geometry
from labelfix.core.review import fix_preview, fix_variants
from labelfix.core.suspects import SuspectFilter
from labelfix.desktop.inspector import Inspector, related_positions
from labelfix.desktop.main_window import MainWindow


@pytest.fixture
def window(open_window: Callable[..., MainWindow], demo_project: Path) -> MainWindow:
    """The main window on the demo project."""
    return open_window(demo_project, size=(1300, 900))


def key(win: MainWindow, k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(win, k, mod)
    QTest.qWait(20)


def settle(qtbot: object, win: MainWindow) -> None:
    """Let the deferred refreshes (canvas, inspector) run."""
    qtbot.wait(30)


def select(win: MainWindow, kinds: set[str], test: Callable[[dict], bool]) -> dict:
    """Select the first listed suspect of these kinds that passes ``test``."""
    s = win.session
    s.set_filter(SuspectFilter(min_confidence=0.0, kinds=frozenset(kinds)))
    for row in range(s.row_count()):
        if test(s.suspect_at(row)):
            s.select_row(row)
            return s.current()
    raise AssertionError(f"the demo has no such {kinds} suspect")


def ghost_box(win: MainWindow) -> QRectF:
    path = win.canvas.review_scene.ghost_path()
    assert path is not None
    return path.boundingRect()


def test_ghost_forms_and_accept_apply_the_form_shown(qtbot: object, window: MainWindow) -> None:
    s = window.session
    suspect = select(
        window,
        {"inaccurate_label"},
        lambda r: bool(fix_variants(s.store, dict(r, set_id=s.set_id))),
    )
    settle(qtbot, window)
    label = s.store.annotation(suspect["annotation_id"])
    pred = s.store.prediction(s.set_id, suspect["prediction_id"])
    assert s.fix_choice.preview().variant == "stretch"
    assert ghost_box(window).getRect() == pytest.approx(tuple(pred["bbox"]), abs=0.01)
    key(window, Qt.Key.Key_V)
    settle(qtbot, window)
    assert s.fix_choice.variant == "box"
    assert "(2/3, V)" in [t.item.text for t in window.canvas.review_scene.tags][-1]
    assert ghost_box(window).getRect() == pytest.approx(tuple(pred["bbox"]), abs=0.01)
    key(window, Qt.Key.Key_V)
    settle(qtbot, window)
    moved = s.fix_choice.preview().after
    assert ghost_box(window).width() == pytest.approx(label["bbox"][2], abs=0.01)
    inspector = window.docks["inspector"].widget()
    assert isinstance(inspector, Inspector)
    assert "only move it" in inspector.hint.text() and "V:" in inspector.hint.text()
    commands = s.undo_stack.count()
    key(window, Qt.Key.Key_A)
    after = s.store.annotation(label["id"])
    assert after["segmentation"] == moved["segmentation"] and after["bbox"] == moved["bbox"]
    assert s.undo_stack.count() == commands + 1
    assert s.store.decision(s.set_id, suspect["key"])["decision"] == "accepted"
    settle(qtbot, window)
    assert f"#{label['id']}" in inspector.last_accept.text()
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    back = s.store.annotation(label["id"])
    assert back["segmentation"] == label["segmentation"] and back["bbox"] == label["bbox"]
    settle(qtbot, window)
    assert inspector.last_accept.text() == ""


def test_a_new_suspect_starts_at_the_first_form(qtbot: object, window: MainWindow) -> None:
    s = window.session
    first = select(
        window,
        {"inaccurate_label"},
        lambda r: bool(fix_variants(s.store, dict(r, set_id=s.set_id))),
    )
    s.fix_choice.cycle()
    assert s.fix_choice.preview().variant == "box"
    s.step(1, open_only=False)
    assert s.current()["key"] != first["key"]
    s.select_key(first["key"])
    assert s.fix_choice.preview().variant == "stretch"


def test_ghosts_of_a_class_change_a_new_label_and_a_deletion(
    qtbot: object, window: MainWindow
) -> None:
    s = window.session
    names = s.category_names
    select(window, {"wrong_class"}, lambda r: True)
    settle(qtbot, window)
    suspect = s.current()
    tags = [t.item.text for t in window.canvas.review_scene.tags]
    assert f"A: → {names[suspect['predicted_category_id']]}" in tags
    select(window, {"missing_label"}, lambda r: True)
    settle(qtbot, window)
    suspect = s.current()
    pred = s.store.prediction(s.set_id, suspect["prediction_id"])
    assert f"A: new {names[pred['category_id']]}" in [
        t.item.text for t in window.canvas.review_scene.tags
    ]
    image = s.store.image(suspect["image_id"])
    box = geometry.clamp_box(pred["bbox"], image["height"], image["width"])
    assert ghost_box(window).getRect() == pytest.approx(tuple(box), abs=0.01)
    select(window, {"spurious_label"}, lambda r: True)
    settle(qtbot, window)
    assert "A: deleted" in [t.item.text for t in window.canvas.review_scene.tags]
    label = s.store.annotation(s.current()["annotation_id"])
    assert ghost_box(window).getRect() == pytest.approx(tuple(label["bbox"]), abs=0.5)


def test_no_ghost_once_accepted_or_when_v_has_nothing_to_cycle(
    qtbot: object, window: MainWindow
) -> None:
    s = window.session
    select(window, {"wrong_class"}, lambda r: True)
    key(window, Qt.Key.Key_V)
    assert "only one form" in window.canvas.hint.text()  # said on the canvas
    suspect = s.current()
    key(window, Qt.Key.Key_A)
    s.set_filter(SuspectFilter(min_confidence=0.0, statuses=None))
    s.select_key(suspect["key"])
    settle(qtbot, window)
    assert s.fix_choice.preview() is None
    assert window.canvas.review_scene.ghost_path() is None


def test_the_inspector_shows_the_label_in_question(qtbot: object, window: MainWindow) -> None:
    s = window.session
    inspector = window.docks["inspector"].widget()
    suspect = select(
        window,
        {"wrong_class", "inaccurate_label", "duplicate_label", "spurious_label"},
        lambda r: len(related_positions(s, r["annotation_id"], None)) >= 2,
    )
    settle(qtbot, window)
    label = s.store.annotation(suspect["annotation_id"])
    name = s.category_names[label["category_id"]]
    assert inspector.label_title.text() == "<b>The suspect's label</b>"
    assert inspector.label_fields["label"].text() == f"{name} #{label['id']}"
    assert f"{label['area']:,.1f}" in inspector.label_fields["area"].text()
    links = inspector.label_fields["suspects"].text()
    assert links.count("<a href=") == len(related_positions(s, label["id"], None)) - 1
    # another label of the image, selected on the canvas
    other = next(
        a for a in s.store.annotations_for_image(suspect["image_id"]) if a["id"] != label["id"]
    )
    s.select_label(other["id"])
    settle(qtbot, window)
    assert inspector.label_title.text() == "<b>Selected label</b>"
    assert f"#{other['id']}" in inspector.label_fields["label"].text()
    assert inspector.class_picker.currentData() == other["category_id"]
    # the other suspects of the suspect's object (its group): a click opens one
    alternatives = inspector.alternatives.text()
    group = s.index.alternatives(s.current_pos)
    assert alternatives.count("<a href=") == len(group) >= 1
    target = alternatives.split('<a href="')[1].split('"')[0]
    inspector.alternatives.linkActivated.emit(target)
    assert s.current()["id"] == int(target) == int(s.index.ids[group[0]])


def test_after_an_accept_the_inspector_shows_the_resulting_label(
    qtbot: object, window: MainWindow
) -> None:
    s = window.session
    suspect = select(window, {"wrong_class"}, lambda r: True)
    preview = fix_preview(s.store, suspect)
    key(window, Qt.Key.Key_A)
    settle(qtbot, window)
    text = window.docks["inspector"].widget().last_accept.text()
    new_name = s.category_names[preview.after["category_id"]]
    assert f"now {new_name} #{suspect['annotation_id']}" in text


def test_the_inspector_names_every_form_core_offers() -> None:
    from labelfix.core.review import FIX_VARIANTS
    from labelfix.desktop.fix_choice import VARIANT_SENTENCES, VARIANT_TITLES

    assert set(VARIANT_SENTENCES) == set(VARIANT_TITLES) == set(FIX_VARIANTS)
