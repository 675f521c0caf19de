"""Write the bad-input corpus: broken label and prediction files and odd image files.

``python tests/data/bad/make_corpus.py`` rewrites every file in this folder (deterministic; the
output is committed with this script). ``tests/test_bad_inputs.py`` says how each case must behave.

- ``good_gt.json``: a valid base dataset (2 images, 2 categories, 3 labels); the prediction cases
  are read against it.
- ``gt_*.json``: label files, each with one thing wrong (or odd but acceptable).
- ``pred_*.json``: prediction (results) files, each with one thing wrong.
- ``images/`` and ``images_gt.json``: odd image files and the labels that point at them.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
W, H = 40, 30  # every small image is 40x30 pixels as stored


# ----------------------------------------------------------------------------- labels


def good_gt() -> dict[str, Any]:
    """A small valid dataset: 2 images, 2 categories, a polygon label and two box labels."""
    return {
        "info": {"description": "bad-input corpus base"},
        "images": [
            {"id": 1, "file_name": "ok.jpg", "width": W, "height": H},
            {"id": 2, "file_name": "ok.png", "width": W, "height": H},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [2, 3, 10, 8],
                "area": 80,
                "iscrowd": 0,
                "segmentation": [[2, 3, 12, 3, 12, 11, 2, 11]],
            },
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [20, 5, 10, 10], "area": 100},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25},
        ],
    }


def _gt_with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = good_gt()
    change(data)
    return data


def _ann(data: dict[str, Any], i: int) -> dict[str, Any]:
    return data["annotations"][i]


def _rle_counts(mask: np.ndarray) -> list[int]:
    flat = mask.flatten(order="F").astype(np.int8)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def label_cases() -> dict[str, Any]:
    """File name -> the JSON value to write (a str/bytes value is written as is)."""
    good_text = json.dumps(good_gt(), indent=1)
    square = np.zeros((H, W), dtype=np.uint8)
    square[5:10, 5:10] = 1
    rle = {"size": [H, W], "counts": _rle_counts(square)}

    def set_(path: tuple, value: Any) -> Callable[[dict[str, Any]], None]:
        def change(data: dict[str, Any]) -> None:
            target = data
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value

        return change

    def add_ann(**fields: Any) -> Callable[[dict[str, Any]], None]:
        def change(data: dict[str, Any]) -> None:
            ann = {"id": 9, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4], "area": 16}
            ann.update(fields)
            data["annotations"].append(ann)

        return change

    cases: dict[str, Any] = {
        "good_gt.json": good_gt(),
        "gt_truncated.json": good_text[: len(good_text) // 2].encode(),
        "gt_not_utf8.json": good_text.replace('"ok.png"', '"caf\xe9.png"').encode("latin-1"),
        "gt_empty.json": b"",
        "gt_utf8_bom.json": b"\xef\xbb\xbf" + good_text.encode(),
        "gt_top_level_array.json": [good_gt()],
        "gt_missing_annotations.json": _gt_with(lambda d: d.pop("annotations")),
        "gt_deep_nesting.json": ("[" * 3000 + "]" * 3000).encode(),
        "gt_string_image_id.json": _gt_with(set_(("images", 0, "id"), "1")),
        "gt_bool_category_id.json": _gt_with(set_(("categories", 1, "id"), True)),
        "gt_id_too_big.json": _gt_with(set_(("annotations", 2, "id"), 2**70)),
        "gt_bbox_object.json": _gt_with(
            set_(("annotations", 1, "bbox"), {"x": 20, "y": 5, "w": 10, "h": 10})
        ),
        "gt_bbox_three_numbers.json": _gt_with(set_(("annotations", 1, "bbox"), [20, 5, 10])),
        "gt_bbox_negative_width.json": _gt_with(set_(("annotations", 1, "bbox"), [20, 5, -10, 10])),
        "gt_nan_bbox.json": _gt_with(set_(("annotations", 1, "bbox"), [20, 5, float("nan"), 10])),
        "gt_infinity_area.json": _gt_with(set_(("annotations", 1, "area"), float("inf"))),
        "gt_1e308_bbox.json": _gt_with(set_(("annotations", 1, "bbox"), [1e308, 5, 1e308, 10])),
        "gt_1e308_polygon.json": _gt_with(
            set_(("annotations", 0, "segmentation"), [[2, 3, 1e308, 3, 12, 11]])
        ),
        "gt_string_width.json": _gt_with(set_(("images", 1, "width"), "40")),
        "gt_zero_height.json": _gt_with(set_(("images", 1, "height"), 0)),
        "gt_iscrowd_2.json": _gt_with(set_(("annotations", 1, "iscrowd"), 2)),
        "gt_category_name_null.json": _gt_with(set_(("categories", 0, "name"), None)),
        "gt_duplicate_annotation_id.json": _gt_with(set_(("annotations", 2, "id"), 1)),
        "gt_duplicate_image_id.json": _gt_with(set_(("images", 1, "id"), 1)),
        "gt_dangling_image_id.json": _gt_with(set_(("annotations", 2, "image_id"), 99)),
        "gt_dangling_category_id.json": _gt_with(set_(("annotations", 1, "category_id"), 5)),
        "gt_polygon_two_points.json": _gt_with(
            set_(("annotations", 0, "segmentation"), [[2, 3, 12, 3]])
        ),
        "gt_polygon_odd_count.json": _gt_with(
            set_(("annotations", 0, "segmentation"), [[2, 3, 12, 3, 12, 11, 2]])
        ),
        "gt_polygon_flat.json": _gt_with(
            set_(("annotations", 0, "segmentation"), [2, 3, 12, 3, 12, 11, 2, 11])
        ),
        "gt_polygon_strings.json": _gt_with(
            set_(("annotations", 0, "segmentation"), [["2", "3", "12", "3", "12", "11"]])
        ),
        "gt_rle_wrong_size.json": _gt_with(
            add_ann(segmentation={"size": [H + 1, W], "counts": rle["counts"]}, iscrowd=1)
        ),
        "gt_rle_counts_short.json": _gt_with(
            add_ann(segmentation={"size": [H, W], "counts": rle["counts"][:-1]}, iscrowd=1)
        ),
        "gt_rle_string_malformed.json": _gt_with(
            add_ann(segmentation={"size": [H, W], "counts": "ab!c"}, iscrowd=1)
        ),
        "gt_rle_no_counts.json": _gt_with(add_ann(segmentation={"size": [H, W]}, iscrowd=1)),
        # odd but accepted: a warning or nothing
        "gt_zero_area_box.json": _gt_with(set_(("annotations", 1, "bbox"), [20, 5, 0, 10])),
        "gt_box_outside_image.json": _gt_with(set_(("annotations", 1, "bbox"), [35, 5, 20, 10])),
        "gt_self_intersecting_polygon.json": _gt_with(
            set_(
                ("annotations", 0, "segmentation"),
                [[2, 3, 12, 11, 12, 3, 2, 11]],  # a bow tie: two triangles crossing at (7, 7)
            )
        ),
        "gt_rle_ok.json": _gt_with(add_ann(segmentation=rle, iscrowd=1)),
    }
    return cases


def prediction_cases() -> dict[str, Any]:
    """Prediction files, read against good_gt.json."""

    def pred(**fields: Any) -> dict[str, Any]:
        record = {"image_id": 1, "category_id": 1, "bbox": [2.0, 3.0, 10.0, 8.0], "score": 0.9}
        record.update(fields)
        return record

    ok = [pred(), pred(image_id=2, category_id=2, score=0.4)]
    no_geometry = pred()
    del no_geometry["bbox"]
    return {
        "pred_ok.json": ok,
        "pred_truncated.json": json.dumps(ok)[:-7].encode(),
        "pred_is_ground_truth.json": good_gt(),
        "pred_score_string.json": [pred(score="0.9")],
        "pred_score_above_one.json": [pred(), pred(score=1.5)],
        "pred_unknown_image.json": [pred(), pred(image_id=77)],
        "pred_unknown_category.json": [pred(category_id=3)],
        "pred_no_geometry.json": [pred(), no_geometry],
        "pred_nan_bbox.json": [pred(bbox=[1.0, float("nan"), 3.0, 4.0])],
        "pred_rle_wrong_size.json": [
            pred(segmentation={"size": [10, 10], "counts": "PP"}, bbox=[0, 0, 1, 1])
        ],
    }


# ----------------------------------------------------------------------------- images


def _photo(width: int = W, height: int = H) -> np.ndarray:
    """A small RGB test picture: a gradient with a bright square (top-left marks orientation)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 128)], axis=-1)
    rgb[2:8, 2:8] = 255
    return rgb.astype(np.uint8)


def _jpeg(image: Image.Image, **kw: Any) -> bytes:
    buf = BytesIO()
    image.save(buf, "JPEG", quality=70, **kw)
    return buf.getvalue()


def _truncated(jpeg: bytes) -> bytes:
    """The JPEG cut halfway through its compressed data (its header stays intact)."""
    scan = jpeg.rindex(b"\xff\xda")
    return jpeg[: scan + (len(jpeg) - scan) // 2]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height RGB pixels (the data stops after one row)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\0" * (1 + 3 * 16))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def bomb_jpeg(width: int, height: int) -> bytes:
    """A small valid JPEG with its frame header (SOF0) patched to claim width x height."""
    data = bytearray(_jpeg(Image.fromarray(_photo(16, 16))))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def image_cases() -> dict[str, tuple[bytes, int, int]]:
    """Image file name -> (file bytes, width and height its label record claims)."""
    photo = _photo()
    rgb = Image.fromarray(photo)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    ok_jpeg = _jpeg(rgb)
    buf = BytesIO()
    rgb.save(buf, "PNG")
    ok_png = buf.getvalue()
    rgba = np.dstack([photo, np.tile(np.linspace(0, 255, W, dtype=np.uint8), (H, 1))])
    buf = BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    alpha_png = buf.getvalue()
    gray16 = (np.mgrid[0:H, 0:W][1] * 65535 // W).astype(np.uint16)
    buf = BytesIO()
    Image.fromarray(gray16).save(buf, "PNG")
    gray16_png = buf.getvalue()
    ok, rgb16 = cv2.imencode(".png", photo[..., ::-1].astype(np.uint16) * 257)
    assert ok
    buf = BytesIO()
    rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(buf, "PNG")
    palette_png = buf.getvalue()
    return {
        "ok.jpg": (ok_jpeg, W, H),
        "ok.png": (ok_png, W, H),
        "empty.jpg": (b"", W, H),
        "corrupt.jpg": (b"\xff\xd8\xff\xe0" + bytes(range(256)) * 2, W, H),
        "truncated.jpg": (_truncated(ok_jpeg), W, H),
        "not_an_image.png": (b"this is a text file, not a PNG\n", W, H),
        "alpha.png": (alpha_png, W, H),
        "gray16.png": (gray16_png, W, H),
        "rgb16.png": (rgb16.tobytes(), W, H),
        "palette.png": (palette_png, W, H),
        "gray.jpg": (_jpeg(rgb.convert("L")), W, H),
        "cmyk.jpg": (_jpeg(rgb.convert("CMYK")), W, H),
        "exif_rotated.jpg": (_jpeg(rgb, exif=exif.tobytes()), W, H),
        "exif_rotated_swapped.jpg": (_jpeg(rgb, exif=exif.tobytes()), H, W),
        "wrong_size.jpg": (ok_jpeg, W + 10, H),
        "bomb.png": (bomb_png(50_000, 50_000), 50_000, 50_000),
        "bomb.jpg": (bomb_jpeg(50_000, 50_000), 50_000, 50_000),
        "with space.jpg": (ok_jpeg, W, H),
        "ünïcødé 名前.jpg": (ok_jpeg, W, H),
    }


def images_gt(cases: dict[str, tuple[bytes, int, int]]) -> dict[str, Any]:
    """Labels over every image case plus one image whose file is missing."""
    names = [*cases, "missing.jpg"]
    images = []
    annotations = []
    for i, name in enumerate(names, start=1):
        width, height = cases.get(name, (b"", W, H))[1:]
        images.append({"id": i, "file_name": name, "width": width, "height": height})
        annotations.append(
            {"id": i, "image_id": i, "category_id": 1, "bbox": [2, 2, 6, 6], "area": 36}
        )
    return {"images": images, "categories": [{"id": 1, "name": "cat"}], "annotations": annotations}


def images_predictions(gt: dict[str, Any]) -> list[dict[str, Any]]:
    """One matching prediction per image (so the image corpus can be analysed)."""
    return [
        {"image_id": a["image_id"], "category_id": 1, "bbox": [2.0, 2.0, 6.0, 6.0], "score": 0.8}
        for a in gt["annotations"]
    ]


# ----------------------------------------------------------------------------- writing


def _write(path: Path, value: Any) -> None:
    if isinstance(value, bytes):
        path.write_bytes(value)
    else:
        path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    """Rewrite the whole corpus."""
    IMAGES.mkdir(exist_ok=True)
    for old in IMAGES.iterdir():
        old.unlink()
    for name, value in {**label_cases(), **prediction_cases()}.items():
        _write(HERE / name, value)
    cases = image_cases()
    for name, (data, _, _) in cases.items():
        (IMAGES / name).write_bytes(data)
    gt = images_gt(cases)
    _write(HERE / "images_gt.json", gt)
    _write(HERE / "images_pred.json", images_predictions(gt))
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"wrote the corpus: {total / 1024:.1f} kB")


if __name__ == "__main__":
    main()
