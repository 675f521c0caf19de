"""Drawing one suspect's crop for the triage grid, off the UI thread.

:class:`CropSource` reads what a crop shows from its own read-only connection (the worker
thread's): the suspect's label (outline, class), the other label of a duplicate pair, the
prediction's box, the image file; :func:`render_crop` decodes only the region around them
(:mod:`labelfix.core.crops`) and draws them as the canvas does: labels in their class colour,
the prediction dashed in the prediction colour. ``signature`` changes whenever the crop would
(a label edited, another image file), so a crop cached on disk is used only while it is right.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QTransform

from labelfix.core import project as project_service
from labelfix.core.crops import crop_region, load_region

from ..canvas.items import PREDICTION_COLOUR, category_colour, outline_path
from ..canvas.view_zoom import PIXELATED_FROM

CROP_SIZE = (176, 132)  # the crop's pixels in a grid cell (4:3)
LOOK = "2"  # how crops are drawn: bumped when that changes, so crops cached on disk are redrawn
PLACEHOLDER = QColor("#3a3a3e")


@dataclass(frozen=True)
class CropJob:
    """One crop to make: the suspect (by key, with the ids it shows) and the cache version it
    is made for."""

    key: str
    version: int
    kind: str
    image_id: int
    annotation_id: int | None
    other_annotation_id: int | None
    prediction_id: int | None
    set_id: int | None


@dataclass
class CropSpec:
    """What a crop shows, read from the project."""

    job: CropJob
    path: Path | None
    width: int
    height: int
    labels: list[tuple[list[float], object, int, bool]]  # bbox, segmentation, class, the suspect's
    prediction_box: list[float] | None
    signature: str


class CropSource:
    """Reads crop specs on one thread's own read-only connection to the project."""

    def __init__(self, path: Path | project_service.TeamLocation) -> None:
        self.store = project_service.open_project(path, readonly=True)
        self._pred_order: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def close(self) -> None:
        """Close the connection (on the thread that opened it)."""
        self.store.close()

    def _prediction_box(self, set_id: int | None, prediction_id: int | None) -> list[float] | None:
        if set_id is None or prediction_id is None:
            return None
        if set_id not in self._pred_order:
            arr = self.store.prediction_arrays(set_id)
            order = np.argsort(arr["id"], kind="stable")
            self._pred_order = {set_id: (arr["id"][order], arr["box"][order])}
        ids, boxes = self._pred_order[set_id]
        at = int(np.searchsorted(ids, prediction_id))
        if at >= len(ids) or ids[at] != prediction_id:
            return None
        return [float(v) for v in boxes[at]]

    def spec(self, job: CropJob) -> CropSpec | None:
        """The crop's content (None: its image is gone from the project)."""
        image = self.store.image(job.image_id)
        if image is None:
            return None
        labels = []
        revisions = []
        for ann_id, own in ((job.annotation_id, True), (job.other_annotation_id, False)):
            ann = None if ann_id is None else self.store.annotation(ann_id)
            if ann is not None:
                labels.append((ann["bbox"], ann.get("segmentation"), ann["category_id"], own))
                revisions.append(f"{ann_id}.{ann['revision']}")
            else:
                revisions.append(f"{ann_id}.gone")
        path = self.store.image_path(image)
        try:
            stat = os.stat(path) if path is not None else None
        except OSError:
            stat = None
        stamp = f"{stat.st_size}.{stat.st_mtime_ns}" if stat else "missing"
        signature = hashlib.sha1(
            "|".join(
                [LOOK, self.store.location, job.key, *revisions, str(path), stamp]
                + [str(job.set_id)]
            ).encode()
        ).hexdigest()
        return CropSpec(
            job,
            path,
            int(image["width"]),
            int(image["height"]),
            labels,
            self._prediction_box(job.set_id, job.prediction_id),
            signature,
        )


def render_crop(spec: CropSpec, size: tuple[int, int] = CROP_SIZE) -> QImage:
    """The crop as an image of ``size``: the region's pixels (a dark placeholder with the
    reason when the image cannot be read), the labels and the prediction drawn on it."""
    boxes = [label[0] for label in spec.labels] + [spec.prediction_box]
    region = crop_region(boxes, spec.width, spec.height, size[0] / size[1])
    out = QImage(size[0], size[1], QImage.Format.Format_RGB888)
    out.fill(PLACEHOLDER)
    pixels, why = (
        (None, "no image folder") if spec.path is None else load_region(spec.path, region, size)
    )
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    x, y, w, h = region
    scale = min(size[0] / w, size[1] / h)
    ox, oy = (size[0] - w * scale) / 2, (size[1] - h * scale) / 2
    if pixels is not None:
        ph, pw = pixels.shape[:2]
        image = QImage(pixels.data, pw, ph, int(pixels.strides[0]), QImage.Format.Format_RGB888)
        # a small object's region is scaled up: smoothly, or as crisp blocks (the canvas's rule)
        smooth = w * scale / pw < PIXELATED_FROM
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        painter.drawImage(QRectF(ox, oy, w * scale, h * scale), image)
    transform = QTransform(scale, 0, 0, scale, ox - x * scale, oy - y * scale)
    for bbox, segmentation, category_id, own in sorted(spec.labels, key=lambda lab: lab[3]):
        pen = QPen(category_colour(category_id), 2.5 if own else 1.5)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(transform.map(outline_path(list(bbox), segmentation)))
    if spec.prediction_box is not None:
        pen = QPen(PREDICTION_COLOUR, 2.0)
        pen.setStyle(Qt.PenStyle.CustomDashLine)
        pen.setDashPattern([4.0, 3.0])
        painter.setPen(pen)
        px, py, pw_, ph_ = spec.prediction_box
        painter.drawRect(transform.mapRect(QRectF(px, py, pw_, ph_)))
    if pixels is None:
        font = QFont()
        font.setPointSizeF(8.0)
        painter.setFont(font)
        painter.setPen(QColor("#e8e8ea"))
        text = "image missing" if why and "no such file" in why else "image unreadable"
        painter.drawText(QRectF(QPointF(0, 0), QPointF(*size)), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return out


def message_crop(text: str, size: tuple[int, int] = CROP_SIZE) -> QImage:
    """A placeholder crop with a short message (a crop that could not be made)."""
    out = QImage(size[0], size[1], QImage.Format.Format_RGB888)
    out.fill(PLACEHOLDER)
    painter = QPainter(out)
    font = QFont()
    font.setPointSizeF(8.0)
    painter.setFont(font)
    painter.setPen(QColor("#e8e8ea"))
    painter.drawText(QRectF(0, 0, *size), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return out
