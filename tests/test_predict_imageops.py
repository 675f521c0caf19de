"""Resizing, letterboxing and bilinear sampling exactly as the references compute them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from labelfix.core.predict.imageops import LinearTaps, bilinear_at, resize_linear_numpy, to_input
from labelfix.core.predict.ultralytics import letterbox_placement


def test_numpy_resize_is_bit_identical_to_opencv_inter_linear():
    rng = np.random.default_rng(1)
    sizes = [
        (480, 640, 480, 640),
        (375, 500, 512, 640),
        (1080, 1920, 360, 640),
        (640, 480, 320, 240),
        (1, 7, 3, 640),
        (333, 1, 640, 2),
        (427, 640, 427, 640),
    ]
    sizes += [tuple(int(v) for v in rng.integers(1, 300, 4)) for _ in range(120)]
    for h, w, nh, nw in sizes:
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        expected = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(
            resize_linear_numpy(image, nw, nh), expected, err_msg=str((h, w, nh, nw))
        )


@pytest.mark.parametrize(
    ("hw", "expected"),
    [
        # (height, width) -> (input (h, w), content (w, h), left, top), worked out by hand
        ((480, 640), ((640, 640), (640, 480), 0, 80)),
        (
            (427, 640),
            ((640, 640), (640, 427), 0, 106),
        ),  # d = 213: top round(106.4), bottom round(106.6)
        ((640, 427), ((640, 640), (427, 640), 106, 0)),
        ((1000, 1), ((640, 640), (1, 640), 319, 0)),  # width round(0.64) = 1; left round(319.4)
        ((321, 640), ((640, 640), (640, 321), 0, 159)),  # d = 319: round(159.4), round(159.6)
    ],
)
def test_ultralytics_letterbox_placement(hw, expected):
    p = letterbox_placement(*hw, (640, 640))
    assert (p.input_hw, p.content_wh, p.left, p.top) == expected


def test_letterbox_minimum_rectangle_for_dynamic_inputs():
    p = letterbox_placement(427, 640, (640, 640), auto=True, stride=32)
    # padding 213 % 32 = 21 -> 10 above, 11 below: a 448 x 640 input
    assert (p.input_hw, p.top) == ((448, 640), 10)


def test_yolov5_letterbox_does_not_keep_one_pixel():
    assert letterbox_placement(2000, 1, (640, 640), min_one=False).content_wh == (0, 640)


def test_to_input_divides_by_255_and_swaps_channels():
    canvas = np.array([[[10, 20, 255]]], np.uint8)
    rgb = to_input(canvas, bgr=False, scale01=True)
    assert rgb.shape == (1, 3, 1, 1)
    assert rgb[0, :, 0, 0].tolist() == [
        np.float32(10) / np.float32(255),
        np.float32(20) / np.float32(255),
        1.0,
    ]
    bgr = to_input(canvas, bgr=True, scale01=False)
    assert bgr[0, :, 0, 0].tolist() == [255.0, 20.0, 10.0]


def test_bilinear_taps_follow_pytorch_align_corners_false():
    # F.interpolate([0, 1, 2, 3] -> 8, bilinear, align_corners=False): source x = (i + 0.5) / 2 - 0.5,
    # clamped at 0 and at the last sample: 0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3
    taps = LinearTaps.make(4, 8)
    row = LinearTaps.make(1, 1)
    values = bilinear_at(np.arange(4, dtype=np.float32)[None, :], row, taps)[0]
    np.testing.assert_allclose(values, [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3], atol=1e-7)
    down = bilinear_at(np.arange(8, dtype=np.float32)[None, :], row, LinearTaps.make(8, 3))[0]
    # scale 8/3: x = (i + 0.5) * 8/3 - 0.5 = 0.8333, 3.5, 6.1667
    np.testing.assert_allclose(down, [0.8333333, 3.5, 6.1666665], atol=1e-6)


def test_bilinear_at_a_subset_equals_the_full_resize():
    rng = np.random.default_rng(3)
    src = rng.normal(size=(2, 13, 17)).astype(np.float32)
    rows, cols = LinearTaps.make(13, 40), LinearTaps.make(17, 31)
    full = bilinear_at(src, rows, cols)
    ys, xs = np.arange(5, 22), np.arange(3, 9)
    np.testing.assert_array_equal(
        bilinear_at(src, rows.take(ys), cols.take(xs)), full[:, 5:22, 3:9]
    )
