"""Changing a decision later (core.redecide): reopening or re-deciding an accepted suspect
reverts its fix while the label is as the fix left it, refuses (naming what changed) when it is
not, keeps changes the fix did not make; all without undoing later edits, logged, undoable."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelfix.core.edits import EditError, SetCategory, SetGeometry
from labelfix.core.redecide import FIX_REVERTED, applied_fix, redecide, reopen_problem
from labelfix.core.review import decide
from labelfix.core.store import Store

from relabel_cases import build, suspect


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """relabel_cases' project: one suspect of every kind on a.jpg."""
    store = build(tmp_path)
    yield store
    store.close()


def accepted(store: Store, kind: str) -> dict:
    """Accept the first suspect of a kind; returns it as now read (accepted)."""
    s = suspect(store, kind)
    decide(store, [s], "accepted").apply(store)
    return dict(s, status="accepted")


def label_state(store: Store, ann_id: int) -> dict | None:
    """A label without its revision counter and as-read record (which edits bump)."""
    ann = store.annotation(ann_id)
    return None if ann is None else {k: ann[k] for k in ("category_id", "bbox", "segmentation")}


@pytest.mark.parametrize(
    ("kind", "label"),
    [("wrong_class", 1), ("inaccurate_label", 2), ("duplicate_label", 4), ("spurious_label", 5)],
)
def test_reopening_an_accepted_suspect_reverts_its_fix(store: Store, kind: str, label: int) -> None:
    before = label_state(store, label)
    s = accepted(store, kind)
    assert label_state(store, label) != before  # the fix changed or deleted the label
    edit = redecide(store, s, None)
    edit.apply(store)
    assert label_state(store, label) == before
    assert store.decision(s["set_id"], s["key"]) is None
    assert applied_fix(store, s["key"]) is None
    entries = [e for e in store.change_log() if e["edit_id"] == edit.edit_id]
    assert [e["reason"] for e in entries if e["action"] != "decision"] == [FIX_REVERTED]
    if kind in ("duplicate_label", "spurious_label"):  # the deleted label is back, unknown keys too
        assert store.annotation(label)["extra"] == {"note": f"kept {label}"}


def test_rejecting_an_accepted_missing_label_deletes_the_label_it_added(store: Store) -> None:
    s = accepted(store, "missing_label")
    fix = applied_fix(store, s["key"])
    assert fix is not None and fix.action == "add_label"
    assert store.annotation(fix.annotation_id) is not None
    redecide(store, s, "rejected").apply(store)
    assert store.annotation(fix.annotation_id) is None
    assert store.decision(s["set_id"], s["key"])["decision"] == "rejected"


def test_undoing_the_redecision_puts_the_fix_back(store: Store) -> None:
    s = accepted(store, "wrong_class")
    fixed = label_state(store, 1)
    edit = redecide(store, s, "flagged", "ask the team")
    edit.apply(store)
    assert store.annotation(1)["category_id"] == 1
    edit.revert(store)
    assert label_state(store, 1) == fixed
    assert store.decision(s["set_id"], s["key"])["decision"] == "accepted"
    assert applied_fix(store, s["key"]) is not None  # the fix counts as in place again
    edit.apply(store)  # redo
    row = store.decision(s["set_id"], s["key"])
    assert (row["decision"], row["note"]) == ("flagged", "ask the team")


def test_a_changed_class_refuses_with_what_changed(store: Store) -> None:
    s = accepted(store, "wrong_class")  # label 1: cat -> dog
    SetCategory(1, 1, reason="manual").apply(store)  # and back to cat by hand
    changed = r"class of label 1 was changed since the accept \(class dog → cat\)"
    with pytest.raises(EditError, match=changed):
        redecide(store, s, None)
    assert reopen_problem(store, s) is not None
    assert store.decision(s["set_id"], s["key"])["decision"] == "accepted"


def test_a_changed_shape_refuses_and_names_the_box(store: Store) -> None:
    s = accepted(store, "inaccurate_label")
    SetGeometry(2, bbox=[90, 10, 40, 40], reason="manual").apply(store)
    with pytest.raises(EditError, match=r"shape of label 2 was changed since the accept \(box"):
        redecide(store, s, "rejected")


def test_a_changed_added_label_refuses(store: Store) -> None:
    s = accepted(store, "missing_label")
    new = applied_fix(store, s["key"]).annotation_id
    SetCategory(new, 2, reason="manual").apply(store)
    with pytest.raises(EditError, match=rf"label {new}, which the accept added, was changed since"):
        redecide(store, s, None)


def test_a_deleted_fixed_label_refuses(store: Store) -> None:
    from labelfix.core.edits import DeleteLabel

    s = accepted(store, "wrong_class")
    DeleteLabel(1, reason="manual").apply(store)
    with pytest.raises(EditError, match="label 1, which the accept changed, was deleted since"):
        redecide(store, s, "rejected")


def test_changes_the_fix_did_not_make_are_kept(store: Store) -> None:
    s = accepted(store, "wrong_class")  # the class was the fix
    SetGeometry(1, bbox=[12, 10, 40, 40], reason="manual").apply(store)  # a later nudge
    redecide(store, s, None).apply(store)
    assert store.annotation(1)["category_id"] == 1  # the class goes back
    assert store.annotation(1)["bbox"] == [12, 10, 40, 40]  # the nudge stays


def test_later_edits_on_other_labels_are_not_undone(store: Store) -> None:
    s = accepted(store, "wrong_class")
    later = accepted(store, "spurious_label")  # deletes label 5 after the first accept
    redecide(store, s, None).apply(store)
    assert store.annotation(1)["category_id"] == 1
    assert store.annotation(5) is None  # still deleted
    assert store.decision(later["set_id"], later["key"])["decision"] == "accepted"


def test_accepting_a_rejected_suspect_applies_its_fix(store: Store) -> None:
    s = suspect(store, "wrong_class")
    decide(store, [s], "rejected").apply(store)
    redecide(store, dict(s, status="rejected"), "accepted").apply(store)
    assert store.annotation(1)["category_id"] == 2
    assert applied_fix(store, s["key"]) is not None


def test_reopening_a_flagged_suspect_only_clears_the_decision(store: Store) -> None:
    s = suspect(store, "spurious_label")
    decide(store, [s], "flagged", "look again").apply(store)
    log = len(store.change_log())
    redecide(store, dict(s, status="flagged"), None).apply(store)
    assert store.decision(s["set_id"], s["key"]) is None
    assert store.annotation(5) is not None
    assert [e["action"] for e in store.change_log()[log:]] == ["decision"]


def test_the_same_decision_is_no_edit(store: Store) -> None:
    s = accepted(store, "wrong_class")
    assert redecide(store, s, "accepted") is None


def test_an_undone_accept_has_no_fix_in_place(store: Store) -> None:
    s = suspect(store, "wrong_class")
    edit = decide(store, [s], "accepted")
    edit.apply(store)
    edit.revert(store)
    assert applied_fix(store, s["key"]) is None
