"""Property tests: whatever a file holds, the COCO reader succeeds or raises CocoError only."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelfix.core.coco import CocoError, read_ground_truth, read_predictions

SIZES = {1: (100, 200), 2: (50, 60)}
CATEGORY_IDS = {1, 3}
SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

KEYS = st.sampled_from(
    [
        "id",
        "image_id",
        "category_id",
        "bbox",
        "segmentation",
        "score",
        "size",
        "counts",
        "iscrowd",
        "area",
        "width",
        "height",
        "file_name",
        "name",
        "images",
        "annotations",
        "categories",
        "x",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, -1, 3, 6, 100, 200, 1e308, -1e308, 0.5]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["", "0", "PP", "1h", "a|", "~", "é"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=8),
        st.dictionaries(st.one_of(KEYS, st.text(max_size=4)), inner, max_size=6),
    ),
    max_leaves=30,
)


def valid_gt() -> dict[str, Any]:
    return {
        "info": {"v": 1},
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 200, "height": 100},
            {"id": 2, "file_name": "b.jpg", "width": 60, "height": 50},
        ],
        "annotations": [
            {
                "id": 7,
                "image_id": 1,
                "category_id": 1,
                "bbox": [10, 10, 20, 30],
                "iscrowd": 0,
                "area": 600,
                "segmentation": [[10, 10, 30, 10, 30, 40, 10, 40]],
            },
            {
                "id": 8,
                "image_id": 2,
                "category_id": 3,
                "bbox": [0, 0, 60, 50],
                "iscrowd": 1,
                "segmentation": {"size": [50, 60], "counts": [0, 3000]},
            },
            {
                "id": 9,
                "image_id": 2,
                "category_id": 3,
                "bbox": [0, 0, 1, 1],
                "iscrowd": 1,
                "segmentation": {
                    "size": [50, 60],
                    "counts": "i??S10000000000000000000000000000000000000g^1",
                },
            },
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}],
    }


def valid_predictions() -> list[dict[str, Any]]:
    return [
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
        {
            "image_id": 2,
            "category_id": 3,
            "score": 0.25,
            "segmentation": {
                "size": [50, 60],
                "counts": "i??S10000000000000000000000000000000000000g^1",
            },
        },
        {"image_id": 2, "category_id": 3, "score": 1, "segmentation": [[1, 1, 20, 1, 20, 30]]},
        {
            "image_id": 1,
            "category_id": 1,
            "score": 0.0,
            "segmentation": {"size": [100, 200], "counts": [0, 20000]},
        },
    ]


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indices) to a value inside a JSON-like tree, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths_of(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_of(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """base with one to three random edits: replace a value, delete it, or add a key."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(data)))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            if action == "replace":
                data = draw(JSON_VALUES)
            continue
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(KEYS)] = draw(JSON_VALUES)
    return data


def read_both(tmp_path: Path, data: Any) -> None:
    """Read data as ground truth and as predictions; only CocoError may escape."""
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    for read in (
        lambda: read_ground_truth(path),
        lambda: read_predictions(path, SIZES, CATEGORY_IDS),
    ):
        try:
            read()
        except CocoError as err:
            assert err.problems and str(err).startswith(str(path))


def test_the_bases_are_valid(tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(valid_gt()), encoding="utf-8")
    read_ground_truth(path)
    path.write_text(json.dumps(valid_predictions()), encoding="utf-8")
    assert read_predictions(path, SIZES, CATEGORY_IDS).has_segmentation is False


@SETTINGS
@given(data=JSON_VALUES)
def test_random_json_values(tmp_path: Path, data: Any) -> None:
    read_both(tmp_path, data)


@SETTINGS
@given(data=st.one_of(mutated(valid_gt()), mutated(valid_predictions())))
def test_mutated_files(tmp_path: Path, data: Any) -> None:
    read_both(tmp_path, data)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=64))
def test_random_bytes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(raw)
    with contextlib.suppress(CocoError):
        read_ground_truth(path)


@SETTINGS
@given(data=mutated(valid_gt()))
def test_mutated_files_with_an_image_folder(tmp_path: Path, data: Any) -> None:
    """Odd file names and sizes only ever give image warnings (the folder holds a.jpg only)."""
    from PIL import Image

    if not (tmp_path / "a.jpg").exists():
        Image.new("RGB", (200, 100)).save(tmp_path / "a.jpg")
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        gt = read_ground_truth(path, tmp_path)
    except CocoError as err:
        assert err.problems and str(err).startswith(str(path))
    else:
        assert all(w.severity == "warning" for w in gt.warnings)
