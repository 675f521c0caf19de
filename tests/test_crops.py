"""Grid crops (core.crops): the region frames the suspect's evidence with context at the cell's
aspect inside the image; decoding only that region at about the cell's size gives the same
picture as decoding the whole image and cutting it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelfix.core.crops import CONTEXT, crop_region, load_region


def inside(region: tuple[float, ...], box: list[float]) -> bool:
    x, y, w, h = region
    return x <= box[0] and y <= box[1] and box[0] + box[2] <= x + w and box[1] + box[3] <= y + h


def test_the_region_holds_every_box_with_context_at_the_aspect() -> None:
    boxes = [[100, 100, 40, 20], [130, 110, 30, 30]]
    x, y, w, h = crop_region(boxes, 640, 480, 4 / 3)
    assert w / h == pytest.approx(4 / 3)
    assert all(inside((x, y, w, h), b) for b in boxes)
    assert w >= 60 * (1 + 2 * CONTEXT)  # the evidence is 60 px wide: context on both sides


def test_the_region_moves_inside_the_image_at_its_corner() -> None:
    x, y, w, h = crop_region([[630, 470, 10, 10]], 640, 480, 4 / 3)
    assert x + w == pytest.approx(640) and y + h == pytest.approx(480)
    assert inside((x, y, w, h), [630, 470, 10, 10])


def test_a_huge_object_is_clamped_to_the_image_and_no_box_means_all() -> None:
    assert crop_region([[0, 0, 640, 480]], 640, 480, 4 / 3) == (0, 0, 640, 480)
    assert crop_region([None], 300, 200, 4 / 3) == (0, 0, 300, 200)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_region_decodes_like_the_whole_image_cut(tmp_path: Path, suffix: str) -> None:
    y, x = np.mgrid[0:1200, 0:1600]
    pixels = np.stack([x * 255 // 1600, y * 255 // 1200, (x + y) % 256], axis=-1).astype(np.uint8)
    path = tmp_path / f"big{suffix}"
    Image.fromarray(pixels).save(path, quality=95)
    region = (400.0, 300.0, 800.0, 600.0)
    got, why = load_region(path, region, (160, 120))
    assert why is None and got.shape == (120, 160, 3)
    want = np.asarray(
        Image.open(path).convert("RGB").crop((400, 300, 1200, 900)).resize((160, 120))
    )
    assert np.abs(got.astype(int) - want.astype(int)).mean() < 6  # draft decode: close, not equal


def test_a_missing_or_broken_file_is_a_reason_not_an_error(tmp_path: Path) -> None:
    assert load_region(tmp_path / "none.jpg", (0, 0, 10, 10), (16, 12))[1].endswith("no such file")
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    pixels, why = load_region(tmp_path / "bad.jpg", (0, 0, 10, 10), (16, 12))
    assert pixels is None and "cannot decode" in why
