"""A small dataset with real image files, and models to run on it, for the project-level
predict tests (core, CLI and the desktop dialog)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from onnx_models import constant_model, image_dependent_model, ultralytics_metadata
from PIL import Image

NAMES = {0: "person", 1: "bicycle", 2: "car"}
CATEGORIES = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 7, "name": "dog"}]
SIZES = [(640, 480), (480, 640), (320, 240), (800, 600), (640, 640)]
# letterbox xywh (centre) of the head's anchors, their class and base score
ANCHORS = [
    ((320, 320, 100, 50), 0, 0.55),  # person: on the person label
    ((200, 250, 80, 80), 2, 0.35),  # car: on the car label, but its class is person -> wrong_class
    ((450, 400, 60, 60), 0, 0.6),  # person: no label -> missing_label
    ((100, 320, 50, 50), 1, 0.9),  # bicycle: no such category, dropped
]


def to_image(box: tuple[float, float, float, float], w: int, h: int) -> list[float]:
    """A letterbox xywh-centre box as COCO xywh on a w x h image (Ultralytics' centred letterbox)."""
    r = min(640 / w, 640 / h)
    pad_x, pad_y = (640 - round(w * r)) / 2, (640 - round(h * r)) / 2
    cx, cy, bw, bh = box
    return [(cx - bw / 2 - pad_x) / r, (cy - bh / 2 - pad_y) / r, bw / r, bh / r]


def write_dataset(folder: Path, count: int = 10) -> tuple[Path, Path]:
    """``count`` PNG images of several sizes and brightness levels, and COCO labels for them
    (a person polygon and a car box on each; the car is labelled as a person on odd images).
    Returns (labels JSON, image folder)."""
    images_dir = folder / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    images, annotations = [], []
    for i in range(1, count + 1):
        w, h = SIZES[i % len(SIZES)]
        level = 40 + (i * 23) % 180
        pixels = np.clip(rng.normal(level, 20, (h, w, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(images_dir / f"img{i:03d}.png")
        images.append({"id": i, "file_name": f"img{i:03d}.png", "width": w, "height": h})
        x, y, bw, bh = to_image(ANCHORS[0][0], w, h)
        x, y = x + 1.5, y - 1.0
        polygon = [x, y, x + bw, y, x + bw, y + bh * 0.8, x + bw * 0.5, y + bh, x, y + bh]
        annotations.append(
            {"id": 100 + i, "image_id": i, "category_id": 1, "iscrowd": 0,
             "bbox": [x, y, bw, bh], "area": bw * bh * 0.9,
             "segmentation": [[round(v, 2) for v in polygon]]}
        )  # fmt: skip
        cx, cy, cw, ch = to_image(ANCHORS[1][0], w, h)
        annotations.append(
            {"id": 200 + i, "image_id": i, "category_id": 3 if i % 2 == 0 else 1, "iscrowd": 0,
             "bbox": [cx, cy, cw, ch], "area": cw * ch,
             "segmentation": [[cx, cy, cx + cw, cy, cx + cw, cy + ch, cx, cy + ch]]}
        )  # fmt: skip
    labels = folder / "labels.json"
    labels.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": CATEGORIES})
    )
    return labels, images_dir


def _head(channels: int, masks: bool) -> tuple[np.ndarray, np.ndarray]:
    head = np.zeros((1, channels, 8400), np.float32)
    gain = np.zeros_like(head)
    for anchor, (box, cls, score) in enumerate(ANCHORS):
        head[0, :4, anchor] = box
        head[0, 4 + cls, anchor] = score
        gain[0, 4 + cls, anchor] = 0.4  # the score rises with the image's brightness
        if masks:
            head[0, 7 + anchor, anchor] = 1.0  # the anchor's mask is its own prototype
    return head, gain


def detect_model(path: Path, *, work_channels: int = 0) -> Path:
    """An Ultralytics detection export ([1, 7, 8400]) whose scores depend on the image."""
    head, gain = _head(7, masks=False)
    return image_dependent_model(
        path,
        {"output0": head},
        {"output0": gain},
        work_channels=work_channels,
        metadata=ultralytics_metadata("detect", NAMES),
    )


def segment_model(path: Path) -> Path:
    """An Ultralytics segmentation export ([1, 39, 8400] + [1, 32, 160, 160] prototypes): the
    person's mask a disc cut by its box, the car's a triangle, the missing person's a disc."""
    head, gain = _head(4 + 3 + 32, masks=True)
    protos = -np.ones((1, 32, 160, 160), np.float32)
    yy, xx = np.mgrid[0:160, 0:160]
    protos[0, 0][(yy - 80) ** 2 + (xx - 80) ** 2 < 14**2] = 1.0
    protos[0, 1][xx - 40 < yy - 52] = 1.0
    protos[0, 2][(yy - 100) ** 2 + (xx - 112) ** 2 < 8**2] = 1.0
    return image_dependent_model(
        path,
        {"output0": head, "output1": protos},
        {"output0": gain, "output1": np.zeros_like(protos)},
        metadata=ultralytics_metadata("segment", NAMES),
    )


def unrelated_model(path: Path) -> Path:
    """A model whose classes match none of the dataset's categories."""
    head = np.zeros((1, 6, 8400), np.float32)
    return constant_model(
        path, {"output0": head}, metadata=ultralytics_metadata("detect", {0: "crack", 1: "dent"})
    )
