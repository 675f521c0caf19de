"""The fast RLE decoder (core/rle_fast.py) answers only where the exact decoder
(coco_masks._decode_runs) would answer the same: same totals, never "valid" for a malformed
string, and pycocotools' toBbox for the boxes it derives."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from labelfix.core.coco_masks import _decode_runs, check_rle_strings, derive_boxes
from labelfix.core.rle_fast import fast_decode

_ALPHABET = [chr(48 + i) for i in range(64)]  # '0'..'o'
_HIGH = list("PQRSTUVWXYZ[\\]^_`abcdefghijklmno")  # the 0x20 "more" bit set
_LOW = list("0123456789:;<=>?@ABCDEFGHIJKLMNO")  # a value's last character


def _fast(strings: list[str], heights: list[int] | None = None):
    lengths = np.fromiter(map(len, strings), np.int64, len(strings))
    text = "".join(strings).encode("ascii")
    h = None if heights is None else np.asarray(heights, np.int64)
    return fast_decode(text, lengths, h)


def _encoded(rng: np.random.Generator, h: int, w: int) -> str:
    mask = rng.random((h, w)) < rng.choice([0.0, 0.05, 0.5, 0.95, 1.0])
    return mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode()


def _random_strings(rng: np.random.Generator) -> list[str]:
    """Any strings of the 64 characters (most malformed or with negative runs), wide values,
    real masks and halves of them, bad characters."""
    out = ["".join(rng.choice(_ALPHABET, size=int(rng.integers(0, 16)))) for _ in range(3000)]
    for _ in range(600):
        width = int(rng.integers(1, 14))
        out.append(
            "".join(rng.choice(_HIGH, size=width - 1))
            + str(rng.choice(_LOW))
            + "".join(rng.choice(_ALPHABET, size=int(rng.integers(0, 5))))
        )
    for _ in range(800):
        s = _encoded(rng, int(rng.integers(1, 40)), int(rng.integers(1, 40)))
        out += [s, s[: len(s) // 2]]
    out += ["p", "0/1", "00\x7f", "1" + chr(47), "~"]
    return [out[k] for k in rng.permutation(len(out))]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_totals_are_the_exact_decoders(seed: int) -> None:
    strings = _random_strings(np.random.default_rng(seed))
    exact = _decode_runs(strings)
    totals, slow, _ = _fast(strings)
    fast = ~slow
    assert not (fast & ~exact.valid).any()  # never "valid" where the exact decoder says not
    assert (totals[fast] == exact.totals[fast]).all()
    assert fast.sum() > 0.9 * exact.valid.sum()  # and it takes most of the valid ones


@pytest.mark.parametrize(
    "counts",
    [
        "p",  # a character beyond 'o'
        "0/",  # below '0'
        "0\x00",  # NUL: pycocotools' decoder would stop reading here
        "0P",  # the last character's "more" bit: the value is unfinished
        "5a",  # the same, a dangling continuation after a value
        "O",  # run 0 of -1
        "00O",  # run 2 of -1
        "0150",  # valid: runs 0, 1, 5, 1
        "015O",  # valid: a negative value, no negative run (run 3 = run 1 - 1 = 0)
        "01N",  # run 2 = -2
        "PPPPPP0",  # 7 characters wide: left to the exact decoder
    ],
)
def test_malformed_or_unusual_strings_are_left_to_the_exact_decoder(counts: str) -> None:
    exact = _decode_runs([counts])
    totals, slow, _ = _fast(["0", counts, "12"])
    assert not slow[0] and not slow[2] and totals[[0, 2]].tolist() == [0, 3]
    if not exact.valid[0]:
        assert slow[1]
    elif not slow[1]:
        assert totals[1] == exact.totals[0]


def test_wrong_sums_and_malformed_strings_are_reported_as_before() -> None:
    rng = np.random.default_rng(3)
    good = _encoded(rng, 7, 9)
    pending = [
        (0, good, 63),
        (1, good, 64),  # adds up to 63
        (2, "0P", 4),  # dangling continuation
        (3, "0p", 4),  # a character beyond 'o'
        (4, "O", 0),  # a negative run
        (5, "é", 1),  # not ASCII
        (6, "", 0),
        (7, good, 63),
    ]
    errors: list[tuple[str, str]] = []

    class Report:
        def error(self, record: str, reason: str) -> None:
            errors.append((record, reason))

        def assume(self, kind: str, record: str, reason: str) -> None:
            raise AssertionError

    boxes = check_rle_strings(pending, Report(), heights={0: 7, 1: 7, 2: 2, 6: 0, 7: 7})
    assert [where for where, _ in errors] == ["1", "2", "3", "4", "5"]
    assert errors[0][1] == "compressed RLE counts cover 63 pixels but its size has 64"
    assert all("is malformed" in reason for _, reason in errors[1:])
    expected = mask_utils.toBbox({"size": [7, 9], "counts": good}).tolist()
    assert boxes[0] == expected and boxes[7] == expected and set(boxes) == {0, 7}


@pytest.mark.parametrize("mixed", [False, True])
def test_boxes_are_pycocotools_to_bbox(mixed: bool) -> None:
    """Strings of one image size after another (the fast path divides by one height per
    stretch), or every string of another height (one division per row)."""
    rng = np.random.default_rng(4 + mixed)
    cases = []
    for _ in range(40):
        h, w = int(rng.integers(1, 50)), int(rng.integers(1, 50))
        cases += [(h, w)] * int(rng.integers(1, 30))
    if mixed:
        cases = [cases[k] for k in rng.permutation(len(cases))]
    strings = [_encoded(rng, h, w) for h, w in cases]
    pending = [(k, s, h * w) for k, (s, (h, w)) in enumerate(zip(strings, cases, strict=True))]

    class Report:
        def error(self, record: str, reason: str) -> None:
            raise AssertionError(record + reason)

    heights = {k: h for k, (h, _) in enumerate(cases)}
    known = check_rle_strings(pending, Report(), heights=heights)
    _, slow, found = _fast(strings, [h for h, _ in cases])
    assert not slow.any() and len(known) > 0.9 * len(cases)
    records = [
        {"image_id": k, "segmentation": {"size": [h, w], "counts": s}}
        for k, (s, (h, w)) in enumerate(zip(strings, cases, strict=True))
    ]
    derive_boxes(records, list(range(len(records))), dict(enumerate(cases)), known)
    expected = [
        mask_utils.toBbox({"size": [h, w], "counts": s}).tolist()
        for s, (h, w) in zip(strings, cases, strict=True)
    ]
    assert [r["bbox"] for r in records] == expected
    done = ~np.isnan(found[:, 0])
    assert found[done].tolist() == [expected[k] for k in np.flatnonzero(done).tolist()]


def test_an_empty_run_after_the_first_leaves_the_box_to_pycocotools() -> None:
    # runs 0, 2, 0, 2 on a 2x2 mask (run 3 = value 3 + run 1): an empty background run
    # between two foreground runs
    counts = "0200"
    assert _decode_runs([counts]).totals.tolist() == [4]
    totals, slow, found = _fast([counts, "04"], [2, 2])
    assert not slow.any() and totals.tolist() == [4, 4]
    assert np.isnan(found[0]).all()
    assert found[1].tolist() == mask_utils.toBbox({"size": [2, 2], "counts": "04"}).tolist()


def test_batches_on_two_threads_report_and_box_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many batches decode on a second thread too: the same errors, in file order, and the
    same boxes as one batch after another."""
    from labelfix.core import coco_masks

    rng = np.random.default_rng(6)
    pending, heights = [], {}
    for k in range(600):
        h, w = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        counts = _encoded(rng, h, w)
        wrong = rng.random() < 0.05
        pending.append((k, counts[:-1] + "P" if wrong else counts, h * w + (k % 7 == 0)))
        heights[k] = h

    def run() -> tuple[list[tuple[str, str]], dict]:
        errors: list[tuple[str, str]] = []

        class Report:
            def error(self, record: str, reason: str) -> None:
                errors.append((record, reason))

        return errors, check_rle_strings(pending, Report(), heights=heights)

    one = run()
    monkeypatch.setattr(coco_masks, "_RLE_CHUNK_CHARS", 200)
    calls: list[int] = []
    batches = coco_masks._batches

    def counted(count: int):
        calls.append(count)
        return batches(count)

    monkeypatch.setattr(coco_masks, "_batches", counted)
    assert run() == one
    assert calls and calls[0] >= 4 and len(one[0]) > 50 and len(one[1]) > 400
