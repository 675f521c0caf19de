"""Previewing a fix before accepting it, and the forms an inaccurate_label fix can take: the
preview writes nothing and always equals what the accept then writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelfix.core import geometry
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.edits import EditError
from labelfix.core.errors import suspect_key
from labelfix.core.review import FIX_VARIANTS, decide, fix_edit, fix_preview, fix_variants
from labelfix.core.store import Store

from helpers import write_json

# a tall, thin book whose outline is not a rectangle (one corner cut), 34 px wide
BOOK = [[100.0, 20.0, 126.0, 20.0, 134.0, 30.0, 134.0, 100.0, 100.0, 100.0]]


def dataset() -> dict:
    """One 200x150 image: a polygon book, a box-only label, a rectangle-polygon label."""
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 150}],
        "categories": [{"id": 1, "name": "book"}, {"id": 2, "name": "cup"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 2000.0,
             "bbox": [100.0, 20.0, 34.0, 80.0], "segmentation": BOOK},
            {"id": 2, "image_id": 1, "category_id": 2, "iscrowd": 0, "area": 400,
             "bbox": [10, 10, 20, 20]},
            {"id": 3, "image_id": 1, "category_id": 2, "iscrowd": 0, "area": 400,
             "bbox": [10, 100, 20, 20],
             "segmentation": [[10.0, 100.0, 30.0, 100.0, 30.0, 120.0, 10.0, 120.0]]},
        ],
    }  # fmt: skip


def predictions() -> list[dict]:
    """1: a box narrower than the book; 2: a box on the cup; 3: a polygon prediction on the
    book; 4: a box near the right edge; 5: a cup nobody labelled."""
    return [
        {"image_id": 1, "category_id": 1, "bbox": [110.0, 25.0, 15.0, 78.0], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [14.0, 12.0, 20.0, 20.0], "score": 0.8},
        {"image_id": 1, "category_id": 1, "score": 0.7, "bbox": [104, 22, 30, 78],
         "segmentation": [[104.0, 22.0, 134.0, 22.0, 134.0, 100.0, 104.0, 100.0, 110.0, 60.0]]},
        {"image_id": 1, "category_id": 1, "bbox": [180.0, 30.0, 19.0, 70.0], "score": 0.6},
        {"image_id": 1, "category_id": 2, "bbox": [150.0, 110.0, 30.0, 30.0], "score": 0.9},
    ]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A project of the dataset above, with its one prediction set."""
    gt = read_ground_truth(write_json(tmp_path / "gt.json", dataset()))
    store = Store.create(tmp_path / "p.labelfix")
    store.import_ground_truth(gt, tmp_path)
    pf = read_predictions(
        write_json(tmp_path / "pred.json", predictions()),
        store.image_sizes(),
        set(store.category_names()),
    )
    store.add_predictions(pf, "model")
    yield store
    store.close()


def suspect(store: Store, kind: str, ann: int | None, pred: int | None, **extra: object) -> dict:
    """A suspect record as the index gives it (only the fields a fix reads)."""
    return {
        "kind": kind,
        "key": suspect_key(kind, ann, pred, extra.pop("other", None)),
        "annotation_id": ann,
        "prediction_id": pred,
        "image_id": 1,
        "set_id": store.active_set_id(),
        **extra,
    }


def snapshot(store: Store) -> tuple:
    """Everything an accept could change: labels, the change log, the edit counter."""
    labels = [store.annotation(i) for i in (1, 2, 3)]
    log = len(store.change_log())
    return labels, log, store.get_meta("edits_since_export", 0), store.next_annotation_id()


def shapes(labels: list[dict | None]) -> list[dict | None]:
    """Labels without their revision counter (an undo bumps it)."""
    return [None if a is None else {k: v for k, v in a.items() if k != "revision"} for a in labels]


def test_forms_exist_only_for_a_polygon_label_and_a_box_prediction(store: Store) -> None:
    assert fix_variants(store, suspect(store, "inaccurate_label", 1, 1)) == tuple(FIX_VARIANTS)
    assert fix_variants(store, suspect(store, "inaccurate_label", 2, 2)) == ()  # a box label
    assert fix_variants(store, suspect(store, "inaccurate_label", 3, 2)) == ()  # a box polygon
    assert fix_variants(store, suspect(store, "inaccurate_label", 1, 3)) == ()  # a polygon pred
    assert fix_variants(store, suspect(store, "spurious_label", 1, None)) == ()


def test_the_preview_writes_nothing_and_equals_what_the_accept_writes(store: Store) -> None:
    cases = [
        (suspect(store, "inaccurate_label", 1, 1), variant) for variant in (None, *FIX_VARIANTS)
    ] + [
        (suspect(store, "inaccurate_label", 1, 3), None),
        (suspect(store, "inaccurate_label", 2, 2), None),
        (suspect(store, "missing_label", None, 5), None),
        (suspect(store, "wrong_class", 2, 1, predicted_category_id=1), None),
        (suspect(store, "duplicate_label", 3, None, other=2), None),
        (suspect(store, "spurious_label", 2, None), None),
    ]
    for s, variant in cases:
        before = snapshot(store)
        preview = fix_preview(store, s, variant)
        assert snapshot(store) == before, (s["key"], variant)
        edit = decide(store, [s], "accepted", variants={s["key"]: variant} if variant else None)
        edit.apply(store)
        written = store.annotation(preview.annotation_id)
        if preview.after is None:
            assert preview.action == "delete_label" and written is None
            assert preview.before["id"] == s["annotation_id"]
        else:
            for field in ("category_id", "bbox", "segmentation", "area"):
                assert written[field] == preview.after[field], (s["key"], variant, field)
        edit.revert(store)
        assert shapes(snapshot(store)[0]) == shapes(before[0])


def test_the_three_forms_of_a_book_fixed_by_a_box(store: Store) -> None:
    s = suspect(store, "inaccurate_label", 1, 1)
    pred_box = [110.0, 25.0, 15.0, 78.0]
    stretch = fix_preview(store, s).after
    assert fix_preview(store, s).variant == "stretch"  # the default: today's behaviour
    assert stretch["bbox"] == pytest.approx(pred_box)
    assert stretch["bbox"][2] < 34 / 2  # the book is squeezed to less than half its width
    box = fix_preview(store, s, "box").after
    assert box["segmentation"] == geometry.box_to_polygon(pred_box)
    assert box["bbox"] == pytest.approx(pred_box)
    moved = fix_preview(store, s, "move").after
    old = np.asarray(BOOK[0]).reshape(-1, 2)
    new = np.asarray(moved["segmentation"][0]).reshape(-1, 2)
    assert np.allclose(new - old, new[0] - old[0])  # the same outline, shifted
    x, y, w, h = moved["bbox"]
    assert (w, h) == pytest.approx((34.0, 80.0))
    assert (x + w / 2, y + h / 2) == pytest.approx((117.5, 64.0))  # the prediction's centre


def test_moving_stops_at_the_image_border_without_bending_the_outline(store: Store) -> None:
    moved = fix_preview(store, suspect(store, "inaccurate_label", 1, 4), "move").after
    x, _y, w, _h = moved["bbox"]
    assert x + w == pytest.approx(200.0) and w == pytest.approx(34.0)


def test_a_form_a_fix_does_not_have_is_refused(store: Store) -> None:
    with pytest.raises(EditError, match="no form 'sideways'"):
        fix_preview(store, suspect(store, "inaccurate_label", 1, 1), "sideways")
    with pytest.raises(EditError, match="only one form"):
        fix_edit(store, suspect(store, "wrong_class", 2, 1, predicted_category_id=1), variant="box")
    with pytest.raises(EditError, match="only one form"):
        fix_edit(store, suspect(store, "inaccurate_label", 1, 3), variant="move")


def test_a_preview_of_a_vanished_label_is_an_edit_error(store: Store) -> None:
    with pytest.raises(EditError, match="label 99 does not exist"):
        fix_preview(store, suspect(store, "spurious_label", 99, None))
