"""How long the canvas takes to paint a small suspect at 1x..64x, smooth or as pixel blocks.

    python bench/bench_canvas_zoom.py [--size 1400x900] [--repeats 25]

coco_real81 (../shared/data) is imported and analysed into a temporary project; the suspect
with the smallest boxes is shown in the real MainWindow (offscreen), centred at each zoom, and
the canvas's viewport is repainted ``--repeats`` times per setting: the image drawn smoothly,
as pixel blocks (nearest-neighbour), and as shipped (blocks from PIXELATED_FROM on), first with
the labels, predictions and tags, then the image alone. Median milliseconds per repaint.

This is a benchmark, not a test. Times are wall clock on a shared machine: run it twice.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

REAL81 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco_real81"
SCALES = (1.0, 6.0, 16.0, 48.0, 64.0)


def smallest_row(session: object) -> int:
    """The row of the suspect whose largest box side is the smallest."""
    best, row = float("inf"), 0
    for r in range(session.row_count()):
        suspect = session.suspect_at(r)
        if suspect["annotation_id"] is None:
            continue
        box = session.store.annotation(suspect["annotation_id"])["bbox"]
        if max(box[2], box[3]) < best:
            best, row = max(box[2], box[3]), r
    return row


def paint_ms(canvas: object, repeats: int) -> dict[str, float]:
    """Median repaint time per image drawing: smooth, blocks, as shipped."""
    out = {}
    for mode in ("smooth", "blocks", "shipped"):
        if mode == "shipped":
            canvas.update_pixelated()
        else:
            canvas.review_scene.set_pixelated(mode == "blocks")
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            canvas.viewport().repaint()
            times.append((time.perf_counter() - start) * 1000)
        out[mode] = statistics.median(times)
    return out


def main() -> None:
    """Build the project, show its smallest suspect, print the paint times."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1400x900")
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    app = QApplication([])
    from labelfix.desktop import jobs
    from labelfix.desktop.app import _wait_until_shown
    from labelfix.desktop.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp())
    project = tmp / "real81.labelfix"
    jobs.import_and_analyze(
        REAL81 / "annotations" / "instances_real81.json",
        REAL81 / "images",
        REAL81 / "predictions" / "centernet_bbox_results.json",
        project,
    )
    window = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(*(int(v) for v in args.size.split("x")))
    window.open_path(project)
    window.session.select_row(smallest_row(window.session))
    window.show()
    _wait_until_shown(window)
    canvas = window.canvas
    image = window.session.store.image(canvas.image_id)
    print(f"{image['file_name']} ({image['width']}x{image['height']}), canvas "
          f"{canvas.viewport().width()}x{canvas.viewport().height()}")  # fmt: skip
    scene = canvas.review_scene
    overlay = (scene.labels_layer, scene.predictions_layer, scene.suspect_layer,
               scene.ghost_layer, scene.label_tags.parentItem())  # fmt: skip
    for what in ("with labels, predictions, tags", "image only"):
        print(f"\n{what}: median ms per repaint (smooth / blocks / as shipped)")
        for scale in SCALES:
            centre = scene.focus_rect.center()
            canvas.resetTransform()
            canvas.scale(scale, scale)
            canvas.centerOn(centre)
            app.processEvents()
            ms = paint_ms(canvas, args.repeats)
            print(f"{scale:5g}x  {ms['smooth']:6.1f} {ms['blocks']:6.1f} {ms['shipped']:6.1f}")
        for layer in overlay:
            layer.setVisible(False)
    window.close()


if __name__ == "__main__":
    main()
