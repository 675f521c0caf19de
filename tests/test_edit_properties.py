"""Property tests of reversible edits: any sequence undone in reverse order restores the project.

Random sequences of SetCategory, SetGeometry (box or polygon), AddLabel, DeleteLabel,
SetDecision and CompositeEdit run on a small project. Then every edit is reverted, last first:
the exported COCO (and the decisions) must be exactly the original. Redoing them all, in order,
must give exactly the state after the first pass. The change log only grows throughout.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from labelfix.core import edits
from labelfix.core.coco import read_ground_truth, read_predictions
from labelfix.core.export import coco_dataset
from labelfix.core.store import Store

from helpers import sql, tiny_dataset, tiny_predictions, write_json

CATEGORY_IDS = (1, 3, 7)
IMAGE_SIZES = {1: (80, 100), 2: (50, 60)}  # id -> (height, width), as in tiny_dataset()
SUSPECT_KEYS = ("wrong_class:10:1", "missing_label::2", "duplicate_label:11:12")

# coordinates partly outside the images, so clamping is exercised; sub-pixel floats kept
COORD = st.floats(min_value=-20, max_value=130, allow_nan=False).map(lambda v: round(v, 2))
SIZE = st.floats(min_value=0, max_value=90, allow_nan=False).map(lambda v: round(v, 2))
BOX = st.tuples(COORD, COORD, SIZE, SIZE).map(list)
POLYGON = st.lists(st.tuples(COORD, COORD), min_size=3, max_size=6).map(
    lambda points: [[v for point in points for v in point]]
)

LABEL_OP = st.one_of(
    st.tuples(st.just("category"), st.integers(0, 99), st.sampled_from(CATEGORY_IDS)),
    st.tuples(st.just("box"), st.integers(0, 99), BOX),
    st.tuples(st.just("polygon"), st.integers(0, 99), POLYGON),
    st.tuples(st.just("delete"), st.integers(0, 99)),
    st.tuples(
        st.just("add"),
        st.sampled_from(sorted(IMAGE_SIZES)),
        st.sampled_from(CATEGORY_IDS),
        BOX,
        st.one_of(st.none(), POLYGON),
    ),
    st.tuples(
        st.just("decision"),
        st.sampled_from(SUSPECT_KEYS),
        st.sampled_from(["accepted", "rejected", "flagged", None]),
        st.one_of(st.none(), st.text(max_size=5)),
    ),
)
OPS = st.lists(
    st.one_of(
        LABEL_OP, st.tuples(st.just("composite"), st.lists(LABEL_OP, min_size=1, max_size=3))
    ),
    min_size=1,
    max_size=12,
)


def make_project(folder: Path) -> Store:
    """The tiny dataset (a polygon, a box-only and a crowd RLE label) with one prediction set."""
    gt = read_ground_truth(write_json(folder / "gt.json", tiny_dataset()))
    store = Store.create(folder / "p.labelfix")
    store.import_ground_truth(gt, None)
    predictions = read_predictions(
        write_json(folder / "pred.json", tiny_predictions()),
        store.image_sizes(),
        set(store.category_names()),
    )
    store.add_predictions(predictions, "model")
    return store


def snapshot(store: Store) -> str:
    """Everything edits may change, as exported: the COCO dataset, decisions, unexported count."""
    decisions = [
        list(row)
        for row in sql(
            store,
            "SELECT prediction_set_id, suspect_key, decision, note FROM decisions "
            "ORDER BY prediction_set_id, suspect_key",
        )
    ]
    state = {
        "coco": coco_dataset(store),
        "decisions": decisions,
        "edits_since_export": store.get_meta("edits_since_export"),
    }
    return json.dumps(state, sort_keys=True)  # exact: 20 and 20.0 differ


class Builder:
    """Turns abstract ops into edits against the project's current labels."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.set_id = store.active_set_id()
        self.next_id = store.next_annotation_id()

    def edit(self, op: tuple[Any, ...], taken: set[int]) -> edits.Edit | None:
        """One edit for op, on a label not in ``taken`` (None when no label is left)."""
        kind = op[0]
        if kind == "add":
            _, image_id, category_id, box, polygon = op
            annotation = {
                "id": self.next_id,
                "image_id": image_id,
                "category_id": category_id,
                "bbox": box,
                "area": box[2] * box[3],
                "iscrowd": 0,
            }
            if polygon is not None:
                annotation["segmentation"] = polygon
            self.next_id += 1
            return edits.AddLabel(annotation, reason="property test")
        if kind == "decision":
            _, key, decision, note = op
            return edits.SetDecision(self.set_id, key, decision, note=note, image_id=1)
        if kind == "composite":
            parts: list[edits.Edit] = []
            inner_taken = set(taken)
            decided: set[str] = set()
            for inner in op[1]:
                if inner[0] == "decision":  # one decision per suspect within one command
                    if inner[1] in decided:
                        continue
                    decided.add(inner[1])
                part = self.edit(inner, inner_taken)
                if part is not None:
                    parts.append(part)
            return edits.CompositeEdit(parts, "several") if parts else None
        ids = [row[0] for row in sql(self.store, "SELECT id FROM annotations ORDER BY id")]
        ids = [i for i in ids if i not in taken]
        if not ids:
            return None
        annotation_id = ids[op[1] % len(ids)]
        taken.add(annotation_id)
        if kind == "category":
            return edits.SetCategory(annotation_id, op[2])
        if kind == "box":
            return edits.SetGeometry(annotation_id, bbox=op[2])
        if kind == "polygon":
            return edits.SetGeometry(annotation_id, segmentation=op[2])
        assert kind == "delete"
        return edits.DeleteLabel(annotation_id)


def log_length(store: Store) -> int:
    return sql(store, "SELECT COUNT(*) FROM change_log").fetchone()[0]


@settings(max_examples=100, deadline=None)
@given(ops=OPS)
def test_undo_all_restores_and_redo_all_repeats(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = make_project(Path(folder))
        try:
            original = snapshot(store)
            builder = Builder(store)
            applied: list[edits.Edit] = []
            for op in ops:
                edit = builder.edit(op, set())
                if edit is not None:
                    edit.apply(store)
                    applied.append(edit)
            after = snapshot(store)
            logged = log_length(store)

            for edit in reversed(applied):
                edit.revert(store)
            assert snapshot(store) == original
            assert log_length(store) >= logged  # reverting is logged too, never erased

            for edit in applied:
                edit.apply(store)
            assert snapshot(store) == after
            assert sql(store, "PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            store.close()


@settings(max_examples=50, deadline=None)
@given(ops=OPS)
def test_the_change_log_replays_to_the_current_labels(ops: list[tuple[Any, ...]]) -> None:
    """Replaying each label's last logged state gives the labels as they are."""
    with tempfile.TemporaryDirectory() as folder:
        store = make_project(Path(folder))
        try:
            builder = Builder(store)
            applied = []
            for op in ops:
                edit = builder.edit(op, set())
                if edit is not None:
                    edit.apply(store)
                    applied.append(edit)
            for edit in reversed(applied[len(applied) // 2 :]):  # undo the second half
                edit.revert(store)
            assert replay_matches(store)
        finally:
            store.close()


def replay_matches(store: Store) -> bool:
    """True if every label touched by the log is where its last logged state says it is."""
    last: dict[int, dict[str, Any] | None] = {}
    for entry in store.change_log():
        if entry["annotation_id"] is not None:
            last[entry["annotation_id"]] = entry["after"]
    for annotation_id, state in last.items():
        current = store.annotation(annotation_id)
        if state is None:
            if current is not None:
                return False
            continue
        if current is None:
            return False
        for key in ("category_id", "bbox", "segmentation", "area"):
            if key in state and json.dumps(current[key]) != json.dumps(state[key]):
                return False
    return True
