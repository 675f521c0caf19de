"""Mapping model classes to dataset categories by name; classes files."""

from __future__ import annotations

import pytest

from labelfix.core.predict.classes import ClassesError, map_classes, normalize, read_classes_file

VOC = [
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
]
COCO_CATS = {
    1: "person",
    2: "bicycle",
    3: "car",
    4: "motorcycle",
    5: "airplane",
    44: "bottle",
    62: "chair",
    63: "couch",
    64: "potted plant",
    67: "dining table",
    72: "tv",
    90: "toothbrush",
}


def test_normalize_ignores_case_spaces_underscores_hyphens():
    assert (
        normalize(" Dining_Table ")
        == normalize("dining-table")
        == normalize("diningtable")
        == "diningtable"
    )


def test_voc_names_map_to_coco_categories_by_name_and_synonym():
    mapping = map_classes(dict(enumerate(VOC)), COCO_CATS)
    by_name = {VOC[k]: (c, mapping.how[k]) for k, c in mapping.to_category.items()}
    assert by_name["aeroplane"] == (5, "synonym")
    assert by_name["motorbike"] == (4, "synonym")
    assert by_name["tvmonitor"] == (72, "synonym")
    assert by_name["sofa"] == (63, "synonym")
    assert by_name["diningtable"] == (67, "name")
    assert by_name["pottedplant"] == (64, "name")
    assert by_name["person"] == (1, "name")
    assert "sheep" in mapping.unmapped and "horse" in mapping.unmapped
    assert mapping.unused_categories == ("toothbrush",)
    assert "11 of 20 model classes map" in mapping.summary() and "sheep" in mapping.summary()


def test_chosen_mapping_overrides_and_drops():
    mapping = map_classes(
        {0: "person", 1: "rider"}, {1: "person", 2: "cyclist"}, chosen={1: 2, 0: None}
    )
    assert mapping.to_category == {1: 2} and mapping.how == {1: "chosen"}


def test_chosen_mapping_to_a_missing_category_is_an_error():
    with pytest.raises(ClassesError, match="mapped to category 9"):
        map_classes({0: "person"}, {1: "person"}, chosen={0: 9})


def test_no_match_is_an_error_that_says_so():
    with pytest.raises(
        ClassesError, match=r"no class of m.onnx matches a dataset category .*give a classes file"
    ):
        map_classes({0: "cat", 1: "dog"}, {1: "crack", 2: "dent"}, source="m.onnx")


def test_background_and_na_are_not_classes():
    mapping = map_classes({0: "__background__", 1: "person", 12: "N/A"}, {1: "person"})
    assert mapping.to_category == {1: 1} and mapping.unmapped == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("person\ncar\n\n", {0: "person", 1: "car"}),
        ('["person", "car"]', {0: "person", 1: "car"}),
        ('{"0": "person", "5": "car"}', {0: "person", 5: "car"}),
        ("\ufeffperson\r\ncar", {0: "person", 1: "car"}),
    ],
)
def test_classes_file_formats(tmp_path, text, expected):
    path = tmp_path / "classes.txt"
    path.write_text(text, encoding="utf-8")
    assert read_classes_file(path) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2", r"bad.json: not valid JSON"),
        ('{"a": "person"}', r"bad.json: a JSON object of classes needs integer keys"),
        ('["person", 3]', r"bad.json: class 1 has no name"),
        ("\n\n", r"bad.json: the classes file lists no class"),
    ],
)
def test_bad_classes_files(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ClassesError, match=message):
        read_classes_file(path)


def test_missing_classes_file(tmp_path):
    with pytest.raises(ClassesError, match="nope.txt: cannot read the classes file"):
        read_classes_file(tmp_path / "nope.txt")
