"""The RLE check derives the boxes of mask-only predictions as it decodes their strings: the
same boxes as pycocotools' toBbox (which loadRes stores), bit for bit."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils

from labelfix.core.coco_masks import check_rle_strings, derive_boxes, rle_string_totals


class _Errors:
    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def error(self, record: str, reason: str) -> None:
        self.errors.append((record, reason))

    def assume(self, kind: str, record: str, reason: str) -> None:
        raise AssertionError("no assumptions here")


def _cases(rng: np.random.Generator) -> list[tuple[str, int, int]]:
    """(counts, height, width): encoded masks of every density, then any valid string with a
    size its runs add up to (empty runs in the middle, a first run of zero, ...)."""
    cases = []
    for _ in range(600):
        h, w = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        mask = rng.random((h, w)) < rng.choice([0.0, 0.03, 0.4, 0.8, 1.0])
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        cases.append((rle["counts"].decode(), h, w))
    alphabet = [chr(48 + i) for i in range(64)]
    while len(cases) < 3000:
        s = "".join(rng.choice(alphabet, size=int(rng.integers(1, 12))))
        total, valid = rle_string_totals([s])
        if valid[0] and 0 < total[0] < 10**7:
            t = int(total[0])
            h = int(rng.choice([d for d in (1, 2, 3, 5, 7, t) if t % d == 0]))
            cases.append((s, h, t // h))
    return cases


def test_derived_boxes_equal_pycocotools_to_bbox() -> None:
    cases = _cases(np.random.default_rng(7))
    pending = [(i, counts, h * w) for i, (counts, h, w) in enumerate(cases)]
    report = _Errors()
    known = check_rle_strings(pending, report, heights={i: h for i, (_, h, _) in enumerate(cases)})
    assert report.errors == []
    assert len(known) > 2000  # most are derived while decoding; the rest below by pycocotools
    records = [{"image_id": i, "segmentation": {"size": [h, w], "counts": c}} for i, (c, h, w) in
               enumerate(cases)]  # fmt: skip
    derive_boxes(records, list(range(len(cases))), {i: (h, w) for i, (_, h, w) in enumerate(cases)},
                 known)  # fmt: skip
    expected = [mask_utils.toBbox({"size": [h, w], "counts": c}).tolist() for c, h, w in cases]
    assert [r["bbox"] for r in records] == expected


def test_no_box_for_a_string_that_fails_its_check() -> None:
    good = mask_utils.encode(np.asfortranarray(np.eye(4, dtype=np.uint8)))["counts"].decode()
    pending = [(0, good, 16), (1, good, 15), (2, "1h", 16)]
    report = _Errors()
    known = check_rle_strings(pending, report, heights={0: 4, 1: 5, 2: 4})
    assert list(known) == [0] and known[0] == [0.0, 0.0, 4.0, 4.0]
    assert [where for where, _ in report.errors] == ["1", "2"]
