"""Pixel snapshots of the canvas (see snapshots.py): tags around boxes that share a corner, a
suspect framed at the image's corner, faint and tagged other predictions, a fix's ghost, a
missing image. A small synthetic project (drawn image, fixed labels and predictions) at a fixed
view size; regenerate with LABELFIX_UPDATE_SNAPSHOTS=1 and look at the PNGs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFrame

from labelfix.core.store import Store
from labelfix.desktop import jobs
from labelfix.desktop.canvas.view import CanvasView
from labelfix.desktop.session import Session

from snapshot_compare import SNAPSHOTS, compare, from_array, grab, to_array, use_test_font

VIEW = (480, 360)
CATEGORIES = {1: "person", 16: "bird", 47: "cup", 51: "bowl", 81: "sink", 84: "book"}
LABELS = [  # id, class, polygon (None: a box), box
    (1, 51, [73, 207, 90, 195, 140, 193, 166, 200, 160, 215, 120, 221, 85, 218], None),
    (2, 81, [76, 195, 100, 197, 161, 196, 150, 206, 80, 206], None),
    (3, 47, None, [34, 250, 22, 27]),
    (4, 47, None, [55, 248, 21, 25]),
    (5, 84, [300, 40, 326, 40, 334, 50, 334, 120, 300, 120], None),
    (6, 16, None, [8, 10, 30, 20]),
]
PREDICTIONS = [  # class, box, score (ids are 1-based positions, as loadRes numbers them)
    (81, [74, 190, 89, 25], 0.9),  # 1: a sink on the bowl label: wrong_class
    (47, [35, 251, 21, 26], 0.8),
    (47, [56, 249, 20, 24], 0.75),
    (84, [312, 70, 15, 78], 0.85),  # 4: a narrower, lower book: inaccurate_label
    (16, [9, 11, 29, 19], 0.9),
    (1, [200, 60, 50, 120], 0.9),  # 6: a person nobody labelled: missing_label
    (47, [150, 100, 60, 40], 0.5),
    (51, [250, 200, 40, 40], 0.45),
    (16, [372, 272, 25, 25], 0.88),  # 9: a bird in the image's corner: missing_label
]


def _box(polygon: list[float]) -> list[float]:
    xs, ys = polygon[0::2], polygon[1::2]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _image() -> Image.Image:
    """A 400x300 picture: a soft gradient, a dark shelf, a few coloured blobs (deterministic)."""
    y, x = np.mgrid[0:300, 0:400]
    rgb = np.stack([150 + x * 60 // 400, 160 + y * 50 // 300, 175 + 0 * x], axis=-1)
    rgb[225:240, :] = (40, 40, 45)
    rgb[((x - 120) ** 2 / 2600 + (y - 207) ** 2 / 150) < 1] = (235, 225, 215)
    rgb[((x - 225) ** 2 / 600 + (y - 120) ** 2 / 3000) < 1] = (180, 120, 100)
    rgb[40:120, 300:334] = (70, 90, 160)
    return Image.fromarray(rgb.astype(np.uint8))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic project, imported and analysed once."""
    root = tmp_path_factory.mktemp("snap")
    (root / "images").mkdir()
    _image().save(root / "images" / "scene.png")
    anns = []
    for ann_id, cat, polygon, box in LABELS:
        bbox = box or _box(polygon)
        ann = {"id": ann_id, "image_id": 1, "category_id": cat, "bbox": bbox, "iscrowd": 0,
               "area": bbox[2] * bbox[3]}  # fmt: skip
        if polygon:
            ann["segmentation"] = [polygon]
        anns.append(ann)
    labels = {
        "images": [{"id": 1, "file_name": "scene.png", "width": 400, "height": 300}],
        "categories": [{"id": k, "name": v} for k, v in CATEGORIES.items()],
        "annotations": anns,
    }
    preds = [{"image_id": 1, "category_id": c, "bbox": b, "score": s} for c, b, s in PREDICTIONS]
    (root / "labels.json").write_text(json.dumps(labels))
    (root / "predictions.json").write_text(json.dumps(preds))
    out = root / "snap.labelfix"
    jobs.import_and_analyze(root / "labels.json", root / "images", root / "predictions.json", out)
    with Store.open(out) as store, store.atomic():  # copies of it find the image too
        store.set_meta("images_root", str(root / "images"))
    return out


@pytest.fixture
def font(qapp: object) -> Iterator[None]:
    """The bundled test font for the test's duration."""
    previous = use_test_font()
    yield
    QApplication.setFont(previous)


def canvas_on(qtbot: object, path: Path, key: str, images_root: Path | None = None) -> CanvasView:
    """A canvas of VIEW's size showing the suspect ``key`` of a copy of the project."""
    with Store.open(path) as store, store.atomic():
        state = {"filter": {"min_confidence": 0.0, "statuses": None}, "selected": key}
        store.set_meta("ui_state", state)
        if images_root is not None:
            store.set_meta("images_root", str(images_root))
    session = Session.open(path)
    assert session.current()["key"] == key
    view = CanvasView()
    view.setFrameShape(QFrame.Shape.NoFrame)
    qtbot.addWidget(view)
    view.resize(*VIEW)
    view.show()
    with qtbot.waitSignal(view.imageShown, timeout=10_000):
        view.attach(session)
    assert (view.viewport().width(), view.viewport().height()) == VIEW
    qtbot.wait(20)
    return view


def shoot(qtbot: object, view: CanvasView, name: str, tmp_path: Path) -> None:
    """Compare the view with its snapshot, then close it."""
    view.viewport().update()
    qtbot.wait(20)
    compare(grab(view.viewport()), name, tmp_path)
    session = view.session
    view.attach(None)
    session.close()


@pytest.fixture
def copy(project: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic project."""
    out = tmp_path / "snap.labelfix"
    out.write_bytes(project.read_bytes())
    return out


def test_tags_of_the_bowl_and_the_sink(
    qtbot: object, font: None, copy: Path, tmp_path: Path
) -> None:
    view = canvas_on(qtbot, copy, "wrong_class:1:1")
    shoot(qtbot, view, "tags_wrong_class", tmp_path)


def test_a_suspect_in_the_image_corner(
    qtbot: object, font: None, copy: Path, tmp_path: Path
) -> None:
    view = canvas_on(qtbot, copy, "missing_label::9")
    shoot(qtbot, view, "frame_at_corner", tmp_path)


def test_faint_predictions_then_with_tags(
    qtbot: object, font: None, copy: Path, tmp_path: Path
) -> None:
    view = canvas_on(qtbot, copy, "missing_label::6")
    view.fit()
    compare(grab(view.viewport()), "faint_predictions", tmp_path)
    view.toggle_other_predictions()
    shoot(qtbot, view, "other_predictions_with_tags", tmp_path)


def test_the_ghost_of_a_moved_polygon(
    qtbot: object, font: None, copy: Path, tmp_path: Path
) -> None:
    view = canvas_on(qtbot, copy, "inaccurate_label:5:4")
    view.session.fix_choice.cycle()
    view.session.fix_choice.cycle()
    assert view.session.fix_choice.variant == "move"
    shoot(qtbot, view, "fix_form_move", tmp_path)


def test_the_comparison_tolerates_noise_but_not_a_moved_tag(tmp_path: Path) -> None:
    reference = QImage(str(SNAPSHOTS / "tags_wrong_class.png"))
    pixels = to_array(reference).astype(np.int16)
    rng = np.random.default_rng(0)
    noisy = np.clip(pixels + rng.integers(-25, 26, pixels.shape), 0, 255).astype(np.uint8)
    compare(from_array(noisy), "tags_wrong_class", tmp_path)  # antialiasing-sized noise
    moved = pixels.astype(np.uint8).copy()
    moved[40:56, 40:100] = (255, 43, 214)  # a prediction tag where there was none
    with pytest.raises(AssertionError, match="of the pixels differ"):
        compare(from_array(moved), "tags_wrong_class", tmp_path)


def test_a_missing_image(qtbot: object, font: None, copy: Path, tmp_path: Path) -> None:
    empty = tmp_path / "nothing here"
    empty.mkdir()
    view = canvas_on(qtbot, copy, "missing_label::9", images_root=empty)
    assert view.review_scene.message is not None
    shoot(qtbot, view, "missing_image", tmp_path)


def test_the_triage_grid(qtbot: object, font: None, copy: Path, tmp_path: Path) -> None:
    """Every suspect of the synthetic project as a crop: label and prediction drawn, kind and
    score under it, a flagged one badged, two selected, the current one framed. Listed in
    suspect-id order, so a change of the scores moves only their digits."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from labelfix.desktop.grid.view import TriageGrid

    with Store.open(copy) as store, store.atomic():
        state = {"filter": {"min_confidence": 0.0, "statuses": None, "per_object": False}}
        store.set_meta("ui_state", {**state, "sort": {"key": "id", "descending": False}})
    session = Session.open(copy)
    session.select_row(1)
    session.decide("flagged", "look again")
    session.select_row(0)
    grid = TriageGrid(disk_cache=False)
    grid.setFrameShape(QFrame.Shape.NoFrame)
    grid.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    qtbot.addWidget(grid)
    grid.resize(4 * grid.cell.width(), 2 * grid.cell.height())
    grid.show()
    grid.attach(session)
    try:
        QTest.keyClick(grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
        keys = [session.index.key(int(session.positions[r])) for r in grid.visible_rows()]
        assert len(keys) == session.row_count() == 7
        qtbot.waitUntil(lambda: all(grid.cache.get(k) is not None for k in keys), timeout=30_000)
        grid.viewport().update()
        qtbot.wait(20)
        compare(grab(grid.viewport()), "triage_grid", tmp_path)
    finally:
        grid.attach(None)
        session.close()
