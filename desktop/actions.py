"""The one table of user actions: id, title, default keys, what it does, and when it is possible.

Each action is data (as napari's app-model has it): ``run`` is called with the main window;
``needs`` names the facts it needs (:data:`PROJECT`, :data:`ANALYSIS`, :data:`SUSPECT`,
:data:`DECIDED`, :data:`LABEL`, :data:`UNDO`, :data:`REDO`, :data:`SETS`, :data:`WRITABLE`), and an action whose needs are not met is disabled:
its menu entry is greyed and its keys do nothing. The window recomputes the facts from the
session's signals (:func:`facts`). The shortcut sheet, the README table
(``tools/keyboard_table.py``) and the QSettings overrides (``shortcuts/<id>``, keys separated by
``;``) all read this table.

Most actions work anywhere in the window; ``scope="canvas"`` ones (arrows, Enter, Esc) only
while the canvas has the keyboard focus, so that the table keeps its own arrow keys, and
``scope="grid"`` ones (Enter) only while the triage grid has it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QAction, QFocusEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QWidget

from . import export_dialogs

if TYPE_CHECKING:
    from .main_window import MainWindow

PROJECT = "project"  # a project is open
ANALYSIS = "analysis"  # it has a current analysis (suspects to walk)
SUSPECT = "suspect"  # a suspect is selected
DECIDED = "decided"  # the selected suspect has a decision (it can be reopened)
LABEL = "label"  # a label is selected on the canvas
UNDO = "undo"  # there is something to undo
REDO = "redo"  # there is something to redo
SETS = "sets"  # the project has several prediction sets
WRITABLE = "writable"  # the project can be changed (not opened read-only beside another app)
FACTS = (PROJECT, ANALYSIS, SUSPECT, DECIDED, LABEL, UNDO, REDO, SETS, WRITABLE)

Run = Callable[["MainWindow"], Any]


@dataclass(frozen=True)
class ActionSpec:
    """One user action: ``run(window)`` does it; it is enabled while ``needs`` hold."""

    id: str
    title: str
    keys: tuple[str, ...]
    run: Run
    group: str = "Review"
    needs: frozenset[str] = frozenset({PROJECT})
    scope: str = "window"  # "window"; "canvas" or "grid": only while that view has the focus


def _needs(*facts: str) -> frozenset[str]:
    return frozenset(facts)


ALWAYS = _needs()


def focus_model_classes(window: MainWindow) -> None:
    """Give the keys to the Model tab's per-class table (the summary shown if hidden)."""
    dock = window.docks["summary"]
    if not dock.isVisible():
        dock.show()
    dock.raise_()
    dock.widget().focus_model_classes()


def select_label(window: MainWindow, step: int) -> None:
    """Select a label of the shown image by keyboard: the suspect's own first, then the others
    nearest the suspect first (``step`` 1 the next, -1 the previous), and give the canvas the
    keys so that the arrows move it (a click on the label does the same)."""
    s = window.session
    image_id = s.shown_image_id()
    labels = [] if image_id is None else s.store.annotations_for_image(image_id)
    if not labels:
        window.canvas.say("This image has no labels to select.")
        return
    suspect = s.current()
    own = suspect["annotation_id"] if suspect and suspect["image_id"] == image_id else None
    centre = window.canvas.review_scene.focus_rect.center()

    def distance(label: dict) -> float:
        x, y, w, h = label["bbox"]
        return (x + w / 2 - centre.x()) ** 2 + (y + h / 2 - centre.y()) ** 2

    ids = [a["id"] for a in sorted(labels, key=lambda a: (a["id"] != own, distance(a), a["id"]))]
    at = (ids.index(s.selected_label) + step) % len(ids) if s.selected_label in ids else 0
    s.select_label(ids[at])
    window.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)
    label = labels[[a["id"] for a in labels].index(ids[at])]
    name = s.category_names.get(label["category_id"], str(label["category_id"]))
    whose = "the suspect's label" if ids[at] == own else f"label {at + 1} of {len(ids)}"
    text = (
        f"{name} #{ids[at]} ({whose}) selected: arrows move it (Shift: 10 px), "
        "S the next label, Esc deselects"
    )
    window.canvas.say(text)
    hint = window.canvas.hint

    def drop_sentence() -> None:  # it names this label: not over the next suspect
        if hint.note == text:
            hint.timer.stop()
            hint.show_text(hint.standing)

    s.selectionChanged.connect(drop_sentence, Qt.ConnectionType.SingleShotConnection)


# the orders the sort key steps through (with its direction): the table's header takes no focus
SORT_CYCLE = (
    ("score", True, "score, highest first"),
    ("kind", False, "kind"),
    ("file_name", False, "image"),
    ("label_class", False, "label class"),
)


def sort_next(window: MainWindow) -> None:
    """Sort the suspects by the next of :data:`SORT_CYCLE` (from another order: the first);
    the table's header shows the order, the canvas says it."""
    s = window.session
    keys = [key for key, _d, _t in SORT_CYCLE]
    at = (keys.index(s.sort_key) + 1) % len(keys) if s.sort_key in keys else 0
    key, descending, title = SORT_CYCLE[at]
    s.set_sort(key, descending)
    following = SORT_CYCLE[(at + 1) % len(SORT_CYCLE)][2]
    window.canvas.say(f"Sorted by {title} (again: by {following})")


# the sort keys a person reads as text (A to Z); the others are numbers (highest first)
TEXT_SORT_KEYS = ("kind", "label_class", "predicted_class", "file_name", "status")


def sort_words(key: str, descending: bool) -> str:
    """How an order reads: ``score, highest first``, ``kind, Z to A``."""
    name = next((t for k, _d, t in SORT_CYCLE if k == key), key.replace("_", " "))
    name = name.split(",")[0]
    if key in TEXT_SORT_KEYS:
        return f"{name}, {'Z to A' if descending else 'A to Z'}"
    return f"{name}, {'highest' if descending else 'lowest'} first"


def sort_reverse(window: MainWindow) -> None:
    """Reverse the order the suspects are sorted in (the header's arrow turns, the canvas
    says the order)."""
    s = window.session
    s.set_sort(s.sort_key, not s.descending)
    window.canvas.say(f"Sorted by {sort_words(s.sort_key, s.descending)}")


def focus_table(window: MainWindow) -> None:
    """Give the keys back to the suspects table (shown if hidden), from any pane."""
    dock = window.docks["suspects"]
    if not dock.isVisible():
        dock.show()
    dock.raise_()
    if window.table is not None:
        window.table.setFocus(Qt.FocusReason.ShortcutFocusReason)


NUDGES = (("left", -1, 0), ("right", 1, 0), ("up", 0, -1), ("down", 0, 1))

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "accept", "Accept the fix", ("A",), lambda w: w.accept(), needs=_needs(PROJECT, SUSPECT)
    ),
    ActionSpec(
        "accept_adjust",
        "Accept the fix, then adjust the label with the arrows (class fixes too)",
        ("Shift+A",),
        lambda w: w.accept_adjust(),
        needs=_needs(PROJECT, SUSPECT),
    ),
    ActionSpec(
        "cycle_fix",
        "Next form of the fix (stretch / rectangle / move)",
        ("V",),
        lambda w: w.cycle_fix(),
        needs=_needs(PROJECT, SUSPECT),
    ),
    ActionSpec(
        "reject",
        "Reject (not a label error)",
        ("R",),
        lambda w: w.reject(),
        needs=_needs(PROJECT, SUSPECT),
    ),
    ActionSpec(
        "flag",
        "Flag for later, with a note",
        ("F",),
        lambda w: w.flag(),
        needs=_needs(PROJECT, SUSPECT),
    ),
    ActionSpec(
        "reopen",
        "Reopen the decision (an accepted fix is reverted)",
        ("U",),
        lambda w: w.reopen(),
        needs=_needs(PROJECT, DECIDED),
    ),
    ActionSpec(
        "next",
        "Next open suspect",
        ("Space", "J"),
        lambda w: w.session.step(1),
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec(
        "previous",
        "Previous open suspect",
        ("Shift+Space", "K"),
        lambda w: w.session.step(-1),
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec(
        "next_alternative",
        "Next fix for this object (its other suspects, in turn)",
        ("N",),
        lambda w: w.session.step_alternative(),
        needs=_needs(PROJECT, SUSPECT),
    ),
    ActionSpec(
        "undo",
        "Undo",
        ("Ctrl+Z",),
        lambda w: w.session.undo(),
        "Edit",
        needs=_needs(PROJECT, UNDO),
    ),
    ActionSpec(
        "redo",
        "Redo",
        ("Ctrl+Shift+Z", "Ctrl+Y"),
        lambda w: w.session.redo(),
        "Edit",
        needs=_needs(PROJECT, REDO),
    ),
    ActionSpec("history", "History", ("Ctrl+Shift+H",), lambda w: w.toggle_history(), "Edit"),
    ActionSpec(
        "change_class",
        "Change the label's class (or the class to draw)…",
        ("E",),
        lambda w: w.change_class(),
    ),
    *(
        ActionSpec(
            f"quick_class_{n}",
            f"Set the label's class to frequent class #{n}",
            (str(n),),
            lambda w, n=n: w.quick_class(n),
        )
        for n in range(1, 10)
    ),
    ActionSpec(
        "select_label",
        "Select the suspect's label for the arrow keys (again: the next label, nearest first)",
        ("S",),
        lambda w: select_label(w, 1),
        "Edit",
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec(
        "select_previous_label",
        "Select the previous label",
        ("Shift+S",),
        lambda w: select_label(w, -1),
        "Edit",
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec("box_tool", "Draw a box (drag)", ("W",), lambda w: w.canvas.set_tool("box"), "Edit"),
    ActionSpec(
        "polygon_tool",
        "Draw a polygon (click points)",
        ("P",),
        lambda w: w.canvas.set_tool("polygon"),
        "Edit",
    ),
    ActionSpec(
        "close_shape",
        "Close the polygon being drawn",
        ("Return", "Enter"),
        lambda w: w.canvas.close_shape(),
        "Edit",
        scope="canvas",
    ),
    ActionSpec(
        "escape",
        "Cancel drawing / stop the tool / deselect",
        ("Esc",),
        lambda w: w.canvas.escape(),
        "Edit",
        scope="canvas",
    ),
    ActionSpec(
        "delete_label",
        "Delete the selected label",
        ("Delete",),
        lambda w: w.session.labels.delete(),
        "Edit",
        needs=_needs(PROJECT, LABEL),
    ),
    ActionSpec(
        "remove_vertex",
        "Remove the selected vertex",
        ("Backspace",),
        lambda w: w.canvas.remove_vertex(),
        "Edit",
        needs=_needs(PROJECT, LABEL),
    ),
    ActionSpec(
        "duplicate",
        "Duplicate the selected label",
        ("Ctrl+D",),
        lambda w: w.session.labels.duplicate(),
        "Edit",
        needs=_needs(PROJECT, LABEL),
    ),
    ActionSpec(
        "convert_polygon",
        "Convert the selected mask to a polygon",
        ("Ctrl+Shift+P",),
        lambda w: w.session.labels.convert_to_polygon(),
        "Edit",
        needs=_needs(PROJECT, LABEL),
    ),
    *(
        ActionSpec(
            f"nudge_{name}{'_far' if step > 1 else ''}",
            f"Move the selected label {name} by {step} px",
            (f"{'Shift+' if step > 1 else ''}{name.capitalize()}",),
            lambda w, dx=dx * step, dy=dy * step: w.canvas.nudge(dx, dy),
            "Edit",
            needs=_needs(PROJECT, LABEL),
            scope="canvas",
        )
        for step in (1, 10)
        for name, dx, dy in NUDGES
    ),
    ActionSpec(
        "toggle_grid",
        "Triage grid / canvas",
        ("G",),
        lambda w: w.toggle_grid(),
        "View",
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec(
        "grid_open",
        "Open the selected crop in the canvas",
        ("Return", "Enter"),
        lambda w: w.open_from_grid(),
        "View",
        needs=_needs(PROJECT, SUSPECT),
        scope="grid",
    ),
    ActionSpec(
        "focus_table",
        "Back to the suspects table (from the canvas, inspector or filters)",
        ("T",),
        focus_table,
        "View",
    ),
    ActionSpec(
        "sort_next",
        "Sort the suspects by the next order (score, kind, image, label class)",
        ("Ctrl+Shift+S",),
        sort_next,
        "View",
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec(
        "sort_reverse",
        "Reverse the sort order (highest / lowest first, A to Z / Z to A)",
        ("Ctrl+Shift+D",),
        sort_reverse,
        "View",
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec(
        "model_classes",
        "Model tab: per-class rows (Enter lists a class's suspects)",
        ("M",),
        lambda w: focus_model_classes(w),
        "View",
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec("zoom_in", "Zoom in", ("Ctrl+=", "Ctrl++"), lambda w: w.canvas.zoom_in(), "View"),
    ActionSpec("zoom_out", "Zoom out", ("Ctrl+-",), lambda w: w.canvas.zoom_out(), "View"),
    ActionSpec("fit", "Fit the image", ("Ctrl+0",), lambda w: w.canvas.fit(), "View"),
    ActionSpec(
        "zoom_suspect",
        "Zoom to the suspect's object (again: back to its context)",
        ("Z",),
        lambda w: w.canvas.zoom_to_suspect(),
        "View",
        needs=_needs(PROJECT, SUSPECT),
    ),
    ActionSpec(
        "toggle_predictions",
        "Show / hide predictions (the suspect's own stays)",
        ("H",),
        lambda w: w.canvas.toggle_predictions(),
        "View",
    ),
    ActionSpec(
        "toggle_other_predictions",
        "Other predictions: faint / drawn with their tags",
        ("O",),
        lambda w: w.canvas.toggle_other_predictions(),
        "View",
    ),
    ActionSpec(
        "toggle_labels", "Show / hide labels", ("L",), lambda w: w.canvas.toggle_labels(), "View"
    ),
    ActionSpec(
        "new_project",
        "New project from COCO…",
        ("Ctrl+N",),
        lambda w: w.new_project(),
        "File",
        needs=ALWAYS,
    ),
    ActionSpec(
        "open_project",
        "Open project…",
        ("Ctrl+O",),
        lambda w: w.open_project(),
        "File",
        needs=ALWAYS,
    ),
    ActionSpec(
        "open_team_project",
        "Open team project…",
        (),
        lambda w: w.open_team_project(),
        "File",
        needs=ALWAYS,
    ),
    ActionSpec(
        "open_demo", "Open the demo project", (), lambda w: w.open_demo(), "File", needs=ALWAYS
    ),
    ActionSpec(
        "export", "Export COCO…", ("Ctrl+Shift+E",), lambda w: export_dialogs.export(w), "File"
    ),
    ActionSpec(
        "export_changes",
        "Export change log…",
        (),
        lambda w: export_dialogs.export_change_log(w),
        "File",
    ),
    ActionSpec(
        "export_relabel",
        "Export for re-labelling…",
        (),
        lambda w: w.export_for_relabel(),
        "File",
        needs=_needs(PROJECT, ANALYSIS),
    ),
    ActionSpec(
        "merge_relabelled",
        "Merge a relabelled subset…",
        (),
        lambda w: w.merge_relabelled(),
        "File",
    ),
    ActionSpec(
        "close_project",
        "Close project",
        ("Ctrl+W",),
        lambda w: w.request_close_project(),
        "File",
    ),
    ActionSpec("quit", "Quit", ("Ctrl+Q",), lambda w: w.close(), "File", needs=ALWAYS),
    ActionSpec(
        "analyze",
        "Analyse with thresholds…",
        ("Ctrl+Shift+R",),
        lambda w: w.analyze(),
        "Analyse",
    ),
    ActionSpec("run_model", "Run a model…", (), lambda w: w.run_model(), "Analyse"),
    ActionSpec(
        "analyze_sets",
        "Analyse with several prediction sets…",
        (),
        lambda w: w.analyze(every_set=True),
        "Analyse",
        needs=_needs(PROJECT, SETS),
    ),
    ActionSpec(
        "shortcuts",
        "Keyboard shortcuts",
        ("?",),
        lambda w: w.show_shortcuts(),
        "Help",
        needs=ALWAYS,
    ),
)

SPECS = {a.id: a for a in ACTIONS}
ACTIONS_BY_ID = SPECS


def facts(session: Any) -> frozenset[str]:
    """What holds now for an open session (None: no project), for the actions' ``needs``."""
    if session is None:
        return frozenset()
    out = {PROJECT}
    if session.analysed():
        out.add(ANALYSIS)
    if session.current_pos is not None:
        out.add(SUSPECT)
        status = session.index.status  # (the index may be reloading: positions move)
        if session.current_pos < len(status) and int(status[session.current_pos]) != 0:
            out.add(DECIDED)
    if session.selected_label is not None:
        out.add(LABEL)
    if session.undo_stack.canUndo() or session.labels.burst is not None:
        out.add(UNDO)  # a nudge burst not written yet is undone too
    if session.undo_stack.canRedo():
        out.add(REDO)
    if session.set_count() > 1:
        out.add(SETS)
    if getattr(session, "read_only", None) is None:
        out.add(WRITABLE)
    return frozenset(out)


# the actions that change the project: off in a project opened read-only (their needs get
# WRITABLE; the nudges and quick-class keys by their id's start)
WRITES = frozenset(
    {
        "accept",
        "accept_adjust",
        "reject",
        "flag",
        "reopen",
        "undo",
        "redo",
        "change_class",
        "box_tool",
        "polygon_tool",
        "close_shape",
        "delete_label",
        "remove_vertex",
        "duplicate",
        "convert_polygon",
        "merge_relabelled",
        "analyze",
        "analyze_sets",
        "run_model",
    }
)


def writes(spec: ActionSpec) -> bool:
    """Whether an action changes the project (so a read-only one disables it)."""
    return spec.id in WRITES or spec.id.startswith(("nudge_", "quick_class_"))


def update_enabled(actions: dict[str, QAction], now: frozenset[str]) -> None:
    """Enable exactly the actions whose needs hold ``now`` (and that change nothing, or the
    project is writable)."""
    for spec in ACTIONS:
        needs = spec.needs | {WRITABLE} if writes(spec) else spec.needs
        actions[spec.id].setEnabled(needs <= now)


def keys_for(spec: ActionSpec, settings: QSettings | None = None) -> tuple[str, ...]:
    """The keys of an action: the user's override from QSettings, else the defaults."""
    settings = settings or QSettings()
    value = settings.value(f"shortcuts/{spec.id}")
    if value is None:
        return spec.keys
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v))
    return tuple(k.strip() for k in str(value).split(";") if k.strip())


def build_actions(
    window: MainWindow,
    settings: QSettings | None = None,
    scopes: dict[str, QWidget] | None = None,
) -> dict[str, QAction]:
    """Create one QAction per spec on ``window`` (or on ``scopes[spec.scope]``, active only
    while that widget has the focus), running ``spec.run(window)``; all start disabled but
    those needing nothing (call :func:`update_enabled`)."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        owner = (scopes or {}).get(spec.scope, window) if spec.scope != "window" else window
        action = QAction(spec.title, owner)
        action.setObjectName(f"action_{spec.id}")
        action.setShortcuts([QKeySequence(k) for k in keys_for(spec, settings)])
        action.setShortcutContext(
            Qt.ShortcutContext.WindowShortcut
            if owner is window
            else Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        action.triggered.connect(lambda _checked=False, run=spec.run: run(window))
        owner.addAction(action)
        actions[spec.id] = action
    update_enabled(actions, frozenset())
    ControlKeys(window)
    return actions


class ControlKeys(QObject):
    """Space on a button, check box or combo box reached by Tab works that control (opens the
    Kinds menu, ticks "per object") instead of the window's Space (next suspect), as everywhere
    else. One focused by a click, a closed menu or the program leaves Space to the review."""

    CONTROLS = (QAbstractButton, QComboBox)
    BY_KEYBOARD = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.by_keyboard: QObject | None = None  # the control Tab focused, while it has focus
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # a FocusIn's reason is only seen on its way

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Note which control Tab focused; claim a plain Space for it before the shortcuts."""
        kind = event.type()
        if (
            kind == QEvent.Type.FocusIn
            and isinstance(watched, QWidget)  # not its QWindow, nor the style
            and isinstance(event, QFocusEvent)
        ):
            self.by_keyboard = (
                watched
                if event.reason() in self.BY_KEYBOARD and isinstance(watched, self.CONTROLS)
                else None
            )
        elif (
            kind == QEvent.Type.ShortcutOverride
            and watched is self.by_keyboard
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            event.accept()  # the control gets the key press; no shortcut fires
            return True
        return False


QUICK_CLASS_KEYS = "1 … 9"
NUDGE_KEYS = ("Left", "Right", "Up", "Down")


def shortcut_table(settings: QSettings | None = None) -> list[tuple[str, str, tuple[str, ...]]]:
    """(group, title, keys) of every action, each group once (in the order groups first appear
    in ACTIONS), the nine quick-class keys as one row and the arrow-key nudges as one row.
    ``settings`` None gives the default keys (for the README); else the user's overrides."""

    def keys(spec: ActionSpec) -> tuple[str, ...]:
        return spec.keys if settings is None else keys_for(spec, settings)

    groups: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    for spec in ACTIONS:
        rows = groups.setdefault(spec.group, [])
        if spec.id.startswith("quick_class_"):
            if spec.id == "quick_class_1":
                rows.append(
                    (
                        spec.group,
                        "Set the label's class to one of the 9 most frequent classes",
                        (QUICK_CLASS_KEYS,),
                    )
                )
        elif spec.id.startswith("nudge_"):
            if spec.id == "nudge_left":
                nudges = [ACTIONS_BY_ID[f"nudge_{n.lower()}"] for n in NUDGE_KEYS]
                rows.append(
                    (
                        spec.group,
                        "Move the selected label by 1 px (with Shift: 10 px)",
                        tuple(k for nudge in nudges for k in keys(nudge)),
                    )
                )
        else:
            rows.append((spec.group, spec.title, keys(spec)))
    return [row for rows in groups.values() for row in rows]


def key_text(key: str) -> str:
    """A key as the platform writes it (Ctrl+Shift+Z, ⌘⇧Z on macOS); the quick-class range as is."""
    if key == QUICK_CLASS_KEYS:
        return key
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) or key


def shortcut_rows(settings: QSettings | None = None) -> list[tuple[str, str, str]]:
    """(group, title, keys as text) for the shortcut sheet (the user's keys)."""
    return [
        (group, title, ", ".join(key_text(k) for k in keys) or "—")
        for group, title, keys in shortcut_table(settings or QSettings())
    ]
