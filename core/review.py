"""Review decisions on suspects, as edits: accept (apply the fix), reject, flag.

Accepting a suspect applies the fix its kind calls for and records the decision, as one edit:

- ``missing_label``: the prediction becomes a new label (its box, and its mask as a polygon when
  it has one);
- ``wrong_class``: the label takes the predicted class;
- ``inaccurate_label``: the label takes the prediction's geometry;
- ``duplicate_label`` / ``spurious_label``: the label is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import geometry
from .edits import (
    AddLabel,
    CompositeEdit,
    DeleteLabel,
    Edit,
    EditError,
    SetCategory,
    SetDecision,
    SetGeometry,
)
from .store import Store


def _prediction_geometry(store: Store, set_id: int, prediction_id: int) -> tuple[dict, list | None]:
    pred = store.prediction(set_id, prediction_id)
    if pred is None:
        raise EditError(f"prediction {prediction_id} does not exist in {store.path}")
    seg = pred.get("segmentation")
    polygon = None
    if seg is not None:
        image = store.image(pred["image_id"])
        assert image is not None
        polygon = (
            seg
            if geometry.is_polygon(seg)
            else geometry.rle_to_polygon(seg, image["height"], image["width"])
        )
        polygon = polygon or None
    return pred, polygon


def fix_edit(store: Store, suspect: dict, *, new_id: int | None = None) -> Edit:
    """The label edit that fixes a suspect the way its kind calls for."""
    kind = suspect["kind"]
    set_id = suspect.get("set_id") or store.active_set_id()
    key = suspect.get("key")
    if kind == "missing_label":
        pred, polygon = _prediction_geometry(store, set_id, suspect["prediction_id"])
        image = store.image(pred["image_id"])
        assert image is not None
        ann_id = new_id if new_id is not None else store.next_annotation_id()
        if polygon:
            bbox = geometry.polygon_bbox(polygon)
            area = geometry.segmentation_area(polygon, image["height"], image["width"], bbox)
        else:
            bbox = geometry.clamp_box(pred["bbox"], image["height"], image["width"])
            area = bbox[2] * bbox[3]
        ann = {
            "id": ann_id,
            "image_id": pred["image_id"],
            "category_id": pred["category_id"],
            "bbox": bbox,
            "area": area,
            "iscrowd": 0,
            "segmentation": polygon if polygon else geometry.box_to_polygon(bbox),
        }
        return AddLabel(ann, reason=kind, suspect_key=key)
    if kind == "wrong_class":
        return SetCategory(
            suspect["annotation_id"], suspect["predicted_category_id"], reason=kind, suspect_key=key
        )
    if kind == "inaccurate_label":
        pred, polygon = _prediction_geometry(store, set_id, suspect["prediction_id"])
        if polygon:
            return SetGeometry(
                suspect["annotation_id"], segmentation=polygon, reason=kind, suspect_key=key
            )
        return SetGeometry(
            suspect["annotation_id"], bbox=pred["bbox"], reason=kind, suspect_key=key
        )
    if kind in ("duplicate_label", "spurious_label"):
        return DeleteLabel(suspect["annotation_id"], reason=kind, suspect_key=key)
    raise EditError(f"unknown suspect kind {kind!r}")


def decide(store: Store, suspects: Sequence[dict], decision: str, note: str | None = None) -> Edit:
    """One edit that records ``decision`` on every suspect, applying the fixes when accepting.

    Accepting skips a suspect whose label is already gone (e.g. both labels of a duplicate pair
    accepted in one bulk) instead of failing the whole batch; it still records the decision.
    """
    parts: list[Edit] = []
    next_id = store.next_annotation_id()
    deleted: set[int] = set()
    for s in suspects:
        set_id = s.get("set_id") or store.active_set_id()
        if decision == "accepted":
            ann_id = s.get("annotation_id")
            gone = ann_id is not None and (ann_id in deleted or store.annotation(ann_id) is None)
            if not gone:
                edit = fix_edit(store, s, new_id=next_id)
                if isinstance(edit, AddLabel):
                    next_id += 1
                if isinstance(edit, DeleteLabel):
                    deleted.add(edit.annotation_id)
                parts.append(edit)
        parts.append(SetDecision(set_id, s["key"], decision, note=note, image_id=s.get("image_id")))
    if len(parts) == 1:
        return parts[0]
    label = f"{decision} {len(suspects)} suspect{'s' if len(suspects) != 1 else ''}"
    return CompositeEdit(parts, label)
