"""A scripted review of a project through the real window and its key handlers.

    python tools/drive_review.py X.labelfix [--seed 0] [--actions 40] [--pause 0]

Builds the MainWindow offscreen on the project and presses the review keys a user would: A
(accept), R (reject), F (flag, the note dialog answered by the script), Space (next), 1-9 (quick
class), Right/Down/Left on the canvas with a label selected (a burst of one to three nudges of
one label, then the pause that ends the burst: one command) and Ctrl+Z (undo). Where a user would click
a label first (a nudge, or a class change on a suspect without a label), the script selects one
through the session, as the click does. A seeded random mix decides which key comes next.

After each action has returned (the edit is committed: the handlers apply every core Edit in one
transaction before they return), the script prints one line

    ack <n> <what> <json>

whose JSON holds ``seq`` (the last change-log sequence number), ``edit_ids`` (the change-log
entries the action wrote), ``decisions`` ({suspect key: {"decision", "note"} or null}) and
``labels`` ({label id: {"category_id", "bbox", "segmentation", "area"} or null}), read from the
project's tables for everything the action touched, and ``intent`` (the decision the key asked
for, on which suspect). ``ready <seq>`` comes first, ``done`` last. tests/desktop/test_app_kill.py
SIGKILLs this script at random moments and checks the acknowledged state survived.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from labelfix.core.store import Store  # noqa: E402
from labelfix.desktop import window_review  # noqa: E402
from labelfix.desktop.main_window import MainWindow  # noqa: E402

# action -> relative weight in the random mix
MIX = {"accept": 4, "reject": 4, "flag": 2, "next": 2, "class": 2, "nudge": 3, "undo": 2}
NOTE = "checked by drive_review"
LABEL_KEYS = ("category_id", "bbox", "segmentation", "area")


def label_state(store: Store, annotation_id: int) -> dict | None:
    """A label's reviewable state as stored (None when it does not exist)."""
    ann = store.annotation(annotation_id)
    return None if ann is None else {k: ann.get(k) for k in LABEL_KEYS}


def decision_state(store: Store, set_id: int, key: str) -> dict | None:
    """A suspect's decision and note as stored (None when undecided)."""
    row = store.decision(set_id, key)
    return None if row is None else {"decision": row["decision"], "note": row["note"]}


def last_seq(store: Store) -> int:
    """The change log's last sequence number (0 when empty)."""
    return store.last_change()


class Driver:
    """Presses keys on a MainWindow and acknowledges each committed action on stdout."""

    def __init__(self, window: MainWindow, rng: random.Random, pause: float) -> None:
        self.win = window
        self.rng = rng
        self.pause = pause
        self.n = 0
        self.seq = last_seq(window.session.store)

    @property
    def store(self) -> Store:
        """The app's own store connection."""
        return self.win.session.store

    def key(self, k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        """Press a key on the focused widget (window shortcuts fire from anywhere in it)."""
        target = QApplication.focusWidget() or self.win
        QTest.keyClick(target, k, mod)

    def settle(self) -> None:
        """Let queued work run (the canvas refresh is a 0 ms timer)."""
        QCoreApplication.processEvents()
        QCoreApplication.processEvents()

    def act(self, what: str) -> dict | None:
        """Perform one action; its intent (suspect key and decision), or None."""
        s = self.win.session
        suspect = s.current()
        intent = None
        if what in ("accept", "reject", "flag"):
            if suspect is None or suspect["status"] != "open":
                self.key(Qt.Key.Key_Space)
                suspect = s.current()
            decision = {"accept": "accepted", "reject": "rejected", "flag": "flagged"}[what]
            if suspect is not None and suspect["status"] == "open":
                intent = {"key": suspect["key"], "decision": decision}
            self.win.table.setFocus()  # A, R and F are window shortcuts: from the table too
            self.key({"accept": Qt.Key.Key_A, "reject": Qt.Key.Key_R, "flag": Qt.Key.Key_F}[what])
        elif what == "next":
            self.key(Qt.Key.Key_Space)
        elif what == "class":
            if s.selected_label is None and (suspect is None or suspect["annotation_id"] is None):
                self._select_some_label()  # a missing_label suspect has no label: click one
            self.key(Qt.Key(Qt.Key.Key_1 + self._other_class_digit()))
        elif what == "nudge":
            self._nudge()
        elif what == "undo":
            self.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        self.settle()
        return intent

    def _other_class_digit(self) -> int:
        """A digit (0-based) whose quick class differs from the class of the label it would
        change (the selected label, else the suspect's), so the key press is an edit."""
        s = self.win.session
        label = s.selected_annotation()
        if label is None and s.current() is not None and s.current()["annotation_id"] is not None:
            label = s.store.annotation(s.current()["annotation_id"])
        quick = [c for c, _name in s.labels.quick_classes()]
        digits = [d for d, c in enumerate(quick) if label is None or c != label["category_id"]]
        return self.rng.choice(digits or [self.rng.randrange(9)])

    def _nudge(self) -> None:
        """Move a label of the shown image with arrow keys on the canvas (the label moved last
        again half the time, else another one): a burst of one to three nudges, then the pause
        that ends it (the burst is written as one command)."""
        s = self.win.session
        image_id = s.shown_image_id()
        if image_id is None:
            return
        if (s.selected_label is None or self.rng.random() < 0.5) and not self._select_some_label():
            return
        self.win.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        for _ in range(self.rng.randint(1, 3)):
            arrow = self.rng.choice([Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Left])
            mod = self.rng.choice(
                [Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier]
            )
            QTest.keyClick(self.win.canvas, arrow, mod)
        s.labels.end_burst()  # what the idle timer does a moment later

    def _select_some_label(self) -> bool:
        """Select a random editable label of the shown image, as a click on it would."""
        s = self.win.session
        image_id = s.shown_image_id()
        labels = [] if image_id is None else s.store.annotations_for_image(image_id)
        movable = [a for a in labels if not isinstance(a.get("segmentation"), dict)]
        if not movable:
            return False
        s.select_label(self.rng.choice(movable)["id"])
        self.settle()  # the canvas builds the label's editor
        return True

    def ack(self, what: str, intent: dict | None) -> None:
        """Print what the store now holds for everything the action touched."""
        store = self.store
        entries = [
            (e["seq"], e["edit_id"], e["annotation_id"], e["suspect_key"])
            for e in store.change_log(after_seq=self.seq)
        ]
        set_id = self.win.session.set_id
        keys = {r[3] for r in entries if r[3] is not None}
        if intent is not None:
            keys.add(intent["key"])
        labels = {r[2] for r in entries if r[2] is not None}
        self.seq = entries[-1][0] if entries else self.seq
        payload: dict[str, Any] = {
            "seq": self.seq,
            "edit_ids": sorted({r[1] for r in entries}),
            "decisions": {k: decision_state(store, set_id, k) for k in sorted(keys)},
            "labels": {str(a): label_state(store, a) for a in sorted(labels)},
            "intent": intent,
        }
        self.n += 1
        print(f"ack {self.n} {what} {json.dumps(payload)}", flush=True)

    def run(self, actions: int) -> None:
        """Run the seeded mix of actions."""
        names, weights = zip(*MIX.items(), strict=True)
        for _ in range(actions):
            what = self.rng.choices(names, weights)[0]
            intent = self.act(what)
            self.ack(what, intent)
            if self.pause:
                time.sleep(self.pause)


def main(argv: list[str] | None = None) -> int:
    """Open the project in the real window and drive the review."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--actions", type=int, default=40)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between actions")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    QCoreApplication.setOrganizationName("LabelFixDrive")
    QCoreApplication.setApplicationName("labelfix-drive")
    QStandardPaths.setTestModeEnabled(True)  # keep QSettings out of the user's home
    settings = QSettings(str(args.project) + ".drive.ini", QSettings.Format.IniFormat)
    # the flag note dialog is modal; the script answers it like a user typing a note
    window_review.ask_flag_note = lambda *a, **k: (NOTE, True)

    win = MainWindow(settings=settings)
    win.ask_on_close = False
    win.resize(1200, 800)
    if not win.open_path(args.project):
        print("could not open the project", file=sys.stderr)
        return 1
    win.show()
    win.activateWindow()
    QCoreApplication.processEvents()
    win.table.setFocus()
    driver = Driver(win, random.Random(args.seed), args.pause)
    print(f"ready {driver.seq}", flush=True)
    driver.run(args.actions)
    print("done", flush=True)
    win.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
