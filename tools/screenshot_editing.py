"""Render docs/editing.png: the review window with a polygon label selected for editing (its
vertex handles visible, one vertex selected, the History dock open).

Run under a real X server:  xvfb-run -a -s "-screen 0 1920x1080x24" python tools/screenshot_editing.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]


def main(out: Path) -> int:
    """Open the demo project, select a polygon, grab the window."""
    os.environ.setdefault("LABELFIX_DATA_DIR", tempfile.mkdtemp(prefix="labelfix-shot-"))
    app = QApplication.instance() or QApplication(sys.argv)
    app.setOrganizationName("LabelFixScreenshot")
    from labelfix.core import editing as ed
    from labelfix.desktop.demo import ensure_demo_project
    from labelfix.desktop.main_window import MainWindow

    window = MainWindow()
    window.resize(1632, 918)  # a first start on a 1920x1080 screen (85%)
    if not window.open_path(ensure_demo_project()):
        print("cannot open the demo project", file=sys.stderr)
        return 1
    window.show()
    QTest.qWaitForWindowExposed(window)
    s, canvas = window.session, window.canvas
    candidates = [
        a
        for a in s.store.iter_annotations()
        if isinstance(a.get("segmentation"), list)
        and len(a["segmentation"]) == 1
        and 24 <= len(a["segmentation"][0]) <= 90
        and a["bbox"][2] * a["bbox"][3] > 12_000
    ]
    ann = max(candidates, key=lambda a: a["area"])
    s.show_label(ann["image_id"], ann["id"])
    for _ in range(200):
        QTest.qWait(25)
        if canvas.editor is not None and canvas.shown_image_id == ann["image_id"]:
            break
    x, y, w, h = ann["bbox"]
    canvas.fitInView(QRectF(x - 40, y - 40, w + 80, h + 80), Qt.AspectRatioMode.KeepAspectRatio)
    # pull one vertex outward (a real drag, released: one command in the History)
    vx, vy = ed.polygon_points(ann["segmentation"])[0][0]
    p0 = canvas.mapFromScene(QPointF(vx, vy))
    QTest.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=p0)
    for k in range(1, 6):
        QTest.mouseMove(canvas.viewport(), p0 + QPoint(-6 * k, -4 * k))
    QTest.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=p0 + QPoint(-30, -20))
    QTest.qWait(300)
    window.history_dock.show()
    canvas.setFocus()
    QTest.qWait(400)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(out))
    print(f"wrote {out}" if ok else f"could not write {out}", file=sys.stderr)
    window.ask_on_close = False
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "editing.png"))
