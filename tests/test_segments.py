"""core.segments.overlapping_pairs (the NMS sweep) finds exactly the pairs of each image whose
IoU (errors._box_iou) reaches the threshold: checked against every pair, on boxes made to sit
on the thresholds (integer grids, shifted copies), far from the origin, and degenerate."""

from __future__ import annotations

import numpy as np
import pytest

from labelfix.core import segments
from labelfix.core.errors import _box_iou


def _every_pair(boxes: np.ndarray, sizes: np.ndarray, t: float) -> set[tuple[int, int]]:
    out = set()
    for s0, n in zip((np.cumsum(sizes) - sizes).tolist(), sizes.tolist(), strict=True):
        ious = _box_iou(boxes[s0 : s0 + n], boxes[s0 : s0 + n])
        out |= {(s0 + i, s0 + j) for i in range(n) for j in range(i + 1, n) if ious[i, j] >= t}
    return out


def _boxes(rng: np.random.Generator, mode: int, n: int) -> np.ndarray:
    if mode == 0:  # integer grid: ties and IoUs exactly at 1/2, 1/3, 1
        boxes = rng.integers(0, 6, (n, 4)).astype(float)
        boxes[:, 2:] = rng.integers(1, 5, (n, 2))
        return boxes
    if mode == 1:  # far from the origin and small
        return np.hstack([rng.uniform(1e5, 1e5 + 3, (n, 2)), rng.uniform(0.01, 3, (n, 2))])
    if mode == 2:  # zero and negative sizes
        boxes = np.hstack([rng.uniform(0, 10, (n, 2)), rng.uniform(-2, 6, (n, 2))])
        boxes[rng.random(n) < 0.2, 2] = 0
        return boxes
    if mode == 3:  # shifted copies: IoU exactly at the thresholds (e.g. [0,0,2,1] vs [1,0,1,1])
        boxes = np.tile([0.0, 0.0, 2.0, 1.0], (n, 1))
        boxes[:, 0] += rng.integers(0, 4, n) * 0.5
        boxes[:, 2] = rng.choice([1.0, 2.0, 3.0, 4.0], n)
        return boxes
    return np.round(np.hstack([rng.uniform(0, 60, (n, 2)), rng.uniform(1, 40, (n, 2))]), 1)


@pytest.mark.parametrize("seed", range(4))
def test_overlapping_pairs_are_every_pair_at_the_threshold(seed: int) -> None:
    rng = np.random.default_rng(seed)
    found = 0
    for trial in range(150):
        sizes = rng.integers(0, 25, int(rng.integers(1, 6)))
        boxes = _boxes(rng, trial % 5, int(sizes.sum()))
        for t in (0.5, 1 / 3, 0.3, 0.85, 1.0, 0.05):
            i, j = segments.overlapping_pairs(boxes, sizes, t)
            got = list(zip(i.tolist(), j.tolist(), strict=True))
            assert len(set(got)) == len(got)
            want = _every_pair(boxes, sizes, t)
            assert set(got) == want, (trial, t)
            found += len(want)
    assert found > 1000


def test_overlapping_pairs_with_nan_and_infinite_boxes() -> None:
    rng = np.random.default_rng(11)
    for trial in range(200):
        sizes = rng.integers(0, 20, int(rng.integers(1, 5)))
        boxes = _boxes(rng, trial % 5, int(sizes.sum()))
        odd = rng.random(boxes.shape) < 0.08
        boxes[odd] = rng.choice([np.nan, np.inf, -np.inf], int(odd.sum()))
        for t in (0.5, 0.3, 1.0):
            i, j = segments.overlapping_pairs(boxes, sizes, t)
            got = list(zip(i.tolist(), j.tolist(), strict=True))
            assert len(set(got)) == len(got)
            with np.errstate(invalid="ignore"):
                assert set(got) == _every_pair(boxes, sizes, t), (trial, t)


def test_overlapping_pairs_over_more_images_than_a_16_bit_index() -> None:
    rng = np.random.default_rng(5)
    sizes = rng.integers(0, 4, 40_000)
    boxes = _boxes(rng, 4, int(sizes.sum()))
    i, j = segments.overlapping_pairs(boxes, sizes, 0.5)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == _every_pair(boxes, sizes, 0.5)
