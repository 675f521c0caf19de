"""Write the exporter-shaped COCO files of tests/data/exporters (run from anywhere).

Every file here was written by us, by this script: small datasets in the *shape* that a public
exporter writes (its keys, value types and quirks), with made-up labels on three tiny images
drawn below. No exporter output or other project's data is copied; README.md names which tool
and version each file mirrors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
IMAGES = {  # file name -> (width, height)
    "street_1.jpg": (64, 48),
    "street_2.jpg": (80, 60),
    "street_3.jpg": (96, 72),
}


def draw_images() -> None:
    """Three small JPEGs with a few coloured shapes (something to look at in the app)."""
    (HERE / "images").mkdir(exist_ok=True)
    for k, (name, (w, h)) in enumerate(IMAGES.items()):
        image = Image.new("RGB", (w, h), (90 + 40 * k, 120, 150))
        pen = ImageDraw.Draw(image)
        pen.rectangle([4, 6, 24, 21], fill=(200, 40, 40))
        pen.ellipse([w // 2, h // 3, w // 2 + 18, h // 3 + 14], fill=(40, 180, 60))
        pen.polygon([(30, 40), (44, 30), (52, 44)], fill=(230, 210, 40))
        image.save(HERE / "images" / name, "JPEG", quality=85)


def box_polygon(x: float, y: float, w: float, h: float) -> list[float]:
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def cvat() -> dict[str, Any]:
    """CVAT "COCO 1.0" export (CVAT 2.x, written through Datumaro's COCO converter)."""
    return {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {
            "contributor": "",
            "date_created": "",
            "description": "",
            "url": "",
            "version": "",
            "year": "",
        },
        "categories": [
            {"id": 1, "name": "car", "supercategory": ""},
            {"id": 2, "name": "person", "supercategory": ""},
            {"id": 3, "name": "sign", "supercategory": ""},
        ],
        "images": [
            {
                "id": k + 1,
                "width": w,
                "height": h,
                "file_name": name,
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": 0,
            }
            for k, (name, (w, h)) in enumerate(IMAGES.items())
        ],
        "annotations": [
            {  # a rectangle: empty segmentation, float area and bbox
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": [],
                "area": 300.0,
                "bbox": [4.0, 6.0, 20.0, 15.0],
                "iscrowd": 0,
                "attributes": {"occluded": False, "rotation": 0.0},
            },
            {  # a polygon
                "id": 2,
                "image_id": 1,
                "category_id": 3,
                "segmentation": [[30.0, 40.0, 44.0, 30.0, 52.0, 44.0]],
                "area": 133.0,
                "bbox": [30.0, 30.0, 22.0, 14.0],
                "iscrowd": 0,
                "attributes": {"occluded": True},
            },
            {  # is_crowd checked: an uncompressed RLE mask (two runs of 6 pixels)
                "id": 3,
                "image_id": 2,
                "category_id": 2,
                "segmentation": {"counts": [130, 6, 54, 6, 4604], "size": [60, 80]},
                "area": 12.0,
                "bbox": [2.0, 10.0, 2.0, 6.0],
                "iscrowd": 1,
                "attributes": {"occluded": False},
            },
            {
                "id": 4,
                "image_id": 2,
                "category_id": 1,
                "segmentation": [],
                "area": 270.5,
                "bbox": [40.5, 20.0, 21.0, 13.0],
                "iscrowd": 0,
                "attributes": {"occluded": False, "rotation": 0.0, "color": "red"},
            },
        ],
    }


def roboflow() -> dict[str, Any]:
    """Roboflow "COCO JSON" export (``_annotations.coco.json``): ids from 0, a first category
    named after the dataset, box labels with ``"segmentation": []``, an ``extra`` image key."""
    images = []
    for k, (name, (w, h)) in enumerate(IMAGES.items()):
        images.append(
            {
                "id": k,
                "license": 1,
                "file_name": name,
                "height": h,
                "width": w,
                "date_captured": "2024-05-02T09:30:00+00:00",
                "extra": {"name": name},
            }
        )
    return {
        "info": {
            "year": "2024",
            "version": "2",
            "description": "Exported from roboflow.com",
            "contributor": "",
            "url": "https://public.roboflow.com/object-detection/streets",
            "date_created": "2024-05-02T09:30:00+00:00",
        },
        "licenses": [
            {"id": 1, "url": "https://creativecommons.org/licenses/by/4.0/", "name": "CC BY 4.0"}
        ],
        "categories": [
            {"id": 0, "name": "streets", "supercategory": "none"},
            {"id": 1, "name": "car", "supercategory": "streets"},
            {"id": 2, "name": "person", "supercategory": "streets"},
        ],
        "images": images,
        "annotations": [
            {
                "id": 0,
                "image_id": 0,
                "category_id": 1,
                "bbox": [4, 6, 20, 15],
                "area": 300,
                "segmentation": [],
                "iscrowd": 0,
            },
            {
                "id": 1,
                "image_id": 0,
                "category_id": 2,
                "bbox": [32, 16, 18, 14],
                "area": 252,
                "segmentation": [],
                "iscrowd": 0,
            },
            {
                "id": 2,
                "image_id": 1,
                "category_id": 1,
                "bbox": [40, 20, 21.5, 13],
                "area": 279.5,
                "segmentation": [],
                "iscrowd": 0,
            },
        ],
    }


def labelme2coco() -> dict[str, Any]:
    """labelme2coco 0.2 (its Coco class from sahi): every category's supercategory is null,
    integer boxes, polygon segmentations with float vertices, area from the polygon."""
    return {
        "images": [
            {"height": h, "width": w, "id": k + 1, "file_name": name}
            for k, (name, (w, h)) in enumerate(IMAGES.items())
        ],
        "annotations": [
            {
                "iscrowd": 0,
                "image_id": 1,
                "bbox": [30, 30, 22, 14],
                "segmentation": [[30.0, 40.0, 44.0, 30.0, 52.0, 44.0]],
                "category_id": 1,
                "id": 1,
                "area": 126,
            },
            {
                "iscrowd": 0,
                "image_id": 3,
                "bbox": [48, 24, 18, 14],
                "segmentation": [[48.0, 24.0, 66.0, 24.0, 66.0, 38.0, 57.0, 38.0, 48.0, 31.5]],
                "category_id": 2,
                "id": 2,
                "area": 220,
            },
        ],
        "categories": [
            {"id": 1, "name": "sign", "supercategory": None},
            {"id": 2, "name": "ball", "supercategory": None},
        ],
    }


def coco_annotator() -> dict[str, Any]:
    """COCO Annotator (jsbroks/coco-annotator 0.11) export: iscrowd as a JSON boolean, a box
    label with ``"segmentation": [[]]``, ``isbbox`` / ``color`` / ``metadata`` keys."""
    return {
        "images": [
            {
                "id": k + 1,
                "dataset_id": 1,
                "category_ids": [],
                "path": f"/datasets/streets/{name}",
                "width": w,
                "height": h,
                "file_name": name,
                "annotated": True,
                "metadata": {},
                "deleted": False,
            }
            for k, (name, (w, h)) in enumerate(IMAGES.items())
        ],
        "categories": [
            {
                "id": 1,
                "name": "car",
                "supercategory": "",
                "color": "#1bd838",
                "metadata": {},
                "keypoint_colors": [],
            },
            {
                "id": 2,
                "name": "sign",
                "supercategory": "",
                "color": "#e3a51b",
                "metadata": {},
                "keypoint_colors": [],
            },
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": [box_polygon(4, 6, 20, 15)],
                "area": 300,
                "bbox": [4, 6, 20, 15],
                "iscrowd": False,
                "isbbox": True,
                "color": "#1bd838",
                "keypoints": [],
                "metadata": {},
            },
            {
                "id": 2,
                "image_id": 1,
                "category_id": 2,
                "segmentation": [[30, 40, 44, 30, 52, 44]],
                "area": 126,
                "bbox": [30, 30, 22, 14],
                "iscrowd": False,
                "isbbox": False,
                "color": "#e3a51b",
                "keypoints": [],
                "metadata": {},
            },
            {
                "id": 3,
                "image_id": 2,
                "category_id": 1,
                "segmentation": [[]],
                "area": 273,
                "bbox": [40, 20, 21, 13],
                "iscrowd": False,
                "isbbox": True,
                "color": "#1bd838",
                "keypoints": [],
                "metadata": {},
            },
            {
                "id": 4,
                "image_id": 3,
                "category_id": 1,
                "segmentation": {"counts": [200, 10, 62, 10, 6630], "size": [72, 96]},
                "area": 20,
                "bbox": [2, 56, 2, 10],
                "iscrowd": True,
                "isbbox": False,
                "color": "#1bd838",
                "keypoints": [],
                "metadata": {},
            },
        ],
    }


def pandas_floats() -> dict[str, Any]:
    """Ground truth built with pandas (``DataFrame.to_dict("records")`` of columns that held a
    missing value): every id is a whole-number float."""
    return {
        "images": [
            {"id": float(k + 1), "file_name": name, "width": w, "height": h}
            for k, (name, (w, h)) in enumerate(IMAGES.items())
        ],
        "categories": [{"id": 1.0, "name": "car"}, {"id": 2.0, "name": "person"}],
        "annotations": [
            {
                "id": 1.0,
                "image_id": 1.0,
                "category_id": 1.0,
                "bbox": [4.0, 6.0, 20.0, 15.0],
                "area": 300.0,
                "iscrowd": 0,
            },
            {
                "id": 2.0,
                "image_id": 2.0,
                "category_id": 2.0,
                "bbox": [40.0, 20.0, 21.0, 13.0],
                "area": 273.0,
                "iscrowd": 0,
            },
        ],
    }


def eval_script_gt() -> dict[str, Any]:
    """Ground truth assembled in an evaluation script for pycocotools' bbox COCOeval: images
    with no width and height (or null), box labels with ``"segmentation": null``, a polygon
    label with an empty part beside its real one (a mask-to-polygon step that dropped a tiny
    contour)."""
    names = list(IMAGES)
    return {
        "images": [
            {"id": 1, "file_name": names[0]},
            {"id": 2, "file_name": names[1], "width": None, "height": None},
            {"id": 3, "file_name": names[2], "width": 96, "height": 72},
        ],
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "sign"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [4, 6, 20, 15],
                "area": 300,
                "iscrowd": 0,
                "segmentation": None,
            },
            {
                "id": 2,
                "image_id": 1,
                "category_id": 2,
                "bbox": [30, 30, 22, 14],
                "area": 126,
                "iscrowd": 0,
                "segmentation": [[], [30, 40, 44, 30, 52, 44]],
            },
            {
                "id": 3,
                "image_id": 2,
                "category_id": 1,
                "bbox": [40, 20, 21, 13],
                "area": 273,
                "iscrowd": 0,
                "segmentation": None,
            },
            {
                "id": 4,
                "image_id": 3,
                "category_id": 1,
                "bbox": [4, 6, 20, 15],
                "area": 300,
                "iscrowd": 0,
            },
        ],
    }


def sahi_predictions() -> list[dict[str, Any]]:
    """sahi 0.11 ``predict(..., export_format="coco")`` results of a box-only model: each
    record has ``"segmentation": []`` beside its bbox, plus category_name, iscrowd and area.
    The image and category ids are the CVAT file's."""
    rows = [
        (1, 1, [4.2, 6.1, 19.5, 15.3], 0.91),
        (1, 3, [30.4, 30.2, 21.0, 13.6], 0.72),
        (1, 2, [33.0, 15.0, 17.0, 15.0], 0.64),  # a person nobody labelled
        (2, 1, [40.0, 19.0, 22.0, 14.0], 0.88),
        (2, 2, [3.0, 9.0, 3.0, 7.0], 0.31),
        (3, 3, [48.0, 24.0, 18.0, 14.0], 0.58),
    ]
    names = {1: "car", 2: "person", 3: "sign"}
    return [
        {
            "image_id": image_id,
            "bbox": bbox,
            "score": score,
            "category_id": category_id,
            "category_name": names[category_id],
            "segmentation": [],
            "iscrowd": 0,
            "area": round(bbox[2] * bbox[3], 2),
        }
        for image_id, category_id, bbox, score in rows
    ]


FILES = {
    "cvat_coco_1_0.json": cvat,
    "roboflow_coco.json": roboflow,
    "labelme2coco.json": labelme2coco,
    "coco_annotator.json": coco_annotator,
    "pandas_float_ids.json": pandas_floats,
    "eval_script_gt.json": eval_script_gt,
    "sahi_predictions.json": sahi_predictions,
}


def main() -> None:
    """Write every file (images included)."""
    draw_images()
    for name, make in FILES.items():
        (HERE / name).write_text(json.dumps(make(), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
