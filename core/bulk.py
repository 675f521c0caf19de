"""Accepting many suspects at once (``labelfix apply --accept``): which fixes still apply.

The suspects of one listing were all found against the labels as they were. Accepting one can
use up the evidence of another: a prediction that became a new label cannot also give another
label its class, a label deleted as a duplicate cannot also be reshaped. :func:`plan_accepts`
walks the listing in order, takes each suspect whose prediction and labels no earlier fix of
the same run has used, skips the others with the reason, and (for ``--top N``) takes further
suspects from the listing in their place, so that N fixes are made and every change from the
listing is said.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .change_log import suspect_parts

WHAT_A_FIX_DOES = {
    "missing_label": "became a new label",
    "wrong_class": "gave its class to label {label}",
    "inaccurate_label": "gave its shape to label {label}",
    "duplicate_label": "deleted label {label}",
    "spurious_label": "deleted label {label}",
}


@dataclass(frozen=True)
class Skipped:
    """A listed suspect left open because an earlier fix of the run used its evidence."""

    rank: int  # 1-based position in the listing
    suspect: dict
    reason: str


@dataclass
class BulkPlan:
    """The suspects to accept (in listing order, with their ranks) and the ones skipped."""

    taken: list[tuple[int, dict]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    top: int | None = None
    # alternatives of an accepted suspect (the same object): its accept rejects them
    closed: list[Skipped] = field(default_factory=list)

    @property
    def suspects(self) -> list[dict]:
        """The suspects to accept."""
        return [s for _rank, s in self.taken]

    @property
    def instead(self) -> list[tuple[int, dict]]:
        """Suspects taken from beyond the first ``top`` of the listing, in place of skipped ones."""
        if self.top is None:
            return []
        return [(rank, s) for rank, s in self.taken if rank > self.top]


def describe(suspect: dict) -> str:
    """A suspect in a few words: kind, label, prediction."""
    parts = [suspect["kind"]]
    if suspect.get("annotation_id") is not None:
        parts.append(f"label {suspect['annotation_id']}")
    if suspect.get("prediction_id") is not None:
        parts.append(f"prediction {suspect['prediction_id']}")
    if suspect.get("file_name"):
        parts.append(f"on {suspect['file_name']}")
    return " ".join(parts)


def _labels(suspect: dict) -> list[int]:
    """The labels a suspect's evidence is about (both of a duplicate pair)."""
    out = [suspect.get("annotation_id")]
    if suspect["kind"] == "duplicate_label":
        other = suspect.get("other_annotation_id")
        out.append(
            other
            if other is not None
            else suspect_parts(suspect.get("key"))["suspect_other_label_id"]
        )
    return [a for a in out if a is not None]


def plan_accepts(listing: Iterable[dict], top: int | None = None) -> BulkPlan:
    """Walk open suspects in listing order; take those whose evidence is still unused, until
    ``top`` are taken (all when None)."""
    plan = BulkPlan(top=top)
    used_predictions: dict[tuple[int | None, int], tuple[int, dict]] = {}
    used_labels: dict[int, tuple[int, dict]] = {}
    used_groups: dict[int, tuple[int, dict]] = {}
    for rank, suspect in enumerate(listing, 1):
        if top is not None and len(plan.taken) >= top:
            break
        reason = None
        pid = suspect.get("prediction_id")
        pred = (suspect.get("set_id"), pid)  # prediction ids are per prediction set
        group = suspect.get("group")
        if group is not None and group in used_groups:
            by_rank, by = used_groups[group]
            reason = f"another fix of its object was accepted (#{by_rank}, {by['kind']})"
            plan.closed.append(Skipped(rank, suspect, reason))
            continue
        if pid is not None and pred in used_predictions:
            by_rank, by = used_predictions[pred]
            did = WHAT_A_FIX_DOES[by["kind"]].format(label=by.get("annotation_id"))
            reason = f"its prediction {pid} already {did} (#{by_rank}, {by['kind']})"
        for label in _labels(suspect):
            if reason is None and label in used_labels:
                by_rank, by = used_labels[label]
                what = (
                    "deleted" if by["kind"] in ("duplicate_label", "spurious_label") else "changed"
                )
                reason = f"its label {label} was already {what} (#{by_rank}, {by['kind']})"
        if reason is not None:
            plan.skipped.append(Skipped(rank, suspect, reason))
            continue
        plan.taken.append((rank, suspect))
        if pid is not None:
            used_predictions[pred] = (rank, suspect)
        if group is not None:
            used_groups[group] = (rank, suspect)
        if suspect.get("annotation_id") is not None:  # the label its fix changes or deletes
            used_labels[suspect["annotation_id"]] = (rank, suspect)
    return plan
