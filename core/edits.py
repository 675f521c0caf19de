"""Reversible edits of a project: the only way labels and decisions change.

Every edit applies or reverts in one transaction together with its change-log entries, so the
project on disk is always either before or after an edit. Reverting is logged too (action
``revert:<action>`` pointing at the entry it reverts): the change log only grows.

Several reviewers may edit one team project: an edit takes the project's change lock first,
and writes a label only if it is still at the revision the edit is based on (the ``revision``
the caller read, else the one read when applying), so a label someone else changed meanwhile is
refused with :class:`ConflictError` (who, when, and the fresh state). Undo and redo go ahead
only while the label (or decision) is still as this edit left it: they never overwrite someone
else's later change (a field someone else changed in between is theirs to keep).

Edits are plain objects so the desktop can wrap each in one ``QUndoCommand`` and the CLI can
apply them in bulk.
"""

from __future__ import annotations

import copy
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from . import as_read, geometry, new_labels
from .store import ConflictError, Store, ann_to_record, readable_time

DECISIONS = ("accepted", "rejected", "flagged")
SUSPECT_NUMBERS = ("score", "confidence", "iou")  # what a decision entry records of its suspect


class EditError(RuntimeError):
    """An edit that cannot be applied to the project as it is (e.g. the label is gone)."""


__all__ = ["ConflictError", "EditError"]  # ConflictError: changed by someone else meanwhile


class Edit(ABC):
    """A reversible change; ``apply`` and ``revert`` each run in one transaction."""

    description: str = "edit"
    changes_labels: bool = True

    def __init__(self) -> None:
        self.edit_id = uuid.uuid4().hex
        self._log_seqs: list[int] = []
        self.undone = False  # reverted since its last apply: a redo checks ownership

    def apply(self, store: Store) -> None:
        """Make the change and log it, atomically."""
        with store.atomic():
            store.lock_changes()
            self._log_seqs = self._apply(store)
            if self.changes_labels:
                store.bump_edits_since_export(1)
        self.undone = False

    def revert(self, store: Store) -> None:
        """Undo the change and log the reversal, atomically."""
        with store.atomic():
            store.lock_changes()
            self._revert(store, list(reversed(self._log_seqs)))
            if self.changes_labels:
                store.bump_edits_since_export(-1)
        self.undone = True

    def preview(self, store: Store) -> dict | None:
        """The label this edit leaves behind, computed without writing (None: it deletes one,
        or it changes no label)."""
        return None

    @abstractmethod
    def _apply(self, store: Store) -> list[int]:
        """Do the change inside a transaction; return the change-log sequence numbers written."""

    @abstractmethod
    def _revert(self, store: Store, seqs: list[int]) -> None:
        """Undo the change inside a transaction (``seqs``: this edit's log entries, last first)."""

    @property
    @abstractmethod
    def image_ids(self) -> set[int]:
        """Images whose labels this edit touches (for incremental re-analysis and the canvas)."""


def _require(store: Store, annotation_id: int) -> dict:
    ann = store.annotation(annotation_id)
    if ann is None:
        raise EditError(f"label {annotation_id} does not exist in {store.location}")
    return ann


def _check(store: Store, still: bool, annotation_id: int) -> None:
    """Refuse an undo or redo when the label is no longer as this edit left it."""
    if not still:
        raise store.change_conflict(annotation_id=annotation_id)


def _same(ann: dict | None, state: dict | None, fields: Any = None) -> bool:
    """True if a label (None: absent) has these values (of ``fields``; all by default)."""
    if ann is None or state is None:
        return ann is None and state is None

    def norm(key: str, value: Any) -> Any:
        return list(value) if key == "bbox" and value is not None else value

    return all(
        norm(k, ann.get(k)) == norm(k, v) for k, v in state.items() if fields is None or k in fields
    )


def _state(ann: dict) -> dict:
    """The part of a label that the change log records as before/after."""
    return {
        "category_id": ann["category_id"],
        "bbox": list(ann["bbox"]),
        "segmentation": ann.get("segmentation"),
        "area": ann.get("area"),
    }


class AddLabel(Edit):
    """Add a new label (e.g. accepting a missing_label suspect, or drawing a box)."""

    description = "add label"

    def __init__(
        self, annotation: dict, *, reason: str | None = None, suspect_key: str | None = None
    ) -> None:
        super().__init__()
        self.annotation = copy.deepcopy(annotation)
        self.reason = reason
        self.suspect_key = suspect_key

    @property
    def image_ids(self) -> set[int]:
        return {self.annotation["image_id"]}

    def preview(self, store: Store) -> dict | None:
        """The new label."""
        return copy.deepcopy(self.annotation)

    def _apply(self, store: Store) -> list[int]:
        if store.annotation(self.annotation["id"]) is not None:
            raise EditError(f"label {self.annotation['id']} already exists in {store.location}")
        store.insert_annotation(self.annotation, self.annotation.get("position"))
        if self.annotation.get("position") is None:
            self.annotation["position"] = store.annotation(self.annotation["id"])["position"]
        return [
            store.log(
                self.edit_id,
                "add_label",
                annotation_id=self.annotation["id"],
                image_id=self.annotation["image_id"],
                after=ann_to_record(self.annotation),
                reason=self.reason,
                suspect_key=self.suspect_key,
            )
        ]

    def _revert(self, store: Store, seqs: list[int]) -> None:
        current = _require(store, self.annotation["id"])
        _check(store, _same(current, _state(self.annotation)), self.annotation["id"])
        store.delete_annotation(self.annotation["id"], expected_revision=current["revision"])
        store.log(
            self.edit_id,
            "revert:add_label",
            annotation_id=self.annotation["id"],
            image_id=self.annotation["image_id"],
            before=ann_to_record(self.annotation),
            reason=self.reason,
            suspect_key=self.suspect_key,
            reverts=seqs[0],
        )


class DeleteLabel(Edit):
    """Delete a label (e.g. accepting a duplicate_label or spurious_label suspect)."""

    description = "delete label"

    def __init__(
        self,
        annotation_id: int,
        *,
        reason: str | None = None,
        suspect_key: str | None = None,
        revision: int | None = None,
    ) -> None:
        super().__init__()
        self.annotation_id = annotation_id
        self.reason = reason
        self.suspect_key = suspect_key
        self.revision = revision  # the label's revision when the caller read it
        self.deleted: dict | None = None

    @property
    def image_ids(self) -> set[int]:
        return {self.deleted["image_id"]} if self.deleted else set()

    def _apply(self, store: Store) -> list[int]:
        current = _require(store, self.annotation_id)
        expected = current["revision"] if self.revision is None else self.revision
        if self.undone:  # a redo: only while the label is as the undo left it
            _check(store, _same(current, _state(self.deleted or current)), self.annotation_id)
            expected = current["revision"]
        store.delete_annotation(self.annotation_id, expected_revision=expected)
        self.deleted = current
        return [
            store.log(
                self.edit_id,
                "delete_label",
                annotation_id=self.annotation_id,
                image_id=self.deleted["image_id"],
                before=ann_to_record(self.deleted),
                reason=self.reason,
                suspect_key=self.suspect_key,
            )
        ]

    def _revert(self, store: Store, seqs: list[int]) -> None:
        assert self.deleted is not None
        if store.annotation(self.annotation_id) is not None:
            raise store.change_conflict(annotation_id=self.annotation_id)
        store.insert_annotation(self.deleted, self.deleted["position"])
        store.log(
            self.edit_id,
            "revert:delete_label",
            annotation_id=self.annotation_id,
            image_id=self.deleted["image_id"],
            after=ann_to_record(self.deleted),
            reason=self.reason,
            suspect_key=self.suspect_key,
            reverts=seqs[0],
        )


class _UpdateLabel(Edit):
    """Shared machinery of edits that change fields of one existing label."""

    action = "update_label"

    def __init__(
        self,
        annotation_id: int,
        *,
        reason: str | None = None,
        suspect_key: str | None = None,
        revision: int | None = None,
    ) -> None:
        super().__init__()
        self.annotation_id = annotation_id
        self.reason = reason
        self.suspect_key = suspect_key
        self.revision = revision  # the label's revision when the caller read it
        self.before: dict | None = None
        self.after: dict | None = None
        self._image_id: int | None = None

    @property
    def image_ids(self) -> set[int]:
        return {self._image_id} if self._image_id is not None else set()

    @abstractmethod
    def _new_fields(self, store: Store, ann: dict) -> dict[str, Any]:
        """The fields to write, computed from the label's current state."""

    def preview(self, store: Store) -> dict | None:
        """The label with the fields this edit would write (the same computation as apply)."""
        ann = _require(store, self.annotation_id)
        return {**ann, **copy.deepcopy(self._new_fields(store, ann))}

    def _apply(self, store: Store) -> list[int]:
        ann = _require(store, self.annotation_id)
        expected = ann["revision"] if self.revision is None or self.undone else self.revision
        if self.undone:  # a redo: only while the label is as the undo left it
            _check(store, _same(ann, self.before, self.after), self.annotation_id)
        if ann["revision"] != expected:
            raise store.label_conflict(self.annotation_id, expected)
        self._image_id = ann["image_id"]
        if self.after is None:  # first apply: compute; redo re-writes the same values
            self.before = {
                k: copy.deepcopy(ann.get(k))
                for k in ("category_id", "bbox", "segmentation", "area", "as_read")
            }
            self.after = self._new_fields(store, ann)
            if ann.get("as_read"):  # the file's values of the changed fields are replaced
                self.after["as_read"] = as_read.forget(ann["as_read"], self.after)
        store.update_annotation(self.annotation_id, expected_revision=expected, **self.after)
        new = _require(store, self.annotation_id)
        return [
            store.log(
                self.edit_id,
                self.action,
                annotation_id=self.annotation_id,
                image_id=ann["image_id"],
                before=_state(ann),
                after=_state(new),
                reason=self.reason,
                suspect_key=self.suspect_key,
            )
        ]

    def _revert(self, store: Store, seqs: list[int]) -> None:
        assert self.before is not None and self.after is not None
        ann = _require(store, self.annotation_id)
        _check(store, _same(ann, self.after), self.annotation_id)
        store.update_annotation(
            self.annotation_id,
            expected_revision=ann["revision"],
            **{k: self.before[k] for k in self.after},
        )
        new = _require(store, self.annotation_id)
        store.log(
            self.edit_id,
            f"revert:{self.action}",
            annotation_id=self.annotation_id,
            image_id=ann["image_id"],
            before=_state(ann),
            after=_state(new),
            reason=self.reason,
            suspect_key=self.suspect_key,
            reverts=seqs[0],
        )


class SetCategory(_UpdateLabel):
    """Give a label another class (e.g. accepting a wrong_class suspect)."""

    description = "change class"
    action = "set_category"

    def __init__(self, annotation_id: int, category_id: int, **kw: Any) -> None:
        super().__init__(annotation_id, **kw)
        self.category_id = category_id

    def _new_fields(self, store: Store, ann: dict) -> dict[str, Any]:
        if self.category_id not in store.category_names():
            raise EditError(f"category {self.category_id} does not exist in {store.location}")
        return {"category_id": self.category_id}


class SetGeometry(_UpdateLabel):
    """Replace a label's box and/or polygon; bbox and area are derived as pycocotools does.

    - a polygon ``segmentation``: the bbox becomes its tight bounds, area its mask area;
    - only a ``bbox`` on a polygon label: the polygon is scaled into the new box (shape kept);
    - only a ``bbox`` on a box-only label: area = w * h.
    Coordinates are clamped to the image and rounded to 2 decimals (as COCO tools write them).
    """

    description = "change geometry"
    action = "set_geometry"

    def __init__(
        self,
        annotation_id: int,
        *,
        bbox: Sequence[float] | None = None,
        segmentation: list[list[float]] | dict | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(annotation_id, **kw)
        if bbox is None and segmentation is None:
            raise ValueError("SetGeometry needs a bbox or a segmentation")
        self.bbox = None if bbox is None else [float(v) for v in bbox]
        self.segmentation = copy.deepcopy(segmentation)

    def _new_fields(self, store: Store, ann: dict) -> dict[str, Any]:
        image = store.image(ann["image_id"])
        assert image is not None
        return derive_geometry(
            ann, image["height"], image["width"], bbox=self.bbox, segmentation=self.segmentation
        )


class RestoreGeometry(_UpdateLabel):
    """Put a label's box, segmentation and area back exactly as given (nothing derived or
    rounded): a re-decision reverting an accepted inaccurate_label fix."""

    description = "restore geometry"
    action = "set_geometry"

    def __init__(self, annotation_id: int, state: dict, **kw: Any) -> None:
        super().__init__(annotation_id, **kw)
        self.state = {k: copy.deepcopy(state.get(k)) for k in ("bbox", "segmentation", "area")}

    def _new_fields(self, store: Store, ann: dict) -> dict[str, Any]:
        return copy.deepcopy(self.state)


def derive_geometry(
    ann: dict,
    height: int,
    width: int,
    *,
    bbox: Sequence[float] | None = None,
    segmentation: list[list[float]] | dict | None = None,
) -> dict[str, Any]:
    """The bbox, segmentation and area fields a label gets for a new box and/or polygon.

    Coordinates are rounded to :data:`.new_labels.DECIMALS` decimals; the area is the mask area
    pycocotools computes for the segmentation, or width x height for a box-only label."""
    if segmentation is not None:
        if geometry.is_polygon(segmentation):
            seg = new_labels.rounded_polygon(geometry.clamp_polygon(segmentation, height, width))
            box = new_labels.rounded(geometry.polygon_bbox(seg))
        else:
            seg = segmentation
            box = new_labels.rounded(geometry.segmentation_bbox(seg, height, width))
        return {
            "segmentation": seg,
            "bbox": box,
            "area": geometry.segmentation_area(seg, height, width, box),
        }
    assert bbox is not None
    box = new_labels.rounded(geometry.clamp_box(bbox, height, width))
    current = ann.get("segmentation")
    if geometry.is_polygon(current) and current:
        seg = new_labels.rounded_polygon(geometry.fit_polygon_to_box(current, box))
        return {
            "segmentation": seg,
            "bbox": new_labels.rounded(geometry.polygon_bbox(seg)),
            "area": geometry.segmentation_area(seg, height, width, box),
        }
    if geometry.is_rle(current):
        # a mask cannot follow a new box; the label becomes a box-shaped polygon
        seg = new_labels.rounded_polygon(geometry.box_to_polygon(box))
        return {
            "segmentation": seg,
            "bbox": box,
            "area": geometry.segmentation_area(seg, height, width, box),
        }
    return {"bbox": box, "area": new_labels.box_only_area(box)}


class SetDecision(Edit):
    """Record a review decision (accepted / rejected / flagged, or None to clear) on a suspect."""

    changes_labels = False

    def __init__(
        self,
        set_id: int,
        suspect_key: str,
        decision: str | None,
        *,
        note: str | None = None,
        image_id: int | None = None,
        suspect: dict | None = None,
        seen: str | None = None,
    ) -> None:
        super().__init__()
        if decision is not None and decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
        self.set_id = set_id
        self.suspect_key = suspect_key
        self.decision = decision
        self.note = note
        self._image_id = image_id
        #: the suspect's numbers when it was decided (score, confidence, IoU), for the change log
        self.numbers = {k: (suspect or {}).get(k) for k in SUSPECT_NUMBERS} if suspect else None
        self.previous: dict | None = None
        self._undone_to: dict | None = None  # the decision as the last undo left it
        #: the suspect's status ("open", "accepted", ...) when the reviewer read it: applying
        #: is refused if someone decided it since (None: not checked)
        self.seen = seen
        self.description = f"{decision or 'clear decision'}"

    @property
    def image_ids(self) -> set[int]:
        return {self._image_id} if self._image_id is not None else set()

    def _apply(self, store: Store) -> list[int]:
        self.previous = store.decision(self.set_id, self.suspect_key)
        if self.undone and _decision_state(self.previous) != self._undone_to:
            raise store.change_conflict(set_id=self.set_id, suspect_key=self.suspect_key)
        status = (self.previous or {}).get("decision") or "open"
        if not self.undone and self.seen is not None and status != self.seen:
            raise self._decided_since(store, status)
        store.set_decision(self.set_id, self.suspect_key, self.decision, self.note)
        after = None if self.decision is None else {"decision": self.decision, "note": self.note}
        before = _decision_state(self.previous)
        return [
            store.log(
                self.edit_id,
                "decision",
                image_id=self._image_id,
                suspect_key=self.suspect_key,
                before=self._with_numbers(before) if after is None else before,
                after=self._with_numbers(after),
                note=self.note,
            )
        ]

    def _decided_since(self, store: Store, status: str) -> ConflictError:
        """The error for a decision on a suspect someone decided after it was read."""
        last = store.last_decision_change(self.suspect_key) or {}
        who, when = last.get("reviewer") or "someone", readable_time(last.get("time"))
        done = status if status != "open" else "reopened"
        mine = {"accepted": "accept", "rejected": "reject", "flagged": "flag"}.get(
            self.decision or "", "reopening"
        )
        return ConflictError(
            f"suspect {self.suspect_key} was {done} by {who} at {when} after you read it "
            f"({self.seen}); your {mine} was not recorded and nothing was changed.",
            suspect_key=self.suspect_key,
            reviewer=last.get("reviewer"),
            time=last.get("time"),
            current=self.previous,
        )

    def _with_numbers(self, state: dict | None) -> dict | None:
        """A logged decision state with the suspect's numbers (when known)."""
        if state is None or self.numbers is None:
            return state
        return {**state, "suspect": self.numbers}

    def _revert(self, store: Store, seqs: list[int]) -> None:
        prev = self.previous
        mine = None if self.decision is None else {"decision": self.decision, "note": self.note}
        if _decision_state(store.decision(self.set_id, self.suspect_key)) != mine:
            raise store.change_conflict(set_id=self.set_id, suspect_key=self.suspect_key)
        self._undone_to = _decision_state(prev)
        store.set_decision(
            self.set_id,
            self.suspect_key,
            prev["decision"] if prev else None,
            prev["note"] if prev else None,
            restore=prev,  # someone else's decision goes back in their name
        )
        store.log(
            self.edit_id,
            "revert:decision",
            image_id=self._image_id,
            suspect_key=self.suspect_key,
            before=self._with_numbers(
                {"decision": self.decision, "note": self.note} if self.decision else None
            ),
            after=self._with_numbers(_decision_state(prev)),
            reverts=seqs[0],
        )


RELABEL_FIELDS = ("category_id", "bbox", "segmentation", "area", "iscrowd")
RELABELLED = "relabelled"  # the change-log action (and reason) of a merged relabelled label


class ReplaceImageLabels(Edit):
    """Replace one image's labels by a relabelled set (a merge from an outside editor).

    Labels of the image missing from the set are deleted, labels new to it added (at the end
    of the file order), changed ones updated; unchanged ones are not touched. Every change is
    one ``relabelled`` entry of this edit in the change log (before None: added; after None:
    deleted), so the image's relabelling is one undoable edit. ``revisions`` (label id ->
    revision, as the merge was planned) makes the writes compare-and-set: a label someone
    changed or added since is a ConflictError, nothing written; undo and redo go ahead only
    while the labels are as this edit (or its undo) left them."""

    description = "relabel image"

    def __init__(
        self,
        image_id: int,
        labels: Sequence[dict],
        *,
        note: str | None = None,
        revisions: dict[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.image_id = image_id
        self.labels = [copy.deepcopy(label) for label in labels]
        self.note = note
        self.revisions = dict(revisions) if revisions is not None else None
        # what the last apply did, in order: (what, label id, state to restore, log seq)
        self._done: list[tuple[str, int, dict, int]] = []

    @property
    def image_ids(self) -> set[int]:
        return {self.image_id}

    def counts(self, store: Store) -> dict[str, int]:
        """How many labels applying this would delete, add and change (nothing written)."""
        current = {a["id"]: a for a in store.annotations_for_image(self.image_id)}
        wanted = {label["id"] for label in self.labels}
        changed = sum(
            1 for label in self.labels
            if label["id"] in current and _relabel_fields(current[label["id"]], label)
        )  # fmt: skip
        return {
            "deleted": sum(1 for i in current if i not in wanted),
            "added": sum(1 for i in wanted if i not in current),
            "changed": changed,
        }

    def _entry(self, store: Store, action: str, ann_id: int, **kw: Any) -> int:
        return store.log(
            self.edit_id,
            action,
            annotation_id=ann_id,
            image_id=self.image_id,
            reason=RELABELLED,
            note=self.note,
            **kw,
        )

    def _expected(self, store: Store, ann: dict) -> int:
        """The revision a write of this label expects (as planned on a first apply)."""
        if self.undone or self.revisions is None:
            return ann["revision"]
        if ann["id"] not in self.revisions:  # added to the image after the merge was planned
            raise store.label_conflict(ann["id"], None)
        return self.revisions[ann["id"]]

    def _apply(self, store: Store) -> list[int]:
        current = {a["id"]: a for a in store.annotations_for_image(self.image_id)}
        if self.undone:  # a redo: only while the labels are as the undo left them
            for what, ann_id, state, _seq in self._done:
                now = current.get(ann_id)
                if what == "add":
                    _check(store, now is None, ann_id)
                elif what == "delete":
                    _check(store, _same(now, _state(state)), ann_id)
                else:
                    _check(store, _same(now, state), ann_id)
        wanted = {label["id"] for label in self.labels}
        done: list[tuple[str, int, dict, int]] = []
        for ann_id, ann in current.items():
            if ann_id not in wanted:
                store.delete_annotation(ann_id, expected_revision=self._expected(store, ann))
                seq = self._entry(store, RELABELLED, ann_id, before=ann_to_record(ann))
                done.append(("delete", ann_id, ann, seq))
        for label in self.labels:
            ann_id = label["id"]
            old = current.get(ann_id)
            if old is None:
                if store.annotation(ann_id) is not None:
                    raise EditError(f"label {ann_id} already exists in {store.location}")
                store.insert_annotation({**label, "image_id": self.image_id})
                new = _require(store, ann_id)
                seq = self._entry(store, RELABELLED, ann_id, after=ann_to_record(new))
                done.append(("add", ann_id, new, seq))
                continue
            fields = _relabel_fields(old, label)
            if not fields:
                continue
            if old.get("as_read"):
                fields["as_read"] = as_read.forget(old["as_read"], fields)
            store.update_annotation(ann_id, expected_revision=self._expected(store, old), **fields)
            new = _require(store, ann_id)
            seq = self._entry(store, RELABELLED, ann_id, before=_state(old), after=_state(new))
            before = {k: copy.deepcopy(old.get(k)) for k in fields}
            done.append(("update", ann_id, before, seq))
        self._done = done
        return [seq for *_rest, seq in done]

    def _revert(self, store: Store, seqs: list[int]) -> None:
        action = f"revert:{RELABELLED}"
        for what, ann_id, state, seq in reversed(self._done):
            now = store.annotation(ann_id)
            if what == "delete":
                if now is not None:
                    raise store.change_conflict(annotation_id=ann_id)
                store.insert_annotation(state, state["position"])
                self._entry(store, action, ann_id, after=ann_to_record(state), reverts=seq)
            elif what == "add":
                _check(store, _same(now, _state(state)), ann_id)
                store.delete_annotation(ann_id, expected_revision=now["revision"])
                self._entry(store, action, ann_id, before=ann_to_record(now), reverts=seq)
            else:
                after = {k: v for k, v in self.labels_by_id()[ann_id].items() if k in state}
                _check(store, _same(now, after), ann_id)
                store.update_annotation(ann_id, expected_revision=now["revision"], **state)
                restored = _require(store, ann_id)
                self._entry(
                    store, action, ann_id, before=_state(now), after=_state(restored), reverts=seq
                )

    def labels_by_id(self) -> dict[int, dict]:
        """The relabelled set by label id."""
        return {label["id"]: label for label in self.labels}


def _relabel_fields(old: dict, new: dict) -> dict[str, Any]:
    """The fields of ``new`` that differ from ``old`` (JSON-equal values count as the same)."""
    out = {}
    for key in RELABEL_FIELDS:
        value = new.get(key, 0 if key == "iscrowd" else None)
        if json.dumps(old.get(key), sort_keys=True) != json.dumps(value, sort_keys=True):
            out[key] = copy.deepcopy(value)
    return out


def _decision_state(row: dict | None) -> dict | None:
    return None if row is None else {"decision": row["decision"], "note": row["note"]}


class CompositeEdit(Edit):
    """Several edits applied and reverted as one (accept = fix + decision; bulk decisions)."""

    def __init__(self, edits: Sequence[Edit], description: str) -> None:
        super().__init__()
        #: called as ``progress(done, total)`` after each part is applied or reverted (a bulk
        #: decision on thousands of suspects takes seconds; the desktop shows it)
        self.progress: Callable[[int, int], None] | None = None
        self.edits = list(edits)
        for edit in self.edits:  # one command, one group in the change log
            edit.edit_id = self.edit_id
        self.description = description
        self.changes_labels = False  # children count themselves

    @property
    def image_ids(self) -> set[int]:
        out: set[int] = set()
        for edit in self.edits:
            out |= edit.image_ids
        return out

    def _apply(self, store: Store) -> list[int]:
        total = len(self.edits)
        for done, edit in enumerate(self.edits, 1):
            edit.apply(store)  # nested: a savepoint inside this transaction
            if self.progress is not None:
                self.progress(done, total)
        return []

    def _revert(self, store: Store, seqs: list[int]) -> None:
        total = len(self.edits)
        for done, edit in enumerate(reversed(self.edits), 1):
            edit.revert(store)
            if self.progress is not None:
                self.progress(done, total)
