"""Where the review was: filter, sort and the selected suspect, kept in the project (meta
``ui_state``) so reopening resumes there. Saved a moment after each change and on close."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer

from labelfix.core.store import Store
from labelfix.core.suspects import DEFAULT_REVIEW_FILTER, SuspectFilter

from .review_list import ReviewList

UI_STATE_KEY = "ui_state"
SAVE_DELAY_MS = 400  # a burst of changes (typing in the filter) is saved once
OLD_DEFAULT_CONFIDENCE = 0.75  # the review filter's confidence cut before the default cut


def filter_to_json(flt: SuspectFilter) -> dict[str, Any]:
    """A JSON-able form of a suspect filter (for the project's ui_state)."""

    def opt(values: frozenset | None) -> list | None:
        return None if values is None else sorted(values)

    return {
        "min_confidence": flt.min_confidence,
        "min_iou": flt.min_iou,
        "max_iou": flt.max_iou,
        "kinds": opt(flt.kinds),
        "category_ids": opt(flt.category_ids),
        "statuses": opt(flt.statuses),
        "file_name": flt.file_name,
        "min_score": flt.min_score,
        "per_object": flt.per_object,
    }


def filter_from_json(data: dict[str, Any] | None) -> SuspectFilter:
    """A suspect filter from its JSON form; missing keys take the default review filter's values.

    A filter saved before the default cut (no ``min_score``) with the confidence cut of that
    time (0.75, the default then) opens on today's default view; another confidence cut the
    reviewer chose stays, without a score cut."""
    data = dict(data or {})
    base = DEFAULT_REVIEW_FILTER
    if "min_score" not in data and "min_confidence" in data:
        if float(data["min_confidence"]) == OLD_DEFAULT_CONFIDENCE:
            del data["min_confidence"]
        else:
            data["min_score"] = 0.0

    def opt(key: str, default: frozenset | None) -> frozenset | None:
        if key not in data:
            return default
        return None if data[key] is None else frozenset(data[key])

    return SuspectFilter(
        min_confidence=float(data.get("min_confidence", base.min_confidence)),
        min_iou=float(data.get("min_iou", base.min_iou)),
        max_iou=float(data.get("max_iou", base.max_iou)),
        kinds=opt("kinds", base.kinds),
        category_ids=opt("category_ids", base.category_ids),
        statuses=opt("statuses", base.statuses),
        file_name=str(data.get("file_name", base.file_name)),
        min_score=None
        if data.get("min_score", base.min_score) is None
        else float(data["min_score"]),
        per_object=bool(data.get("per_object", base.per_object)),
    )


class UiState(QObject):
    """Saves a review list's filter, sort and current suspect into the project."""

    def __init__(self, store: Store, review: ReviewList, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.review = review
        self._timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)

    def restore(self) -> str | None:
        """Give the review list the saved filter and sort; the saved selection's key."""
        saved = self.store.get_meta(UI_STATE_KEY, {}) or {}
        try:
            sort = saved.get("sort") or {}
            self.review.set_view(
                filter_from_json(saved.get("filter")),
                str(sort.get("key")),
                bool(sort.get("descending", True)),
            )
        except (TypeError, ValueError, KeyError, AttributeError):
            self.review.set_view(DEFAULT_REVIEW_FILTER, "", True)
        selected = saved.get("selected") if isinstance(saved, dict) else None
        return selected if isinstance(selected, str) else None

    def state(self) -> dict[str, Any]:
        """Filter, sort and selection as stored in the project's meta ``ui_state``."""
        r = self.review
        return {
            "filter": filter_to_json(r.filter),
            "sort": {"key": r.sort_key, "descending": r.descending},
            "selected": r.current_key(),
        }

    def changed(self) -> None:
        """Save in a moment (changes in a burst are saved once)."""
        self._timer.start()

    def save(self) -> None:
        """Write the review state into the project now (nothing for a read-only project; a
        closed or locked one must not break the window)."""
        self._timer.stop()
        if self.store.readonly:
            return
        try:
            with self.store.atomic():
                self.store.set_meta(UI_STATE_KEY, self.state())
        except Exception:  # noqa: BLE001 - the review state is a convenience, never an error
            return
