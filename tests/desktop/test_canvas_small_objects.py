"""A suspect on a small object is readable on the canvas: framing and Z zoom in far enough for a
12 px object to fill its share of the view (the 6x / 16x caps left it 72 / 192 px), and from
PIXELATED_FROM on the image is drawn as crisp pixel blocks, not a smooth smear; the triage
grid's crop of it too. A 200x150
picture of one-pixel detail with a 12x15 label and a looser prediction on it, at a fixed view
size; regenerate the snapshot with LABELFIX_UPDATE_SNAPSHOTS=1 and look at the PNG."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_canvas_snapshots import VIEW, canvas_on

from labelfix.core.crops import crop_region
from labelfix.core.store import Store
from labelfix.desktop import jobs
from labelfix.desktop.canvas.framing import CONTEXT_FILL, OBJECT_FILL
from labelfix.desktop.canvas.view import CanvasView
from labelfix.desktop.canvas.view_zoom import MAX_SCALE, MIN_SCALE, PIXELATED_FROM
from labelfix.desktop.grid import render
from labelfix.desktop.grid.render import CROP_SIZE, CropJob, CropSource, CropSpec, render_crop

from snapshot_compare import compare, grab, to_array, use_test_font

ORANGE = [90, 60, 12, 15]  # the label: x, y, w, h
LOOSE = [93, 62, 9, 11]  # the prediction inside it (IoU 0.55): an inaccurate label
KEY = "inaccurate_label:1:1"


def _picture() -> Image.Image:
    """Seeded noise (every pixel differs from its neighbours) with an orange blob on it."""
    rng = np.random.default_rng(7)
    rgb = rng.integers(50, 200, (150, 200, 3))
    x, y, w, h = ORANGE
    rgb[y : y + h, x : x + w] = np.clip((235, 140, 30) + rng.integers(-25, 25, (h, w, 3)), 0, 255)
    return Image.fromarray(rgb.astype(np.uint8))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, imported and analysed once."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "images").mkdir()
    _picture().save(root / "images" / "fruit.png")
    labels = {
        "images": [{"id": 1, "file_name": "fruit.png", "width": 200, "height": 150}],
        "categories": [{"id": 55, "name": "orange"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 55, "bbox": ORANGE, "area": 180, "iscrowd": 0}
        ],
    }
    preds = [{"image_id": 1, "category_id": 55, "bbox": LOOSE, "score": 0.9}]
    (root / "labels.json").write_text(json.dumps(labels))
    (root / "predictions.json").write_text(json.dumps(preds))
    out = root / "tiny.labelfix"
    jobs.import_and_analyze(root / "labels.json", root / "images", root / "predictions.json", out)
    with Store.open(out) as store, store.atomic():  # copies of it find the image too
        store.set_meta("images_root", str(root / "images"))
    return out


@pytest.fixture
def canvas(qtbot: object, tiny: Path, tmp_path: Path) -> Iterator[CanvasView]:
    """A VIEW-sized canvas on the small orange's suspect (a private copy of the project)."""
    previous = use_test_font()
    copy = tmp_path / "tiny.labelfix"
    copy.write_bytes(tiny.read_bytes())
    view = canvas_on(qtbot, copy, KEY)
    assert view.review_scene.message is None  # the pixels are shown
    yield view
    session = view.session
    view.attach(None)
    session.close()
    QApplication.setFont(previous)


def filled(view: CanvasView) -> float:
    """The share of the view the suspect's boxes fill (along their tighter side)."""
    rect = view.viewportTransform().mapRect(view.review_scene.focus_rect)
    return max(rect.width() / VIEW[0], rect.height() / VIEW[1])


def pixelated(view: CanvasView) -> bool:
    """Whether the image is drawn nearest-neighbour."""
    mode = view.review_scene.image_item.transformationMode()
    return mode == Qt.TransformationMode.FastTransformation


def test_a_small_object_is_framed_and_zoomed_to_its_share_of_the_view(
    canvas: CanvasView,
) -> None:
    assert filled(canvas) == pytest.approx(CONTEXT_FILL, abs=0.01)  # 8x: was capped at 6x
    assert pixelated(canvas)
    canvas.zoom_to_suspect()  # Z
    assert canvas.transform().m11() > 16  # the old cap of Z
    assert filled(canvas) == pytest.approx(OBJECT_FILL, abs=0.01)
    canvas.zoom_to_suspect()  # Z again: back to the context
    assert filled(canvas) == pytest.approx(CONTEXT_FILL, abs=0.01)


def test_zoom_limits_and_where_pixels_turn_to_blocks(canvas: CanvasView) -> None:
    for _ in range(60):
        canvas.zoom_in()
    assert canvas.transform().m11() == pytest.approx(MAX_SCALE)
    assert pixelated(canvas)
    canvas.fit()  # 2.4x: smooth
    assert canvas.transform().m11() < PIXELATED_FROM
    assert not pixelated(canvas)
    while canvas.transform().m11() < PIXELATED_FROM:
        canvas.zoom_in()
    assert pixelated(canvas)
    for _ in range(60):
        canvas.zoom_out()
    assert canvas.transform().m11() == pytest.approx(MIN_SCALE)
    assert not pixelated(canvas)


def test_zoomed_to_a_small_object_its_pixels_are_crisp_blocks(
    qtbot: object, canvas: CanvasView, tmp_path: Path
) -> None:
    canvas.zoom_to_suspect()
    scale = canvas.transform().m11()
    canvas.viewport().update()
    qtbot.wait(20)
    shot = grab(canvas.viewport())
    # inside the object, clear of outlines and tags: runs of one colour ~scale px long (a
    # smooth scaling of this noise changes colour at almost every screen pixel)
    w, h = VIEW
    patch = to_array(shot)[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].astype(np.int16)
    same = (np.abs(np.diff(patch, axis=1)).max(axis=2) == 0).mean()
    assert same > 1 - 2 / scale
    compare(shot, "tiny_object_zoomed", tmp_path)


def _runs(pixels: np.ndarray) -> float:
    """The share of horizontally adjacent pixels of the middle third that are identical."""
    h, w = pixels.shape[:2]
    patch = pixels[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].astype(np.int16)
    return float((np.abs(np.diff(patch, axis=1)).max(axis=2) == 0).mean())


def test_the_grid_crop_of_a_small_object(tmp_path: Path) -> None:
    """Its object keeps half of the crop, as larger ones do, drawn as crisp blocks; a crop
    scaled up less than PIXELATED_FROM is smooth."""
    path = tmp_path / "fruit.png"
    _picture().save(path)
    x, y, w, h = crop_region([ORANGE], 200, 150, CROP_SIZE[0] / CROP_SIZE[1])
    assert ORANGE[3] / h == pytest.approx(0.5)  # 12 px of context left it 38% at 3.4x
    job = CropJob(KEY, 1, "inaccurate_label", 1, None, None, 1, 1)
    small = render_crop(CropSpec(job, path, 200, 150, [], ORANGE, "s"))
    assert _runs(to_array(small)) > 1 - 2 / (CROP_SIZE[1] / h)  # 4.4x: blocks
    medium = render_crop(CropSpec(job, path, 200, 150, [], [60, 50, 50, 40], "m"))
    assert _runs(to_array(medium)) < 0.2  # 1.65x: smooth, not uneven 1-2 px blocks


def test_crops_cached_on_disk_are_redrawn_when_crops_look_different(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = CropSource(tiny)
    try:
        job = CropJob(KEY, 1, "inaccurate_label", 1, 1, None, 1, 1)
        before = source.spec(job).signature
        monkeypatch.setattr(render, "LOOK", render.LOOK + "+")
        assert source.spec(job).signature != before
    finally:
        source.close()
