"""core.contours.outer_contours: OpenCV's findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE) without
OpenCV.

Hand-written cases run everywhere; the comparisons with cv2 (hypothesis, a seeded sweep, every
mask of 3x4 pixels, a pycocotools polygon mask) are skipped where cv2 is not installed.
"""

from __future__ import annotations

import ast
import inspect
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as mask_utils

from labelfix.core import contours, geometry, opencv
from labelfix.core.contours import outer_contours

from helpers import DEMO


def _opencv_contours(mask: np.ndarray) -> list[np.ndarray]:
    """What OpenCV returns, in the shape outer_contours uses (skips the test without cv2)."""
    cv2 = pytest.importorskip("cv2")
    found = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [c.reshape(-1, 2) for c in found[0]]


def _same(ours: list[np.ndarray], theirs: list[np.ndarray]) -> bool:
    return len(ours) == len(theirs) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True)
    )


def _assert_like_opencv(mask: np.ndarray) -> None:
    ours, theirs = outer_contours(mask), _opencv_contours(mask)
    assert _same(ours, theirs), (
        f"mask:\n{mask.astype(np.uint8)}\n"
        f"ours:   {[c.tolist() for c in ours]}\n"
        f"OpenCV: {[c.tolist() for c in theirs]}"
    )


def _points(mask: np.ndarray) -> list[list[list[int]]]:
    return [c.tolist() for c in outer_contours(mask)]


def _canvas(height: int, width: int, *pixels: tuple[int, int]) -> np.ndarray:
    """A uint8 mask with the given (y, x) pixels set."""
    mask = np.zeros((height, width), np.uint8)
    for y, x in pixels:
        mask[y, x] = 1
    return mask


def _ring(size: int) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[1:-1, 1:-1] = 1
    mask[2:-2, 2:-2] = 0
    return mask


# --- hand-written cases (no OpenCV needed) ---------------------------------------------------


def test_empty_mask_has_no_contours():
    assert outer_contours(np.zeros((4, 5), np.uint8)) == []
    assert outer_contours(np.zeros((0, 0), np.uint8)) == []


def test_single_pixel():
    assert _points(_canvas(5, 5, (2, 3))) == [[[3, 2]]]


def test_lines_go_out_and_back():
    horizontal = np.zeros((5, 7), np.uint8)
    horizontal[2, 1:6] = 1
    assert _points(horizontal) == [[[1, 2], [5, 2]]]
    assert _points(horizontal.T) == [[[2, 1], [2, 5]]]
    assert _points(_canvas(6, 6, (1, 1), (2, 2), (3, 3), (4, 4))) == [[[1, 1], [4, 4]]]
    assert _points(_canvas(6, 6, (1, 4), (2, 3), (3, 2), (4, 1))) == [[[4, 1], [1, 4]]]


def test_filled_rectangle_is_its_four_corners_counter_clockwise():
    mask = np.zeros((6, 7), np.uint8)
    mask[1:4, 2:6] = 1
    assert _points(mask) == [[[2, 1], [2, 3], [5, 3], [5, 1]]]


def test_hole_is_not_a_contour():
    assert _points(_ring(7)) == [[[1, 1], [1, 5], [5, 5], [5, 1]]]


def test_blob_inside_a_hole_is_left_out():
    outline = [[1, 1], [1, 7], [7, 7], [7, 1]]
    dot = _ring(9)
    dot[4, 4] = 1
    assert _points(dot) == [outline]
    square = _ring(9)
    square[3:6, 3:6] = 1
    assert _points(square) == [outline]


def test_diagonal_touch_is_one_contour_with_repeated_points():
    mask = np.zeros((6, 6), np.uint8)
    mask[1:3, 1:3] = 1
    mask[3:5, 3:5] = 1
    assert _points(mask) == [
        [[1, 1], [1, 2], [2, 2], [3, 3], [3, 4], [4, 4], [4, 3], [3, 3], [2, 2], [2, 1]]
    ]


def test_contours_come_newest_first():
    mask = np.zeros((5, 8), np.uint8)
    mask[1:4, 1:3] = 1
    mask[1:4, 5:7] = 1
    assert _points(mask) == [[[5, 1], [5, 3], [6, 3], [6, 1]], [[1, 1], [1, 3], [2, 3], [2, 1]]]


def test_pixels_on_the_image_border_are_traced():
    mask = np.zeros((4, 5), np.uint8)
    mask[0, 0] = 1
    mask[1:4, 2:5] = 1
    assert _points(mask) == [[[2, 1], [2, 3], [4, 3], [4, 1]], [[0, 0]]]
    top_row = np.zeros((4, 5), np.uint8)
    top_row[0] = 1
    assert _points(top_row) == [[[0, 0], [4, 0]]]


def test_all_ones_is_the_image_outline():
    assert _points(np.ones((3, 4), np.uint8)) == [[[0, 0], [0, 2], [3, 2], [3, 0]]]
    assert _points(np.ones((1, 1), np.uint8)) == [[[0, 0]]]


def test_any_nonzero_dtype_and_layout_is_foreground():
    rng = np.random.default_rng(7)
    mask = (rng.random((30, 40)) < 0.4).astype(np.uint8)
    expected = _points(mask)
    assert _points(mask.astype(bool)) == expected
    assert _points(mask.astype(np.int64) * -3) == expected
    assert _points(mask * 255) == expected
    assert _points(np.asfortranarray(mask)) == expected
    wide = np.zeros((30, 80), np.uint8)
    wide[:, ::2] = mask
    assert _points(wide[:, ::2]) == expected


def test_points_are_int32_xy_rows():
    (found,) = outer_contours(_ring(7))
    assert found.dtype == np.int32 and found.shape == (4, 2)


def test_empty_margins_only_shift_the_points():
    rng = np.random.default_rng(11)
    mask = (rng.random((20, 25)) < 0.5).astype(np.uint8)
    big = np.zeros((70, 90), np.uint8)
    big[30:50, 40:65] = mask
    moved = [(c - [40, 30]).tolist() for c in outer_contours(big)]
    assert moved == _points(mask)


def test_rejects_a_mask_that_is_not_2d():
    with pytest.raises(ValueError):
        outer_contours(np.zeros((2, 3, 4), np.uint8))


def test_module_does_not_import_opencv_or_qt():
    imported = set()
    for node in ast.walk(ast.parse(inspect.getsource(contours))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or "").split(".")[0])
    assert imported == {"__future__", "numpy"}


# --- against OpenCV --------------------------------------------------------------------------


def _random_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Noise of a random density, or random rectangles, ellipses and rings (some cut out)."""
    if rng.random() < 0.4:
        return (rng.random((height, width)) < rng.random()).astype(np.uint8)
    mask = np.zeros((height, width), np.uint8)
    yy, xx = np.mgrid[:height, :width]
    for _ in range(int(rng.integers(1, 10))):
        cy, cx = rng.uniform(-3, height + 3), rng.uniform(-3, width + 3)
        ry, rx = rng.uniform(0.4, height / 2 + 1), rng.uniform(0.4, width / 2 + 1)
        kind = rng.integers(0, 3)
        if kind == 0:
            shape = (abs(yy - cy) <= ry) & (abs(xx - cx) <= rx)
        else:
            r = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
            shape = (r <= 1) & (r >= rng.uniform(0.1, 0.8)) if kind == 2 else r <= 1
        mask[shape] = 0 if rng.random() < 0.25 else 1
    if rng.random() < 0.3:
        mask[rng.random((height, width)) < 0.05] ^= 1
    return mask


SHAPES = st.lists(
    st.tuples(
        st.sampled_from(["box", "ellipse", "ring", "erase"]),
        st.floats(-0.2, 1.2),
        st.floats(-0.2, 1.2),
        st.floats(0.02, 0.7),
        st.floats(0.02, 0.7),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mask=hnp.arrays(
        np.uint8,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=24),
        elements=st.integers(0, 1),
    )
)
def test_random_pixels_like_opencv(mask):
    _assert_like_opencv(mask)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(height=st.integers(1, 24), width=st.integers(1, 24), shapes=SHAPES)
def test_random_shapes_like_opencv(height, width, shapes):
    mask = np.zeros((height, width), np.uint8)
    yy, xx = np.mgrid[:height, :width]
    for kind, cy, cx, ry, rx in shapes:
        dy, dx = (yy / height - cy) / ry, (xx / width - cx) / rx
        if kind == "box":
            mask[(abs(dy) <= 1) & (abs(dx) <= 1)] = 1
        else:
            r = dy**2 + dx**2
            inside = (r <= 1) & (r >= 0.3) if kind == "ring" else r <= 1
            mask[inside] = 0 if kind == "erase" else 1
    _assert_like_opencv(mask)


def test_seeded_sweep_like_opencv():
    pytest.importorskip("cv2")
    rng = np.random.default_rng(20260101)
    differing = []
    for i in range(5000):
        height, width = int(rng.integers(1, 65)), int(rng.integers(1, 81))
        mask = _random_mask(rng, height, width)
        if not _same(outer_contours(mask), _opencv_contours(mask)):
            differing.append(i)
    assert differing == []


@pytest.mark.parametrize(("height", "width"), [(3, 4), (4, 3)])
def test_every_small_mask_like_opencv(height, width):
    pytest.importorskip("cv2")
    count = height * width
    bits = (np.arange(1 << count)[:, None] >> np.arange(count)) & 1
    masks = bits.astype(np.uint8).reshape(-1, height, width)
    differing = [
        i for i, m in enumerate(masks) if not _same(outer_contours(m), _opencv_contours(m))
    ]
    assert differing == []


def _polygon(cx: float, cy: float, radius: float, wobble: float, n: int, phase: float) -> list:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + phase
    r = radius * (1 + wobble * np.sin(5 * angles) + 0.5 * wobble * np.cos(13 * angles + phase))
    return np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)]).ravel().tolist()


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools
def test_pycocotools_polygon_mask_like_opencv():
    pytest.importorskip("cv2")
    height, width = 300, 400

    def decode(parts: list) -> np.ndarray:
        return mask_utils.decode(mask_utils.frPyObjects(parts, height, width)).any(axis=2)

    outer = decode([_polygon(150, 150, 110, 0.25, 90, 0.3), _polygon(330, 80, 50, 0.4, 40, 1.0)])
    hole = decode([_polygon(150, 150, 55, 0.3, 60, 0.7)])
    island = decode(
        [_polygon(150, 150, 20, 0.2, 30, 0.1), [395.0, 295.0, 410.0, 280.0, 410.0, 310]]
    )
    mask = ((outer & ~hole) | island).astype(np.uint8)
    # the wobbly ring, the blob at the top right, the triangle cut by the image border; the
    # island in the ring's hole is left out
    assert len(outer_contours(mask)) == 3
    _assert_like_opencv(mask)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools
def test_rle_to_polygon_is_the_same_without_opencv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every demo label's mask gives the same polygon from pip (OpenCV) and the bundle (none)."""
    pytest.importorskip("cv2")
    data = json.loads((DEMO / "labels.json").read_text(encoding="utf-8"))
    sizes = {image["id"]: (image["height"], image["width"]) for image in data["images"]}
    masks = []
    for label in data["annotations"]:
        height, width = sizes[label["image_id"]]
        masks.append((geometry.to_rle(label["segmentation"], height, width), height, width))
    assert len(masks) > 400 and any(label["iscrowd"] for label in data["annotations"])
    with_opencv = [geometry.rle_to_polygon(*m) for m in masks]
    monkeypatch.setattr(opencv, "module", lambda: None)
    without = [geometry.rle_to_polygon(*m) for m in masks]
    assert without == with_opencv
    assert sum(len(parts) for parts in without) >= len(masks)
