"""Changing a decision later: reopen a decided suspect, or decide it again, as one new edit
(no need to undo everything after it).

The rule for an accepted suspect's fix (see the README, "Changing a decision"):

- re-deciding it as rejected or flagged, or reopening it, reverts the fix, but only while the
  label is still as the fix left it: the label an accept added still exists unchanged, the
  class a wrong_class accept gave is still the label's class, the shape an inaccurate_label
  accept gave is still its shape, the label an accept deleted is still absent. Changes the fix
  did not make are kept (a label nudged after its class was fixed keeps the nudge when the
  class goes back). Otherwise the re-decision is refused with an EditError naming what changed;
- a suspect accepted without a fix (its label was already gone) has nothing to revert;
- accepting a rejected or flagged suspect applies its fix, as a first accept does;
- reopening a rejected or flagged suspect clears the decision.

What the fix did is read from the change log (the accept's label entry, minus the undone
ones), so the rule works the same from the CLI and from the window, in any later session.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from . import describe
from .edits import (
    AddLabel,
    CompositeEdit,
    DeleteLabel,
    Edit,
    EditError,
    RestoreGeometry,
    SetCategory,
    SetDecision,
)
from .review import decide
from .store import Store, label_from_record

FIX_REVERTED = "fix_reverted"  # the change log's reason of a label change that undoes a fix
LABEL_FIELDS = ("category_id", "bbox", "segmentation")


@dataclass(frozen=True)
class AppliedFix:
    """The label change an accept made, as the change log has it."""

    seq: int
    action: str  # add_label, delete_label, set_category or set_geometry
    annotation_id: int
    before: dict | None  # the label (its logged state) before the fix; None when it added one
    after: dict | None  # ... and after it; None when it deleted one


def applied_fix(store: Store, suspect_key: str) -> AppliedFix | None:
    """The fix of an accepted suspect that is in place now (None: none, or it was reverted)."""
    live: dict[int, dict] = {}
    for entry in store.suspect_changes(suspect_key):
        if entry["action"].startswith("revert:"):
            live.pop(entry["reverts"], None)
        else:
            live[entry["seq"]] = entry
    if not live:
        return None
    last = live[max(live)]
    if last["reason"] == FIX_REVERTED:
        return None
    return AppliedFix(
        last["seq"], last["action"], int(last["annotation_id"]), last["before"], last["after"]
    )


def _same(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _changed_fields(current: dict, state: Mapping, fields: tuple[str, ...]) -> list[str]:
    return [f for f in fields if not _same(current.get(f), state.get(f))]


FIELD_WORDS = {"category_id": "class", "bbox": "box", "segmentation": "outline"}


def revert_edit(store: Store, fix: AppliedFix, suspect_key: str) -> Edit:
    """The edit that undoes an accept's fix; EditError (naming what changed) when the label is
    no longer as the fix left it."""
    ann_id = fix.annotation_id
    current = store.annotation(ann_id)
    names = store.category_names()
    kw = {"reason": FIX_REVERTED, "suspect_key": suspect_key}

    def refuse(what: str) -> EditError:
        return EditError(
            f"cannot revert the accepted fix of {suspect_key}: {what}; change it back by hand "
            "(or undo that change) first"
        )

    if fix.action == "delete_label":
        if current is not None:
            raise refuse(f"label {ann_id}, which the accept deleted, exists again")
        assert fix.before is not None
        return AddLabel(label_from_record(fix.before), **kw)
    if current is None:
        made = "added" if fix.action == "add_label" else "changed"
        raise refuse(f"label {ann_id}, which the accept {made}, was deleted since")
    after = fix.after or {}
    if fix.action == "add_label":
        changed = _changed_fields(current, after, LABEL_FIELDS)
        if changed:
            what = _what_changed(changed, current, after, names)
            raise refuse(f"label {ann_id}, which the accept added, was changed since ({what})")
        return DeleteLabel(ann_id, **kw)
    before = fix.before or {}
    if fix.action == "set_category":
        if current["category_id"] != after.get("category_id"):
            what = _what_changed(["category_id"], current, after, names)
            raise refuse(f"the class of label {ann_id} was changed since the accept ({what})")
        return SetCategory(ann_id, before["category_id"], **kw)
    if fix.action == "set_geometry":
        changed = _changed_fields(current, after, ("bbox", "segmentation"))
        if changed:
            what = _what_changed(changed, current, after, names)
            raise refuse(f"the shape of label {ann_id} was changed since the accept ({what})")
        return RestoreGeometry(ann_id, before, **kw)
    raise EditError(f"unknown fix action {fix.action!r} for {suspect_key}")


def _what_changed(
    fields: list[str], current: Mapping, after: Mapping, names: Mapping[int, str]
) -> str:
    """The changed fields in words: "class cat → dog", "box"."""
    out = []
    for field in fields:
        if field == "category_id":
            fixed, now = after.get("category_id"), current.get("category_id")
            out.append(f"class {names.get(fixed, fixed)} → {names.get(now, now)}")
        else:
            out.append(FIELD_WORDS[field])
    return ", ".join(out)


def redecide(
    store: Store,
    suspect: Mapping,
    decision: str | None,
    note: str | None = None,
    *,
    variant: str | None = None,
) -> Edit | None:
    """One edit that gives an already decided suspect another decision (None: reopen it),
    reverting or applying its fix by the rule above; None when the decision is already that.

    Raises EditError when an accepted fix cannot be reverted (the label changed since). The
    suspect's ``status`` is the decision the reviewer saw: applying is refused (ConflictError)
    if the project's differs then, e.g. another reviewer re-decided it a moment before."""
    key = suspect["key"]
    set_id = suspect.get("set_id") or store.active_set_id()
    row = store.decision(set_id, key)
    old = row["decision"] if row else None
    seen = suspect.get("status") or old or "open"  # as the reviewer saw it (else as read now)
    if old == decision and (decision != "flagged" or note == (row or {}).get("note")):
        return None
    if decision == "accepted":
        variants = {key: variant} if variant is not None else None
        return decide(store, [dict(suspect, status=seen)], "accepted", note, variants=variants)
    parts: list[Edit] = []
    if old == "accepted":
        fix = applied_fix(store, key)
        if fix is not None:
            parts.append(revert_edit(store, fix, key))
    parts.append(
        SetDecision(
            set_id,
            key,
            decision,
            note=note,
            image_id=suspect.get("image_id"),
            suspect=dict(suspect),
            seen=seen,  # refused if someone decided it since it was read
        )
    )
    text = describe.redecision(
        suspect, old, decision, store.category_names(), reverted=len(parts) > 1
    )
    if len(parts) == 1:
        parts[0].description = text
        return parts[0]
    return CompositeEdit(parts, text)


def reopen_problem(store: Store, suspect: Mapping) -> str | None:
    """Why reopening this suspect would be refused (None: it can be reopened)."""
    key = suspect["key"]
    set_id = suspect.get("set_id") or store.active_set_id()
    row = store.decision(set_id, key)
    if row is None:
        return f"{key} is open already"
    if row["decision"] != "accepted":
        return None
    fix = applied_fix(store, key)
    if fix is None:
        return None
    try:
        revert_edit(store, fix, key)
    except EditError as exc:
        return str(exc)
    return None
