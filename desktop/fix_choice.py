"""The fix the current suspect would get if accepted now: its preview (the canvas's ghost, the
inspector's sentence) and, when the fix can take several forms, the one chosen (V cycles).

It follows the session: a new suspect starts at its fix's first form; a label change makes the
preview be computed again. The preview itself comes from core through the session
(``Session.fix_preview``), which runs the very edit an accept applies, without writing anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from labelfix.core.review import FixPreview

    from .session import Session

VARIANT_TITLES = {"stretch": "stretch", "box": "rectangle", "move": "move"}
VARIANT_SENTENCES = {  # the forms of core's review.FIX_VARIANTS, as the inspector says them
    "stretch": "stretch the polygon into the prediction's box",
    "box": "take the prediction's rectangle",
    "move": "keep the polygon, only move it onto the prediction",
}


class FixChoice(QObject):
    """The current suspect's fix: which form it takes, and what it would leave behind."""

    changed = Signal()  # the chosen form changed (the preview with it)

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session
        self.key: str | None = None  # the suspect the chosen form belongs to
        self.set_id: int | None = None  # ... and its prediction set (ids restart in every set)
        self.variant: str | None = None  # None: the fix's first (default) form
        self._labels_version = 0
        self._cached: tuple[object, FixPreview | None] | None = None
        session.labelsChanged.connect(self._labels_changed)

    def _labels_changed(self, _image_ids: object = None) -> None:
        self._labels_version += 1

    def _suspect(self) -> dict | None:
        """The current suspect when a preview makes sense (shown, not accepted already)."""
        s = self.session.current()
        if s is None or s["status"] == "accepted":
            return None
        if (s["key"], s.get("set_id")) != (self.key, self.set_id):
            self.key, self.set_id, self.variant = s["key"], s.get("set_id"), None
        return s

    def preview(self) -> FixPreview | None:
        """What accepting the current suspect would leave behind (None when there is no open
        suspect, or its fix cannot be made any more)."""
        s = self._suspect()
        if s is None:
            return None
        stamp = (s["key"], s.get("set_id"), self.variant, self._labels_version)
        if self._cached is not None and self._cached[0] == stamp:
            return self._cached[1]
        result = self.session.fix_preview(s, self.variant)
        self._cached = (stamp, result)
        return result

    def cycle(self) -> str | None:
        """Choose the next form of the current fix; the form now chosen (None: only one)."""
        preview = self.preview()
        if preview is None or not preview.variants:
            return None
        forms = preview.variants
        self.variant = forms[(forms.index(preview.variant) + 1) % len(forms)]
        self.changed.emit()
        return self.variant

    def variants_for(self, suspects: list[dict]) -> dict[str, str] | None:
        """The chosen form keyed by suspect, for core's ``decide`` (only the current suspect's
        fix has a chosen form, and only when it was chosen)."""
        s = suspects[0] if len(suspects) == 1 else None
        if s is not None and (s["key"], s.get("set_id")) == (self.key, self.set_id):
            return None if self.variant is None else {self.key: self.variant}
        return None


def describe(preview: FixPreview, names: dict[int, str]) -> str:
    """A sentence for what accepting would do ("A gives the label the class sink")."""
    after = preview.after or {}
    name = names.get(after.get("category_id"), "?")
    if preview.action == "add_label":
        return f"A adds a new {name} label (the ghost outline)."
    if preview.action == "set_category":
        return f"A gives label #{preview.annotation_id} the class {name}."
    if preview.action == "delete_label":
        return f"A deletes label #{preview.annotation_id} (hatched)."
    if preview.variant is None:
        return f"A gives label #{preview.annotation_id} the prediction's shape (the ghost)."
    others = ", ".join(VARIANT_TITLES[v] for v in preview.variants if v != preview.variant)
    return f"A will {VARIANT_SENTENCES[preview.variant]} (the ghost); V: {others}."


def ghost_text(preview: FixPreview, names: dict[int, str]) -> str:
    """The ghost outline's tag: what it is, in a few words."""
    after = preview.after or {}
    name = names.get(after.get("category_id"), "?")
    if preview.action == "add_label":
        return f"A: new {name}"
    if preview.action == "set_category":
        return f"A: → {name}"
    if preview.action == "delete_label":
        return "A: deleted"
    if preview.variant is None:
        return "A: new shape"
    k = preview.variants.index(preview.variant) + 1
    return f"A: {VARIANT_TITLES[preview.variant]} ({k}/{len(preview.variants)}, V)"
