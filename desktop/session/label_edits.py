"""Hand edits of labels: each change of a label made on the canvas (or by a class key) becomes
one core Edit in one undo command, pushed through the session. The label dicts of drawn and
duplicated labels come from core (``core.new_labels``: the one rule for new labels).

A burst of arrow-key nudges is one edit, as one mouse drag is: the canvas moves the label's
drawing at once and hands each nudge here; the burst is written as one SetGeometry (one
transaction, one change-log row, one undo step) when it ends: after a moment without nudges,
and before anything else happens (any other command, undo or redo, another selection, the
canvas losing the keyboard focus, an export, closing). Until then the nudges are only on screen,
the way a drag is until the mouse is released.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from labelfix.core import describe, geometry
from labelfix.core.edits import AddLabel, DeleteLabel, Edit, SetCategory, SetGeometry
from labelfix.core.new_labels import dataset_style, duplicate_label, new_label

from ..commands import Focus

if TYPE_CHECKING:
    from .session import Session

NUDGE_IDLE_MS = 1000  # a burst of nudges ends this long after its last nudge
CROWD_READ_ONLY = "Crowd masks are read-only; convert the mask to a polygon first."


@dataclass
class NudgeBurst:
    """Nudges of one label not written yet: the label as it was, and where it is now shown."""

    annotation: dict
    geometry: dict  # {"bbox": ...} or {"segmentation": ...}, as SetGeometry takes it


class LabelEdits(QObject):
    """Turns hand edits of labels into undoable commands; holds the nudge burst in progress."""

    burstChanged = Signal()  # a nudge burst began, or ended (written or not)

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session
        self.store = session.store
        self.draw_category: int | None = None  # the class new labels take
        self.burst: NudgeBurst | None = None
        self._idle = QTimer(self, singleShot=True, interval=NUDGE_IDLE_MS)
        self._idle.timeout.connect(self.end_burst)

    # ------------------------------------------------------------------ classes
    def quick_classes(self) -> list[tuple[int, str]]:
        """The nine most frequent label classes (for the 1-9 keys)."""
        names = self.session.category_names
        return [(c, names.get(c, str(c))) for c in self.store.frequent_categories(9)]

    def current_draw_category(self) -> int | None:
        """The class a drawn label takes: the last one picked, else the most frequent."""
        if self.draw_category is None:
            quick = self.quick_classes()
            if quick:
                self.draw_category = quick[0][0]
            elif self.session.category_names:
                self.draw_category = min(self.session.category_names)
        return self.draw_category

    def set_category(self, category_id: int) -> bool:
        """Give the selected label (else the current suspect's) another class, as one undoable
        command; new labels take this class from now on."""
        self.draw_category = category_id
        if self.offline():
            return False
        selected = self.session.selected_annotation()
        if selected is not None:
            if selected["category_id"] == category_id:
                return True
            edit = SetCategory(selected["id"], category_id, reason="manual")
            text = self.edit_text("change class", selected, new_category_id=category_id)
            return self._push_label(edit, selected, "change class", text=text)
        suspect = self.session.current()
        if suspect is None or suspect["annotation_id"] is None:
            return self._refuse("The selected suspect has no label to change (accept it first).")
        ann = self.store.annotation(suspect["annotation_id"])
        if ann is None:
            return self._refuse("The label of this suspect no longer exists.")
        if ann["category_id"] == category_id:
            return True
        edit = SetCategory(suspect["annotation_id"], category_id, reason="manual")
        text = self.edit_text("change class", ann, new_category_id=category_id)
        return self.session.push(edit, {suspect["image_id"]}, suspect["key"], text=text)

    # ------------------------------------------------------------------ geometry
    def set_geometry(
        self,
        annotation_id: int,
        *,
        bbox: list[float] | None = None,
        segmentation: list[list[float]] | None = None,
        what: str = "change geometry",
    ) -> bool:
        """Give a label a new box or polygon (bbox and area derived by core), as one command."""
        ann = self._editable(annotation_id)
        if ann is None:
            return False
        edit = SetGeometry(annotation_id, bbox=bbox, segmentation=segmentation, reason="manual")
        return self._push_label(edit, ann, what)

    def nudge(self, annotation_id: int, shown: dict) -> bool:
        """One nudge of a label, already drawn where it moved (``shown``: its box or polygon
        now); the burst it belongs to is written when it ends."""
        if self.burst is not None and self.burst.annotation["id"] != annotation_id:
            self.end_burst()
        if self.burst is None:
            ann = self._editable(annotation_id)
            if ann is None:
                return False
            self.burst = NudgeBurst(ann, dict(shown))
            self.burstChanged.emit()
        else:
            self.burst.geometry = dict(shown)
        self._idle.start()
        return True

    def end_burst(self) -> bool:
        """Write the nudge burst in progress (if any) as one command; False when that failed."""
        self._idle.stop()
        burst, self.burst = self.burst, None
        if burst is None:
            return True
        self.burstChanged.emit()
        edit = SetGeometry(burst.annotation["id"], reason="manual", **burst.geometry)
        if not self._push_label(edit, burst.annotation, "nudge"):
            team = self.session.team
            if team is None or team.connected:  # drawn back (offline: it stays, unsaved)
                self.session.labelsChanged.emit({burst.annotation["image_id"]})
            return False
        return True

    def convert_to_polygon(self, annotation_id: int | None = None) -> bool:
        """Turn the selected label's RLE mask into polygon parts (then it is editable)."""
        ann = self._target(annotation_id)
        if ann is None:
            return False
        seg = ann.get("segmentation")
        if not isinstance(seg, dict):
            return self._refuse("This label has no mask to convert.")
        image = self.store.image(ann["image_id"])
        assert image is not None
        parts = geometry.rle_to_polygon(seg, image["height"], image["width"])
        if not parts:
            return self._refuse("The mask is empty; there is no outline to convert.")
        edit = SetGeometry(ann["id"], segmentation=parts, reason="manual")
        return self._push_label(edit, ann, "convert to polygon")

    # ------------------------------------------------------------------ new and deleted labels
    def add(
        self,
        image_id: int,
        *,
        bbox: list[float] | None = None,
        segmentation: list[list[float]] | None = None,
        category_id: int | None = None,
        what: str = "draw label",
    ) -> int | None:
        """Add a drawn label of the current class (box or polygon) and select it; its new id."""
        if self.offline():
            return None
        image = self.store.image(image_id)
        category_id = category_id if category_id is not None else self.current_draw_category()
        if image is None or category_id is None:
            self._refuse("There is no image or class to add a label to.")
            return None
        ann = new_label(
            self.store.next_annotation_id(),
            image,
            category_id,
            dataset_style(self.store),
            bbox=bbox,
            segmentation=segmentation,
        )
        if ann["bbox"][2] <= 0 or ann["bbox"][3] <= 0:
            self._refuse("The drawn label is empty.")
            return None
        edit = AddLabel(ann, reason="manual")
        ok = self._push_label(edit, ann, what, before=self.session.selected_label)
        return ann["id"] if ok else None

    def delete(self, annotation_id: int | None = None) -> bool:
        """Delete the selected label (or the given one), as one command."""
        ann = self._target(annotation_id)
        if ann is None:
            return False
        return self._push_label(DeleteLabel(ann["id"], reason="manual"), ann, "delete", after=None)

    def duplicate(self, annotation_id: int | None = None) -> int | None:
        """Copy the selected label a few pixels right and down, select the copy; its new id."""
        ann = self._target(annotation_id)
        if ann is None:
            return None
        image = self.store.image(ann["image_id"])
        assert image is not None
        copy = duplicate_label(
            self.store.next_annotation_id(), ann, image, dataset_style(self.store)
        )
        text = self.edit_text("duplicate", ann, new_label_id=copy["id"])
        ok = self._push_label(
            AddLabel(copy, reason="manual"), copy, "duplicate", before=ann["id"], text=text
        )
        return copy["id"] if ok else None

    # ------------------------------------------------------------------ helpers
    def edit_text(self, what: str, ann: dict, **changes: int) -> str:
        """The History line of a hand edit of a label (see core.describe.label_edit)."""
        image = self.store.image(ann["image_id"])
        file_name = image["file_name"] if image else None
        return describe.label_edit(what, ann, self.session.category_names, file_name, **changes)

    def _push_label(
        self,
        edit: Edit,
        ann: dict,
        what: str,
        *,
        before: int | None = -1,
        after: int | None = -1,
        text: str | None = None,
    ) -> bool:
        """Push a label edit whose undo and redo bring the label's image (and the label) back
        into view; ``before``/``after`` are the label selected then (-1: this label). The
        History line says what was done to which label on which image (or ``text``)."""
        key = self.session.current_key()
        image_id = ann["image_id"]
        return self.session.push(
            edit,
            {image_id},
            key,
            undo_focus=Focus(key, ann["id"] if before == -1 else before, image_id),
            redo_focus=Focus(key, ann["id"] if after == -1 else after, image_id),
            text=text or self.edit_text(what, ann),
        )

    def _editable(self, annotation_id: int) -> dict | None:
        """A label whose geometry can change, or None (said why)."""
        if self.offline():
            return None
        ann = self.store.annotation(annotation_id)
        if ann is None:
            self._refuse("This label no longer exists.")
        elif ann.get("iscrowd") and isinstance(ann.get("segmentation"), dict):
            self._refuse(CROWD_READ_ONLY)
            return None
        return ann

    def _target(self, annotation_id: int | None) -> dict | None:
        if self.offline():
            return None
        ann = (
            self.session.selected_annotation()
            if annotation_id is None
            else self.store.annotation(annotation_id)
        )
        if ann is None:
            self._refuse("Select a label on the image first (click it).")
        return ann

    def offline(self) -> bool:
        """True (and said) while no edit can start: the project is open read-only (a label
        dragged on the canvas is drawn back), or a team project's server is away."""
        if self.session.refuse_read_only():
            shown = self.session.shown_image_id()
            if shown is not None:
                self.session.labelsChanged.emit({shown})
            return True
        team = self.session.team
        return team is not None and team.refuse_while_offline()

    def _refuse(self, sentence: str) -> bool:
        self.session.errorOccurred.emit(sentence)
        return False
