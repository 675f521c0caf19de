"""Editing labels on the canvas with real mouse and key events: drag a box corner and a polygon
vertex, add and remove vertices, draw a box and a polygon, nudge with the arrows, convert a crowd
mask; each is one undo command; undo all returns the original COCO, redo all the edited one."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtTest import QTest

from labelfix.core import editing as ed
from labelfix.core.export import coco_dataset
from labelfix.desktop.main_window import MainWindow

LEFT = Qt.MouseButton.LeftButton
NO = Qt.KeyboardModifier.NoModifier
ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(open_window: Callable[..., MainWindow], demo_project: Path) -> MainWindow:
    """The main window with the demo project open, shown and active."""
    win = open_window(demo_project, size=(1300, 900))
    return win


def polygon_label(win: MainWindow) -> dict:
    """A large non-crowd polygon label (not a box) that no other label's box touches (so a
    press on its body reaches it), on the current suspect's image, or any image."""
    s = win.session
    images = [s.current()["image_id"]] + [im["id"] for im in s.store.images()]

    def touches(a: dict, b: dict) -> bool:
        (ax, ay, aw, ah), (bx, by, bw, bh) = a["bbox"], b["bbox"]
        return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah

    for image_id in images:
        everyone = s.store.annotations_for_image(image_id)
        anns = [
            a
            for a in everyone
            if not any(touches(a, b) for b in everyone if b["id"] != a["id"])
            and isinstance(a.get("segmentation"), list)
            and len(a["segmentation"]) == 1
            and len(a["segmentation"][0]) >= 16
            and not ed.is_box_polygon(a["segmentation"])
            and a["bbox"][2] > 40
            and a["bbox"][3] > 40
        ]
        if anns:
            return max(anns, key=lambda a: a["area"])
    raise AssertionError("the demo has no polygon label to edit")


def show(qtbot: object, win: MainWindow, ann: dict) -> None:
    """Show a label's image with the label selected, zoomed so its handles are apart."""
    win.session.show_label(ann["image_id"], ann["id"])
    canvas = win.canvas
    qtbot.waitUntil(
        lambda: canvas.editor is not None and canvas.editor.annotation_id == ann["id"],
        timeout=10_000,
    )
    x, y, w, h = ann["bbox"]
    canvas.fitInView(QRectF(x - 15, y - 15, w + 30, h + 30), Qt.AspectRatioMode.KeepAspectRatio)


def vp(win: MainWindow, x: float, y: float) -> QPoint:
    """Viewport position of a scene (image) point."""
    return win.canvas.mapFromScene(QPointF(x, y))


def scene(win: MainWindow, p: QPoint) -> QPointF:
    """The scene point the view uses for a viewport position."""
    return win.canvas.mapToScene(p)


def drag(win: MainWindow, p0: QPoint, p1: QPoint, mod: Qt.KeyboardModifier = NO) -> None:
    """Press, move in steps and release the left button on the canvas viewport."""
    viewport = win.canvas.viewport()
    QTest.mousePress(viewport, LEFT, mod, p0)
    for k in range(1, 5):
        QTest.mouseMove(viewport, p0 + (p1 - p0) * (k / 4))
    QTest.mouseRelease(viewport, LEFT, mod, p1)


def body_point(win: MainWindow, seg: list[list[float]]) -> QPoint:
    """A viewport point inside the polygon, well away from its edges (a body press)."""
    x0, y0, x1, y1 = ed.polygon_bounds(seg)
    scale = win.canvas.transform().m11()
    best = None
    for i in range(1, 20):
        for j in range(1, 20):
            x, y = x0 + (x1 - x0) * i / 20, y0 + (y1 - y0) * j / 20
            edge = ed.nearest_edge(seg, x, y)
            inside = win.canvas.editor._path().contains(QPointF(x, y))
            if inside and (best is None or edge[2] > best[0]):
                best = (edge[2], x, y)
    assert best is not None and best[0] * scale > 15
    return vp(win, best[1], best[2])


def wait_editor(qtbot: object, win: MainWindow, ann_id: int) -> None:
    """Wait until the canvas shows the handles of this label (after a refresh)."""
    qtbot.waitUntil(
        lambda: (
            win.canvas.editor is not None
            and win.canvas.editor.annotation_id == ann_id
            and not win.canvas._refresh_timer.isActive()
        ),
        timeout=10_000,
    )


def test_edit_by_mouse_and_keys_each_one_command_undo_redo_all(
    qtbot: object, window: MainWindow
) -> None:
    s, canvas = window.session, window.canvas
    store = s.store
    original = coco_dataset(store)
    ann = polygon_label(window)
    show(qtbot, window, ann)
    editor = canvas.editor
    assert editor.mode == "polygon" and len(editor.handles) == len(ann["segmentation"][0]) // 2
    n = s.undo_stack.count()

    # 1. drag a polygon vertex
    vx, vy = ed.polygon_points(ann["segmentation"])[0][0]
    p0 = vp(window, vx, vy)
    p1 = p0 + QPoint(25, 18)
    drag(window, p0, p1)
    assert s.undo_stack.count() == n + 1
    d = scene(window, p1) - scene(window, p0)
    got = store.annotation(ann["id"])
    image = store.image(ann["image_id"])
    want = ed.clamp_point(vx + d.x(), vy + d.y(), image["height"], image["width"])
    assert got["segmentation"][0][:2] == pytest.approx(list(want), abs=0.005)
    assert all(v == round(v, 2) for v in got["segmentation"][0])  # written at 2 decimals
    x0, y0, x1, y1 = ed.polygon_bounds(got["segmentation"])
    assert got["bbox"] == pytest.approx([x0, y0, x1 - x0, y1 - y0])  # bbox follows the polygon
    wait_editor(qtbot, window, ann["id"])

    # 2. Alt+click on the middle of the longest edge adds a vertex
    seg = got["segmentation"]
    pts = ed.polygon_points(seg)[0]
    i = max(range(len(pts)), key=lambda k: math.dist(pts[k], pts[(k + 1) % len(pts)]))
    (ax, ay), (bx, by) = pts[i], pts[(i + 1) % len(pts)]
    mid = vp(window, (ax + bx) / 2, (ay + by) / 2)
    QTest.mouseClick(canvas.viewport(), LEFT, ALT, mid)
    assert s.undo_stack.count() == n + 2
    seg2 = store.annotation(ann["id"])["segmentation"]
    assert len(seg2[0]) == len(seg[0]) + 2
    wait_editor(qtbot, window, ann["id"])

    # 3. Alt+Shift+click on that new vertex removes it
    nx, ny = ed.polygon_points(seg2)[0][i + 1]
    QTest.mouseClick(canvas.viewport(), LEFT, ALT | SHIFT, vp(window, nx, ny))
    assert s.undo_stack.count() == n + 3
    assert store.annotation(ann["id"])["segmentation"] == seg
    wait_editor(qtbot, window, ann["id"])

    # 4. a double-click on an edge adds a vertex; a click selects a vertex, Backspace removes it
    QTest.mouseDClick(canvas.viewport(), LEFT, NO, mid)
    assert s.undo_stack.count() == n + 4
    seg4 = store.annotation(ann["id"])["segmentation"]
    assert len(seg4[0]) == len(seg[0]) + 2
    wait_editor(qtbot, window, ann["id"])
    nx, ny = ed.polygon_points(seg4)[0][i + 1]
    QTest.mouseClick(canvas.viewport(), LEFT, NO, vp(window, nx, ny))
    assert canvas.editor.selected_vertex == (0, i + 1)
    assert s.undo_stack.count() == n + 4  # a click is no edit
    QTest.keyClick(window, Qt.Key.Key_Backspace)
    assert s.undo_stack.count() == n + 5
    assert store.annotation(ann["id"])["segmentation"] == seg
    wait_editor(qtbot, window, ann["id"])

    # 5. drag the body moves the whole polygon
    b0 = body_point(window, seg)
    drag(window, b0, b0 + QPoint(-20, 12))
    assert s.undo_stack.count() == n + 6
    moved = store.annotation(ann["id"])["segmentation"]
    assert len(moved[0]) == len(seg[0]) and moved != seg
    wait_editor(qtbot, window, ann["id"])

    # 6. arrows nudge by 1 px, Shift+arrows by 10; the burst is one command
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    before = store.annotation(ann["id"])["bbox"]
    want = list(before)
    for key, mod, dx, dy in [
        (Qt.Key.Key_Right, NO, 1, 0),
        (Qt.Key.Key_Right, NO, 1, 0),
        (Qt.Key.Key_Up, SHIFT, 0, -10),
        (Qt.Key.Key_Left, NO, -1, 0),
    ]:
        QTest.keyClick(canvas, key, mod)
        want = ed.move_box(want, dx, dy, image["height"], image["width"])  # limited at the border
    assert store.annotation(ann["id"])["bbox"] == before  # on screen only, until the burst ends
    qtbot.waitUntil(lambda: s.labels.burst is None, timeout=5_000)  # a moment without nudges
    assert s.undo_stack.count() == n + 7
    assert store.annotation(ann["id"])["bbox"] == pytest.approx(want)
    assert want != before
    assert s.edits_since_export() == 7

    # 7. W draws a box of the current class; it is selected: drag its corner
    image_id = ann["image_id"]
    QTest.keyClick(window, Qt.Key.Key_W)
    assert canvas.tool_name == "box"
    x, y, w, h = ann["bbox"]
    c0, c1 = vp(window, x + 2, y + 2), vp(window, x + w * 0.5, y + h * 0.4)
    labels = len(store.annotations_for_image(image_id))
    drag(window, c0, c1)
    assert s.undo_stack.count() == n + 8
    assert len(store.annotations_for_image(image_id)) == labels + 1
    box_id = s.selected_label
    new_box = store.annotation(box_id)
    assert new_box["category_id"] == s.labels.current_draw_category()
    a, b = scene(window, c0), scene(window, c1)
    assert new_box["bbox"] == pytest.approx(
        [a.x(), a.y(), b.x() - a.x(), b.y() - a.y()], abs=0.011
    )  # 2 decimals
    wait_editor(qtbot, window, box_id)
    assert canvas.editor.mode == "box" and len(canvas.editor.handles) == 8
    se = vp(
        window, new_box["bbox"][0] + new_box["bbox"][2], new_box["bbox"][1] + new_box["bbox"][3]
    )
    drag(window, se, se + QPoint(30, 20))
    assert s.undo_stack.count() == n + 9
    d = scene(window, se + QPoint(30, 20)) - scene(window, se)
    bx0, by0, bw, bh = new_box["bbox"]
    assert store.annotation(box_id)["bbox"] == pytest.approx(
        [bx0, by0, bw + d.x(), bh + d.y()], abs=0.011
    )
    wait_editor(qtbot, window, box_id)

    # 8. P draws a polygon: click points, then click the first point to close
    QTest.keyClick(window, Qt.Key.Key_P)
    assert canvas.tool_name == "polygon"
    corners = [
        (x + w * 0.6, y + h * 0.6),
        (x + w * 0.9, y + h * 0.62),
        (x + w * 0.75, y + h * 0.95),
    ]
    for cx, cy in corners:
        QTest.mouseClick(canvas.viewport(), LEFT, NO, vp(window, cx, cy))
    assert s.undo_stack.count() == n + 9  # not closed yet
    QTest.mouseClick(canvas.viewport(), LEFT, NO, vp(window, *corners[0]))
    assert s.undo_stack.count() == n + 10
    poly_id = s.selected_label
    poly = store.annotation(poly_id)["segmentation"]
    assert len(poly) == 1 and len(poly[0]) == 6
    want = [v for cx, cy in corners for v in (scene(window, vp(window, cx, cy)).x(),
                                              scene(window, vp(window, cx, cy)).y())]  # fmt: skip
    assert poly[0] == pytest.approx(want, abs=0.011)
    wait_editor(qtbot, window, poly_id)

    # 9. a quick class key changes the class; Ctrl+D duplicates; Delete removes
    quick = s.labels.quick_classes()
    QTest.keyClick(window, Qt.Key.Key_2)
    assert store.annotation(poly_id)["category_id"] == quick[1][0]
    assert s.undo_stack.count() == n + 11
    QTest.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert s.undo_stack.count() == n + 12
    copy_id = s.selected_label
    assert copy_id not in (poly_id, None)
    copy = store.annotation(copy_id)
    assert copy["segmentation"][0][0] == pytest.approx(poly[0][0] + 8)
    wait_editor(qtbot, window, copy_id)
    QTest.keyClick(window, Qt.Key.Key_Delete)
    assert store.annotation(copy_id) is None
    assert s.undo_stack.count() == n + 13

    # undo everything: the original dataset; redo everything: the edited one
    edited = coco_dataset(store)
    for _ in range(s.undo_stack.count()):
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert coco_dataset(store) == original
    assert s.edits_since_export() == 0
    for _ in range(s.undo_stack.count()):
        QTest.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert coco_dataset(store) == edited
    assert s.edits_since_export() == 13


def test_enter_closes_polygon_esc_cancels_and_tiny_drags_add_nothing(
    qtbot: object, window: MainWindow
) -> None:
    s, canvas = window.session, window.canvas
    ann = polygon_label(window)
    show(qtbot, window, ann)
    n = s.undo_stack.count()
    x, y, w, h = ann["bbox"]
    QTest.keyClick(window, Qt.Key.Key_P)
    for cx, cy in [(x + 5, y + 5), (x + w / 2, y + 8), (x + 10, y + h / 2)]:
        QTest.mouseClick(canvas.viewport(), LEFT, NO, vp(window, cx, cy))
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    QTest.keyClick(canvas, Qt.Key.Key_Escape)  # cancels the points, keeps the tool
    assert s.undo_stack.count() == n and canvas.tool_name == "polygon"
    for cx, cy in [(x + 5, y + 5), (x + w / 2, y + 8), (x + 10, y + h / 2)]:
        QTest.mouseClick(canvas.viewport(), LEFT, NO, vp(window, cx, cy))
    QTest.keyClick(canvas, Qt.Key.Key_Return)
    assert s.undo_stack.count() == n + 1 and canvas.tool_name == ""
    QTest.keyClick(window, Qt.Key.Key_W)
    p = vp(window, x + 20, y + 20)
    drag(window, p, p + QPoint(1, 1))  # a click, not a box
    assert s.undo_stack.count() == n + 1
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.tool_name == ""


def test_crowd_mask_read_only_until_converted(qtbot: object, window: MainWindow) -> None:
    s, canvas = window.session, window.canvas
    crowd = next(a for a in s.store.iter_annotations() if isinstance(a["segmentation"], dict))
    show(qtbot, window, crowd)
    assert canvas.editor.readonly and canvas.editor.handles == []
    n = s.undo_stack.count()
    assert not canvas.nudge(1, 0)
    x, y, w, h = crowd["bbox"]
    drag(window, vp(window, x + w / 2, y + h / 2), vp(window, x + w / 2 + 30, y + h / 2))
    assert s.undo_stack.count() == n
    assert s.store.annotation(crowd["id"])["bbox"] == crowd["bbox"]
    QTest.keyClick(
        window,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert s.undo_stack.count() == n + 1
    converted = s.store.annotation(crowd["id"])
    assert isinstance(converted["segmentation"], list) and converted["segmentation"]
    wait_editor(qtbot, window, crowd["id"])
    assert canvas.editor.mode == "polygon" and not canvas.editor.readonly
    s.undo()
    assert s.store.annotation(crowd["id"])["segmentation"] == crowd["segmentation"]


def test_accept_then_adjust_selects_the_new_label(qtbot: object, window: MainWindow) -> None:
    s, canvas = window.session, window.canvas
    rows = [r for r in range(s.row_count()) if s.suspect_at(r)["kind"] == "missing_label"]
    assert rows
    s.select_row(rows[0])
    suspect = s.current()
    labels = s.store.counts()["labels"]
    QTest.keyClick(window, Qt.Key.Key_A, SHIFT)
    assert s.store.counts()["labels"] == labels + 1
    new_id = s.selected_label
    assert new_id is not None and s.store.annotation(new_id)["image_id"] == suspect["image_id"]
    assert s.shown_image_id() == suspect["image_id"]
    wait_editor(qtbot, window, new_id)
    assert canvas.image_id == suspect["image_id"]
    qtbot.waitUntil(canvas.hasFocus)
    before = s.store.annotation(new_id)["bbox"]
    QTest.keyClick(canvas, Qt.Key.Key_Left, SHIFT)
    nxt = s.current()
    QTest.keyClick(window, Qt.Key.Key_Space)  # back to the next suspect (already selected)
    assert s.current()["key"] == nxt["key"] and s.view_image_id is None
    # moving on wrote the nudge first
    assert s.store.annotation(new_id)["bbox"][0] == pytest.approx(max(before[0] - 10, 0.0))
