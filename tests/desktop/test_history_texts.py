"""The History says what each command changed, on which image, from what to what (it said
"accepted 1 suspect" and "change class: person")."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelfix.core.suspects import SuspectFilter
from labelfix.desktop.session import Session


@pytest.fixture
def session(demo_project: Path, qtbot: object) -> Session:
    s = Session.open(demo_project)
    s.set_filter(SuspectFilter(statuses=frozenset({"open"})))
    yield s
    s.close()


def row_of(session: Session, kind: str) -> int:
    return next(r for r in range(session.row_count()) if session.suspect_at(r)["kind"] == kind)


def last_text(session: Session) -> str:
    stack = session.undo_stack
    return stack.text(stack.count() - 1)


def test_accepting_a_wrong_class_names_the_label_image_and_both_classes(session: Session) -> None:
    row = row_of(session, "wrong_class")
    s = session.suspect_at(row)
    names = session.category_names
    assert session.decide("accepted", rows=[row])
    assert last_text(session) == (
        f"accept wrong class on {s['file_name']}: label #{s['annotation_id']} "
        f"{names[s['category_id']]} → {names[s['predicted_category_id']]}"
    )


def test_accepting_a_missing_label_names_the_new_label(session: Session) -> None:
    row = row_of(session, "missing_label")
    s = session.suspect_at(row)
    new_id = session.store.next_annotation_id()
    assert session.decide("accepted", rows=[row])
    assert last_text(session) == (
        f"accept missing label on {s['file_name']}: new "
        f"{session.category_names[s['predicted_category_id']]} label #{new_id} from prediction "
        f"#{s['prediction_id']}"
    )


def test_rejecting_and_bulk_decisions(session: Session) -> None:
    row = row_of(session, "wrong_class")
    s = session.suspect_at(row)
    names = session.category_names
    assert session.decide("rejected", rows=[row])
    assert last_text(session) == (
        f"reject wrong class on {s['file_name']}: label #{s['annotation_id']} "
        f"({names[s['category_id']]}; predicted {names[s['predicted_category_id']]})"
    )
    rows = list(range(3))
    picked = [session.suspect_at(r) for r in rows]
    assert session.decide("flagged", "later", rows=rows)
    images = len({p["image_id"] for p in picked})
    text = last_text(session)
    assert text.startswith(f"flag 3 suspects on {images} image{'s' if images > 1 else ''}: ")
    assert all(part.split()[0].isdigit() for part in text.split(": ", 1)[1].split(", "))


def test_a_class_change_says_from_what_to_what(session: Session) -> None:
    s = session.current()
    image_id = s["image_id"]
    label = session.store.annotations_for_image(image_id)[0]
    session.show_label(image_id, label["id"])
    names = session.category_names
    other = next(c for c in names if c != label["category_id"])
    assert session.labels.set_category(other)
    file_name = session.store.image(image_id)["file_name"]
    assert last_text(session) == (
        f"change class of label #{label['id']} on {file_name}: "
        f"{names[label['category_id']]} → {names[other]}"
    )
