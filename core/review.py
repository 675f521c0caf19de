"""Review decisions on suspects, as edits: accept (apply the fix), reject, flag.

Accepting a suspect applies the fix its kind calls for and records the decision, as one edit:

- ``missing_label``: the prediction becomes a new label (its mask as a polygon when it has one,
  else its box; shaped like the dataset's labels, see :mod:`.new_labels`);
- ``wrong_class``: the label takes the predicted class;
- ``inaccurate_label``: the label takes the prediction's geometry; a polygon label and a
  prediction with only a box can meet in three forms (``FIX_VARIANTS``): the polygon stretched
  into the box (the default), the prediction's rectangle, or the polygon only moved onto it;
  one found from the image alone (no prediction, score version 9) takes its polygon moved to
  where it meets the image's edges (core.outline_search, searched again on the image);
- ``duplicate_label`` / ``spurious_label``: the label is deleted.

:func:`fix_preview` tells what an accept would leave behind without writing anything; it runs
the very edit :func:`fix_edit` builds, so the preview and the accept cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import describe, geometry, new_labels, outline_search
from .editing import is_box_polygon, move_polygon
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

FIX_VARIANTS: dict[str, str] = {
    "stretch": "stretch the polygon into the prediction's box",
    "box": "take the prediction's rectangle",
    "move": "keep the polygon, only move it onto the prediction",
}  # the forms of an inaccurate_label fix of a polygon label by a box-only prediction


@dataclass(frozen=True)
class FixPreview:
    """What accepting a suspect would do, computed without writing anything."""

    kind: str
    action: str  # "add_label", "set_category", "set_geometry" or "delete_label"
    annotation_id: int | None  # the label added, changed or deleted
    before: dict | None  # that label as it is (None when one is added)
    after: dict | None  # that label after the accept (None when it is deleted)
    variant: str | None  # the form of the fix shown (None: the fix has one form)
    variants: tuple[str, ...]  # every form the fix can take (empty: only one)


def _prediction_geometry(
    store: Store, set_id: int, prediction_id: int, image_id: int | None = None
) -> tuple[dict, list | None]:
    pred = store.prediction(set_id, prediction_id, image_id)
    if pred is None:
        raise EditError(f"prediction {prediction_id} does not exist in {store.location}")
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


def _variants_for(ann: dict | None, prediction_polygon: list | None) -> tuple[str, ...]:
    """The forms an inaccurate_label fix can take: three for a polygon label (not a box stored
    as a polygon) and a prediction with only a box, else one (empty)."""
    if prediction_polygon or ann is None:
        return ()
    seg = ann.get("segmentation")
    if geometry.is_polygon(seg) and seg and not is_box_polygon(seg):
        return tuple(FIX_VARIANTS)
    return ()


def _chosen_variant(variants: tuple[str, ...], variant: str | None, key: str | None) -> str | None:
    """The variant to apply (the first by default); an unknown one is an EditError."""
    if variant is None:
        return variants[0] if variants else None
    if variant not in variants:
        forms = ", ".join(variants) if variants else "only one form"
        raise EditError(f"the fix of suspect {key} has no form {variant!r} (it has {forms})")
    return variant


def fix_variants(store: Store, suspect: dict) -> tuple[str, ...]:
    """The forms accepting this suspect can take (see ``FIX_VARIANTS``); empty when only one."""
    if suspect["kind"] != "inaccurate_label" or suspect.get("prediction_id") is None:
        return ()
    set_id = suspect.get("set_id") or store.active_set_id()
    _pred, polygon = _prediction_geometry(
        store, set_id, suspect["prediction_id"], suspect.get("image_id")
    )
    return _variants_for(store.annotation(suspect["annotation_id"]), polygon)


def fix_preview(store: Store, suspect: dict, variant: str | None = None) -> FixPreview:
    """What accepting ``suspect`` (in form ``variant``) would leave behind; writes nothing.

    Raises EditError when the fix cannot be made (its label or prediction is gone)."""
    edit = fix_edit(store, suspect, variant=variant)
    before = None
    ann_id = getattr(edit, "annotation_id", None)
    if isinstance(edit, AddLabel):
        ann_id = edit.annotation["id"]
    elif ann_id is not None:
        before = store.annotation(ann_id)
        if before is None:
            raise EditError(f"label {ann_id} does not exist in {store.location}")
    variants = fix_variants(store, suspect)
    return FixPreview(
        kind=suspect["kind"],
        action={
            AddLabel: "add_label",
            SetCategory: "set_category",
            SetGeometry: "set_geometry",
            DeleteLabel: "delete_label",
        }[type(edit)],
        annotation_id=ann_id,
        before=before,
        after=edit.preview(store),
        variant=_chosen_variant(variants, variant, suspect.get("key")),
        variants=variants,
    )


def fix_edit(
    store: Store,
    suspect: dict,
    *,
    new_id: int | None = None,
    variant: str | None = None,
    style: new_labels.LabelStyle | None = None,
) -> Edit:
    """The label edit that fixes a suspect the way its kind calls for (in form ``variant`` when
    the fix has several, see ``fix_variants``; the first by default). A new label follows
    :mod:`.new_labels`: its shape matches the dataset's (``style`` when given)."""
    kind = suspect["kind"]
    set_id = suspect.get("set_id") or store.active_set_id()
    key = suspect.get("key")
    if variant is not None and kind != "inaccurate_label":
        _chosen_variant((), variant, key)  # raises: only inaccurate_label fixes have forms
    if kind == "missing_label":
        pred, polygon = _prediction_geometry(
            store, set_id, suspect["prediction_id"], suspect.get("image_id")
        )
        image = store.image(pred["image_id"])
        assert image is not None
        ann = new_labels.new_label(
            new_id if new_id is not None else store.next_annotation_id(),
            image,
            pred["category_id"],
            style or new_labels.dataset_style(store),
            bbox=pred["bbox"],
            segmentation=polygon,
        )
        return AddLabel(ann, reason=kind, suspect_key=key)
    if kind == "wrong_class":
        return SetCategory(
            suspect["annotation_id"], suspect["predicted_category_id"], reason=kind, suspect_key=key
        )
    if kind == "inaccurate_label" and suspect.get("prediction_id") is None:
        _chosen_variant((), variant, key)  # one form
        moved = outline_search.moved_label(store, suspect["annotation_id"])
        return SetGeometry(
            suspect["annotation_id"], segmentation=moved, reason=kind, suspect_key=key
        )
    if kind == "inaccurate_label":
        pred, polygon = _prediction_geometry(
            store, set_id, suspect["prediction_id"], suspect.get("image_id")
        )
        ann_id = suspect["annotation_id"]
        ann = store.annotation(ann_id)
        chosen = _chosen_variant(_variants_for(ann, polygon), variant, key)
        if polygon:
            return SetGeometry(ann_id, segmentation=polygon, reason=kind, suspect_key=key)
        if chosen in (None, "stretch"):  # a box label takes the box; a polygon is fitted into it
            return SetGeometry(ann_id, bbox=pred["bbox"], reason=kind, suspect_key=key)
        assert ann is not None
        image = store.image(ann["image_id"])
        assert image is not None
        h, w = image["height"], image["width"]
        if chosen == "box":
            rect = geometry.box_to_polygon(geometry.clamp_box(pred["bbox"], h, w))
            return SetGeometry(ann_id, segmentation=rect, reason=kind, suspect_key=key)
        (lx, ly, lw, lh), (px, py, pw, ph) = (
            geometry.polygon_bbox(ann["segmentation"]),
            pred["bbox"],
        )
        dx, dy = (px + pw / 2) - (lx + lw / 2), (py + ph / 2) - (ly + lh / 2)
        moved = move_polygon(ann["segmentation"], dx, dy, h, w)
        return SetGeometry(ann_id, segmentation=moved, reason=kind, suspect_key=key)
    if kind in ("duplicate_label", "spurious_label"):
        return DeleteLabel(suspect["annotation_id"], reason=kind, suspect_key=key)
    raise EditError(f"unknown suspect kind {kind!r}")


CLOSED_NOTE = "another fix of the same object was accepted ({key})"


def decision_keys(store: Store, suspect: Mapping) -> list[tuple[int, str]]:
    """The (prediction set, key) pairs a decision on this suspect is recorded under: its own
    first, then those of the other sets that support it (an analysis of several sets), so the
    decision shows wherever one of those sets' analyses lists the object."""
    own = (suspect.get("set_id") or store.active_set_id(), suspect["key"])
    pairs = [own]
    for support in suspect.get("supported_by") or ():
        pair = (support.get("set_id"), support.get("key"))
        if None not in pair and pair not in pairs:
            pairs.append(pair)
    return pairs


def _image_only(suspect: Mapping) -> bool:
    """An inaccurate_label found from the image alone (score version 9): no prediction."""
    return suspect["kind"] == "inaccurate_label" and suspect.get("prediction_id") is None


def decide(
    store: Store,
    suspects: Sequence[dict],
    decision: str,
    note: str | None = None,
    *,
    variants: Mapping[str, str] | None = None,
) -> Edit:
    """One edit that records ``decision`` on every suspect, applying the fixes when accepting
    (each in the form ``variants[key]`` names, else its first form).

    A decision is recorded under every set's key of the suspect (:func:`decision_keys`).
    Accepting a suspect closes its open alternatives (``suspect["alternatives"]``: the other
    suspects of its object, core.grouping) with a rejection in the same edit, so one undo
    restores them all. Accepting skips a suspect whose label is already gone (e.g. both labels
    of a duplicate pair accepted in one bulk) or already fixed by an earlier suspect of the
    batch (an image-only inaccurate_label and a spurious_label of one label, score version 9)
    instead of failing the whole batch; it still records the decision. A suspect's ``status`` as
    read is checked when the edit applies: one someone decided since is a ConflictError (two
    reviewers accepting one missing_label would otherwise add it twice). An image-only
    inaccurate_label without a sure outline (core.outline_search) fails alone (EditError, saying
    so) and in a batch is left open, undecided.
    """
    parts: list[Edit] = []
    adding = (
        sum(1 for s in suspects if s["kind"] == "missing_label") if decision == "accepted" else 0
    )
    next_id = store.reserve_annotation_ids(adding) if adding else 0  # ids no other reviewer gets
    deleted: set[int] = set()
    style = new_labels.dataset_style(store) if decision == "accepted" else None
    decided = {pair for s in suspects for pair in decision_keys(store, s)}
    closed: set[tuple[int, str]] = set()
    fixed: set[int] = set()  # labels an earlier fix of this edit changed
    written: set[tuple[int, str]] = set()  # decisions this edit already records
    for s in suspects:
        if decision == "accepted":
            ann_id = s.get("annotation_id")
            gone = ann_id is not None and (
                ann_id in deleted or ann_id in fixed or store.annotation(ann_id) is None
            )
            if not gone:
                variant = (variants or {}).get(s["key"])
                try:
                    edit = fix_edit(store, s, new_id=next_id, variant=variant, style=style)
                except EditError:
                    if len(suspects) == 1 or not _image_only(s):
                        raise
                    continue  # no sure outline: left open, the rest of the batch applies
                if isinstance(edit, AddLabel):
                    next_id += 1
                if isinstance(edit, DeleteLabel):
                    deleted.add(edit.annotation_id)
                if isinstance(edit, SetGeometry | SetCategory):
                    fixed.add(edit.annotation_id)
                parts.append(edit)
        for i, (set_id, key) in enumerate(decision_keys(store, s)):
            seen = s.get("status") if i == 0 and (set_id, key) not in written else None
            written.add((set_id, key))
            parts.append(
                SetDecision(
                    set_id,
                    key,
                    decision,
                    note=note,
                    image_id=s.get("image_id"),
                    suspect=s,
                    seen=seen,  # refused if someone decided it since it was read
                )
            )
        if decision != "accepted":
            continue
        for alt in s.get("alternatives") or ():
            pairs = [p for p in decision_keys(store, alt) if p not in decided | closed]
            closed.update(pairs)
            for i, (set_id, key) in enumerate(pairs):
                seen = alt.get("status") if i == 0 and (set_id, key) not in written else None
                written.add((set_id, key))
                parts.append(
                    SetDecision(
                        set_id,
                        key,
                        "rejected",
                        note=CLOSED_NOTE.format(key=s["key"]),
                        image_id=alt.get("image_id"),
                        suspect=alt,
                        seen=seen,
                    )
                )
    if not parts:
        raise EditError(
            "no suspect of the batch has a fix to apply (image-only inaccurate_label suspects "
            "without a sure outline are left open)"
        )
    added = [p for p in parts if isinstance(p, AddLabel)]
    text = describe.decision(
        suspects,
        decision,
        store.category_names(),
        new_label_id=added[0].annotation["id"] if len(added) == 1 else None,
    )
    if len(parts) == 1:
        parts[0].description = text
        return parts[0]
    return CompositeEdit(parts, text)
