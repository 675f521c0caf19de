"""The change log as a downstream user reads it: one row per accepted suspect (its label change
and its decision together), per other decision, per manual edit and per undo.

The project's ``change_log`` table stays append-only with one entry per low-level change; this
module joins the entries of one suspect in one command into one row. Columns
(:data:`CHANGE_FIELDS`, documented in the README):

- ``seq``: the row's first log entry (increasing); ``time`` (UTC, ISO 8601); ``reviewer``: who
  made the change (the OS user or the reviewer setting; empty before LabelFix recorded it);
  ``command``: the undo step the row belongs to, numbered 1, 2, ... in log order (the accepts
  of one ``labelfix apply`` or one bulk decision share it);
- ``action``: the label change (``add_label``, ``delete_label``, ``set_category``,
  ``set_geometry``, ``relabelled``), ``decision`` when only a decision was recorded, ``revert:<action>`` for an
  undo; ``decision`` (accepted / rejected / flagged; empty when there is none after the row)
  and ``note``; ``reason``: the suspect kind that motivated a label change, ``manual``,
  ``relabelled`` or ``fix_reverted``;
- the suspect's parts: ``suspect_kind``, ``suspect_label_id``, ``suspect_prediction_id``,
  ``suspect_other_label_id`` (duplicates), ``suspect_score``, ``suspect_confidence``;
- the label: ``label_id``, ``image_id``, ``file_name``; ``before_`` / ``after_`` each of
  ``category_id``, ``category``, ``bbox``, ``area``, ``segmentation``.

In the CSV, lists are compact JSON (``[1.5,2,3,4]``) and a segmentation is written only where the
geometry changed (a class change would repeat the same polygon twice); lines end in ``\\n``.
The JSON log keeps every value as JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from .store import Store

CHANGE_FIELDS = (
    "seq",
    "time",
    "reviewer",
    "command",
    "action",
    "decision",
    "note",
    "reason",
    "suspect_kind",
    "suspect_label_id",
    "suspect_prediction_id",
    "suspect_other_label_id",
    "suspect_score",
    "suspect_confidence",
    "label_id",
    "image_id",
    "file_name",
    "before_category_id",
    "before_category",
    "after_category_id",
    "after_category",
    "before_bbox",
    "after_bbox",
    "before_area",
    "after_area",
    "before_segmentation",
    "after_segmentation",
    "reverts",
)
INTEGER_FIELDS = (
    "seq",
    "command",
    "suspect_label_id",
    "suspect_prediction_id",
    "suspect_other_label_id",
    "label_id",
    "image_id",
    "before_category_id",
    "after_category_id",
    "reverts",
)
"""Columns that hold integers (empty where they do not apply; pandas: ``dtype="Int64"``)."""
GEOMETRY_ACTIONS = ("add_label", "delete_label", "set_geometry", "relabelled")


def suspect_parts(key: str | None) -> dict[str, Any]:
    """kind, label id, prediction id and other label id of a suspect key (see errors.suspect_key)."""
    parts: dict[str, Any] = {
        "suspect_kind": None,
        "suspect_label_id": None,
        "suspect_prediction_id": None,
        "suspect_other_label_id": None,
    }
    if not key:
        return parts
    kind, label, second = (key.split(":") + ["", ""])[:3]
    parts["suspect_kind"] = kind
    parts["suspect_label_id"] = int(label) if label else None
    slot = "suspect_other_label_id" if kind == "duplicate_label" else "suspect_prediction_id"
    parts[slot] = int(second) if second else None
    return parts


def _is_decision(entry: dict) -> bool:
    return entry["action"] in ("decision", "revert:decision")


def _groups(entries: list[dict]) -> list[list[dict]]:
    """The entries of each row: a label change and the decision on its suspect in the same
    command (both undone, or neither) go together; every other entry is a row of its own."""
    rows: list[list[dict]] = []
    pending: dict[tuple, list[dict]] = {}
    for entry in entries:
        key = entry["suspect_key"]
        if key is None:
            rows.append([entry])
            continue
        slot = (entry["edit_id"], key, entry["action"].startswith("revert:"))
        group = pending.get(slot)
        if group is not None and all(_is_decision(e) != _is_decision(entry) for e in group):
            group.append(entry)
            del pending[slot]  # a row holds one label change and one decision at most
            continue
        group = [entry]
        pending[slot] = group
        rows.append(group)
    return rows


def change_rows(store: Store) -> list[dict[str, Any]]:
    """The change log, one row per accepted suspect, other decision, manual edit or undo."""
    names = store.category_names()
    files = {im["id"]: im["file_name"] for im in store.images()}
    entries = store.change_log()
    commands: dict[str, int] = {}
    row_of_seq: dict[int, int] = {}
    out = []
    for group in _groups(entries):
        label = next((e for e in group if not _is_decision(e)), None)
        decision = next((e for e in group if _is_decision(e)), None)
        head = group[0]
        command = commands.setdefault(head["edit_id"], len(commands) + 1)
        row: dict[str, Any] = dict.fromkeys(CHANGE_FIELDS)
        row.update(
            seq=head["seq"], time=head["time"], reviewer=head.get("reviewer"), command=command
        )
        row["action"] = (label or decision)["action"]
        row.update(suspect_parts(head["suspect_key"]))
        if decision is not None:
            state = decision["after"] or {}
            row["decision"] = state.get("decision")
            row["note"] = decision["note"] if decision["note"] is not None else state.get("note")
            numbers = (decision["after"] or {}).get("suspect") or (decision["before"] or {}).get(
                "suspect"
            )
            if numbers:
                row["suspect_score"] = numbers.get("score")
                row["suspect_confidence"] = numbers.get("confidence")
        if label is not None:
            before, after = label["before"] or {}, label["after"] or {}
            row["reason"] = label["reason"]
            if decision is None and label["note"] is not None:
                row["note"] = label["note"]  # a merged subset's name
            row["label_id"] = label["annotation_id"]
            for side, state in (("before", before), ("after", after)):
                category = state.get("category_id")
                row[f"{side}_category_id"] = category
                row[f"{side}_category"] = None if category is None else names.get(category)
                row[f"{side}_bbox"] = state.get("bbox")
                row[f"{side}_area"] = state.get("area")
                row[f"{side}_segmentation"] = state.get("segmentation")
        else:
            row["label_id"] = row["suspect_label_id"]
        row["image_id"] = head["image_id"]
        row["file_name"] = files.get(row["image_id"])
        reverts = next((e["reverts"] for e in group if e["reverts"] is not None), None)
        if reverts is not None:
            row["reverts"] = row_of_seq.get(reverts, reverts)
        for entry in group:
            row_of_seq[entry["seq"]] = head["seq"]
        out.append(row)
    return out


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as CSV text: compact JSON for lists, segmentations only where geometry changed,
    ``\\n`` line endings."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CHANGE_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        out = dict(row)
        base_action = (row["action"] or "").removeprefix("revert:")
        if base_action not in GEOMETRY_ACTIONS:
            out["before_segmentation"] = out["after_segmentation"] = None
        writer.writerow(
            {k: _compact(v) if isinstance(v, list | dict) else v for k, v in out.items()}
        )
    return buf.getvalue()


def to_json(rows: list[dict[str, Any]]) -> str:
    """The rows as a JSON array (one object per row, every value as JSON)."""
    return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
