"""What an edit did, in one line for the History (the undo stack) and the CLI: which image,
which label, from what to what ("accept wrong class on 000123.jpg: label #12 car → person")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

KIND_WORDS = {
    "missing_label": ("missing label", "missing labels"),
    "wrong_class": ("wrong class", "wrong classes"),
    "inaccurate_label": ("inaccurate label", "inaccurate labels"),
    "duplicate_label": ("duplicate label", "duplicate labels"),
    "spurious_label": ("spurious label", "spurious labels"),
}
VERBS = {"accepted": "accept", "rejected": "reject", "flagged": "flag", None: "clear"}


def kind_words(kind: str, n: int | None = None) -> str:
    """A suspect kind in words: "wrong class"; counted: "1 wrong class", "2 wrong classes"."""
    one, many = KIND_WORDS.get(kind, (kind, kind))
    if n is None:
        return one
    return f"{n} {one if n == 1 else many}"


def _name(names: Mapping[int, str], category_id: int | None) -> str:
    return "?" if category_id is None else names.get(category_id, str(category_id))


def _where(suspect: Mapping) -> str:
    file_name = suspect.get("file_name")
    return f" on {file_name}" if file_name else ""


def decision(
    suspects: Sequence[Mapping],
    decision_: str | None,
    names: Mapping[int, str],
    *,
    new_label_id: int | None = None,
) -> str:
    """One line for a decision on suspects (with the fix it applies, for one accepted suspect)."""
    verb = VERBS.get(decision_, str(decision_))
    if len(suspects) != 1:
        kinds = Counter(s["kind"] for s in suspects)
        images = len({s.get("image_id") for s in suspects})
        listed = ", ".join(kind_words(k, n) for k, n in kinds.most_common())
        where = f" on {images} image{'s' if images != 1 else ''}"
        return f"{verb} {len(suspects)} suspects{where}: {listed}"
    s = suspects[0]
    head = f"{verb} {kind_words(s['kind'])}{_where(s)}"
    label = s.get("annotation_id")
    label_class = _name(names, s.get("category_id"))
    predicted = _name(names, s.get("predicted_category_id"))
    kind = s["kind"]
    if decision_ != "accepted":
        if kind == "missing_label":
            return f"{head}: prediction #{s.get('prediction_id')} {predicted}"
        if kind == "wrong_class":
            return f"{head}: label #{label} ({label_class}; predicted {predicted})"
        return f"{head}: label #{label} ({label_class})"
    if kind == "missing_label":
        new = f" #{new_label_id}" if new_label_id is not None else ""
        return f"{head}: new {predicted} label{new} from prediction #{s.get('prediction_id')}"
    if kind == "wrong_class":
        return f"{head}: label #{label} {label_class} → {predicted}"
    if kind == "inaccurate_label":
        pred = s.get("prediction_id")
        if pred is None:  # found from the image alone (score version 9)
            return f"{head}: label #{label} ({label_class}) moved onto the image's edges"
        return f"{head}: label #{label} ({label_class}) takes prediction #{pred}'s shape"
    return f"{head}: label #{label} ({label_class}) deleted"


def label_edit(
    what: str,
    annotation: Mapping,
    names: Mapping[int, str],
    file_name: str | None,
    *,
    new_category_id: int | None = None,
    new_label_id: int | None = None,
) -> str:
    """One line for a hand edit of a label ("change class of label #12 on a.jpg: car → dog",
    "move vertex label #12 (person) on a.jpg", "draw box on a.jpg: new dog label #905")."""
    where = f" on {file_name}" if file_name else ""
    name = _name(names, annotation.get("category_id"))
    label = f"#{annotation['id']}"
    if new_category_id is not None:
        return f"{what} of label {label}{where}: {name} → {_name(names, new_category_id)}"
    if what.startswith("draw"):
        return f"{what}{where}: new {name} label {label}"
    if new_label_id is not None:
        return f"{what} label {label} ({name}){where}: new label #{new_label_id}"
    return f"{what} label {label} ({name}){where}"


def redecision(
    suspect: Mapping,
    old: str | None,
    new: str | None,
    names: Mapping[int, str],
    *,
    reverted: bool = False,
) -> str:
    """One line for a changed decision ("reopen wrong class on a.jpg: label #12 (car), was
    accepted; its fix reverted")."""
    text = decision([suspect], new, names)
    if new is None:
        text = "reopen" + text.removeprefix(VERBS[None])
    was = f"was {old}" if old else "was open"
    return f"{text}, {was}" + ("; its fix reverted" if reverted else "")


def relabelled(file_name: str | None, counts: Mapping[str, int]) -> str:
    """One line for a relabelled image ("relabel a.jpg: 2 labels changed, 1 added, 1 deleted")."""
    parts = [
        f"{counts[k]} {'label' if counts[k] == 1 else 'labels'} {k}"
        for k in ("changed", "added", "deleted")
        if counts.get(k)
    ]
    where = f" {file_name}" if file_name else ""
    return f"relabel{where}: " + (", ".join(parts) if parts else "no change")
