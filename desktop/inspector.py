"""The inspector: the current suspect (what it says, what accepting it would do, the other
suspects about the same object, the prediction sets that found it), the label in question (the one selected on the canvas, else
the suspect's: class, area, id, box, the suspects that concern it, a class picker) and the label
the last accept left behind. It follows the session's signals and calls the session only."""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QFrame,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from labelfix.core.errors import KINDS
from labelfix.core.suspects import STATUSES

from .commands import EditCommand
from .fix_choice import describe
from .found_by import SEP, FoundBy
from .models import KIND_TITLES
from .session import Session

FIX_HINTS = {
    "missing_label": "A adds the prediction as a new label.",
    "wrong_class": "A gives the label the predicted class.",
    "inaccurate_label": "A gives the label the prediction's shape.",
    "duplicate_label": "A deletes this label (keeps the other).",
    "spurious_label": "A deletes this label.",
}
IMAGE_ONLY_HINT = (
    "Its outline sits on none of the image's edges, and no move of it is sure: redraw it by "
    "hand, or F flags it (A changes nothing)."
)  # an inaccurate_label found from the image alone (score version 9) without a sure fix
IMAGE_ONLY_GHOST = (
    "A moves the label's outline onto the image's edges (the ghost; no prediction backs it: "
    "check the ghost first)."
)
IMAGE_ONLY_FOUND_BY = "the image's edges (no prediction)"
MAX_LISTED = 8  # suspects listed per label / per object, at most
# A wrong_class suspect's prediction whose calibrated probability is below this is a weak
# guess: the calibration says fewer than 1 in 10 of this detector's predictions of that class
# at this confidence match a label of it. Such a suspect says mostly that the detector does
# not support the label's class, not that the object is the predicted class; the inspector
# says so (words only: the score, the ranking and what A does stay as they are).
WEAK_GUESS = 0.1
WEAK_GUESS_HINT = (
    "The detector's class is a weak guess (probability {p:.2f}): check the class before "
    "accepting; F flags it."
)


def weak_guess(s: dict) -> str:
    """The warning for an open wrong_class whose prediction's calibrated probability is below
    :data:`WEAK_GUESS` ("" otherwise, or without a calibrated probability)."""
    p = s.get("probability")
    if s["kind"] != "wrong_class" or s["status"] == "accepted" or p is None or math.isnan(p):
        return ""
    return WEAK_GUESS_HINT.format(p=p) if p < WEAK_GUESS else ""


def _fmt(value: float | None) -> str:
    return (
        "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"
    )


def related_positions(
    session: Session, annotation_id: int | None, prediction_id: int | None
) -> list[int]:
    """Index positions of the suspects about a label (as its label, or as the other label of a
    duplicate pair) or about a prediction, best score first (the label section's list; the
    suspect's own object is its group: :func:`same_object`)."""
    sx = session.index
    hit = np.zeros(len(sx), dtype=bool)
    if annotation_id is not None:
        hit |= (sx.annotation_id == annotation_id) | (sx.other_annotation_id == annotation_id)
    if prediction_id is not None:
        hit |= sx.prediction_id == prediction_id
    positions = np.flatnonzero(hit)
    return [int(p) for p in positions[np.argsort(-sx.score[positions], kind="stable")]]


def same_object(session: Session, suspect: dict) -> list[int]:
    """Index positions of the other suspects of a suspect's object (its group: core.grouping),
    most likely fix first. Accepting any of them closes the others."""
    pos = session.review.position_of_id(suspect.get("id"))
    if pos is None:
        return []
    return [int(p) for p in session.index.alternatives(pos)]


def _section(text: str) -> QLabel:
    label = QLabel(f"<b>{html.escape(text, quote=False)}</b>")
    label.setObjectName("inspectorSection")
    return label


def _value() -> QLabel:
    label = QLabel()
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class Inspector(QScrollArea):
    """The suspect, the label in question and the last accept, in three short sections; a
    short dock scrolls them rather than squeezing their rows onto each other."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        self.title.setWordWrap(True)
        self.fields = {
            k: _value()
            for k in (
                "score",
                "image",
                "label",
                "predicted",
                "iou",
                "confidence",
                "sets",
                "decision",
            )
        }
        self.fields["sets"] = FoundBy()  # one set a line, its name elided when narrow
        self.fields["image"] = FoundBy(elide=Qt.TextElideMode.ElideLeft)  # "…000544.jpg"
        self.hint = QLabel()  # what A would do (and the other forms of the fix)
        self.hint.setWordWrap(True)
        self.hint.setObjectName("hint")
        self.alternatives = QLabel()  # other suspects about the same object (links)
        self.alternatives.setWordWrap(True)
        self.alternatives.linkActivated.connect(self._open_suspect)
        self.label_title = _section("Label")
        self.label_fields = {k: _value() for k in ("label", "area", "box", "suspects")}
        self.label_fields["suspects"].setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.label_fields["suspects"].linkActivated.connect(self._open_suspect)
        self.class_picker = QComboBox(editable=True)
        self.class_picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.class_picker.setToolTip("The label's class (E, then type to search)")
        self.last_accept = QLabel()
        self.last_accept.setWordWrap(True)
        self.last_accept.setObjectName("hint")
        self.last_accept.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        suspect_form = QFormLayout()
        for title, key in (
            ("Score", "score"),
            ("Image", "image"),
            ("Label class", "label"),
            ("Predicted", "predicted"),
            ("IoU", "iou"),
            ("Confidence", "confidence"),
            ("Found by", "sets"),
            ("Decision", "decision"),
        ):
            suspect_form.addRow(title, self.fields[key])
        suspect_form.addRow("Same object", self.alternatives)
        label_form = QFormLayout()
        for title, key in (
            ("Label", "label"),
            ("Area", "area"),
            ("Box", "box"),
            ("Suspects", "suspects"),
        ):
            label_form.addRow(title, self.label_fields[key])
        label_form.addRow("Set class", self.class_picker)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.title)
        layout.addLayout(suspect_form)
        layout.addWidget(self.hint)
        layout.addSpacing(6)
        layout.addWidget(self.label_title)
        layout.addLayout(label_form)
        layout.addSpacing(6)
        layout.addWidget(self.last_accept)
        layout.addStretch(1)
        self.setWidget(body)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fill_classes()
        self.class_picker.activated.connect(self._picked)
        # refresh once the session is settled: an edit reloads the index before it reselects
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh)
        session.selectionChanged.connect(self.refresh)
        for signal in (
            session.labelSelectionChanged,
            session.suspectsChanged,
            session.labelsChanged,
            session.undo_stack.indexChanged,
            session.fix_choice.changed,
        ):
            signal.connect(lambda *_args: self._refresh_timer.start())
        self.refresh()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """The sections' own size: the dock gives them their room when the window has it."""
        return self.widget().sizeHint() + QSize(self.verticalScrollBar().sizeHint().width(), 0)

    def _fill_classes(self) -> None:
        self.class_picker.blockSignals(True)
        self.class_picker.clear()
        for cid, name in sorted(self.session.category_names.items(), key=lambda kv: kv[1].lower()):
            self.class_picker.addItem(name, cid)
        completer = QCompleter(
            [self.class_picker.itemText(i) for i in range(self.class_picker.count())], self
        )
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.class_picker.setCompleter(completer)
        self.class_picker.blockSignals(False)

    # ------------------------------------------------------------------ refresh
    def refresh(self, *_args: object) -> None:
        """Show the session's current suspect, the label in question and the last accept."""
        self._show_suspect(self.session.current())
        self._show_label()
        self._show_last_accept()

    def _show_suspect(self, s: dict | None) -> None:
        names = self.session.category_names
        if s is None:
            self.title.setText("No suspect selected")
            for label in self.fields.values():
                label.setText("—")
            self.fields["sets"].set_entries([])
            self.fields["image"].set_entries([])
            self.alternatives.setText("—")
            self.hint.setText("")
            return
        self.title.setText(f"<b>{KIND_TITLES.get(s['kind'], s['kind'])}</b>")
        self.fields["score"].setText(f"{s['score']:.3f}")
        self.fields["image"].set_entries([(str(s["file_name"]), "")])
        self.fields["label"].setText(
            names.get(s["category_id"], "—") if s["category_id"] is not None else "—"
        )
        pred = s["predicted_category_id"]
        self.fields["predicted"].setText(names.get(pred, "—") if pred is not None else "—")
        self.fields["iou"].setText(_fmt(s["iou"]))
        probability = s.get("probability")
        self.fields["confidence"].setText(
            _fmt(s["confidence"])
            + ("" if probability is None else f"  (calibrated: {probability:.2f})")
        )
        image_only = s["kind"] == "inaccurate_label" and s.get("prediction_id") is None
        self.fields["sets"].set_entries(
            [(IMAGE_ONLY_FOUND_BY, "")]
            if image_only
            else [
                (
                    x["set"],
                    f"score {x['score']:.2f}"
                    + ("" if x["confidence"] is None else f"{SEP}conf. {x['confidence']:.2f}"),
                )
                for x in s.get("supported_by", ())
            ]
        )
        decision = (
            self.session.store.decision(self.session.set_id, s["key"])
            if self.session.set_id
            else None
        )
        text = s["status"] + (f" — {decision['note']}" if decision and decision.get("note") else "")
        self.fields["decision"].setText(text)
        links = self._suspect_links(same_object(self.session, s))
        self.alternatives.setText(links + "<br><i>N: the next of them</i>" if links else "none")
        preview = self.session.fix_choice.preview()
        if preview is not None:
            hint = IMAGE_ONLY_GHOST if image_only else describe(preview, names)
        elif s["status"] == "accepted":  # Ctrl+Z reaches this window's own decisions only
            who = (decision or {}).get("reviewer")
            by = f" by {who}" if who and who != self.session.store.reviewer else ""
            undo = (
                "Ctrl+Z undoes it"
                if self.session.can_undo_decision(s["key"])
                else "U reopens it and reverts the fix"
            )
            hint = f"Accepted{by}: its fix is applied ({undo})."
        else:
            hint = IMAGE_ONLY_HINT if image_only else FIX_HINTS.get(s["kind"], "")
        if self.session.read_only is not None and hint:  # the keys it names are off
            hint = f"Read-only here: nothing can be accepted. The fix would be: {hint}"
        warning = weak_guess(s)
        self.hint.setText(f"{warning}\n{hint}" if warning else hint)

    def _label_in_question(self) -> tuple[dict | None, str]:
        """The selected label, else the current suspect's (with the section's title)."""
        selected = self.session.selected_annotation()
        if selected is not None:
            return selected, "Selected label"
        s = self.session.current()
        if s is not None and s["annotation_id"] is not None and self.session.view_image_id is None:
            return self.session.store.annotation(s["annotation_id"]), "The suspect's label"
        return None, "Label"

    def _show_label(self) -> None:
        ann, title = self._label_in_question()
        self.label_title.setText(f"<b>{html.escape(title, quote=False)}</b>")
        self.class_picker.setEnabled(ann is not None)
        self.class_picker.blockSignals(True)
        self.class_picker.setCurrentIndex(
            -1 if ann is None else self.class_picker.findData(ann["category_id"])
        )
        self.class_picker.blockSignals(False)
        if ann is None:
            for label in self.label_fields.values():
                label.setText("—")
            return
        self.label_fields["label"].setText(
            self._label_name(ann) + (" (crowd)" if ann.get("iscrowd") else "")
        )
        area = ann.get("area")
        self.label_fields["area"].setText("—" if area is None else f"{float(area):,.1f} px²")
        x, y, w, h = ann["bbox"]
        self.label_fields["box"].setText(f"{w:.1f} × {h:.1f} at ({x:.1f}, {y:.1f})")
        positions = related_positions(self.session, ann["id"], None)
        self.label_fields["suspects"].setText(self._suspect_links(positions) or "none")

    def _label_name(self, ann: dict) -> str:
        name = self.session.category_names.get(ann["category_id"], str(ann["category_id"]))
        return f"{name} #{ann['id']}"

    def _suspect_links(self, positions: list[int]) -> str:
        """Suspects as links (kind, score, status); a click selects one."""
        sx = self.session.index
        current = self.session.current()
        parts = []
        for pos in positions[:MAX_LISTED]:
            sid = int(sx.ids[pos])
            kind = KIND_TITLES.get(KINDS[int(sx.kind[pos])], "?")
            status = STATUSES[int(sx.status[pos])]
            text = f"{kind} {float(sx.score[pos]):.2f} ({status})"
            if current is not None and sid == current["id"]:
                parts.append(f"<b>{html.escape(text)}</b>")
            else:
                parts.append(f'<a href="{sid}">{html.escape(text)}</a>')
        if len(positions) > MAX_LISTED:
            parts.append(f"… {len(positions) - MAX_LISTED} more")
        return "<br>".join(parts)

    def _show_last_accept(self) -> None:
        """The label the last command left, when that command accepted a suspect."""
        stack = self.session.undo_stack
        command = stack.command(stack.index() - 1) if stack.index() > 0 else None
        accepts = command.accepted() if isinstance(command, EditCommand) else 0
        if not accepts:
            self.last_accept.setText("")
            return
        results = []
        for what, label_id in command.label_results():
            if what == "deleted":
                results.append(f"label #{label_id} deleted")
            else:
                results.append(self._result(label_id, "new label " if what == "added" else "now "))
        what = f"{accepts} suspects" if accepts > 1 else "the suspect"
        shown = "; ".join(results[:3]) + (
            f"; … {len(results) - 3} more" if len(results) > 3 else ""
        )
        self.last_accept.setText(f"Last accept ({what}): {shown or 'no label changed'}.")

    def _result(self, annotation_id: int, prefix: str) -> str:
        ann = self.session.store.annotation(annotation_id)
        if ann is None:
            return f"label #{annotation_id} (gone since)"
        area = ann.get("area")
        size = "" if area is None else f", area {float(area):,.0f} px²"
        return f"{prefix}{self._label_name(ann)}{size}"

    # ------------------------------------------------------------------ actions
    def _open_suspect(self, suspect_id: str) -> None:
        self.session.select_id(int(suspect_id))

    def _picked(self, i: int) -> None:
        cid = self.class_picker.itemData(i)
        if cid is not None:
            self.session.labels.set_category(int(cid))
