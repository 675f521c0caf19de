"""Tests for the strict COCO reader (core/coco.py): ground-truth validation rules."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from labelfix.core.coco import (
    CocoError,
    GroundTruth,
    Problem,
    check_images,
    read_ground_truth,
    read_predictions,
    rle_string_totals,
)

from coco_cases import (
    CATEGORY_IDS,
    SIZES,
    assert_gt_error,
    crowd_mask,
    gt_error,
    rle_of,
    uncompressed_rle_of,
    valid_gt,
    with_annotation,
    with_image,
    write_json,
)

# ----------------------------------------------------------------------------- problems, errors


def test_problem_str_and_error_report() -> None:
    problem = Problem("f.json", "annotations[1] (id 7).bbox", "bad", "error")
    assert str(problem) == "f.json: annotations[1] (id 7).bbox: bad"
    err = CocoError("f.json", [problem])
    assert isinstance(err, ValueError)
    assert str(err) == "f.json: 1 problem(s) found\n  annotations[1] (id 7).bbox: bad"
    assert err.file == "f.json" and err.problems == [problem] and err.total == 1
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.problems == err.problems


def test_valid_ground_truth_round_trip(tmp_path: Path) -> None:
    data = valid_gt()
    path = write_json(tmp_path, data)
    gt = read_ground_truth(str(path))
    assert isinstance(gt, GroundTruth)
    assert gt.path == path
    assert gt.images == data["images"] and gt.annotations == data["annotations"]
    assert gt.categories == data["categories"]
    assert list(gt.top) == ["info", "licenses", "zzz_unknown"]
    assert gt.top["zzz_unknown"] == [1, 2, 3]
    assert gt.images[0]["source"] == "x" and gt.annotations[0]["extra"] == {"kept": True}
    assert gt.warnings == []
    assert "iscrowd" not in gt.annotations[1]  # nothing added


# ----------------------------------------------------------------------------- file level


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_text('{"images": [}', encoding="utf-8")
    with pytest.raises(CocoError) as info:
        read_ground_truth(path)
    text = str(info.value)
    assert f"{path}: 1 problem(s) found" in text
    assert "(file): not valid JSON" in text and "line 1 column 13" in text


def test_truncated_json(tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(valid_gt(), indent=1)[:-40], encoding="utf-8")
    with pytest.raises(CocoError) as info:
        read_ground_truth(path)
    assert "(file): not valid JSON" in str(info.value)
    assert "truncated" in str(info.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_bytes(b'{\n  "info": "caf\xe9"}')
    with pytest.raises(CocoError) as info:
        read_ground_truth(path)
    assert "(file): not UTF-8 text: byte 0xe9 at line 2 column 15" in str(info.value)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(valid_gt()).encode())
    assert len(read_ground_truth(path).images) == 2


def test_empty_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("  \n", encoding="utf-8")
    with pytest.raises(CocoError, match="the file is empty"):
        read_ground_truth(path)
    with pytest.raises(CocoError, match=r"\(file\): cannot read the file"):
        read_ground_truth(tmp_path / "nope.json")
    with pytest.raises(CocoError, match=r"\(file\): cannot read the file"):
        read_predictions(tmp_path, SIZES, CATEGORY_IDS)


def test_deeply_nested_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(CocoError, match="(nested too deeply|must be a JSON object)"):
        read_ground_truth(path)


def test_top_level_not_object(tmp_path: Path) -> None:
    assert_gt_error(tmp_path, [1, 2], "top level", "must be a JSON object")


def test_missing_top_level_keys_reported_together(tmp_path: Path) -> None:
    err = assert_gt_error(tmp_path, {"info": {}}, "top level", 'missing required key "images"')
    text = str(err)
    assert 'missing required key "annotations"' in text
    assert 'missing required key "categories"' in text
    assert "3 problem(s) found" in text


def test_section_not_array(tmp_path: Path) -> None:
    data = valid_gt()
    data["annotations"] = {"1": {}}
    assert_gt_error(tmp_path, data, "top level", '"annotations" must be an array')


def test_records_not_objects(tmp_path: Path) -> None:
    data = valid_gt()
    data["images"].append("c.jpg")
    data["categories"].append(None)
    data["annotations"].append([1, 2])
    err = assert_gt_error(tmp_path, data, "images[2]", "image must be an object")
    assert "categories[2]: category must be an object, got null" in str(err)
    assert "annotations[2]: annotation must be an object, got an array" in str(err)


# ----------------------------------------------------------------------------- images, categories


@pytest.mark.parametrize(
    ("changes", "record", "reason"),
    [
        ({"id": ...}, "images[1].id", "missing required field"),
        ({"id": "2"}, "images[1].id", "id must be an integer, got a string '2'"),
        ({"id": 2.5}, "images[1].id", "id must be an integer, got a number 2.5"),
        ({"id": True}, "images[1].id", "id must be an integer, got a boolean True"),
        ({"id": 2**64}, "images[1].id", "does not fit in a 64-bit integer"),
        ({"file_name": ...}, "images[1] (id 2).file_name", "missing required field"),
        ({"file_name": 5}, "images[1] (id 2).file_name", "file_name must be a non-empty string"),
        ({"file_name": ""}, "images[1] (id 2).file_name", "file_name must be a non-empty string"),
        (
            {"width": ...},
            "images[1] (id 2).width",
            "no width (missing or null), and no image folder to read the size from",
        ),
        (
            {"width": 0},
            "images[1] (id 2).width",
            "width must be a positive integer, got an integer 0",
        ),
        ({"height": -5}, "images[1] (id 2).height", "height must be a positive integer"),
        ({"width": 60.0}, "images[1] (id 2).width", "width must be a positive integer"),
        ({"height": True}, "images[1] (id 2).height", "got a boolean True"),
        ({"width": "60"}, "images[1] (id 2).width", "got a string '60'"),
    ],
)
def test_image_fields(tmp_path: Path, changes: dict[str, Any], record: str, reason: str) -> None:
    assert_gt_error(tmp_path, with_image(**changes), record, reason)


def test_category_fields(tmp_path: Path) -> None:
    data = valid_gt()
    data["categories"] += [{"name": "x"}, {"id": "4", "name": "y"}, {"id": 5}, {"id": 6, "name": 1}]
    err = assert_gt_error(tmp_path, data, "categories[2].id", "missing required field")
    text = str(err)
    assert "categories[3].id: id must be an integer, got a string '4'" in text
    assert "categories[4] (id 5).name: missing required field" in text
    assert "categories[5] (id 6).name: name must be a string, got an integer 1" in text


def test_duplicate_ids(tmp_path: Path) -> None:
    data = valid_gt()
    data["images"].append({"id": 1, "file_name": "c.jpg", "width": 5, "height": 5})
    data["categories"].append({"id": 3, "name": "other"})
    data["annotations"].append({"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]})
    err = assert_gt_error(
        tmp_path, data, "images[2] (id 1).id", "duplicate id 1 (first used by images[0])"
    )
    text = str(err)
    assert "categories[2] (id 3).id: duplicate id 3 (first used by categories[1])" in text
    assert "annotations[2] (id 7).id: duplicate id 7 (first used by annotations[0])" in text


def test_duplicate_file_and_category_names_warn(tmp_path: Path) -> None:
    data = valid_gt()
    data["images"][1]["file_name"] = "a.jpg"
    data["categories"][1]["name"] = "cat"
    gt = read_ground_truth(write_json(tmp_path, data))
    records = {(w.record, w.severity) for w in gt.warnings}
    assert ("images[1] (id 2).file_name", "warning") in records
    assert ("categories[1] (id 3).name", "warning") in records


# ----------------------------------------------------------------------------- annotations


@pytest.mark.parametrize(
    ("changes", "record", "reason"),
    [
        ({"id": ...}, "annotations[0].id", "missing required field"),
        ({"id": "7"}, "annotations[0].id", "id must be an integer"),
        ({"image_id": ...}, "annotations[0] (id 7).image_id", "missing required field"),
        ({"image_id": 99}, "annotations[0] (id 7).image_id", "unknown image id 99"),
        ({"image_id": "1"}, "annotations[0] (id 7).image_id", "image id must be an integer"),
        ({"image_id": True}, "annotations[0] (id 7).image_id", "image id must be an integer"),
        ({"category_id": 2}, "annotations[0] (id 7).category_id", "unknown category id 2"),
        (
            {"category_id": 1.5},
            "annotations[0] (id 7).category_id",
            "category id must be an integer",
        ),
        ({"bbox": ...}, "annotations[0] (id 7).bbox", "missing required field"),
        ({"bbox": [1, 2, 3]}, "annotations[0] (id 7).bbox", "bbox must be 4 finite numbers"),
        ({"bbox": "1,2,3,4"}, "annotations[0] (id 7).bbox", "bbox must be 4 finite numbers"),
        (
            {"bbox": [1, 2, float("nan"), 4]},
            "annotations[0] (id 7).bbox",
            "got an array [1, 2, nan, 4]",
        ),
        ({"bbox": [1, 2, float("inf"), 4]}, "annotations[0] (id 7).bbox", "4 finite numbers"),
        ({"bbox": [True, 2, 3, 4]}, "annotations[0] (id 7).bbox", "4 finite numbers"),
        ({"bbox": [1, None, 3, 4]}, "annotations[0] (id 7).bbox", "4 finite numbers"),
        ({"bbox": [1, 2, -3, 4]}, "annotations[0] (id 7).bbox", "must not be negative"),
        ({"bbox": [1, 2, 3, -0.5]}, "annotations[0] (id 7).bbox", "must not be negative"),
        ({"bbox": [1e308, 2, 1e308, 4]}, "annotations[0] (id 7).bbox", "overflows to infinity"),
        ({"iscrowd": 2}, "annotations[0] (id 7).iscrowd", "iscrowd must be 0 or 1"),
        ({"iscrowd": "0"}, "annotations[0] (id 7).iscrowd", "iscrowd must be 0 or 1"),
        ({"area": -1}, "annotations[0] (id 7).area", "area must be a finite number >= 0"),
        ({"area": "600"}, "annotations[0] (id 7).area", "area must be a finite number >= 0"),
        # integers no 64-bit column can hold: an error naming the record, not a crash on import
        ({"bbox": [1, 2, 10**20, 4]}, "annotations[0] (id 7).bbox", "4 finite numbers"),
        ({"bbox": [1, 2, 10**400, 4]}, "annotations[0] (id 7).bbox", "4 finite numbers"),
        ({"area": 10**20}, "annotations[0] (id 7).area", "area must be a finite number >= 0"),
        ({"area": 10**400}, "annotations[0] (id 7).area", "area must be a finite number >= 0"),
    ],
)
def test_annotation_fields(
    tmp_path: Path, changes: dict[str, Any], record: str, reason: str
) -> None:
    assert_gt_error(tmp_path, with_annotation(**changes), record, reason)


def test_error_in_later_annotation_uses_its_index(tmp_path: Path) -> None:
    data = valid_gt()
    data["annotations"][1]["bbox"] = [1, 2, float("nan"), 4]
    err = gt_error(tmp_path, data)
    assert "annotations[1] (id 8).bbox: bbox must be 4 finite numbers" in str(err)
    assert str(err.problems[0]) == (
        f"{err.file}: annotations[1] (id 8).bbox: "
        "bbox must be 4 finite numbers [x, y, width, height], got an array [1, 2, nan, 4]"
    )


def test_optional_fields_may_be_absent(tmp_path: Path) -> None:
    data = with_annotation(iscrowd=..., area=..., segmentation=...)
    data["annotations"][1]["segmentation"] = []  # box-only exporters write an empty list
    assert read_ground_truth(write_json(tmp_path, data)).warnings == []


def test_huge_but_finite_coordinates_are_allowed_in_boxes(tmp_path: Path) -> None:
    gt = read_ground_truth(write_json(tmp_path, with_annotation(bbox=[1e308, 0, 1.0, 1.0])))
    assert [w.record for w in gt.warnings] == ["annotations[0] (id 7).bbox"]
    assert "outside the 200x100 image" in gt.warnings[0].reason


def test_zero_area_box_is_a_warning(tmp_path: Path) -> None:
    gt = read_ground_truth(write_json(tmp_path, with_annotation(bbox=[1, 2, 0, 4])))
    assert len(gt.warnings) == 1
    warning = gt.warnings[0]
    assert warning.severity == "warning" and warning.record == "annotations[0] (id 7).bbox"
    assert "zero-area box" in warning.reason
    assert str(warning).startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("bbox", "warns"),
    [
        ([-0.9, -1.0, 10, 10], False),
        ([190, 90, 11, 11], False),  # x2 = 201, y2 = 101: within 1 px
        ([-1.5, 0, 10, 10], True),
        ([0, -2, 10, 10], True),
        ([190, 0, 11.5, 10], True),
        ([0, 90, 10, 12], True),
    ],
)
def test_box_outside_image_warns(tmp_path: Path, bbox: list[float], warns: bool) -> None:
    gt = read_ground_truth(write_json(tmp_path, with_annotation(bbox=bbox)))
    reasons = [w.reason for w in gt.warnings if w.record == "annotations[0] (id 7).bbox"]
    assert bool(reasons) == warns
    if warns:
        assert "outside the 200x100 image" in reasons[0]


# ----------------------------------------------------------------------------- segmentation


@pytest.mark.parametrize(
    ("segmentation", "record", "reason"),
    [
        ([[1, 1, 5, 5]], ".segmentation[0]", "at least 3 points (6 numbers), got 4 numbers"),
        ([[1, 1, 5, 5, 9, 9, 3]], ".segmentation[0]", "odd number of coordinates (7)"),
        ([[1, 1, 5, float("nan"), 9, 9]], ".segmentation[0]", "finite numbers, got a number nan"),
        ([[1, 1, 5, 5, 9, "9"]], ".segmentation[0]", "finite numbers, got a string '9'"),
        ([[1, 1, 5, 5, 9, False]], ".segmentation[0]", "finite numbers, got a boolean False"),
        ([[1, 1, 5, 5, 9, 9], 3], ".segmentation[1]", "polygon must be an array of numbers"),
        ([1, 1, 5, 5, 9, 9], ".segmentation", "a flat list of numbers is not a COCO segmentation"),
        ("polygon", ".segmentation", "segmentation must be an array of polygons or an RLE"),
        (7, ".segmentation", "segmentation must be an array of polygons or an RLE"),
        ([[1, 1, 5, 5, 1e308, 9]], ".segmentation[0]", "far outside the 200x100 image"),
        ([[1, 1, 5, 5, -250, 9]], ".segmentation[0]", "far outside the 200x100 image"),
    ],
)
def test_polygon_errors(tmp_path: Path, segmentation: Any, record: str, reason: str) -> None:
    data = with_annotation(segmentation=segmentation)
    assert_gt_error(tmp_path, data, "annotations[0] (id 7)" + record, reason)


def test_polygon_errors_among_many_good_ones(tmp_path: Path) -> None:
    data = valid_gt()
    good = data["annotations"][0]
    data["annotations"] = [dict(good, id=100 + k) for k in range(300)]
    data["annotations"][123]["segmentation"] = [[1, 2, 3, 4, 5, 6], [1, 2, 3]]
    data["annotations"][200]["segmentation"] = [[1, 2, 3, 4, 5, float("inf")]]
    err = gt_error(tmp_path, data)
    assert [p.record for p in err.problems] == [
        "annotations[123] (id 223).segmentation[1]",
        "annotations[200] (id 300).segmentation[0]",
    ]


def test_crowd_polygon_is_allowed(tmp_path: Path) -> None:
    read_ground_truth(write_json(tmp_path, with_annotation(iscrowd=1)))


def test_valid_rle_masks(tmp_path: Path) -> None:
    data = with_annotation(iscrowd=1, segmentation=rle_of(crowd_mask()))
    data["annotations"].append(
        {
            "id": 9,
            "image_id": 1,
            "category_id": 1,
            "bbox": [10, 10, 189, 60],
            "iscrowd": 1,
            "segmentation": uncompressed_rle_of(crowd_mask()),
        }
    )
    gt = read_ground_truth(write_json(tmp_path, data))
    assert gt.annotations[0]["segmentation"] == data["annotations"][0]["segmentation"]


@pytest.mark.parametrize(
    ("mutate", "record", "reason"),
    [
        (lambda rle: rle.pop("size"), ".segmentation.size", "missing required field"),
        (lambda rle: rle.pop("counts"), ".segmentation.counts", "missing required field"),
        (lambda rle: rle.update(size=[200, 100]), ".segmentation.size", "differs from the image"),
        (lambda rle: rle.update(size=[100]), ".segmentation.size", "[height, width] integers"),
        (lambda rle: rle.update(size=[100.0, 200]), ".segmentation.size", "[height, width]"),
        (lambda rle: rle.update(counts=12), ".segmentation.counts", "must be a string"),
        (lambda rle: rle.update(counts=[5, -1]), ".segmentation.counts", "integers from 0"),
        (lambda rle: rle.update(counts=[5, True]), ".segmentation.counts", "integers from 0"),
        (lambda rle: rle.update(counts=[5, 7]), ".segmentation.counts", "cover 12 pixels"),
        (lambda rle: rle.update(counts="abc{"), ".segmentation.counts", "malformed"),
        (lambda rle: rle.update(counts="é0"), ".segmentation.counts", "malformed"),
        (lambda rle: rle.update(counts="1h"), ".segmentation.counts", "malformed"),  # unfinished
        (lambda rle: rle.update(counts="5"), ".segmentation.counts", "cover 5 pixels"),
    ],
)
def test_rle_errors(tmp_path: Path, mutate: Any, record: str, reason: str) -> None:
    rle = rle_of(crowd_mask())
    mutate(rle)
    data = with_annotation(iscrowd=1, segmentation=rle)
    assert_gt_error(tmp_path, data, "annotations[0] (id 7)" + record, reason)


def test_rle_string_totals_match_pycocotools() -> None:
    rng = np.random.default_rng(0)
    strings, expected = [], []
    for height, width in [(1, 1), (7, 3), (100, 200), (480, 640)]:
        for density in (0.0, 0.01, 0.5, 1.0):
            mask = rng.random((height, width)) < density
            strings.append(rle_of(mask)["counts"])
            expected.append(height * width)
    strings.append("")
    expected.append(0)
    totals, valid = rle_string_totals(strings)
    assert valid.all()
    assert totals.tolist() == expected
    totals, valid = rle_string_totals(["", "0", "1h", "a|", "5"])
    assert valid.tolist() == [True, True, False, False, True]
    assert totals[[0, 1, 4]].tolist() == [0, 0, 5]


def reference_rle_total(counts: str) -> int | None:
    """pycocotools' rleFrString, in Python: the pixel total, or None where the string is bad."""
    runs: list[int] = []
    p = 0
    while p < len(counts):
        x, k, more = 0, 0, True
        while more:
            if p >= len(counts):
                return None
            c = ord(counts[p]) - 48
            if not 0 <= c <= 63:
                return None
            x |= (c & 0x1F) << 5 * k
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << 5 * k
        if k > 12:
            return None
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    if any(not 0 <= run < 2**32 for run in runs):
        return None
    return sum(runs)


def test_rle_string_totals_agree_with_a_reference_decoder() -> None:
    rng = np.random.default_rng(1)
    alphabet = list("0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmno") + [
        "p",
        "/",
        "é",
    ]
    strings = ["".join(rng.choice(alphabet, size=rng.integers(0, 16))) for _ in range(5000)]
    real = [rle_of(rng.random((40, 30)) < d)["counts"] for d in (0.1, 0.5, 0.9)]
    strings += real + [r[: len(r) // 2] for r in real]
    totals, valid = rle_string_totals(strings)
    for counts, total, ok in zip(strings, totals.tolist(), valid.tolist(), strict=True):
        expected = reference_rle_total(counts)
        assert ok == (expected is not None), counts
        if ok:
            assert total == expected, counts
    assert valid.sum() > 300  # the random strings reach both outcomes


# ----------------------------------------------------------------------------- error cap


def test_error_cap_lists_50_and_counts_the_rest(tmp_path: Path) -> None:
    data = valid_gt()
    data["annotations"] = [
        {"id": k, "image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1]} for k in range(1, 71)
    ]
    err = gt_error(tmp_path, data)
    lines = str(err).splitlines()
    assert lines[0].endswith(": 70 problem(s) found")
    assert len(err.problems) == 50 and err.total == 70
    assert lines[1] == (
        "  annotations[0] (id 1).bbox: bbox width and height must not be negative, "
        "got [0, 0, -1, 1]"
    )
    assert lines[-1] == "  ... and 20 more"
    assert len(lines) == 52
    assert "Traceback" not in str(err)


def test_errors_from_all_sections_are_reported_together(tmp_path: Path) -> None:
    data = with_image(width=0)
    data["categories"][0]["name"] = None
    data["annotations"][1]["score"] = "ignored unknown key"
    data["annotations"][1]["category_id"] = 42
    err = gt_error(tmp_path, data)
    records = [p.record for p in err.problems]
    assert records == [
        "images[1] (id 2).width",
        "categories[0] (id 1).name",
        "annotations[1] (id 8).category_id",
    ]


# ----------------------------------------------------------------------------- image files


def make_images(folder: Path) -> None:
    folder.mkdir()
    Image.new("RGB", (200, 100)).save(folder / "a.jpg")
    Image.new("RGB", (61, 50)).save(folder / "b.jpg")


def test_check_images(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    make_images(folder)
    data = valid_gt()
    data["images"] += [
        {"id": 3, "file_name": "missing.jpg", "width": 5, "height": 5},
        {"id": 4, "file_name": "broken.jpg", "width": 5, "height": 5},
    ]
    (folder / "broken.jpg").write_bytes(b"not an image at all")
    path = write_json(tmp_path, data)
    gt = read_ground_truth(path, images_dir=folder)
    found = {w.record: w for w in gt.warnings}
    assert set(found) == {
        "images[1] (id 2)",
        "images[2] (id 3).file_name",
        "images[3] (id 4).file_name",
    }
    assert all(w.severity == "warning" and w.file == str(path) for w in gt.warnings)
    assert (
        "61x50 pixels but the record says width 60, height 50" in found["images[1] (id 2)"].reason
    )
    assert "image file not found" in found["images[2] (id 3).file_name"].reason
    assert "cannot be read" in found["images[3] (id 4).file_name"].reason


def test_check_images_missing_folder_and_odd_records(tmp_path: Path) -> None:
    images: list[Any] = [{"id": 1, "file_name": "a.jpg", "width": 1, "height": 1}, "junk", {}]
    warnings = check_images(images, tmp_path / "nowhere", "gt.json")
    assert [w.record for w in warnings] == ["(images folder)", "images[0] (id 1).file_name"]


def test_check_images_is_fast_when_files_are_missing(tmp_path: Path) -> None:
    import time

    images = [{"id": k, "file_name": f"{k}.jpg", "width": 1, "height": 1} for k in range(5000)]
    start = time.perf_counter()
    warnings = check_images(images, tmp_path, "gt.json")
    assert time.perf_counter() - start < 1.0
    assert [w.record for w in warnings] == ["(images folder)"]  # one sentence, not 5000
    assert warnings[0].reason.startswith(f"none of the 5000 images were found under {tmp_path}")
