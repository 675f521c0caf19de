"""The chunked NMS keeps exactly what the references' one-box-at-a-time loops keep."""

from __future__ import annotations

import numpy as np
import pytest

from labelfix.core.predict.nms import torchvision_nms, yolox_nms


def torchvision_loop(boxes: np.ndarray, scores: np.ndarray, thr: float) -> list[int]:
    """torchvision's CPU nms_kernel, transcribed: stable descending order, float32, IoU > thr."""
    order = sorted(range(len(scores)), key=lambda k: -scores[k])
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    suppressed = [False] * len(order)
    keep = []
    for a, i in enumerate(order):
        if suppressed[a]:
            continue
        keep.append(i)
        for b in range(a + 1, len(order)):
            j = order[b]
            if suppressed[b]:
                continue
            w = max(np.float32(0), min(x2[i], x2[j]) - max(x1[i], x1[j]))
            h = max(np.float32(0), min(y2[i], y2[j]) - max(y1[i], y1[j]))
            inter = np.float32(w * h)
            ovr = np.float32(inter / np.float32(areas[i] + areas[j] - inter))
            if float(ovr) > thr:
                suppressed[b] = True
    return keep


def yolox_loop(boxes: np.ndarray, scores: np.ndarray, thr: float) -> list[int]:
    """YOLOX demo_utils.nms, transcribed (numpy, +1 areas, keep while IoU <= thr)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(int(i))
        xx1, yy1 = np.maximum(x1[i], x1[order[1:]]), np.maximum(y1[i], y1[order[1:]])
        xx2, yy2 = np.minimum(x2[i], x2[order[1:]]), np.minimum(y2[i], y2[order[1:]])
        inter = np.maximum(0.0, xx2 - xx1 + 1) * np.maximum(0.0, yy2 - yy1 + 1)
        ovr = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[np.where(ovr <= thr)[0] + 1]
    return keep


def random_boxes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 300, (n, 2))
    wh = rng.uniform(2, 80, (n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    boxes[: n // 10] = np.round(boxes[: n // 10])  # some integer boxes, duplicated below
    boxes[n // 10 : n // 5] = boxes[: n // 10]
    scores = np.round(rng.uniform(0, 1, n), 2).astype(np.float32)  # many ties
    return boxes, scores


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("thr", [0.45, 0.6, 0.7])
def test_torchvision_nms_matches_the_loop(seed, thr):
    boxes, scores = random_boxes(400, seed)
    expected = torchvision_loop(boxes, scores, thr)
    assert torchvision_nms(boxes, scores, thr).tolist() == expected
    assert torchvision_nms(boxes, scores, thr, limit=37).tolist() == expected[:37]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("thr", [0.34, 0.45, 0.65])
def test_yolox_nms_matches_the_loop(seed, thr):
    boxes, scores = random_boxes(400, seed)
    expected = yolox_loop(boxes, scores, thr)
    assert yolox_nms(boxes, scores, thr).tolist() == expected
    assert yolox_nms(boxes, scores, thr, limit=20).tolist() == expected[:20]


def test_threshold_compared_in_double_like_torchvision():
    # IoU exactly float32(0.6) = 0.6000000238 > 0.6 in double: suppressed, as in torchvision
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 6]], np.float32)  # IoU 60 / 100 = 0.6 (float32)
    assert torchvision_nms(a, np.array([0.9, 0.8], np.float32), 0.6).tolist() == [0]
    assert torchvision_nms(a, np.array([0.9, 0.8], np.float32), 0.61).tolist() == [0, 1]


def test_zero_area_boxes_are_kept_like_torchvision():
    a = np.array([[5, 5, 5, 5], [5, 5, 5, 5]], np.float32)  # 0 / 0: NaN is not > thr
    assert torchvision_nms(a, np.array([0.9, 0.8], np.float32), 0.5).tolist() == [0, 1]
