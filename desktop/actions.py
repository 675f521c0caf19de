"""The one table of user actions: id, title, default keys, handler; the shortcut sheet and
QSettings overrides (``shortcuts/<id>``, keys separated by ``;``) both read it.

Most actions work anywhere in the window; ``scope="canvas"`` ones (arrows, Enter, Esc) only
while the canvas has the keyboard focus, so that the table keeps its own arrow keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class ActionSpec:
    """One user action: ``handler`` names a method of the object the actions are bound to."""

    id: str
    title: str
    keys: tuple[str, ...]
    handler: str
    group: str = "Review"
    arg: int | None = None  # passed to the handler when set (e.g. the quick-class number)
    scope: str = "window"  # "window", or "canvas" (only while the canvas has the focus)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("accept", "Accept the fix", ("A",), "accept"),
    ActionSpec(
        "accept_adjust", "Accept the fix, then adjust the label", ("Shift+A",), "accept_adjust"
    ),
    ActionSpec(
        "cycle_fix", "Next form of the fix (stretch / rectangle / move)", ("V",), "cycle_fix"
    ),
    ActionSpec("reject", "Reject (not a label error)", ("R",), "reject"),
    ActionSpec("flag", "Flag for later, with a note", ("F",), "flag"),
    ActionSpec("next", "Next open suspect", ("Space", "J"), "next_open"),
    ActionSpec("previous", "Previous open suspect", ("Shift+Space", "K"), "previous_open"),
    ActionSpec("undo", "Undo", ("Ctrl+Z",), "undo", "Edit"),
    ActionSpec("redo", "Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "redo", "Edit"),
    ActionSpec("history", "History", ("Ctrl+Shift+H",), "toggle_history", "Edit"),
    ActionSpec(
        "change_class", "Change the label's class (or the class to draw)…", ("E",), "change_class"
    ),
    *(
        ActionSpec(
            f"quick_class_{n}",
            f"Set the label's class to frequent class #{n}",
            (str(n),),
            "quick_class",
            arg=n,
        )
        for n in range(1, 10)
    ),
    ActionSpec("box_tool", "Draw a box (drag)", ("W",), "box_tool", "Edit"),
    ActionSpec("polygon_tool", "Draw a polygon (click points)", ("P",), "polygon_tool", "Edit"),
    ActionSpec(
        "close_shape",
        "Close the polygon being drawn",
        ("Return", "Enter"),
        "close_shape",
        "Edit",
        scope="canvas",
    ),
    ActionSpec(
        "escape",
        "Cancel drawing / stop the tool / deselect",
        ("Esc",),
        "escape",
        "Edit",
        scope="canvas",
    ),
    ActionSpec("delete_label", "Delete the selected label", ("Delete",), "delete_label", "Edit"),
    ActionSpec(
        "remove_vertex", "Remove the selected vertex", ("Backspace",), "remove_vertex", "Edit"
    ),
    ActionSpec("duplicate", "Duplicate the selected label", ("Ctrl+D",), "duplicate", "Edit"),
    ActionSpec(
        "convert_polygon",
        "Convert the selected mask to a polygon",
        ("Ctrl+Shift+P",),
        "convert_to_polygon",
        "Edit",
    ),
    *(
        ActionSpec(
            f"nudge_{name}{'_far' if step > 1 else ''}",
            f"Move the selected label {name} by {step} px",
            (f"{'Shift+' if step > 1 else ''}{name.capitalize()}",),
            f"nudge_{name}",
            "Edit",
            arg=step,
            scope="canvas",
        )
        for step in (1, 10)
        for name in ("left", "right", "up", "down")
    ),
    ActionSpec("zoom_in", "Zoom in", ("Ctrl+=", "Ctrl++"), "zoom_in", "View"),
    ActionSpec("zoom_out", "Zoom out", ("Ctrl+-",), "zoom_out", "View"),
    ActionSpec("fit", "Fit the image", ("Ctrl+0",), "fit", "View"),
    ActionSpec(
        "zoom_suspect",
        "Zoom to the suspect's object (again: back to its context)",
        ("Z",),
        "zoom_to_suspect",
        "View",
    ),
    ActionSpec(
        "toggle_predictions",
        "Show / hide predictions (the suspect's own stays)",
        ("H",),
        "toggle_predictions",
        "View",
    ),
    ActionSpec(
        "toggle_other_predictions",
        "Other predictions: faint / drawn with their tags",
        ("O",),
        "toggle_other_predictions",
        "View",
    ),
    ActionSpec("toggle_labels", "Show / hide labels", ("L",), "toggle_labels", "View"),
    ActionSpec("new_project", "New project from COCO…", ("Ctrl+N",), "new_project", "File"),
    ActionSpec("open_project", "Open project…", ("Ctrl+O",), "open_project", "File"),
    ActionSpec("open_demo", "Open the demo project", (), "open_demo", "File"),
    ActionSpec("export", "Export COCO…", ("Ctrl+Shift+E",), "export", "File"),
    ActionSpec("export_changes", "Export change log…", (), "export_change_log", "File"),
    ActionSpec("close_project", "Close project", ("Ctrl+W",), "request_close_project", "File"),
    ActionSpec("analyze", "Analyse with thresholds…", ("Ctrl+Shift+R",), "analyze", "Analyse"),
    ActionSpec("shortcuts", "Keyboard shortcuts", ("?",), "show_shortcuts", "Help"),
)

SPECS = {a.id: a for a in ACTIONS}
ACTIONS_BY_ID = SPECS


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
    parent: QWidget,
    target: object,
    settings: QSettings | None = None,
    scopes: dict[str, QWidget] | None = None,
) -> dict[str, QAction]:
    """Create one QAction per spec on ``parent`` (or on ``scopes[spec.scope]``, active only while
    that widget has the focus), triggering ``target.<handler>()``."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        owner = (scopes or {}).get(spec.scope, parent) if spec.scope != "window" else parent
        action = QAction(spec.title, owner)
        action.setObjectName(f"action_{spec.id}")
        action.setShortcuts([QKeySequence(k) for k in keys_for(spec, settings)])
        action.setShortcutContext(
            Qt.ShortcutContext.WindowShortcut
            if owner is parent
            else Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        handler: Callable[[], object] = getattr(target, spec.handler)
        if spec.arg is None:
            action.triggered.connect(lambda _checked=False, h=handler: h())
        else:
            action.triggered.connect(lambda _checked=False, h=handler, a=spec.arg: h(a))
        owner.addAction(action)
        actions[spec.id] = action
    return actions


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
            if spec.arg == 1:
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
